import { Agent, Runner } from "@openai/agents-core";
import { APIConnectionError, APIError, APIUserAbortError, BadRequestError, ConflictError, InternalServerError, RateLimitError } from "openai";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createModelProvider, type ModelConfig } from "./providers";
import { startFakeOpenAI, type FakeFault, type FakeOpenAI } from "./testing";
import { disableDefaultTraceExport } from "./tracing";

beforeAll(() => disableDefaultTraceExport());
// The OpenAI provider loads @openai/agents-openai and the openai client on its first getModel (providers.ts).
// Loaded here, outside every test's time limit: on a loaded machine that first load takes seconds.
beforeAll(() => Promise.all([import("@openai/agents-openai"), import("openai")]), 60_000);

// What a failed model request looks like to whoever calls the SDK's run() through our OpenAI provider. The
// durable runner classifies failures from exactly these shapes, so each is pinned here for both APIs, streamed or not.

const cases = [
  { api: "responses", stream: false },
  { api: "responses", stream: true },
  { api: "chat_completions", stream: false },
  { api: "chat_completions", stream: true },
] as const;
type Case = (typeof cases)[number];

const fakes: FakeOpenAI[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function start(faults: (FakeFault | null)[]): Promise<FakeOpenAI> {
  const f = await startFakeOpenAI({ faults });
  fakes.push(f);
  return f;
}

/** How a run ended: its error (from run(), or from the stream and `completed`), the deltas seen, `cancelled`. */
type Outcome = { error: unknown; streamError?: unknown; deltas: number; cancelled?: boolean };

async function runOnce(f: FakeOpenAI, { api, stream }: Case, signal?: AbortSignal): Promise<Outcome> {
  const config: ModelConfig = { provider: "openai", apiKey: "test", baseURL: f.baseURL, api, model: "gpt-4.1-mini" };
  const runner = new Runner({ modelProvider: createModelProvider(config), model: "gpt-4.1-mini", tracingDisabled: true });
  const agent = new Agent({ name: "plain", instructions: "Answer." });
  if (!stream) {
    return runner.run(agent, "hi", signal ? { signal } : {}).then(
      () => ({ error: undefined, deltas: 0 }),
      (error: unknown) => ({ error, deltas: 0 }),
    );
  }
  const result = await runner.run(agent, "hi", { stream: true, ...(signal ? { signal } : {}) });
  let deltas = 0;
  let streamError: unknown;
  try {
    for await (const e of result) if (e.type === "raw_model_stream_event" && e.data.type === "output_text_delta") deltas++;
  } catch (e) {
    streamError = e;
  }
  const error = await result.completed.then(() => undefined, (e: unknown) => e);
  return { error, streamError, deltas, cancelled: result.cancelled };
}

describe.each(cases)("model request failures over $api (stream: $stream)", (c) => {
  it("a 500 is sent once (no hidden retries) and rejects with InternalServerError carrying status and headers", async () => {
    const f = await start([{ type: "status", status: 500, headers: { "retry-after": "2", "retry-after-ms": "150" } }]);
    const { error, streamError } = await runOnce(f, c);
    expect(f.received).toBe(1);
    expect(error).toBeInstanceOf(InternalServerError);
    const e = error as InternalServerError;
    expect({ name: e.name, status: e.status, code: e.code, type: e.type, message: e.message }).toEqual({
      name: "Error", status: 500, code: null, type: "server_error", message: "500 fake fault: HTTP 500",
    });
    expect(e.headers.get("retry-after")).toBe("2");
    expect(e.headers.get("retry-after-ms")).toBe("150");
    if (c.stream) expect(streamError).toBe(error);
  });

  it.each([
    { status: 400, cls: BadRequestError, code: null },
    { status: 408, cls: APIError, code: null },
    { status: 409, cls: ConflictError, code: null },
    { status: 429, cls: RateLimitError, code: "rate_limit_exceeded" },
    { status: 503, cls: InternalServerError, code: null },
  ])("a $status rejects with $cls.name and is sent once", async ({ status, cls, code }) => {
    const when = "Wed, 21 Oct 2015 07:28:00 GMT";
    const f = await start([{ type: "status", status, headers: { "retry-after": when } }]);
    const { error } = await runOnce(f, c);
    expect(f.received).toBe(1);
    expect(error).toBeInstanceOf(cls);
    expect(error).toMatchObject({ status, code, message: `${status} fake fault: HTTP ${status}` });
    expect((error as APIError).headers?.get("retry-after")).toBe(when);
  });

  it("a hang is ended by the run's AbortSignal: APIUserAbortError, and the fake sees the request closed", async () => {
    const f = await start([{ type: "hang" }]);
    const controller = new AbortController();
    void f.whenLogged(1).then(() => controller.abort());
    const outcome = await runOnce(f, c, controller.signal);
    expect(outcome.error).toBeInstanceOf(APIUserAbortError);
    expect(outcome.error).toMatchObject({ message: "Request was aborted.", status: undefined, cause: { name: "AbortError" } });
    // Streamed, the event loop ends quietly (cancelled) and only `completed` rejects.
    if (c.stream) expect({ streamError: outcome.streamError, cancelled: outcome.cancelled }).toEqual({ streamError: undefined, cancelled: true });
    await f.whenIdle();
    expect(f.log.map((r) => r.clientClosed)).toEqual([true]);
    expect(f.received).toBe(1);
  });

  it("a response cut mid-way rejects with undici's TypeError 'terminated' (cause SocketError UND_ERR_SOCKET), not an APIError", async () => {
    const f = await start([{ type: "cut" }]);
    const { error, streamError, deltas } = await runOnce(f, c);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).not.toBeInstanceOf(APIError);
    expect(error).toMatchObject({ message: "terminated", cause: { name: "SocketError", code: "UND_ERR_SOCKET", message: "other side closed" } });
    if (c.stream) {
      expect(deltas).toBe(1);
      expect(streamError).toBe(error);
    }
    expect(f.received).toBe(1);
  });

  it("a connection reset rejects with APIConnectionError (cause TypeError 'fetch failed', then ECONNRESET)", async () => {
    const f = await start([{ type: "reset" }]);
    const { error, streamError } = await runOnce(f, c);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error).toMatchObject({ message: "Connection error.", status: undefined, cause: { name: "TypeError", message: "fetch failed", cause: { code: "ECONNRESET" } } });
    if (c.stream) expect(streamError).toBe(error);
    expect(f.received).toBe(1);
  });

  it("a fault is played once: the next run is answered normally", async () => {
    const f = await start([{ type: "status", status: 500 }]);
    expect((await runOnce(f, c)).error).toBeInstanceOf(InternalServerError);
    expect((await runOnce(f, c)).error).toBeUndefined();
    expect(f.log.map((r) => r.fault?.type ?? null)).toEqual(["status", null]);
  });
});

describe("requests in flight", () => {
  it("counts concurrent runs at their peak and sequential runs one at a time", async () => {
    let release = () => {};
    const until = new Promise<void>((resolve) => (release = resolve));
    const f = await start([{ type: "wait", until }, { type: "wait", until }, { type: "wait", until }]);
    const runs = [0, 1, 2].map(() => runOnce(f, cases[0]));
    await f.whenLogged(3);
    expect([f.inFlight, f.peakInFlight]).toEqual([3, 3]);
    release();
    expect((await Promise.all(runs)).map((o) => o.error)).toEqual([undefined, undefined, undefined]);
    await f.whenIdle();
    expect([f.inFlight, f.peakInFlight, f.received]).toEqual([0, 3, 3]);

    const sequential = await start([]);
    for (const c of cases) expect((await runOnce(sequential, c)).error).toBeUndefined();
    await sequential.whenIdle();
    expect([sequential.peakInFlight, sequential.received]).toEqual([1, 4]);
  });
});
