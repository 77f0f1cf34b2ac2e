import type { NewRun, SpanRecord, WorkflowEvent } from "@workflows/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chunkedEvents, createTestDatabase, type TestDatabase } from "../test/databases";
import { failedRun, newRun, stamper, succeededRun, usage } from "../test/fixtures";
import { openDatabase, type Database } from "./database";
import { deflateJson, inflateJson, mergeEvents, planPack } from "./runPacks";
import { listEvents, listSpans } from "./queries";
import { PrismaRunRecorder } from "./recorder";
import { deleteRun } from "./retention";

let testDb: TestDatabase;
let db: Database;

async function record(recorder: PrismaRunRecorder, events: WorkflowEvent[]): Promise<void> {
  for (const e of events) await recorder.append(e);
  await recorder.flush();
}

const rowsOf = (runId: string) => chunkedEvents(db.prisma, runId);
const packsOf = (runId: string) => db.prisma.workflowRunPack.findMany({ where: { runId }, orderBy: { lastSeq: "asc" }, select: { firstSeq: true, lastSeq: true, spanCount: true } });
const spanRowsOf = (runId: string) => db.prisma.traceSpan.count({ where: { runId } });
const span = (runId: string, i: number): SpanRecord => ({
  workflowRunId: runId,
  stepIndex: i,
  traceId: "trace_1",
  spanId: `span_${i}`,
  parentId: i === 0 ? null : "span_0",
  kind: "agent",
  name: `agent ${i}`,
  startedAt: "2025-03-01T10:00:00.000Z",
  endedAt: null,
  error: null,
  data: { n: i, text: "é ✓" },
});

/** Pages a client could ask for (from the start, every 5th position, the boundaries and the end) return exactly the slice of `expected` they name. */
async function expectEveryPage(runId: string, expected: WorkflowEvent[], boundaries: number[] = []): Promise<void> {
  const positions = [...new Set([0, 1, ...boundaries.flatMap((b) => [b - 1, b, b + 1]), expected.length - 1, expected.length])].filter((p) => p >= 0 && p <= expected.length);
  for (let p = 5; p < expected.length; p += 5) positions.push(p);
  for (const limit of [1, 3, 1000]) {
    for (const after of positions) {
      expect(await listEvents(db.prisma, runId, { afterSeq: after, limit })).toEqual(expected.slice(after, after + limit));
    }
  }
}

/** Records each run to its end (`succeededRun`) with a recorder that never packs, as a process that crashed after the runs' last commits; resolves to their events. */
async function leftAsRows(runs: NewRun[]): Promise<WorkflowEvent[][]> {
  const crashed = new PrismaRunRecorder(db.prisma, { packRuns: false });
  const logs = runs.map((run) => succeededRun(run));
  for (const run of runs) await crashed.createRun(run);
  for (const events of logs) await record(crashed, events);
  await crashed.close();
  return logs;
}

