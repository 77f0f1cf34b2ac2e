// Many followers of one live run over real HTTP (SSE and WebSocket, the real tRPC client): each gets every
// event once, in order, and while they are live the database is read once per batch at most, not per follower.
import { defineWorkflow, type WorkflowEvent } from "@workflows/core";
import { FnModel, fnProvider } from "@workflows/core/testing";
import { testDatabaseKind } from "@workflows/db/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Services } from "../src/context";
import { collect, isEnd, startTestServer, tempDir, waitFor, type TestServer } from "./harness";
import { rawRequest } from "./raw";

const tmp = tempDir();
const open: TestServer[] = [];
afterEach(async () => {
  for (const t of open.splice(0).reverse()) await t.close();
});
afterAll(() => tmp.remove());

const twoSteps = defineWorkflow({
  key: "two_steps",
  displayName: "Two steps",
  description: "two writer steps",
  steps: [
    { name: "draft", agentKey: "writer" },
    { name: "polish", agentKey: "writer" },
  ],
});

/**
 * A model held at its first call until `release()`; then it streams a long answer in small deltas, each in a
 * later turn of the event loop (so they are not stored as one event): many events, many batches.
 */
function heldModel() {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const model = new FnModel(
    async () => {
      await held;
      return { text: "The quick brown fox jumps over the lazy dog. ".repeat(6) };
    },
    { chunkSize: 6, beforeDelta: () => new Promise((resolve) => setImmediate(resolve)) },
  );
  return { provider: fnProvider(model), release };
}

let n = 0;
async function server(modelProvider: ReturnType<typeof heldModel>["provider"], dbUrl = `${tmp.dbUrl}_fanout${++n}`): Promise<TestServer> {
  const t = await startTestServer({ dbUrl, modelProvider, workflows: [twoSteps] });
  open.push(t);
  return t;
}

/** Counts the reads of events made through `services.runs` (the broadcaster's and the followers'). */
function countReads(services: Services) {
  const reads = { listEvents: 0 };
  const listEvents = services.runs.listEvents.bind(services.runs);
  services.runs.listEvents = (id, o) => {
    reads.listEvents++;
    return listEvents(id, o);
  };
  return reads;
}

const seqsOf = (events: { data: Pick<WorkflowEvent, "seq"> }[]) => events.map((e) => e.data.seq);
const oneTo = (count: number) => Array.from({ length: count }, (_, i) => i + 1);

/** Starts a run held at its first model call; resolves with its id once it is running. */
async function startHeldRun(t: TestServer) {
  const finished = t.sse.workflows.run.mutate({ key: "two_steps", input: "a story" });
  let runId = "";
  await waitFor(async () => {
    runId = (await t.sse.runs.list.query({ status: "running" })).items[0]?.id ?? "";
    return runId !== "";
  }, 30_000);
  return { runId, finished };
}

