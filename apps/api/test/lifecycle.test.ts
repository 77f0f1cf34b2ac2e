import type { WorkflowEvent } from "@workflows/core";
import { openDatabase, PrismaRunRecorder } from "@workflows/db";
import { afterEach, describe, expect, it } from "vitest";
import { collect, isEnd, startTestServer, tempDir, waitFor, type TestServer } from "./harness";

const tmp = tempDir();
const open: TestServer[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});
const start = async (opts: Parameters<typeof startTestServer>[0]) => {
  const s = await startTestServer(opts);
  open.push(s);
  return s;
};

describe("restart and shutdown", () => {
  it("a server restarted on the same database still serves old runs and their events", async () => {
    const dbUrl = `${tmp.dbUrl}.restart`;
    const a = await start({ dbUrl });
    const result = await a.sse.workflows.run.mutate({ key: "analysis_code", input: "mean of 1, 2, 3" });
    const liveEvents = await collect(a.sse.runs.events.subscribe({ workflowRunId: result.workflowRunId }));
    await a.close();
    open.length = 0;

    const b = await start({ dbUrl });
    expect((await b.sse.runs.get.query({ workflowRunId: result.workflowRunId })).run.status).toBe("succeeded");
    expect((await b.sse.runs.list.query({})).items.map((r) => r.id)).toContain(result.workflowRunId);
    const replay = await collect(b.ws.runs.events.subscribe({ workflowRunId: result.workflowRunId }));
    expect(replay).toEqual(liveEvents);
  });

  /** A run of analysis_code left `running` after its first step by a server that no longer exists. */
  async function crashedRun(dbUrl: string, versionHash: string, opts: { cancelled?: boolean } = {}): Promise<string> {
    const db = await openDatabase({ url: await tmp.ensure(dbUrl) });
    // Owned by an instance that never registered: counts as dead, as after a crash. A cancelled run ended
    // before the crash, which came before its events were packed (packRuns: false).
    const recorder = new PrismaRunRecorder(db.prisma, { owner: "crashed-instance", packRuns: !opts.cancelled });
    const id = `crashed-${versionHash}`;
    const at = new Date().toISOString();
    const base = { workflowRunId: id, workflowKey: "analysis_code", at };
    const input = "mean of 2, 4, 6";
    await recorder.createRun({ id, workflowKey: "analysis_code", versionHash, input });
    const log: WorkflowEvent[] = [
      { ...base, seq: 1, type: "run.started", input, versionHash, steps: [{ name: "analyse", agentKey: "data_analyst" }, { name: "write_code", agentKey: "code_assistant" }] },
      { ...base, seq: 2, type: "step.started", stepIndex: 0, stepName: "analyse", agentKey: "data_analyst", input, attempt: 1 },
      { ...base, seq: 3, type: "step.completed", stepIndex: 0, stepName: "analyse", agentKey: "data_analyst", output: "ANALYSIS FROM BEFORE THE CRASH", structuredOutput: null, usage: { requests: 2, inputTokens: 10, outputTokens: 5, totalTokens: 15 }, responseId: null, durationMs: 1 },
      { ...base, seq: 4, type: "step.started", stepIndex: 1, stepName: "write_code", agentKey: "code_assistant", input: "x", attempt: 1 },
    ];
    if (opts.cancelled) log.push({ ...base, seq: 5, type: "run.cancelled", reason: "stopped by hand", stepIndex: 1, usage: { requests: 2, inputTokens: 10, outputTokens: 5, totalTokens: 15 }, durationMs: 3, by: "local" });
    for (const event of log) await recorder.append(event);
    await recorder.close();
    await db.close();
    return id;
  }

  it("a run left running by a crashed server is resumed at start-up from its first unfinished step, on the same log", async () => {
    const dbUrl = `${tmp.dbUrl}.crash-resume`;
    const probe = await start({ dbUrl: `${tmp.dbUrl}.probe` });
    const version = (await probe.sse.workflows.get.query({ key: "analysis_code" })).versionHash;
    const id = await crashedRun(dbUrl, version);

    const s = await start({ dbUrl });
    const events = await collect(s.sse.runs.events.subscribe({ workflowRunId: id, lastEventId: `${id}:4` }), { until: isEnd });
    expect(events[0]?.data).toMatchObject({ type: "run.resumed", seq: 5, fromStepIndex: 1, resumedBy: "start-up", previousStatus: "running" });
    expect(events.at(-1)?.data.type).toBe("run.completed");
    expect(events.map((e) => e.data).filter((e) => e.type === "step.started").map((e) => ("stepIndex" in e ? e.stepIndex : -1))).toEqual([1]);
    const { run, steps } = await s.sse.runs.get.query({ workflowRunId: id });
    expect(run.status).toBe("succeeded");
    // The recorded analysis fed the second step's mapper: it was not produced again.
    expect(steps[0]).toMatchObject({ status: "succeeded", output: "ANALYSIS FROM BEFORE THE CRASH", attempts: 1 });
    expect(steps[1]?.input).toContain("ANALYSIS FROM BEFORE THE CRASH");
    expect(steps[1]).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(run.usage.totalTokens).toBe(steps[0]!.usage.totalTokens + steps[1]!.usage.totalTokens);
  });

  it("a finished run whose events a crash left unpacked is packed at start-up; its replay is unchanged", async () => {
    const dbUrl = `${tmp.dbUrl}.crash-unpacked`;
    const id = await crashedRun(dbUrl, "any-version", { cancelled: true });
    const db = await openDatabase({ url: dbUrl });
    try {
      const chunks = () => db.prisma.workflowRunEventChunk.findMany({ where: { runId: id }, orderBy: { lastSeq: "asc" }, select: { firstSeq: true, lastSeq: true } });
      const left = await chunks();
      expect([left[0]?.firstSeq, left.at(-1)?.lastSeq]).toEqual([1, 5]);
      const s = await start({ dbUrl });
      await waitFor(async () => (await chunks()).length === 0, 30_000);
      expect(await db.prisma.workflowRunPack.findMany({ where: { runId: id }, select: { firstSeq: true, lastSeq: true } })).toEqual([{ firstSeq: 1, lastSeq: 5 }]);
      const events = await collect(s.sse.runs.events.subscribe({ workflowRunId: id }));
      expect(events.map((e) => e.data.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(events.at(-1)?.data).toMatchObject({ type: "run.cancelled", reason: "stopped by hand" });
      expect((await s.sse.runs.get.query({ workflowRunId: id })).run.status).toBe("cancelled");
    } finally {
      await db.close();
    }
  });

  it("a crashed run whose workflow changed since is recorded interrupted with a run.interrupted naming both versions", async () => {
    const dbUrl = `${tmp.dbUrl}.crash-version`;
    const id = await crashedRun(dbUrl, "old-version");
    const s = await start({ dbUrl });
    const { run } = await s.sse.runs.get.query({ workflowRunId: id });
    expect(run).toMatchObject({ status: "interrupted", error: { code: "INTERRUPTED" } });
    const events = await collect(s.sse.runs.events.subscribe({ workflowRunId: id }));
    expect(events.map((e) => e.data.type)).toEqual(["run.started", "step.started", "step.completed", "step.started", "run.interrupted"]);
    expect(events.at(-1)?.data).toMatchObject({ reason: expect.stringContaining("old-version") as string, usage: { totalTokens: 15 } });
    await expect(s.sse.runs.cancel.mutate({ workflowRunId: id })).rejects.toMatchObject({ data: { code: "CONFLICT" } });
    const refusal = await s.sse.runs.resume.mutate({ workflowRunId: id }).catch((error: unknown) => error);
    expect(refusal).toMatchObject({ data: { code: "CONFLICT" }, message: expect.stringContaining("allowNewVersion") as string });
    const resumed = await s.sse.runs.resume.mutate({ workflowRunId: id, allowNewVersion: true });
    expect(resumed).toMatchObject({ fromStepIndex: 1, status: "running" });
  });

  it("with RESUME_ON_START off, a crashed run is recorded interrupted and its stream ends", async () => {
    const dbUrl = `${tmp.dbUrl}.crash-noresume`;
    const probe = await start({ dbUrl: `${tmp.dbUrl}.probe2` });
    const id = await crashedRun(dbUrl, (await probe.sse.workflows.get.query({ key: "analysis_code" })).versionHash);
    const s = await start({ dbUrl, durability: { resumeOnStart: false } });
    expect((await s.sse.runs.get.query({ workflowRunId: id })).run.status).toBe("interrupted");
    const events = await collect(s.sse.runs.events.subscribe({ workflowRunId: id, lastEventId: `${id}:4` }));
    expect(events.map((e) => e.data.type)).toEqual(["run.interrupted"]);
  });

  it("shutdown refuses new runs, aborts runs past the grace period and leaves none running", async () => {
    const s = await start({ dbUrl: `${tmp.dbUrl}.shutdown`, model: { provider: "offline", delayMs: 30 }, shutdownGraceMs: 100 });
    const events: { data: { type: string; workflowRunId: string } }[] = [];
    const streamed = collect(s.sse.workflows.runStream.subscribe({ key: "analysis_code", input: "mean of 4, 8, 15" }), { until: isEnd, onValue: (e) => events.push(e) });
    await waitFor(() => events.length > 0);
    const runId = events[0]?.data.workflowRunId ?? "";
    const draining = s.services.drain();
    await expect(s.sse.workflows.run.mutate({ key: "analysis_code", input: "late" })).rejects.toMatchObject({ data: { code: "SERVICE_UNAVAILABLE" } });
    await draining;
    const all = await streamed;
    expect(all.at(-1)?.data).toMatchObject({ type: "run.cancelled", interrupted: true });
    const { run, steps } = await s.sse.runs.get.query({ workflowRunId: runId });
    expect(run).toMatchObject({ status: "interrupted", error: { code: "INTERRUPTED" } });
    expect(steps.some((step) => step.status === "running")).toBe(false);
    expect((await s.sse.health.query()).accepting).toBe(false);
  });

  it("an unexpected failure is a generic INTERNAL_SERVER_ERROR and the server stays up", async () => {
    const s = await start({ dbUrl: `${tmp.dbUrl}.internal` });
    s.services.runs.listRuns = () => Promise.reject(new Error("SQLITE_CORRUPT: secret path /var/lib/x.db"));
    const error = (await s.sse.runs.list.query({}).then(
      () => null,
      (e: unknown) => e,
    )) as { message: string; data: { code: string; stack?: string } };
    expect(error.data.code).toBe("INTERNAL_SERVER_ERROR");
    expect(error.message).toBe("Internal server error");
    expect(JSON.stringify(error)).not.toContain("SQLITE_CORRUPT");
    expect(error.data.stack).toBeUndefined();
    expect((await s.sse.health.query()).ok).toBe(true);
  });
});
