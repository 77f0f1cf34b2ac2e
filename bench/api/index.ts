/**
 * API throughput and event latency, through the typed tRPC client over real HTTP on loopback.
 * - runs/s of analysis_code on the offline model via `workflows.run`, 1 and 50 concurrent, beside the
 *   cheapest call of the same server (the floor: HTTP + tRPC alone);
 * - event latency over SSE: from the runner stamping an event (`at`) to the client receiving it.
 * SQLite: the compiled server (`pnpm start`'s process) on a temp file, in a process of its own, the client
 * load in this one; its floor is `health` (no database). Beside runs/s it prints the CPU time of the server's
 * main thread per run (from /proc; what bounds its throughput): on a shared machine, steadier than runs/s,
 * which moves with what the neighbours take. `--cpu-prof` writes the server's CPU profile to
 * bench/results/profiles/ (open it in Chrome DevTools or speedscope).
 * With `BENCH_PG_URL` set to a PostgreSQL server URL (one that may create databases, e.g. what
 * `scripts/postgres.sh start DIR` prints), the same figures on PostgreSQL with one instance and with two
 * instances on one database (both in this process, with a no-op mutation as the floor), each on a fresh
 * database dropped at the end; and the live tail lag across instances.
 *   BENCH_PG_URL=$(scripts/postgres.sh start /tmp/pg) npx tsx bench/api/index.ts; scripts/postgres.sh stop /tmp/pg
 * Every instance keeps the default MAX_CONCURRENT_RUNS (16). Writes bench/results/api.json. Prints numbers;
 * never asserts timings.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createTestDatabase } from "@workflows/db/testing";
import { buildServer, machine, repoRoot } from "../lib/serverProcess";
import { percentile } from "../lib/stats";
import { withInstances, withServerProcess, type Instance } from "./instances";
import { measureCrossInstanceLag, measureEventLatency, measureThroughput, type CrossInstanceLag, type Throughput } from "./measure";

const LATENCY_RUNS = 10;
const LAG_RUNS = 20;

type Column = { label: string; throughput: Throughput[]; latencies: number[] };
type Backend = {
  label: string;
  database(name: string): Promise<{ url: string; drop(): Promise<void> }>;
  serve<T>(databaseUrl: string, delayMs: number, body: (instances: Instance[]) => Promise<T>): Promise<T>;
};

const dir = mkdtempSync(path.join(tmpdir(), "wf-bench-api-"));
const pgServer = process.env.BENCH_PG_URL || undefined;
// createTestDatabase reads the server from TEST_PG_URL.
if (pgServer) process.env.TEST_PG_URL = pgServer;

const profileDir = process.argv.includes("--cpu-prof") ? path.join(repoRoot, "bench/results/profiles") : undefined;
const sqlite: Backend = {
  label: "SQLite",
  database: (name) => Promise.resolve({ url: `file:${path.join(dir, `${name}.db`)}`, drop: () => Promise.resolve() }),
  serve: (databaseUrl, delayMs, body) =>
    withServerProcess({ databaseUrl, delayMs, ...(profileDir ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] } : {}) }, body),
};
const postgres = (count: number): Backend => ({
  label: `PostgreSQL x${count}`,
  database: () => createTestDatabase("postgres"),
  serve: (databaseUrl, delayMs, body) => withInstances({ databaseUrl, count, delayMs }, body),
});
const backends = [sqlite, ...(pgServer ? [postgres(1), postgres(2)] : [])];

/** Starts the backend's instances on a fresh database, runs `body`, then closes them and drops the database. */
async function on<T>(backend: Backend, name: string, delayMs: number, body: (instances: Instance[]) => Promise<T>): Promise<T> {
  const db = await backend.database(name);
  try {
    return await backend.serve(db.url, delayMs, body);
  } finally {
    await db.drop();
  }
}

const fmt = (n: number) => (Number.isNaN(n) ? "-" : n.toLocaleString("en-US", { maximumFractionDigits: n < 10 ? 2 : 0 }));

function printTable(columns: Column[]): void {
  const rows: [string, (c: Column) => number][] = [];
  for (const concurrency of [1, 50]) {
    const at = (c: Column) => c.throughput.find((t) => t.concurrency === concurrency);
    rows.push([`analysis_code runs/s, ${concurrency} concurrent`, (c) => at(c)?.runsPerSecond ?? NaN]);
    rows.push([`server main-thread CPU ms per run, ${concurrency} concurrent`, (c) => at(c)?.serverCpuMsPerRun ?? NaN]);
    rows.push([`floor calls/s (SQLite: health; PostgreSQL: no-op), ${concurrency} concurrent`, (c) => at(c)?.floorPerSecond ?? NaN]);
  }
  const sorted = (c: Column) => [...c.latencies].sort((a, b) => a - b);
  rows.push(["event latency over SSE p50 ms", (c) => percentile(sorted(c), 50)]);
  rows.push(["event latency over SSE p99 ms", (c) => percentile(sorted(c), 99)]);
  rows.push(["event latency over SSE max ms", (c) => sorted(c).at(-1) ?? NaN]);
  rows.push(["events measured", (c) => c.latencies.length]);
  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(`${"".padEnd(width)}  ${columns.map((c) => c.label.padStart(14)).join("  ")}`);
  for (const [name, value] of rows) console.log(`${name.padEnd(width)}  ${columns.map((c) => fmt(value(c)).padStart(14)).join("  ")}`);
}

function printLag({ lags, runs, executedOnA }: CrossInstanceLag): void {
  const sorted = [...lags].sort((a, b) => a - b);
  console.log(
    `Live tail across instances (runs.events on the instance not executing the run; ${sorted.length} live events of ${runs} runs, ${executedOnA} executed on A): ` +
      `median ${percentile(sorted, 50)} ms  p95 ${percentile(sorted, 95)} ms  max ${sorted.at(-1)} ms`,
  );
}

try {
  buildServer();
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const columns: Column[] = [];
  let lag: CrossInstanceLag | undefined;
  for (const backend of backends) {
    console.error(`measuring ${backend.label}…`);
    const throughput = await on(backend, "throughput", 0, measureThroughput);
    // A slight model delay (2 ms per streamed chunk) spreads a run's events over time, as a real model does.
    const latencies = await on(backend, "latency", 2, async (instances) => {
      const measured = await measureEventLatency(instances, LATENCY_RUNS);
      const [a, b] = instances;
      if (a && b) lag = await measureCrossInstanceLag([a, b], LAG_RUNS);
      return measured;
    });
    columns.push({ label: backend.label, throughput, latencies });
  }
  console.log("API throughput and event latency (offline model, HTTP on loopback, typed client)");
  printTable(columns);
  if (lag) printLag(lag);
  if (profileDir) console.log(`server CPU profiles (the throughput server, then the latency server): ${profileDir}`);
  const results = path.join(repoRoot, "bench/results/api.json");
  const summary = columns.map((c) => {
    const sorted = [...c.latencies].sort((a, b) => a - b);
    return { label: c.label, throughput: c.throughput, latencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? null, events: sorted.length } };
  });
  writeFileSync(results, `${JSON.stringify({ machine: await machine(), columns: summary, crossInstanceLagMs: lag ? { median: percentile([...lag.lags].sort((a, b) => a - b), 50), events: lag.lags.length } : null }, null, 2)}\n`);
  console.log(`written: ${path.relative(repoRoot, results)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