describe("fan-out of a live run", () => {
  it("40 followers over SSE and WebSocket: every event once, in order; while live, no follower reads and nothing is read per batch", async () => {
    const model = heldModel();
    const t = await server(model.provider);
    const { runId, finished } = await startHeldRun(t);
    const followers = Array.from({ length: 40 }, (_, i) =>
      collect((i % 2 === 0 ? t.sse : t.ws).runs.events.subscribe({ workflowRunId: runId }), { until: isEnd, timeoutMs: 60_000 }),
    );
    // Every follower has caught up with the database and is fed by the broadcaster alone (plus the run's own waiter).
    await waitFor(() => t.services.liveEvents.followers(runId).live >= 40, 30_000);
    const reads = countReads(t.services);
    const before = t.services.liveEvents.stats;
    model.release();
    const got = await Promise.all(followers);
    expect((await finished).status).toBe("succeeded");
    const stored = await t.sse.runs.get.query({ workflowRunId: runId });
    expect(stored.run.lastSeq).toBeGreaterThan(30);
    for (const events of got) expect(seqsOf(events)).toEqual(oneTo(stored.run.lastSeq));
    const after = t.services.liveEvents.stats;
    const broadcasterReads = after.reads - before.reads;
    // Followers read nothing (a follower that falls behind starts with a page of events): every read of events
    // there was is the broadcaster's, and each of those is its safety poll (once a second per run at most, when
    // nothing was handed on): no read per batch, none per follower. (Runs are read by `workflows.run` finishing.)
    expect(reads.listEvents).toBe(broadcasterReads);
    expect(broadcasterReads).toBe(after.polls - before.polls);
    expect(after.overflows).toBe(before.overflows);
    await waitFor(() => t.services.liveEvents.subscribers === 0);
  });

  it("the SSE wire: one frame per event (data, then id), then `return`; Last-Event-ID resumes after that event", async () => {
    // Pins the bytes an EventSource reads, whatever tRPC version serves them (patches/ changes how they are produced).
    const model = heldModel();
    model.release();
    const t = await server(model.provider);
    const { workflowRunId } = await t.sse.workflows.run.mutate({ key: "two_steps", input: "a story" });
    const { run } = await t.sse.runs.get.query({ workflowRunId });
    const url = `http://127.0.0.1:${t.server.port}/trpc/runs.events?input=${encodeURIComponent(JSON.stringify({ workflowRunId }))}`;
    const host = `127.0.0.1:${t.server.port}`;
    const read = async (headers: Record<string, string>) => {
      const res = await rawRequest(url, { headers: { host, accept: "text/event-stream", ...headers }, until: (body) => body.endsWith("event: return\ndata: \n\n\n") });
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toBe("text/event-stream");
      // tRPC ends each field with a newline and each message with two more (a blank line, then an empty one).
      expect(res.body.endsWith("\n\n\n")).toBe(true);
      return res.body.slice(0, -3).split("\n\n\n");
    };
    const frames = await read({});
    expect(frames[0]).toBe('event: connected\ndata: {"reconnectAfterInactivityMs":15000}');
    expect(frames.at(-1)).toBe("event: return\ndata: ");
    const events = frames.slice(1, -1).map((frame) => {
      const match = /^data: (.+)\nid: (.+)$/.exec(frame);
      expect(match, frame).not.toBeNull();
      return { data: JSON.parse(match![1]!) as WorkflowEvent, id: match![2]! };
    });
    expect(events.map((e) => e.data.seq)).toEqual(oneTo(run.lastSeq));
    for (const e of events) expect(e.id).toBe(`${workflowRunId}:${e.data.seq}`);
    const resumed = await read({ "last-event-id": events[4]!.id });
    expect(resumed.slice(1, -1).map((frame) => (JSON.parse(/^data: (.+)\n/.exec(frame)![1]!) as WorkflowEvent).seq)).toEqual(oneTo(run.lastSeq).slice(5));
  });

  it.runIf(testDatabaseKind() === "postgres")(
    "followers on the instance that does not execute the run: one read per notification at most, whatever the number of followers",
    async () => {
      const model = heldModel();
      const dbUrl = await tmp.ensure(`${tmp.dbUrl}_pair`);
      const a = await server(model.provider, dbUrl);
      const b = await server(model.provider, dbUrl);
      const { runId, finished } = await startHeldRun(a);
      const executor = a.services.activeRuns.has(runId) ? a : b;
      const follower = executor === a ? b : a;
      const followers = Array.from({ length: 30 }, () => collect(follower.sse.runs.events.subscribe({ workflowRunId: runId }), { until: isEnd, timeoutMs: 60_000 }));
      await waitFor(() => follower.services.liveEvents.followers(runId).live >= 30, 30_000);
      const reads = countReads(follower.services);
      const before = follower.services.liveEvents.stats;
      let notifications = 0;
      const stop = follower.services.runs.onStored((id) => {
        if (id === runId) notifications++;
      });
      model.release();
      const got = await Promise.all(followers);
      stop();
      expect((await finished).status).toBe("succeeded");
      const { run } = await follower.sse.runs.get.query({ workflowRunId: runId });
      for (const events of got) expect(seqsOf(events)).toEqual(oneTo(run.lastSeq));
      const after = follower.services.liveEvents.stats;
      const broadcasterReads = after.reads - before.reads;
      expect(reads.listEvents).toBe(broadcasterReads);
      expect(notifications).toBeGreaterThan(0);
      // A notification that arrives while a read is under way is covered by it or by the one next read.
      expect(broadcasterReads).toBeLessThanOrEqual(notifications + (after.polls - before.polls));
    },
  );
});
