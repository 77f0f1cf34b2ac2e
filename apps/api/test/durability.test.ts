import { FnModel, fnProvider, lastUserText, type Responder } from "@workflows/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { collect, isEnd, startTestServer, tempDir, waitFor, type TestServer } from "./harness";

const tmp = tempDir();
const open: TestServer[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});
let n = 0;
async function start(opts: Omit<Parameters<typeof startTestServer>[0], "dbUrl"> = {}) {
  const s = await startTestServer({ dbUrl: `${tmp.dbUrl}.durability-${++n}`, ...opts });
  open.push(s);
  return s;
}
const httpError = (status: number) => Object.assign(new Error(`${status} status code (no body)`), { status, headers: new Headers() });

/**
 * A model whose code step fails (HTTP 400) until `holdFromNow()`; from then on the code step succeeds and the
 * requests `held` picks wait for `release()`.
 */
function failingThenHeld(held: (request: Parameters<Responder>[0]) => boolean) {
  let failCode = true;
  let hold: Promise<void> | null = null;
  let release: () => void = () => undefined;
  const model = new FnModel(async (request) => {
    const agent = /code|analy/i.exec(request.systemInstructions ?? "")?.[0] ?? "?";
    if (failCode && agent.toLowerCase() === "code") return { error: httpError(400) };
    if (hold && held(request)) await hold;
    return { text: `${agent}: ok` };
  });
  return {
    model,
    holdFromNow() {
      failCode = false;
      hold = new Promise<void>((resolve) => (release = resolve));
    },
    release: () => release(),
  };
}

describe("the default workflow", () => {
  it("runs when workflows.run and runStream leave the key out", async () => {
    const s = await start();
    const result = await s.sse.workflows.run.mutate({ input: "mean of 1, 2, 3" });
    expect(result).toMatchObject({ workflowKey: "analysis_code", status: "succeeded" });
    const events = await collect(s.sse.workflows.runStream.subscribe({ input: "mean of 4, 5" }), { until: isEnd });
    expect(events[0]?.data).toMatchObject({ type: "run.started", workflowKey: "analysis_code" });
  });
});

describe("runs.resume", () => {
  it("continues a failed run from its failed step, on the same log; a second resume of a finished run is CONFLICT", async () => {
    let failCode = true;
    const responder: Responder = (request) => {
      const agent = /code|analy/i.exec(request.systemInstructions ?? "")?.[0] ?? "?";
      if (failCode && agent.toLowerCase() === "code") return { error: httpError(400) };
      return { text: `${agent}: ${lastUserText(request).slice(0, 40)}` };
    };
    const model = new FnModel(responder);
    const s = await start({ modelProvider: fnProvider(model) });
    const failed = await s.sse.workflows.run.mutate({ key: "analysis_code", input: "mean of 1, 2, 3" });
    expect(failed).toMatchObject({ status: "failed", error: { code: "MODEL_ERROR" } });
    expect(model.requests).toHaveLength(2);

    failCode = false;
    const resumed = await s.sse.runs.resume.mutate({ workflowRunId: failed.workflowRunId });
    expect(resumed).toMatchObject({ workflowRunId: failed.workflowRunId, fromStepIndex: 1, status: "running" });
    const tail = await collect(s.sse.runs.events.subscribe({ workflowRunId: failed.workflowRunId, lastEventId: `${failed.workflowRunId}:1` }), { until: (e) => e.data.type === "run.completed" });
    expect(tail.map((e) => e.data.type)).toContain("run.failed");
    expect(tail.map((e) => e.data.type)).toContain("run.resumed");
    // The analysis was not asked for again: one more request, for the code step.
    expect(model.requests).toHaveLength(3);
    const { run, steps } = await s.sse.runs.get.query({ workflowRunId: failed.workflowRunId });
    expect(run).toMatchObject({ status: "succeeded", error: null });
    expect(steps.map((st) => [st.status, st.attempts])).toEqual([
      ["succeeded", 1],
      ["succeeded", 2],
    ]);
    await expect(s.sse.runs.resume.mutate({ workflowRunId: failed.workflowRunId })).rejects.toMatchObject({ data: { code: "CONFLICT" } });
    await expect(s.sse.runs.resume.mutate({ workflowRunId: "no-such-run" })).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
  });
});

