// The SSE producer and response writer of @trpc/server are patched (patches/@trpc__server@11.25.2.patch: a
// cheaper ping timer, one pull-based stream instead of two async generators, a read loop instead of pipeTo).
// The same file holds the client's SSE consumer, whose inactivity timer is patched too. This pins what the
// patch must keep, over real HTTP on tRPC's own node adapter: pings while a subscription is quiet, tracked ids
// and restore-id after an untracked value, the return and error events, a client that goes away ending the
// subscription's generator (and a value it brings after that dropped, not reported as a failure),
// `sse.maxDurationMs` ending the response and the generator, one value object shared by several subscriptions
// under different ids, and the tRPC client reconnecting after inactivity from the last id it got.
import { createTRPCClient, httpSubscriptionLink } from "@trpc/client";
import { initTRPC, tracked } from "@trpc/server";
import { createHTTPServer } from "@trpc/server/adapters/standalone";
import { EventSource } from "eventsource";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, expect, it } from "vitest";

const t = initTRPC.create({ sse: { ping: { enabled: true, intervalMs: 40 } }, isDev: false });

let ended = 0;
let stubbornEnded = 0;
const procedureErrors: string[] = [];
const sharedValue = { n: 7, text: "same object" };
let release: () => void = () => undefined;
const released = new Promise<void>((resolve) => (release = resolve));
const router = t.router({
  quiet: t.procedure.subscription(async function* () {
    yield tracked("1", { n: 1 });
    await released;
    yield tracked("2", { n: 2 });
    yield { untracked: true };
    yield tracked("3", { n: 3 });
  }),
  failing: t.procedure.subscription(async function* () {
    yield 1;
    await delay(1);
    throw new Error("kaput");
  }),
  // One value object sent by every subscription, under two ids: the patch shares the encoded frame of a value
  // between subscriptions, so it must still follow the id it is sent with.
  shared: t.procedure.subscription(async function* () {
    yield tracked("a", sharedValue);
    await delay(1);
    yield tracked("b", sharedValue);
  }),
  // Ignores its signal: a value it brings after the client left must not count as a failure of the procedure.
  stubborn: t.procedure.subscription(async function* () {
    try {
      for (;;) {
        yield 1;
        await delay(5);
      }
    } finally {
      stubbornEnded++;
    }
  }),
  endless: t.procedure.subscription(async function* ({ signal }) {
    try {
      while (!signal?.aborted) {
        yield 1;
        await delay(5);
      }
    } finally {
      ended++;
    }
  }),
});
// No pings and a short inactivity limit: a client of this one reconnects whenever a subscription is quiet.
const quietT = initTRPC.create({ sse: { ping: { enabled: false }, client: { reconnectAfterInactivityMs: 150 } }, isDev: false });
const connections: (string | null)[] = [];
const quietRouter = quietT.router({
  // The client sends the last id it got as `lastEventId` in the input when it reconnects.
  counter: quietT.procedure
    .input((raw) => (raw ?? {}) as { lastEventId?: string | null })
    .subscription(async function* ({ input, signal }) {
      connections.push(input.lastEventId ?? null);
      const afterId = Number(input.lastEventId ?? 0);
      for (let n = afterId + 1; n <= 3 && !signal?.aborted; n++) {
        // The second value comes after the client's inactivity limit: it reconnects from id 1 first.
        if (n === 2 && afterId < 1) await delay(10_000, undefined, signal ? { signal } : {}).catch(() => undefined);
        yield tracked(String(n), n);
      }
    }),
});
const quietServer = createHTTPServer({ router: quietRouter });
quietServer.listen(0, "127.0.0.1");
// Responses cut after 100 ms, whatever the subscription does.
const shortT = initTRPC.create({ sse: { ping: { enabled: false }, maxDurationMs: 100 }, isDev: false });
let foreverEnded = 0;
const shortRouter = shortT.router({
  forever: shortT.procedure.subscription(async function* ({ signal }) {
    try {
      yield tracked("1", 1);
      await new Promise<void>((resolve) => signal?.addEventListener("abort", () => resolve(), { once: true }));
    } finally {
      foreverEnded++;
    }
  }),
});
const shortServer = createHTTPServer({ router: shortRouter });
shortServer.listen(0, "127.0.0.1");

