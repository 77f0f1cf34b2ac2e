import { ConflictError, InMemoryRunRecorder, NotFoundError, SystemFaultError, type NewRun, type SpanRecord, type WorkflowEvent } from "@workflows/core";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chunkedEvents, countStored, createTestDatabase, type TestDatabase } from "../test/databases";
import { cancelledRun, failedRun, newRun, skippedStepRun, succeededRun } from "../test/fixtures";
import { openDatabase, type Database } from "./database";
import { getRun, listEvents, listSpans } from "./queries";
import { PrismaRunRecorder } from "./recorder";

let testDb: TestDatabase;
let db: Database;
let recorder: PrismaRunRecorder;

beforeEach(async () => {
  testDb = await createTestDatabase();
  db = await openDatabase({ url: testDb.url, busyTimeoutMs: 60_000 });
  recorder = new PrismaRunRecorder(db.prisma);
});
afterEach(async () => {
  await recorder.close();
  await db.close();
  await testDb.drop();
});

/** Appends one by one, awaiting each, as the runner does. */
async function play(target: { append(e: WorkflowEvent): Promise<void> }, events: WorkflowEvent[]) {
  for (const e of events) await target.append(e);
}

describe("PrismaRunRecorder matches InMemoryRunRecorder", () => {
  const scenarios: [string, (run: NewRun) => WorkflowEvent[]][] = [
    ["a succeeded run", (r) => succeededRun(r)],
    ["a run failed mid-way (earlier steps kept)", failedRun],
    ["a run with a skipped step", skippedStepRun],
    ["a cancelled run", cancelledRun],
  ];
  for (const [name, build] of scenarios) {
    it(name, async () => {
      const input = newRun("run-1", { conversationId: "conv-1", idempotencyKey: "key-1" });
      const events = build(input);
      const memory = new InMemoryRunRecorder();
      await memory.createRun(input);
      await play(memory, events);
      const created = await recorder.createRun(input);
      expect(created.status).toBe("created");
      await play(recorder, events);

      const expected = memory.get("run-1");
      const stored = await getRun(db.prisma, "run-1");
      expect(stored).not.toBeNull();
      expect({ ...stored!.run, createdAt: "x" }).toEqual({ ...expected.run, createdAt: "x" });
      expect(stored!.steps).toEqual(expected.steps);
      expect(await listEvents(db.prisma, "run-1")).toEqual(expected.events);
    });
  }

  it("keeps the earlier steps' outputs of a failed run", async () => {
    const input = newRun("run-f");
    await recorder.createRun(input);
    await play(recorder, failedRun(input));
    const stored = (await getRun(db.prisma, "run-f"))!;
    expect(stored.run.status).toBe("failed");
    expect(stored.run.error).toEqual({ code: "MODEL_ERROR", message: "upstream 500" });
    expect(stored.steps.map((s) => s.status)).toEqual(["succeeded", "failed", "pending"]);
    expect(stored.steps[0]!.output).toBe("out0");
    expect(stored.steps[0]!.structuredOutput).toEqual({ n: 0, tags: ["a", "b"] });
  });
});