describe("two runs.resume at once", () => {
  it("one resumes and the other is CONFLICT; the one that resumed stays this server's to cancel", async () => {
    const failing = failingThenHeld(() => true);
    const { model } = failing;
    const s = await start({ modelProvider: fnProvider(model) });
    const failed = await s.sse.workflows.run.mutate({ key: "analysis_code", input: "mean of 1, 2, 3" });
    expect(failed.status).toBe("failed");
    failing.holdFromNow();
    try {
      const both = await Promise.allSettled([0, 1].map(() => s.sse.runs.resume.mutate({ workflowRunId: failed.workflowRunId })));
      expect(both.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect(both.flatMap((r): unknown[] => (r.status === "rejected" ? [r.reason] : []))).toMatchObject([{ data: { code: "CONFLICT" } }]);
      // The resume that lost must not take the winner out of the server's executing runs with it.
      await waitFor(() => model.requests.length === 3);
      expect(await s.sse.runs.cancel.mutate({ workflowRunId: failed.workflowRunId })).toMatchObject({ status: "cancelled" });
    } finally {
      failing.release();
    }
    const { run } = await s.sse.runs.get.query({ workflowRunId: failed.workflowRunId });
    expect(run.status).toBe("cancelled");
  });
});

describe("a resume waiting for a slot", () => {
  /**
   * A server with one slot, a failed run, and a second run holding the slot (its model call held until
   * `release`); then a resume of the failed run, waiting for the slot. `busy` and `resume` settle with the
   * calls' answers or errors.
   */
  async function resumeWaitingForSlot(opts: { shutdownGraceMs?: number } = {}) {
    const failing = failingThenHeld((request) => lastUserText(request).startsWith("busy"));
    const s = await start({ modelProvider: fnProvider(failing.model), durability: { maxConcurrentRuns: 1 }, ...opts });
    const { workflowRunId } = await s.sse.workflows.run.mutate({ key: "analysis_code", input: "mean of 1, 2, 3" });
    failing.holdFromNow();
    const busy = s.sse.workflows.run.mutate({ key: "analysis_code", input: "busy" }).catch((error: unknown) => error);
    try {
      await waitFor(() => failing.model.requests.length === 3);
      const resume = s.sse.runs.resume.mutate({ workflowRunId }).catch((error: unknown) => error);
      await waitFor(() => s.services.activeRuns.has(workflowRunId));
      return { s, workflowRunId, busy, resume, release: failing.release };
    } catch (error) {
      failing.release();
      throw error;
    }
  }

  it("cannot be deleted from under it; runs.cancel withdraws it and the run stays as recorded", async () => {
    const { s, workflowRunId, busy, resume, release } = await resumeWaitingForSlot();
    try {
      const refused = await s.sse.runs.delete.mutate({ workflowRunId }).catch((error: unknown) => error);
      expect(refused).toMatchObject({ data: { code: "CONFLICT" } });
      expect(String(refused)).toContain("is being resumed on this server");
      expect(await s.sse.runs.cancel.mutate({ workflowRunId })).toEqual({ workflowRunId, status: "failed" });
      const withdrawn = await resume;
      expect(withdrawn).toMatchObject({ data: { code: "CONFLICT" } });
      expect(String(withdrawn)).toContain("was cancelled before it resumed");
    } finally {
      release();
    }
    expect(await busy).toMatchObject({ status: "succeeded" });
    expect((await s.sse.runs.get.query({ workflowRunId })).run.status).toBe("failed");
  });

  it("is told SERVICE_UNAVAILABLE when the server shuts down before a slot frees; the run stays as recorded", async () => {
    const { s, workflowRunId, busy, resume, release } = await resumeWaitingForSlot({ shutdownGraceMs: 100 });
    try {
      await s.services.drain();
      expect(await resume).toMatchObject({ data: { code: "SERVICE_UNAVAILABLE" } });
    } finally {
      release();
    }
    await busy;
    expect((await s.sse.runs.get.query({ workflowRunId })).run.status).toBe("failed");
  });

  it("is told NOT_FOUND when the run is deleted meanwhile by what the server does not refuse (a prune, another instance)", async () => {
    const { s, workflowRunId, busy, resume, release } = await resumeWaitingForSlot();
    try {
      // The store's delete, as a prune or another instance runs it: no check of this server's waiting resumes.
      expect(await s.services.deleteRun(workflowRunId)).toMatchObject({ status: "deleted" });
    } finally {
      release();
    }
    expect(await resume).toMatchObject({ data: { code: "NOT_FOUND" } });
    expect(String(await resume)).toContain(workflowRunId);
    expect(await busy).toMatchObject({ status: "succeeded" });
    await expect(s.sse.runs.get.query({ workflowRunId })).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
  });
});

describe("MAX_CONCURRENT_RUNS", () => {
  it("keeps runs past the limit pending (listed, streamable) and lets them be cancelled while they wait", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const model = new FnModel(async (request) => {
      await gate;
      return { text: `ok ${lastUserText(request).slice(0, 10)}` };
    });
    const s = await start({ modelProvider: fnProvider(model), durability: { maxConcurrentRuns: 1 } });
    const first = s.sse.workflows.run.mutate({ key: "analysis_code", input: "first" });
    await waitFor(() => model.requests.length === 1);
    const secondEvents = collect(s.sse.workflows.runStream.subscribe({ key: "analysis_code", input: "second" }), { until: isEnd });
    await waitFor(async () => (await s.sse.runs.list.query({ status: "pending" })).items.length === 1);
    const [pending] = (await s.sse.runs.list.query({ status: "pending" })).items;
    expect(model.requests).toHaveLength(1);
    const cancelled = await s.sse.runs.cancel.mutate({ workflowRunId: pending!.id });
    expect(cancelled.status).toBe("cancelled");
    expect((await secondEvents).map((e) => e.data.type)).toEqual(["run.cancelled"]);
    release();
    expect((await first).status).toBe("succeeded");
    expect(model.requests.every((r) => !lastUserText(r).includes("second"))).toBe(true);
  });
});
