// A durable streamed step: the SDK streamed alone vs our runner streamed (in-memory recorder) vs our runner
// with the SQLite recorder (every event committed before it is delivered), at 2, 10 and 50 steps, plus the
// fixed cost of a run on SQLite (create + first transaction). One process, a zero-latency scripted model,
// interleaved rounds; medians. Prints each figure beside its target and writes bench/results/durable-step.json.
// With BENCH_PG_URL (a PostgreSQL server that may create databases) it also compares, at 10 steps, the
// recorder's PostgreSQL writes through Prisma with its direct writes (named prepared statements on the pool).
// Usage: [BENCH_PG_URL=postgres://…] npx tsx bench/durable-step/index.ts [rounds, default 8]
// Our side runs compiled, as the server does (bench/lib/compiled.ts).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import { WorkflowRunner, type RunRecorder } from "@workflows/core";
import { InMemoryRunRecorder } from "@workflows/core/testing";
import { openDatabase, PrismaRunRecorder } from "@workflows/db";
import { createTestDatabase } from "@workflows/db/testing";
import { catalog, chainKey, modelProvider, registry, sdkChain } from "../lib/chain";
import { runCompiled } from "../lib/compiled";
import { fmt, summarize } from "../lib/stats";

runCompiled();

const ROUNDS = Number(process.argv[2] ?? 8);
const SIZES = [2, 10, 50] as const;
/** Runs per side per round, by chain length: about the same number of steps each. */
const runsPer = (steps: number) => Math.max(4, Math.round(200 / steps));
const TARGET_DURABLE_MS = 0.6;
const TARGET_RUN_COST_MS = 0.5;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wf-bench-durable-"));
const db = await openDatabase({ url: `file:${path.join(dir, "bench.db")}` });
const sqliteRecorder = new PrismaRunRecorder(db.prisma);

const sdkStreamed = (steps: number): Promise<void> => sdkChain(steps, { stream: true });

function streamedOn(recorder: () => RunRecorder): (steps: number) => Promise<void> {
  const shared = recorder();
  const runner = new WorkflowRunner({ registry, catalog, modelProvider, recorder: shared });
  return async (steps) => {
    let last: string | undefined;
    // Each event is seen by the consumer only once the recorder stored it.
    for await (const event of runner.stream(chainKey(steps), "input", { streamed: true })) last = event.type;
    if (last !== "run.completed") throw new Error(`run ended with ${last}`);
  };
}
// A fresh in-memory recorder per run would measure allocation; one per side keeps all runs, like SQLite does.
const sides = {
  sdk: sdkStreamed,
  memory: streamedOn(() => new InMemoryRunRecorder()),
  sqlite: streamedOn(() => sqliteRecorder),
} as const;
type Side = keyof typeof sides;

async function timeRun(fn: (steps: number) => Promise<void>, steps: number): Promise<number> {
  const t0 = performance.now();
  await fn(steps);
  return (performance.now() - t0) / steps;
}

// The fixed cost of a run on SQLite: createRun + its first transaction (run.started with the step rows).
const workflow = registry.require(chainKey(10));
async function runCost(): Promise<number> {
  const id = randomUUID();
  const t0 = performance.now();
  await sqliteRecorder.createRun({ id, workflowKey: workflow.spec.key, versionHash: workflow.versionHash, input: "input", traceId: null });
  await sqliteRecorder.append({
    type: "run.started",
    workflowRunId: id,
    workflowKey: workflow.spec.key,
    seq: 1,
    at: new Date().toISOString(),
    input: "input",
    versionHash: workflow.versionHash,
    steps: workflow.plan.slots.map((s) => ({ name: s.name, agentKey: s.agentKey, stage: s.stage, iteration: s.iteration })),
  });
  return performance.now() - t0;
}

// Warm-up: every side and size, and the run-cost path.
for (const steps of SIZES) for (const side of Object.keys(sides) as Side[]) for (let i = 0; i < 3; i++) await timeRun(sides[side], steps);
for (let i = 0; i < 30; i++) await runCost();

// PostgreSQL (optional): the same streamed 10-step run, writes through Prisma vs direct.
const pgServer = process.env.BENCH_PG_URL || undefined;
// createTestDatabase reads the server from TEST_PG_URL.
if (pgServer) process.env.TEST_PG_URL = pgServer;
const pgDatabase = pgServer ? await createTestDatabase("postgres") : null;
const pgDb = pgDatabase ? await openDatabase({ url: pgDatabase.url }) : null;
const pgSides = pgDb
  ? {
      "pg-prisma": streamedOn(() => new PrismaRunRecorder(pgDb.prisma, { writes: "prisma" })),
      "pg-direct": streamedOn(() => new PrismaRunRecorder(pgDb.prisma)),
    }
  : {};
