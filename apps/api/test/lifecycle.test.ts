import { hostname } from "node:os";
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

  it("runs left running by a crashed process are marked interrupted at start-up, and their streams end", async () => {
    const dbUrl = `${tmp.dbUrl}.crash`;
    const db = await openDatabase({ url: dbUrl });
    // Owned by a process that no longer exists (this one is alive, and its runs would be left alone).
    const recorder = new PrismaRunRecorder(db.prisma, { owner: `${hostname()}:999999999` });
    await recorder.createRun({ id: "crashed-run", workflowKey: "analysis_code", versionHash: "x", input: "hi" });
    await recorder.append({ type: "run.started", workflowRunId: "crashed-run", workflowKey: "analysis_code", seq: 1, at: new Date().toISOString(), input: "hi", versionHash: "x", steps: [{ name: "analyse", agentKey: "data_analyst" }] });
    await recorder.close();
    await db.close();

    const s = await start({ dbUrl });
    const { run } = await s.sse.runs.get.query({ workflowRunId: "crashed-run" });
    expect(run.status).toBe("interrupted");
    expect(run.error?.code).toBe("INTERRUPTED");
    const events = await collect(s.sse.runs.events.subscribe({ workflowRunId: "crashed-run" }));
    expect(events.map((e) => e.data.type)).toEqual(["run.started"]);
    await expect(s.sse.runs.cancel.mutate({ workflowRunId: "crashed-run" })).rejects.toMatchObject({ data: { code: "CONFLICT" } });
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