/** Makes the database refuse the pack of one run (a trigger on the pack table). */
async function refusePack(runId: string): Promise<void> {
  if (testDb.kind === "sqlite") {
    await db.prisma.$executeRawUnsafe(`CREATE TRIGGER "refuse_pack" BEFORE INSERT ON "WorkflowRunPack" WHEN NEW."runId" = '${runId}' BEGIN SELECT RAISE(ABORT, 'refused'); END`);
  } else {
    await db.prisma.$executeRawUnsafe(`CREATE FUNCTION "refuse_pack"() RETURNS trigger AS $$ BEGIN IF NEW."runId" = '${runId}' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
    await db.prisma.$executeRawUnsafe(`CREATE TRIGGER "refuse_pack" BEFORE INSERT ON "WorkflowRunPack" FOR EACH ROW EXECUTE FUNCTION "refuse_pack"()`);
  }
}

// Many reads per test: on PostgreSQL under a loaded machine they take their time (the tests check contents, not time).
describe("event packs", { timeout: 120_000 }, () => {
  beforeEach(async () => {
    testDb = await createTestDatabase();
    db = await openDatabase({ url: testDb.url, busyTimeoutMs: 60_000 });
  });
  afterEach(async () => {
    await db.close();
    await testDb.drop();
  });

  it("packs a finished run's events and spans into one row; every read returns them exactly as recorded", async () => {
    const recorder = new PrismaRunRecorder(db.prisma);
    const run = newRun("run-p");
    const events = succeededRun(run, 3, 10);
    const spans = [0, 1, 2].map((i) => span("run-p", i));
    await recorder.createRun(run);
    for (const s of spans) await recorder.recordSpan(s);
    await record(recorder, events);

    expect(await rowsOf("run-p")).toBe(0);
    expect(await spanRowsOf("run-p")).toBe(0);
    expect(await packsOf("run-p")).toEqual([{ firstSeq: 1, lastSeq: events.length, spanCount: 3 }]);
    expect(recorder.stats).toMatchObject({ packs: 1, packedEvents: events.length, packFailures: 0 });
    await expectEveryPage("run-p", events);
    expect(await listSpans(db.prisma, "run-p")).toEqual(spans);

    // A span recorded after the pack stays a row, listed after the packed ones.
    const late = span("run-p", 3);
    await recorder.recordSpan(late);
    expect(await listSpans(db.prisma, "run-p")).toEqual([...spans, late]);
    await recorder.close();
  });

  it("a run resumed after it ended appends rows after its pack, and is packed again when it ends again", async () => {
    const recorder = new PrismaRunRecorder(db.prisma);
    const run = newRun("run-r");
    const first = failedRun(run);
    await recorder.createRun(run);
    await record(recorder, first);
    expect(await packsOf("run-r")).toEqual([{ firstSeq: 1, lastSeq: first.length, spanCount: 0 }]);

    // The resume, as the runner writes it: the same log, seq going on.
    const stamp = stamper(run, Date.parse("2025-03-02T10:00:00.000Z"));
    const later = [
      { type: "run.resumed", fromStepIndex: 1, resumedBy: "api", previousStatus: "failed", versionHash: "v1" },
      { type: "step.started", stepIndex: 1, stepName: "step1", agentKey: "agent1", input: "in1", attempt: 1 },
      { type: "step.delta", stepIndex: 1, stepName: "step1", delta: "again" },
    ].map((body) => ({ ...stamp(body as never), seq: 0 }));
    later.forEach((e, i) => (e.seq = first.length + 1 + i));
    for (const e of later) await recorder.append(e);
    await recorder.flush();
    // Still running: the new events stay rows, read after the pack's.
    expect(await rowsOf("run-r")).toBe(later.length);
    await expectEveryPage("run-r", [...first, ...later], [first.length]);

    const end = { ...stamp({ type: "run.failed", error: { code: "MODEL_ERROR", message: "again" }, stepIndex: 1, usage: usage(1), durationMs: 5 }), seq: first.length + later.length + 1 };
    await record(recorder, [end]);
    expect(await rowsOf("run-r")).toBe(0);
    expect(await packsOf("run-r")).toEqual([
      { firstSeq: 1, lastSeq: first.length, spanCount: 0 },
      { firstSeq: first.length + 1, lastSeq: end.seq, spanCount: 0 },
    ]);
    await expectEveryPage("run-r", [...first, ...later, end], [first.length]);
    await recorder.close();
  });

  it("keeps rows with packRuns: false, and reads the same", async () => {
    const recorder = new PrismaRunRecorder(db.prisma, { packRuns: false });
    const run = newRun("run-u");
    const events = succeededRun(run);
    await recorder.createRun(run);
    await record(recorder, events);
    expect(await rowsOf("run-u")).toBe(events.length);
    expect(await packsOf("run-u")).toEqual([]);
    expect(await listEvents(db.prisma, "run-u")).toEqual(events);
    await recorder.close();
  });

  it("packs a run when it pauses for approval, and its next part when it ends; reads return every event as recorded", async () => {
    const recorder = new PrismaRunRecorder(db.prisma);
    const run = newRun("run-a");
    const stamp = stamper(run);
    await recorder.createRun(run);
    const untilPause = [
      stamp({ type: "run.started", input: run.input, versionHash: run.versionHash, steps: [{ name: "s0", agentKey: "agent" }] }),
      stamp({ type: "step.started", stepIndex: 0, stepName: "s0", agentKey: "agent", input: "x", attempt: 1 }),
      stamp({ type: "run.awaiting_approval", stepIndex: 0, approvalIds: ["a1"], deadlineAt: null, usage: usage(1) }),
    ];
    await record(recorder, untilPause);
    expect(await rowsOf(run.id)).toBe(0);
    expect(await packsOf(run.id)).toEqual([{ firstSeq: 1, lastSeq: 3, spanCount: 0 }]);
    const rest = [
      stamp({ type: "step.approval_resolved", stepIndex: 0, stepName: "s0", approvalId: "a1", toolName: "refund", approved: true, expired: false, reason: null, decidedBy: "local" }),
      stamp({ type: "run.resumed", fromStepIndex: 0, resumedBy: "approval", previousStatus: "awaiting_approval", versionHash: run.versionHash }),
      stamp({ type: "step.completed", stepIndex: 0, stepName: "s0", agentKey: "agent", output: "done", structuredOutput: null, usage: usage(2), responseId: null, durationMs: 1 }),
      stamp({ type: "run.completed", finalOutput: "done", structuredOutput: null, usage: usage(2), durationMs: 2 }),
    ];
    await record(recorder, rest);
    expect(await rowsOf(run.id)).toBe(0);
    expect(await packsOf(run.id)).toEqual([
      { firstSeq: 1, lastSeq: 3, spanCount: 0 },
      { firstSeq: 4, lastSeq: 7, spanCount: 0 },
    ]);
    await expectEveryPage(run.id, [...untilPause, ...rest], [3]);
    await recorder.close();
  });

  it("packLeftovers packs the finished runs a crash left as rows, and leaves live runs alone", async () => {
    // A recorder that never packs stands for the process that crashed after the runs' last commits.
    const crashed = new PrismaRunRecorder(db.prisma, { packRuns: false });
    const done = [newRun("left-1"), newRun("left-2")];
    const live = newRun("left-live");
    const logs = done.map((run) => succeededRun(run));
    const started = succeededRun(live).slice(0, 4);
    for (const run of [...done, live]) await crashed.createRun(run);
    for (const events of [...logs, started]) await record(crashed, events);
    await crashed.close();

    const recorder = new PrismaRunRecorder(db.prisma);
    expect(await recorder.packLeftovers(1)).toBe(1);
    expect(await recorder.packLeftovers()).toBe(1);
    expect(await recorder.packLeftovers()).toBe(0);
    for (const [i, run] of done.entries()) {
      expect(await rowsOf(run.id)).toBe(0);
      expect(await packsOf(run.id)).toEqual([{ firstSeq: 1, lastSeq: logs[i]!.length, spanCount: 0 }]);
      expect(await listEvents(db.prisma, run.id)).toEqual(logs[i]);
    }
    expect(await rowsOf(live.id)).toBe(started.length);
    expect(await packsOf(live.id)).toEqual([]);
    expect(recorder.stats).toMatchObject({ packs: 2, packedEvents: logs[0]!.length + logs[1]!.length, packFailures: 0 });
    await recorder.close();
  });

  it("packs runs together, and a run whose pack fails costs only its own pack: its rows stay and read the same", async () => {
    const runs = [newRun("left-a"), newRun("left-bad"), newRun("left-c")];
    const logs = await leftAsRows(runs);
    await refusePack("left-bad");

    const recorder = new PrismaRunRecorder(db.prisma);
    expect(await recorder.packLeftovers()).toBe(2);
    expect(recorder.stats).toMatchObject({ packs: 2, packedEvents: logs[0]!.length + logs[2]!.length, packFailures: 1 });
    for (const i of [0, 2]) {
      expect(await rowsOf(runs[i]!.id)).toBe(0);
      expect(await packsOf(runs[i]!.id)).toHaveLength(1);
    }
    expect(await rowsOf("left-bad")).toBe(logs[1]!.length);
    expect(await packsOf("left-bad")).toEqual([]);
    for (const [i, run] of runs.entries()) expect(await listEvents(db.prisma, run.id)).toEqual(logs[i]);
    await recorder.close();
  });

  it("packLeftovers goes on from where it stopped: a run whose pack keeps failing does not hide the runs after it", async () => {
    const runs = [newRun("left-1-bad"), newRun("left-2")];
    const logs = await leftAsRows(runs);
    await refusePack("left-1-bad");

    const recorder = new PrismaRunRecorder(db.prisma);
    expect(await recorder.packLeftovers(1)).toBe(0);
    expect(await recorder.packLeftovers(1)).toBe(1);
    expect(await rowsOf("left-2")).toBe(0);
    // Past the end, the next sweep starts over and meets the refused run again.
    expect(await recorder.packLeftovers(1)).toBe(0);
    expect(await recorder.packLeftovers(1)).toBe(0);
    expect(recorder.stats).toMatchObject({ packs: 1, packFailures: 2 });
    expect(await rowsOf("left-1-bad")).toBe(logs[0]!.length);
    await recorder.close();
  });

  it("a follower paging while runs finish and get packed receives every event once, in order", async () => {
    const recorder = new PrismaRunRecorder(db.prisma);
    const runs = ["f-1", "f-2", "f-3"].map((id) => newRun(id));
    const logs = runs.map((run) => succeededRun(run, 3, 10));
    for (const run of runs) await recorder.createRun(run);
    const writing = Promise.all(logs.map((events) => record(recorder, events)));
    const followed = await Promise.all(
      runs.map(async (run, i) => {
        const got: WorkflowEvent[] = [];
        while (got.length < logs[i]!.length) {
          const page = await listEvents(db.prisma, run.id, { afterSeq: got.at(-1)?.seq ?? 0, limit: 7 });
          got.push(...page);
          // Nothing new yet: poll again shortly (the assertion below holds whatever the interleaving).
          if (page.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        }
        return got;
      }),
    );
    await writing;
    expect(followed).toEqual(logs);
    expect(recorder.stats.packs).toBe(3);
    await recorder.close();
  });

  it("retention counts and deletes packed events and spans", async () => {
    const recorder = new PrismaRunRecorder(db.prisma);
    const run = newRun("run-d");
    const events = succeededRun(run);
    await recorder.createRun(run);
    await recorder.recordSpan(span("run-d", 0));
    await record(recorder, events);
    await recorder.close();
    expect(await packsOf("run-d")).toHaveLength(1);
    const result = await deleteRun(db, "run-d");
    expect(result).toMatchObject({ status: "deleted", deleted: { runs: 1, events: events.length, spans: 1 } });
    expect(await db.prisma.workflowRunPack.count()).toBe(0);
  });
});

describe("pack format", () => {
  it("round-trips JSON values and merges packs with chunks by seq", () => {
    const a = [{ n: 1 }, { n: 2, text: "é ✓" }];
    expect(inflateJson(deflateJson(a.map((e) => JSON.stringify(e))))).toEqual(a);
    const pack = { firstSeq: 3, events: deflateJson(['"e3"', '"e4"', '"e5"']) };
    const chunks = [
      { firstSeq: 1, lastSeq: 2, events: '["e1","e2"]' },
      { firstSeq: 6, lastSeq: 8, events: '["e6","e7","e8"]' },
    ];
    expect(mergeEvents(chunks, [pack], 0, 100)).toEqual(["e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8"]);
    expect(mergeEvents(chunks, [pack], 1, 10)).toEqual(["e2", "e3", "e4", "e5", "e6", "e7", "e8"]);
    expect(mergeEvents(chunks, [pack], 0, 2)).toEqual(["e1", "e2"]);
    expect(mergeEvents(chunks.slice(1), [pack], 4, 2)).toEqual(["e5", "e6"]);
    expect(mergeEvents(chunks.slice(1), [], 6, 10)).toEqual(["e7", "e8"]);
  });

  it("packs only the contiguous prefix of a run's chunks, joined without parsing, and nothing without one", () => {
    expect(planPack("r", [], [])).toBeNull();
    const chunks = [
      { firstSeq: 3, lastSeq: 3, events: '["a"]' },
      { firstSeq: 4, lastSeq: 5, events: '[{"b":[1,2]},"c"]' },
      { firstSeq: 7, lastSeq: 7, events: '["d"]' },
    ];
    const planned = planPack("r", chunks, []);
    expect(planned && { ...planned.pack, events: inflateJson(planned.pack.events) }).toEqual({ runId: "r", firstSeq: 3, lastSeq: 5, events: ["a", { b: [1, 2] }, "c"], spanCount: 0, spans: null });
  });
});