describe("append", () => {
  it("resolves only after the event is readable, and notifies onStored after commit", async () => {
    const input = newRun("run-n");
    await recorder.createRun(input);
    const seen: [string, number][] = [];
    const stop = recorder.onStored((id, seq) => seen.push([id, seq]));
    const [first, second] = succeededRun(input);
    await recorder.append(first!);
    expect(seen).toEqual([["run-n", 1]]);
    expect((await listEvents(db.prisma, "run-n")).map((e) => e.seq)).toEqual([1]);
    stop();
    await recorder.append(second!);
    expect(seen).toHaveLength(1);
  });

  it("hands onStored the events each commit stored, per run and in seq order, as appended (no re-read)", async () => {
    const [a, b] = [newRun("run-pa"), newRun("run-pb")];
    await recorder.createRun(a);
    await recorder.createRun(b);
    const seen: { id: string; lastSeq: number; seqs: number[] }[] = [];
    recorder.onStored((id, lastSeq, events) => seen.push({ id, lastSeq, seqs: events.map((e) => e.seq) }));
    const eventsA = succeededRun(a);
    const eventsB = succeededRun(b).slice(0, 2);
    // Appended in the same tick: one batch, one transaction, one notification per run.
    await Promise.all([...eventsA, ...eventsB].map((e) => recorder.append(e)));
    expect(seen).toEqual([
      { id: "run-pa", lastSeq: eventsA.length, seqs: eventsA.map((e) => e.seq) },
      { id: "run-pb", lastSeq: 2, seqs: [1, 2] },
    ]);
    // Rejected events are not handed on.
    seen.length = 0;
    await expect(recorder.append(eventsB[0]!)).rejects.toBeInstanceOf(ConflictError);
    expect(seen).toEqual([]);
  });

  it("writes concurrent appends of many runs in shared transactions, all stored", async () => {
    const runs = Array.from({ length: 20 }, (_, i) => newRun(`run-${i}`));
    for (const r of runs) await recorder.createRun(r);
    await Promise.all(runs.map((r) => play(recorder, succeededRun(r))));
    for (const r of runs) {
      const stored = (await getRun(db.prisma, r.id))!;
      expect(stored.run.status).toBe("succeeded");
      expect(stored.run.lastSeq).toBe(succeededRun(r).length);
    }
    await recorder.flush(); // packing comes after the last append
    expect((await countStored(db.prisma)).events).toBe(20 * succeededRun(runs[0]!).length);
  });

  it("rejects an event whose seq does not follow, like the in-memory recorder, and keeps the batch's other events", async () => {
    const { a1, a2, b1 } = await twoRuns();
    const results = await Promise.allSettled([recorder.append(a1), recorder.append(a1), recorder.append(b1), recorder.append(a2)]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    expect((await listEvents(db.prisma, "run-a")).map((e) => e.seq)).toEqual([1, 2]);
    expect((await getRun(db.prisma, "run-b"))!.run.lastSeq).toBe(1);
  });

  it("rejects events and spans of an unknown run with NotFoundError", async () => {
    const [e] = succeededRun(newRun("ghost"));
    await expect(recorder.append(e!)).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      recorder.recordSpan({ workflowRunId: "ghost", stepIndex: null, traceId: "t", spanId: "s", parentId: null, kind: "agent", name: "x", startedAt: null, endedAt: null, error: null, data: {} }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it("rejects with SystemFaultError STORAGE_ERROR when the database fails", async () => {
    const input = newRun("run-s");
    await recorder.createRun(input);
    await db.prisma.$executeRawUnsafe('DROP TABLE "WorkflowRunEventChunk"');
    const [first] = succeededRun(input);
    const error: unknown = await recorder.append(first!).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SystemFaultError);
    expect((error as SystemFaultError).code).toBe("STORAGE_ERROR");
    // The transaction rolled back: the run patch was not applied either.
    expect((await getRun(db.prisma, "run-s"))!.run.lastSeq).toBe(0);
  });

  it("rejects appends after close()", async () => {
    await recorder.close();
    const [first] = succeededRun(newRun("late"));
    await expect(recorder.append(first!)).rejects.toBeInstanceOf(SystemFaultError);
  });
});

describe("cancelNotStarted", () => {
  it("records a queued run that never started as cancelled at seq 1, and leaves started or finished runs alone", async () => {
    await recorder.createRun(newRun("queued"));
    expect(await recorder.cancelNotStarted("queued", "cancelled by request")).toBe(true);
    expect((await getRun(db.prisma, "queued"))!.run).toMatchObject({ status: "cancelled", lastSeq: 1 });
    expect((await listEvents(db.prisma, "queued")).map((e) => [e.seq, e.type])).toEqual([[1, "run.cancelled"]]);
    expect(await recorder.cancelNotStarted("queued", "again")).toBe(false);
    const started = newRun("started");
    await recorder.createRun(started);
    await recorder.append(succeededRun(started)[0]!);
    expect(await recorder.cancelNotStarted("started", "too late")).toBe(false);
    expect(await recorder.cancelNotStarted("unknown", "nothing")).toBe(false);
  });
});

describe("createRun", () => {
  it("returns the existing run for a known idempotency key", async () => {
    const first = await recorder.createRun(newRun("run-1", { idempotencyKey: "k", input: "same" }));
    const again = await recorder.createRun(newRun("run-2", { idempotencyKey: "k", input: "same" }));
    expect(first.status).toBe("created");
    expect(again).toEqual({ status: "existing", run: first.run });
    expect(await db.prisma.workflowRun.count()).toBe(1);
  });

  it("gives one run when two clients race with the same key", async () => {
    const other = await openDatabase({ url: testDb.url });
    try {
      const second = new PrismaRunRecorder(other.prisma);
      const results = await Promise.all([recorder.createRun(newRun("run-x", { idempotencyKey: "race", input: "same" })), second.createRun(newRun("run-y", { idempotencyKey: "race", input: "same" }))]);
      expect(results.map((r) => r.status).sort()).toEqual(["created", "existing"]);
      expect(results[0].run.id).toBe(results[1].run.id);
      expect(await db.prisma.workflowRun.count()).toBe(1);
    } finally {
      await other.close();
    }
  });

  it("rejects a reused run id without a key as a ConflictError", async () => {
    await recorder.createRun(newRun("dup"));
    await expect(recorder.createRun(newRun("dup"))).rejects.toBeInstanceOf(ConflictError);
  });
});

describe("recordSpan", () => {
  it("stores spans in order with their data", async () => {
    await recorder.createRun(newRun("run-1"));
    const base = { workflowRunId: "run-1", traceId: "trace_1", parentId: null, startedAt: "2025-03-01T10:00:00.000Z", endedAt: "2025-03-01T10:00:01.000Z", error: null };
    await Promise.all([
      recorder.recordSpan({ ...base, stepIndex: null, spanId: "s1", kind: "agent", name: "writer", data: { model: "m" } }),
      recorder.recordSpan({ ...base, stepIndex: 0, spanId: "s2", parentId: "s1", kind: "generation", name: "gen", data: { usage: { input_tokens: 3 } } }),
    ]);
    const spans = await listSpans(db.prisma, "run-1");
    expect(spans.map((s) => s.spanId)).toEqual(["s1", "s2"]);
    expect(spans[1]).toMatchObject({ stepIndex: 0, parentId: "s1", kind: "generation", data: { usage: { input_tokens: 3 } } });
  });
});

/** Runs "run-a" and "run-b", created; their first events (a1, a2, b1), not yet appended. */
async function twoRuns() {
  const a = newRun("run-a");
  const b = newRun("run-b");
  await recorder.createRun(a);
  await recorder.createRun(b);
  const [a1, a2] = succeededRun(a);
  const [b1] = succeededRun(b);
  return { a1: a1!, a2: a2!, b1: b1! };
}

describe("markInterrupted", () => {
  it("records live runs interrupted with a run.interrupted event at their next seq, running steps cancelled, finished runs left alone", async () => {
    const live = newRun("live");
    const done = newRun("done");
    const waiting = newRun("waiting");
    for (const r of [live, done, waiting]) await recorder.createRun(r);
    await play(recorder, succeededRun(live).slice(0, 3)); // run.started, step0 started, a delta
    await play(recorder, succeededRun(done));
    const notified: string[] = [];
    recorder.onStored((id) => notified.push(id));
    const changed = await recorder.markInterrupted(["live", "done", "waiting", "unknown"], "gone");
    expect(changed.sort()).toEqual(["live", "waiting"]);
    expect(notified.sort()).toEqual(["live", "waiting"]);
    const stored = (await getRun(db.prisma, "live"))!;
    expect(stored.run).toMatchObject({ status: "interrupted", error: { code: "INTERRUPTED", message: "gone" }, lastSeq: 4 });
    expect(stored.run.endedAt).not.toBeNull();
    expect(stored.steps.map((s) => s.status)).toEqual(["cancelled", "cancelled", "cancelled"]);
    const events = await listEvents(db.prisma, "live");
    expect(events.at(-1)).toMatchObject({ type: "run.interrupted", seq: 4, stepIndex: 0, reason: "gone" });
    expect((await listEvents(db.prisma, "waiting")).map((e) => [e.type, e.seq])).toEqual([["run.interrupted", 1]]);
    expect((await getRun(db.prisma, "done"))!.run.status).toBe("succeeded");
  });
});

describe("owners", () => {
  it("the recorder's instance owns the runs it creates, starts and resumes", async () => {
    const mine = new PrismaRunRecorder(db.prisma, { owner: "instance-a" });
    await mine.createRun(newRun("r"));
    expect((await db.prisma.workflowRun.findUnique({ where: { id: "r" } }))?.owner).toBe("instance-a");
    const [started] = succeededRun(newRun("r"));
    await new PrismaRunRecorder(db.prisma, { owner: "instance-b" }).append(started!);
    expect((await db.prisma.workflowRun.findUnique({ where: { id: "r" } }))?.owner).toBe("instance-b");
    await mine.close();
  });
});

describe("idempotency fingerprints", () => {
  it("answers the same request with the first run and refuses the key for another input", async () => {
    const first = newRun("one", { idempotencyKey: "k" });
    await recorder.createRun({ ...first, fingerprint: "f1" });
    expect(await recorder.createRun({ ...newRun("two", { idempotencyKey: "k" }), fingerprint: "f1" })).toMatchObject({ status: "existing", run: { id: "one" } });
    await expect(recorder.createRun({ ...newRun("three", { idempotencyKey: "k" }), fingerprint: "f2" })).rejects.toThrow(ConflictError);
  });
});

describe("write paths", () => {
  it("writes through Prisma (writes: 'prisma') exactly what the direct writer writes", async () => {
    const viaPrisma = new PrismaRunRecorder(db.prisma, { writes: "prisma" });
    try {
      const a = newRun("direct", { idempotencyKey: "ka", input: "same input" });
      const b = newRun("prisma", { idempotencyKey: "kb", input: "same input" });
      await recorder.createRun(a);
      await viaPrisma.createRun(b);
      await play(recorder, succeededRun(a));
      await play(viaPrisma, succeededRun(b));
      expect(await viaPrisma.createRun(b)).toMatchObject({ status: "existing", run: { id: "prisma" } });
      const direct = (await getRun(db.prisma, "direct"))!;
      const prisma = (await getRun(db.prisma, "prisma"))!;
      const comparable = (r: typeof direct) => ({ ...r, run: { ...r.run, id: "x", idempotencyKey: "x", createdAt: "x" } });
      expect(comparable(prisma)).toEqual(comparable(direct));
      expect((await listEvents(db.prisma, "prisma")).map((e) => e.type)).toEqual((await listEvents(db.prisma, "direct")).map((e) => e.type));
    } finally {
      await viaPrisma.close();
    }
  });
});

describe("two processes on one file", () => {
  // Starting a second Node process with tsx takes seconds on a loaded 2-core machine: the limit is generous.
  it("a recorder here and one in another process interleave appends without losing writes", { timeout: 120_000 }, async () => {
    const perRun = succeededRun(newRun("x")).length;
    const mine = Array.from({ length: 5 }, (_, i) => newRun(`a-${i}`));
    for (const r of mine) await recorder.createRun(r);
    const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("../test/writer.ts", import.meta.url)), testDb.url, "b", "5"], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    // The child says "ready" once its runs exist, then appends; we append at the same time. No clock involved.
    const ready = new Promise<void>((resolve) => child.stdout.on("data", (d: Buffer) => ((output += d.toString()), output.includes("ready") && resolve())));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    await Promise.race([ready, exited]);
    await Promise.all(mine.map((r) => play(recorder, succeededRun(r))));
    expect(await exited, output).toBe(0);
    await recorder.flush();
    expect((await countStored(db.prisma)).events).toBe(10 * perRun);
    for (const id of [...mine.map((r) => r.id), ...Array.from({ length: 5 }, (_, i) => `b-${i}`)]) {
      const stored = (await getRun(db.prisma, id))!;
      expect(stored.run).toMatchObject({ status: "succeeded", lastSeq: perRun });
      expect(stored.steps.every((s) => s.status === "succeeded")).toBe(true);
    }
  });
});

describe("batches", () => {
  const span = (runId: string, n: number): SpanRecord => ({
    workflowRunId: runId,
    stepIndex: n % 3,
    traceId: `trace_${runId}`,
    spanId: `span_${runId}_${n}`,
    parentId: n === 0 ? null : `span_${runId}_0`,
    kind: n % 2 === 0 ? "agent" : "generation",
    name: `span ${n}`,
    startedAt: "2025-03-01T10:00:00.000Z",
    endedAt: n % 2 === 0 ? "2025-03-01T10:00:01.500Z" : null,
    error: n === 3 ? "boom" : null,
    data: { n, nested: { list: [1, "two", null] }, text: "quote \" and 'single' and \\ backslash" },
  });

  it("stores a batch mixing several runs' events and spans completely and in order, as the in-memory recorder does", async () => {
    // "w-*" runs are new to this recorder (their step rows are written whole); "p-*" runs were started by
    // another recorder, so this one patches their step rows statement by statement.
    const scenarios: [string, (run: NewRun) => WorkflowEvent[]][] = [
      ["w-ok", (r) => succeededRun(r)],
      ["w-cancel", cancelledRun],
      ["p-ok", (r) => succeededRun(r)],
      ["p-cancel", cancelledRun],
      ["p-fail", failedRun],
      ["p-skip", skippedStepRun],
    ];
    const memory = new InMemoryRunRecorder();
    const other = new PrismaRunRecorder(db.prisma);
    const queues: WorkflowEvent[][] = [];
    for (const [id, build] of scenarios) {
      const input = newRun(id);
      const events = build(input);
      await memory.createRun(input);
      await play(memory, events);
      await recorder.createRun(input);
      const split = id.startsWith("p-") ? 3 : 0;
      await play(other, events.slice(0, split));
      queues.push(events.slice(split));
    }
    await other.close();
    // Round-robin over the runs, spans in between, nothing awaited: all of it lands in one batch.
    const before = recorder.stats.transactions;
    const pending: Promise<void>[] = [];
    for (let i = 0; queues.some((q) => i < q.length); i++) {
      for (const queue of queues) {
        const event = queue[i];
        if (!event) continue;
        pending.push(recorder.append(event));
        const s = span(event.workflowRunId, i);
        pending.push(recorder.recordSpan(s), memory.recordSpan(s));
      }
    }
    await Promise.all(pending);
    expect(recorder.stats.transactions - before).toBe(1);
    for (const [id] of scenarios) {
      const expected = memory.get(id);
      const stored = (await getRun(db.prisma, id))!;
      expect({ ...stored.run, createdAt: "x" }).toEqual({ ...expected.run, createdAt: "x" });
      expect(stored.steps).toEqual(expected.steps);
      expect(await listEvents(db.prisma, id)).toEqual(expected.events);
      expect(await listSpans(db.prisma, id)).toEqual(expected.spans);
    }
  });

  it("splits a batch too large for one statement's parameters (SQLite allows 32,766) into several statements", async () => {
    const runs = Array.from({ length: 400 }, (_, i) => newRun(`big-${i}`));
    for (const r of runs) await recorder.createRun(r);
    // 400 run.started events of 10 steps each: 4,000 step rows of 19 columns in one batch.
    await Promise.all(runs.map((r) => recorder.append(succeededRun(r, 10)[0]!)));
    expect(await db.prisma.workflowRunStep.count()).toBe(4_000);
    expect(await db.prisma.workflowRunEventChunk.count()).toBe(400);
    expect(await chunkedEvents(db.prisma)).toBe(400);
  }, 180_000);

  it("writes DateTime and JSON columns exactly as the ORM does, and the queries read them back identically", async () => {
    const input = newRun("run-t");
    // Unpacked: the event chunks are checked below.
    const rows = new PrismaRunRecorder(db.prisma, { packRuns: false });
    await rows.createRun(input); // through the ORM
    const events = succeededRun(input);
    await play(rows, events); // through raw SQL
    await rows.recordSpan(span("run-t", 0));
    await rows.close();
    if (db.kind === "sqlite") {
      const text = (column: string, table: string) =>
        db.prisma.$queryRawUnsafe<{ v: string | null }[]>(`SELECT "${column}" || '' AS v FROM "${table}" WHERE "${table === "WorkflowRun" ? "id" : "runId"}" = 'run-t'`);
      const [createdAt] = await text("createdAt", "WorkflowRun");
      const ormFormat = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/;
      expect(createdAt!.v).toMatch(ormFormat);
      for (const [column, table] of [["startedAt", "WorkflowRun"], ["endedAt", "WorkflowRun"], ["startedAt", "WorkflowRunStep"], ["endedAt", "WorkflowRunStep"]] as const) {
        const values = await text(column, table);
        expect(values.length).toBeGreaterThan(0);
        for (const { v } of values) expect(v, `${table}.${column}`).toMatch(ormFormat);
      }
    } else {
      // PostgreSQL stores instants and JSON natively; the raw SQL's text parameters were parsed into them.
      const types = await db.prisma.$queryRawUnsafe<{ t: string; c: string; d: string }[]>(
        `SELECT table_name AS t, column_name AS c, data_type AS d FROM information_schema.columns WHERE column_name IN ('startedAt', 'events', 'structuredOutput', 'data') AND table_name IN ('WorkflowRun', 'WorkflowRunEventChunk', 'WorkflowRunStep', 'TraceSpan') ORDER BY 1, 2`,
      );
      expect(types.map((r) => `${r.t}.${r.c}: ${r.d}`)).toEqual([
        "TraceSpan.data: jsonb",
        "TraceSpan.startedAt: text",
        "WorkflowRun.startedAt: timestamp with time zone",
        "WorkflowRun.structuredOutput: jsonb",
        "WorkflowRunEventChunk.events: text",
        "WorkflowRunStep.startedAt: timestamp with time zone",
        "WorkflowRunStep.structuredOutput: jsonb",
      ]);
    }
    const stored = (await getRun(db.prisma, "run-t"))!;
    const completed = events.filter((e) => e.type === "step.completed");
    expect(stored.run.startedAt).toBe(events[0]!.at);
    expect(stored.run.endedAt).toBe(events.at(-1)!.at);
    expect(stored.run.structuredOutput).toEqual({ done: true });
    expect(stored.steps.map((s) => s.endedAt)).toEqual(completed.map((e) => e.at));
    expect(stored.steps.map((s) => s.structuredOutput)).toEqual(completed.map((e) => (e.type === "step.completed" ? e.structuredOutput : undefined)));
    expect(await listEvents(db.prisma, "run-t")).toEqual(events);
    expect(await listSpans(db.prisma, "run-t")).toEqual([span("run-t", 0)]);
    // DateTime comparisons in ORM queries see the raw-written values in the same order as ORM-written ones.
    const started = events.flatMap((e) => (e.type === "step.started" ? [e.at] : []));
    expect(new Set(started).size).toBe(started.length);
    const later = await db.prisma.workflowRunStep.count({ where: { runId: "run-t", startedAt: { gte: new Date(started[1]!) } } });
    expect(later).toBe(started.length - 1);
    // One chunk per batch, together every event once, in order.
    const chunks = await db.prisma.workflowRunEventChunk.findMany({ where: { runId: "run-t" }, orderBy: { lastSeq: "asc" } });
    expect(chunks.flatMap((c) => JSON.parse(c.events) as unknown[])).toEqual(events);
    chunks.forEach((c, i) => expect(c.firstSeq).toBe(i === 0 ? 1 : chunks[i - 1]!.lastSeq + 1));
  });

  it("detects another writer that moved a run: that event is rejected with ConflictError, the rest of the batch is stored", async () => {
    const { a1, a2, b1 } = await twoRuns();
    await recorder.append(a1); // this recorder now believes run-a is at seq 1
    const other = new PrismaRunRecorder(db.prisma);
    await other.append(a2); // ...but another writer stored seq 2
    await other.close();
    const results = await Promise.allSettled([recorder.append(a2), recorder.append(b1), recorder.recordSpan(span("run-a", 0))]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled", "fulfilled"]);
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    expect((await listEvents(db.prisma, "run-a")).map((e) => e.seq)).toEqual([1, 2]);
    expect((await getRun(db.prisma, "run-b"))!.run.lastSeq).toBe(1);
    expect(await listSpans(db.prisma, "run-a")).toHaveLength(1);
  });

  it("rejects events and spans of a run deleted behind its back with NotFoundError", async () => {
    const c = newRun("run-c");
    await recorder.createRun(c);
    const [c1, c2] = succeededRun(c);
    await recorder.append(c1!);
    await db.prisma.workflowRun.delete({ where: { id: "run-c" } });
    const results = await Promise.allSettled([recorder.append(c2!), recorder.recordSpan(span("run-c", 0))]);
    expect(results.map((r) => (r.status === "rejected" ? (r.reason as Error).constructor.name : r.status))).toEqual(["NotFoundError", "NotFoundError"]);
  });
});