type PgSide = keyof typeof pgSides;
for (const side of Object.keys(pgSides) as PgSide[]) for (let i = 0; i < 5; i++) await timeRun(pgSides[side]!, 10);

const samples = new Map<string, number[]>();
const add = (key: string, value: number) => samples.set(key, [...(samples.get(key) ?? []), value]);
const costs: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const steps of SIZES) {
    for (const side of Object.keys(sides) as Side[]) for (let i = 0; i < runsPer(steps); i++) add(`${side}:${steps}`, await timeRun(sides[side], steps));
  }
  for (let i = 0; i < 25; i++) costs.push(await runCost());
  for (const side of Object.keys(pgSides) as PgSide[]) for (let i = 0; i < runsPer(10); i++) add(`${side}:10`, await timeRun(pgSides[side]!, 10));
}
await sqliteRecorder.flush();

const load = os.loadavg().map((n) => n.toFixed(1)).join(" ");
const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load ${load}`;
console.log(`durable-step: chains of ${SIZES.join("/")} steps, zero-latency scripted model, streamed, ${ROUNDS} interleaved rounds, node ${process.version}`);
console.log(`  machine: ${machine}`);
const table: Record<string, Record<string, { median: number; p95: number; n: number }>> = {};
const label: Record<Side, string> = { sdk: "SDK streamed alone           ", memory: "runner streamed, in memory   ", sqlite: "runner streamed, SQLite      " };
for (const side of Object.keys(sides) as Side[]) {
  table[side] = {};
  const cells = SIZES.map((steps) => {
    const s = summarize(samples.get(`${side}:${steps}`) ?? []);
    table[side]![steps] = { median: s.median, p95: s.p95, n: samples.get(`${side}:${steps}`)?.length ?? 0 };
    return `${String(steps).padStart(2)} steps ${fmt(s.median)} ms`;
  });
  console.log(`  ${label[side]} median per step: ${cells.join("   ")}${side === "sqlite" ? `   target <= ${TARGET_DURABLE_MS} ms` : ""}`);
}
const ratios = SIZES.map((steps) => `${steps} steps ${fmt(table.memory![steps]!.median / table.sdk![steps]!.median, 2)}x`);
console.log(`  runner in memory / SDK streamed: ${ratios.join("   ")}   target <= 1.05x`);
const cost = summarize(costs);
console.log(`  run cost on SQLite (createRun + first transaction, 10 step rows): median ${fmt(cost.median)} ms  p95 ${fmt(cost.p95)} ms   target <= ${TARGET_RUN_COST_MS} ms`);

const pgTable: Record<string, { median: number; p95: number; n: number }> = {};
for (const side of Object.keys(pgSides) as PgSide[]) {
  const s = summarize(samples.get(`${side}:10`) ?? []);
  pgTable[side] = { median: s.median, p95: s.p95, n: samples.get(`${side}:10`)?.length ?? 0 };
}
if (pgDb) {
  console.log(`  runner streamed, PostgreSQL, 10 steps, median per step: writes through Prisma ${fmt(pgTable["pg-prisma"]!.median)} ms   direct (named prepared statements) ${fmt(pgTable["pg-direct"]!.median)} ms`);
}

const out = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "results", "durable-step.json");
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(
  out,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? null, memGiB: Math.round(os.totalmem() / 2 ** 30), loadavg: os.loadavg() },
      rounds: ROUNDS,
      perStepMs: table,
      targets: { sqlitePerStepMs: TARGET_DURABLE_MS, runCostMs: TARGET_RUN_COST_MS, runnerOverSdk: 1.05 },
      runCostMs: { median: cost.median, p95: cost.p95, n: costs.length },
      ...(pgDb ? { postgresPerStepMs10Steps: pgTable } : {}),
    },
    null,
    2,
  )}\n`,
);
console.log(`  written: ${path.relative(process.cwd(), out)}`);

await sqliteRecorder.close();
await db.close();
await pgDb?.close();
await pgDatabase?.drop();
fs.rmSync(dir, { recursive: true, force: true });
