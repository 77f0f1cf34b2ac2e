// Cost of the Prisma primitives the recorder can use, on one SQLite file (WAL), through the better-sqlite3
// adapter: per call, median of many. Used to choose how a batch is written (docs/bench-recorder.md).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { openDatabase, Prisma } from "@workflows/db";
import { fmt, summarize } from "../lib/stats";

const N = Number(process.argv[2] ?? 400);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wf-bench-prim-"));
const db = await openDatabase({ url: `file:${path.join(dir, "bench.db")}` });
const prisma = db.prisma;
const now = new Date();
await prisma.workflowRun.create({ data: { id: "r", workflowKey: "k", versionHash: "v", status: "running", input: "i", createdAt: now } });
let seq = 0;
let spanN = 0;

/** `n` events in one chunk row, as the recorder writes a run's events of one batch. */
const insertEvents = (n: number) => {
  const first = seq + 1;
  const events = Array.from({ length: n }, () => JSON.stringify({ seq: ++seq, text: "x".repeat(80) }));
  return Prisma.sql`INSERT INTO "WorkflowRunEventChunk" ("runId", "lastSeq", "firstSeq", "events") VALUES (${"r"}, ${seq}, ${first}, ${`[${events.join(",")}]`})`;
};
const insertSpans = (n: number) =>
  Prisma.sql`INSERT INTO "TraceSpan" ("runId", "stepIndex", "traceId", "spanId", "parentId", "kind", "name", "startedAt", "endedAt", "error", "data") VALUES ${Prisma.join(
    Array.from({ length: n }, () => Prisma.sql`(${"r"}, ${0}, ${"t"}, ${`s${++spanN}`}, ${null}, ${"agent"}, ${"a"}, ${"2025"}, ${"2025"}, ${null}, ${"{}"})`),
  )}`;
const updateRun = () => Prisma.sql`UPDATE "WorkflowRun" SET "lastSeq" = ${seq}, "status" = ${"running"} WHERE "id" = ${"r"} AND "lastSeq" = ${seq - 1}`;

async function time(name: string, fn: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 50; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  const s = summarize(samples);
  console.log(`  ${name.padEnd(62)} median ${fmt(s.median)} ms  p95 ${fmt(s.p95)}`);
}

console.log(`Prisma primitives, SQLite WAL via better-sqlite3 adapter, ${N} calls each, node ${process.version}`);
await time("$executeRaw UPDATE run (autocommit)", () => prisma.$executeRaw(updateRun()));
await time("$executeRaw INSERT 1 event (autocommit)", () => prisma.$executeRaw(insertEvents(1)));
await time("$executeRaw INSERT 8 events (autocommit)", () => prisma.$executeRaw(insertEvents(8)));
await time("$executeRaw INSERT 8 spans (autocommit)", () => prisma.$executeRaw(insertSpans(8)));
await time("ORM workflowRunEventChunk.create (autocommit)", () =>
  prisma.workflowRunEventChunk.create({ data: { runId: "r", lastSeq: ++seq, firstSeq: seq, events: "[{}]" }, select: { lastSeq: true } }),
);
await time("interactive tx, empty", () => prisma.$transaction(async () => {}));
await time("interactive tx: UPDATE + INSERT 8 events + INSERT 8 spans", () =>
  prisma.$transaction(async (tx) => {
    await tx.$executeRaw(insertEvents(8));
    await tx.$executeRaw(updateRun());
    await tx.$executeRaw(insertSpans(8));
  }),
);
await time("interactive tx: + 2 step UPDATEs (5 statements)", () =>
  prisma.$transaction(async (tx) => {
    await tx.$executeRaw(insertEvents(8));
    await tx.$executeRaw(updateRun());
    await tx.$executeRaw(insertSpans(8));
    await tx.$executeRaw(Prisma.sql`UPDATE "WorkflowRun" SET "status" = ${"running"} WHERE "id" = ${"r"}`);
    await tx.$executeRaw(Prisma.sql`UPDATE "WorkflowRun" SET "status" = ${"running"} WHERE "id" = ${"r"}`);
  }),
);
await time("batch $transaction([UPDATE, INSERT 8 events, INSERT 8 spans])", () => prisma.$transaction([prisma.$executeRaw(insertEvents(8)), prisma.$executeRaw(updateRun()), prisma.$executeRaw(insertSpans(8))]));
await time("batch $transaction(5 statements)", () =>
  prisma.$transaction([
    prisma.$executeRaw(insertEvents(8)),
    prisma.$executeRaw(updateRun()),
    prisma.$executeRaw(insertSpans(8)),
    prisma.$executeRaw(Prisma.sql`UPDATE "WorkflowRun" SET "status" = ${"running"} WHERE "id" = ${"r"}`),
    prisma.$executeRaw(Prisma.sql`UPDATE "WorkflowRun" SET "status" = ${"running"} WHERE "id" = ${"r"}`),
  ]),
);
await db.close();
fs.rmSync(dir, { recursive: true, force: true });
