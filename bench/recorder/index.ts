// Prisma recorder vs in-memory recorder under the real WorkflowRunner: a 10-step chain, zero-latency
// scripted model, one process. Runs alternate in blocks (database, memory, database, ...) so machine noise
// hits both sides alike. Prints the time the database adds per step (median, p95), events written per
// second, transactions and statements per run, and counts what was stored to check every event and span.
// Usage: npx tsx recorder/index.ts [runs per side, default 300]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { WorkflowRunner, type RunRecorder } from "@workflows/core";
import { InMemoryRunRecorder } from "@workflows/core/testing";
import { openDatabase, PrismaRunRecorder } from "@workflows/db";
import { countStored } from "@workflows/db/testing";
import { catalog, modelProvider, registry, STEPS } from "../lib/chain";
import { fmt, summarize } from "../lib/stats";

const RUNS = Number(process.argv[2] ?? 300);
const ROUNDS = 10;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wf-bench-recorder-"));
const db = await openDatabase({ url: `file:${path.join(dir, "bench.db")}` });
const prismaRecorder = new PrismaRunRecorder(db.prisma);
let memoryEvents = 0;
let memorySpans = 0;

function timedRunner(recorder: RunRecorder) {
  const runner = new WorkflowRunner({ registry, catalog, modelProvider, recorder });
  return async (): Promise<number> => {
    const t0 = performance.now();
    const result = await runner.run("chain10", "input");
    if (result.status !== "succeeded") throw new Error(`run ${result.workflowRunId} ended ${result.status}`);
    return performance.now() - t0;
  };
}
const inDb = timedRunner(prismaRecorder);
const inMemory = async () => {
  const recorder = new InMemoryRunRecorder();
  const ms = await timedRunner(recorder)();
  const stored = recorder.get(recorder.runIds()[0]!);
  memoryEvents = stored.events.length;
  memorySpans = stored.spans.length;
  return ms;
};

for (let i = 0; i < 30; i++) {
  await inDb();
  await inMemory();
}
const before = prismaRecorder.stats;
const dbSamples: number[] = [];
const memSamples: number[] = [];
const roundAdded: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const dbRound: number[] = [];
  const memRound: number[] = [];
  for (let i = 0; i < RUNS / ROUNDS; i++) dbRound.push(await inDb());
  for (let i = 0; i < RUNS / ROUNDS; i++) memRound.push(await inMemory());
  dbSamples.push(...dbRound);
  memSamples.push(...memRound);
  roundAdded.push((summarize(dbRound).median - summarize(memRound).median) / STEPS);
}
await prismaRecorder.flush();
const after = prismaRecorder.stats;

const runs = await db.prisma.workflowRun.findMany({ select: { lastSeq: true, status: true } });
// Events and spans live in chunks and rows while a run runs, then in its pack (packages/db/src/runPacks.ts).
const inDatabase = await countStored(db.prisma);
const expectedEvents = runs.reduce((n, r) => n + r.lastSeq, 0);
const allStored = runs.every((r) => r.status === "succeeded" && r.lastSeq === memoryEvents) && inDatabase.events === expectedEvents && inDatabase.spans === runs.length * memorySpans;

const d = summarize(dbSamples);
const m = summarize(memSamples);
const rounds = summarize(roundAdded);
const dbTotalSeconds = dbSamples.reduce((a, b) => a + b, 0) / 1000;
const measuredRuns = dbSamples.length;
const per = (n: number) => fmt(n / measuredRuns, 1);
console.log(`recorder: ${STEPS}-step chain under WorkflowRunner, zero-latency model, ${measuredRuns} runs each (+30 warm-up) in ${ROUNDS} alternating rounds, ${memoryEvents} events and ${memorySpans} spans/run, node ${process.version}`);
console.log(`  in-memory recorder:  median ${fmt(m.median)} ms/run  p95 ${fmt(m.p95)}`);
console.log(`  prisma (SQLite WAL): median ${fmt(d.median)} ms/run  p95 ${fmt(d.p95)}`);
console.log(`  added per step: median ${fmt((d.median - m.median) / STEPS)} ms  p95 ${fmt((d.p95 - m.p95) / STEPS)} ms   (per-round medians: min ${fmt(Math.min(...roundAdded))}, median ${fmt(rounds.median)})   target median <= 0.5 ms`);
console.log(`  events written: ${fmt((memoryEvents * measuredRuns) / dbTotalSeconds, 0)} events/s (whole runs, runner included)`);
console.log(
  `  per run: ${per(after.transactions - before.transactions)} transactions, ${per(after.statements - before.statements)} statements, ${per(after.events - before.events)} events, ${per(after.spans - before.spans)} spans`,
);
console.log(`  stored: ${runs.length} runs, ${inDatabase.events} events and ${inDatabase.spans} spans in chunks, rows and packs (expected ${expectedEvents} and ${runs.length * memorySpans})`);
console.log(`  every event and span stored: ${allStored ? "yes" : "NO"}`);

await prismaRecorder.close();
await db.close();
fs.rmSync(dir, { recursive: true, force: true });
if (!allStored) process.exitCode = 1;