const server = createHTTPServer({ router, onError: ({ error, path }) => void procedureErrors.push(`${path}: ${error.message}`) });
server.listen(0, "127.0.0.1");
const base = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
afterAll(async () => {
  for (const s of [server, quietServer, shortServer]) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

/** The frames of an SSE body, each as its `field: value` lines. */
const frames = (body: string) =>
  body
    .split("\n\n")
    .map((frame) => frame.trim())
    .filter((frame) => frame !== "");

it("pings while the subscription is quiet, then sends its values with their ids, restore-id and return", async () => {
  const response = await fetch(`${base()}/quiet`);
  expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  // Wait for two pings (the value 2 is held back), then let the subscription go on.
  while ((text.match(/event: ping/g) ?? []).length < 2) text += (await reader.read()).value ?? "";
  release();
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += chunk.value;
  const all = frames(text).filter((frame) => frame !== "event: ping\ndata:");
  expect(all).toEqual([
    "event: connected\ndata: {}",
    'data: {"n":1}\nid: 1',
    'data: {"n":2}\nid: 2',
    'data: {"untracked":true}\nid:',
    "event: restore-id\ndata: \nid: 2",
    'data: {"n":3}\nid: 3',
    "event: return\ndata:",
  ]);
});

it("sends a thrown error as a serialized-error event and ends the stream", async () => {
  const body = await (await fetch(`${base()}/failing`)).text();
  const all = frames(body);
  expect(all.slice(0, 2)).toEqual(["event: connected\ndata: {}", "data: 1"]);
  expect(all[2]).toMatch(/^event: serialized-error\ndata: \{"message":"kaput","code":-32603/);
  expect(all).toHaveLength(3);
});

it("sends a value shared by several subscriptions with each id it was sent under", async () => {
  const bodies = await Promise.all([1, 2, 3].map(async () => (await fetch(`${base()}/shared`)).text()));
  for (const body of bodies) {
    expect(frames(body)).toEqual(["event: connected\ndata: {}", 'data: {"n":7,"text":"same object"}\nid: a', 'data: {"n":7,"text":"same object"}\nid: b', "event: return\ndata:"]);
  }
});

/** Opens a subscription's stream, reads its first two chunks, then leaves (aborts the request). */
async function readTwiceAndLeave(path: string): Promise<void> {
  const abort = new AbortController();
  const response = await fetch(`${base()}/${path}`, { signal: abort.signal });
  const reader = response.body!.getReader();
  await reader.read();
  await reader.read();
  abort.abort();
}

it("ends the subscription's generator when the client goes away", async () => {
  await readTwiceAndLeave("endless");
  await expect.poll(() => ended, { timeout: 5_000 }).toBe(1);
});

it("ends the response and the subscription's generator after sse.maxDurationMs", async () => {
  const body = await (await fetch(`http://127.0.0.1:${(shortServer.address() as AddressInfo).port}/forever`)).text();
  expect(frames(body)).toEqual(["event: connected\ndata: {}", "data: 1\nid: 1"]);
  await expect.poll(() => foreverEnded, { timeout: 5_000 }).toBe(1);
});

it("a value that comes after the client left is dropped, not reported as the procedure failing", async () => {
  await readTwiceAndLeave("stubborn");
  await expect.poll(() => stubbornEnded, { timeout: 5_000 }).toBe(1);
  expect(procedureErrors.filter((e) => e.startsWith("stubborn:"))).toEqual([]);
});

it("the tRPC client reconnects after inactivity from the last id it got, and gets each value once", async () => {
  const url = `http://127.0.0.1:${(quietServer.address() as AddressInfo).port}`;
  const client = createTRPCClient<typeof quietRouter>({ links: [httpSubscriptionLink({ url, EventSource })] });
  const values = await new Promise<number[]>((resolve, reject) => {
    const got: number[] = [];
    const sub = client.counter.subscribe({}, {
      onData: ({ data }) => {
        got.push(data);
        if (got.length === 3) {
          sub.unsubscribe();
          resolve(got);
        }
      },
      onError: reject,
    });
  });
  expect(values).toEqual([1, 2, 3]);
  expect(connections.slice(0, 2)).toEqual([null, "1"]);
});
