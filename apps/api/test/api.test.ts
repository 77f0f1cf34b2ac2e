import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppRouter } from "../src/router";
import { testDatabaseKind } from "@workflows/db/testing";
import { collect, rejection, startTestServer, tempDir, type TestServer } from "./harness";

let t: TestServer;
const tmp = tempDir();
beforeAll(async () => {
  t = await startTestServer({ dbUrl: tmp.dbUrl, maxInputBytes: 1024 });
});
afterAll(async () => {
  await t.close();
  await tmp.remove();
});


describe("health", () => {
  it("reports version, database kind and model provider", async () => {
    const health = await t.sse.health.query();
    expect(health).toMatchObject({ ok: true, database: testDatabaseKind(), modelProvider: "offline", accepting: true });
    expect(health.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe("agents", () => {
  it("lists the catalog with tools and handoffs", async () => {
    const agents = await t.sse.agents.list.query();
    const triage = agents.find((a) => a.key === "triage");
    expect(triage?.handoffs.length).toBeGreaterThan(0);
    expect(agents.find((a) => a.key === "data_analyst")?.tools).toContain("compute_statistics");
  });

  it("gets one agent, NOT_FOUND for an unknown key", async () => {
    expect((await t.sse.agents.get.query({ key: "writer" })).key).toBe("writer");
    const error = await rejection(t.sse.agents.get.query({ key: "nobody" }));
    expect(error.data?.code).toBe("NOT_FOUND");
    expect(error.message).toContain("nobody");
  });
});

describe("workflows", () => {
  it("lists descriptors with steps and version hashes", async () => {
    const workflows = await t.sse.workflows.list.query();
    const analysis = workflows.find((w) => w.key === "analysis_code");
    expect(analysis).toMatchObject({ default: true, stepCount: 2 });
    expect(analysis?.steps.map((s) => s.agentKey)).toEqual(["data_analyst", "code_assistant"]);
  });

  it("gets one workflow, NOT_FOUND for an unknown key", async () => {
    expect((await t.sse.workflows.get.query({ key: "gated_writing" })).stepCount).toBe(3);
    expect((await rejection(t.sse.workflows.get.query({ key: "nope" }))).data?.code).toBe("NOT_FOUND");
  });

  it("accepts JSON input and hands it to the workflow as JSON text", async () => {
    const result = await t.sse.workflows.run.mutate({ key: "analysis_code", input: { values: [3, 5, 10] } });
    expect(result.status).toBe("succeeded");
    expect(result.steps[0]?.output).toContain("mean = 6");
    const recorded = await t.sse.runs.get.query({ workflowRunId: result.workflowRunId });
    expect(recorded.run.input).toBe('{"values":[3,5,10]}');
  });

  it("running an unknown workflow is NOT_FOUND and records nothing", async () => {
    expect((await rejection(t.sse.workflows.run.mutate({ key: "nope", input: "x" }))).data?.code).toBe("NOT_FOUND");
    expect((await t.sse.runs.list.query({ workflowKey: "nope" })).items).toEqual([]);
  });
});

describe("errors", () => {
  /** The error a subscription ends with before any data (null if data came first). */
  const firstError = (subscribe: (handlers: { onError: (e: unknown) => void; onData: () => void }) => { unsubscribe(): void }) =>
    new Promise<unknown>((resolve) => {
      const sub = subscribe({ onError: (e) => (sub.unsubscribe(), resolve(e)), onData: () => resolve(null) });
    });

  it("invalid input is BAD_REQUEST with the zod issues as data", async () => {
    // @ts-expect-error: the server must reject what the types already forbid
    const error = await rejection(t.sse.workflows.run.mutate({ key: 42, input: "" }));
    expect(error.data?.code).toBe("BAD_REQUEST");
    expect(error.data?.httpStatus).toBe(400);
    const paths = error.data?.zodIssues?.map((i) => i.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["key", "input"]));
  });

  it("text with nothing but whitespace is BAD_REQUEST, for a run's input and a chat message, and starts nothing", async () => {
    const before = (await t.sse.runs.list.query({ limit: 100 })).items.length;
    for (const input of ["", " \n\t "]) {
      for (const call of [t.sse.workflows.run.mutate({ key: "analysis_code", input }), t.sse.chat.send.mutate({ message: input })]) {
        const error = await rejection(call);
        expect(error.data?.code).toBe("BAD_REQUEST");
        expect(error.message).toMatch(/^(input: input|message: message) must not be empty or only whitespace$/);
      }
    }
    const stream = await firstError((h) => t.sse.workflows.runStream.subscribe({ key: "analysis_code", input: "  " }, h));
    expect((stream as TRPCClientError<AppRouter>).data?.code).toBe("BAD_REQUEST");
    expect((await t.sse.runs.list.query({ limit: 100 })).items.length).toBe(before);
  });

  it("input over MAX_INPUT_BYTES is PAYLOAD_TOO_LARGE", async () => {
    const error = await rejection(t.sse.workflows.run.mutate({ key: "analysis_code", input: "x".repeat(2048) }));
    expect(error.data?.code).toBe("PAYLOAD_TOO_LARGE");
    const chat = await rejection(t.sse.chat.send.mutate({ message: "é".repeat(600) }));
    expect(chat.data?.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("a malformed cursor is BAD_REQUEST", async () => {
    expect((await rejection(t.sse.runs.list.query({ cursor: "garbage" }))).data?.code).toBe("BAD_REQUEST");
  });

  it("unknown runs are NOT_FOUND everywhere, subscriptions included", async () => {
    expect((await rejection(t.sse.runs.get.query({ workflowRunId: "missing" }))).data?.code).toBe("NOT_FOUND");
    expect((await rejection(t.sse.runs.cancel.mutate({ workflowRunId: "missing" }))).data?.code).toBe("NOT_FOUND");
    for (const client of [t.sse, t.ws]) {
      const error = await firstError((h) => client.runs.events.subscribe({ workflowRunId: "missing" }, h));
      expect(error).toBeInstanceOf(TRPCClientError);
      expect((error as TRPCClientError<AppRouter>).data?.code).toBe("NOT_FOUND");
    }
  });

  it("subscriptions refuse before their first event with the same codes: unknown workflow, foreign lastEventId", async () => {
    const unknownWorkflow = await firstError((h) => t.sse.workflows.runStream.subscribe({ key: "nope", input: "x" }, h));
    expect((unknownWorkflow as TRPCClientError<AppRouter>).data?.code).toBe("NOT_FOUND");
    const foreignId = await firstError((h) => t.sse.runs.events.subscribe({ workflowRunId: "run-a", lastEventId: "run-b:3" }, h));
    expect((foreignId as TRPCClientError<AppRouter>).data?.code).toBe("BAD_REQUEST");
    expect((foreignId as TRPCClientError<AppRouter>).message).toMatch(/is not an event id of run "run-a"/);
  });

  it("a lastEventId past the run's last event, or with a seq that is not plain digits, is BAD_REQUEST, not a stream that waits forever", async () => {
    const { workflowRunId } = await t.sse.workflows.run.mutate({ key: "analysis_code", input: "mean of 1, 2" });
    const { run } = await t.sse.runs.get.query({ workflowRunId });
    for (const client of [t.sse, t.ws]) {
      const past = await firstError((h) => client.runs.events.subscribe({ workflowRunId, lastEventId: `${workflowRunId}:${run.lastSeq + 1}` }, h));
      expect((past as TRPCClientError<AppRouter>).data?.code).toBe("BAD_REQUEST");
      expect((past as TRPCClientError<AppRouter>).message).toContain(`is past run "${workflowRunId}"'s last event (seq ${run.lastSeq})`);
      const reconnect = await firstError((h) => client.workflows.runStream.subscribe({ key: "analysis_code", input: "x", lastEventId: `${workflowRunId}:999999` }, h));
      expect((reconnect as TRPCClientError<AppRouter>).data?.code).toBe("BAD_REQUEST");
      for (const seq of ["", "0x10", "1e3", "-1", " 3"]) {
        const malformed = await firstError((h) => client.runs.events.subscribe({ workflowRunId, lastEventId: `${workflowRunId}:${seq}` }, h));
        expect((malformed as TRPCClientError<AppRouter>).data?.code).toBe("BAD_REQUEST");
      }
    }
    // The last event's own id is a valid place to resume from: nothing comes after it, and the stream ends.
    expect(await collect(t.sse.runs.events.subscribe({ workflowRunId, lastEventId: `${workflowRunId}:${run.lastSeq}` }))).toEqual([]);
  });

  it("never sends a stack trace", async () => {
    const error = await rejection(t.sse.agents.get.query({ key: "nobody" }));
    expect(JSON.stringify(error.shape)).not.toContain("stack");
  });
});
