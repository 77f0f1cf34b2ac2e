/**
 * Storage per run and server memory, on SQLite, with the compiled server (`pnpm start`'s command) as its own
 * process, offline model:
 * - bytes per `analysis_code` run: growth of the database file over N runs (after a checkpoint folds the WAL
 *   into it), and per table (SQLite's dbstat: pages of each table with its indexes);
 * - server RSS idle (after start and one warm-up run) and after the N runs.
 * Prints each figure beside its target (issue 12: <= 10 KB per run, <= 150 MB idle) and writes
 * bench/results/storage.json (machine, Node version, date). Never fails on a figure.
 *   npx tsx bench/storage/index.ts            (BENCH_RUNS=200 by default)
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createWorkflowsClient } from "@workflows/client";
import { openDatabase } from "@workflows/db";
import { buildServer, machine, mb, repoRoot, startServer } from "../lib/serverProcess";

const N = Number(process.env.BENCH_RUNS ?? 200);
const CONCURRENCY = 4;
const TARGET_BYTES_PER_RUN = 10 * 1024;
const TARGET_IDLE_RSS = 150 * 1024 * 1024;
const INPUT = "Analyse these monthly sales figures and write a function that flags outliers: 120, 135, 128, 410, 131, 125, 119";

type TableBytes = Record<string, number>;

const dir = mkdtempSync(path.join(tmpdir(), "wf-bench-storage-"));
const file = path.join(dir, "storage.db");
const url = `file:${file}`;

/** Folds the WAL into the database file, then measures the file and each table (with its indexes). */
async function measure(): Promise<{ fileBytes: number; tables: TableBytes; rows: Record<string, number> }> {
  const db = await openDatabase({ url });
  try {
    await db.prisma.$queryRawUnsafe("PRAGMA wal_checkpoint(TRUNCATE)");
    const pages = await db.prisma.$queryRawUnsafe<{ tbl: string; bytes: number | bigint }[]>(
      `SELECT COALESCE(m.tbl_name, s.name) AS tbl, SUM(s.pgsize) AS bytes FROM dbstat s LEFT JOIN sqlite_master m ON m.name = s.name GROUP BY tbl`,
    );
    const tables = Object.fromEntries(pages.map((p) => [p.tbl, Number(p.bytes)]));
    const rows: Record<string, number> = {};
    for (const t of ["WorkflowRun", "WorkflowRunStep", "WorkflowRunEventChunk", "TraceSpan"]) {
      const [r] = await db.prisma.$queryRawUnsafe<{ n: number | bigint }[]>(`SELECT COUNT(*) AS n FROM "${t}"`);
      rows[t] = Number(r?.n ?? 0);
    }
    return { fileBytes: statSync(file).size, tables, rows };
  } finally {
    await db.close();
  }
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

try {
  buildServer();
  const server = await startServer("compiled", { DATABASE_URL: url });
  try {
    const client = createWorkflowsClient({ url: server.url });
    // One warm-up run: first-use allocations are not per-run storage or idle memory.
    await client.workflows.run.mutate({ key: "analysis_code", input: INPUT });
    await sleep(2_000);
    const idleRss = server.rss();
    const before = await measure();

    const started = performance.now();
    let next = 0;
    let failed = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < N) {
          next++;
          const result = await client.workflows.run.mutate({ key: "analysis_code", input: INPUT });
          if (result.status !== "succeeded") failed++;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    await sleep(2_000);
    const afterRss = server.rss();
    const after = await measure();

    const perRun = (after.fileBytes - before.fileBytes) / N;
    const perTable = Object.fromEntries(
      Object.keys(after.tables)
        .map((t) => [t, ((after.tables[t] ?? 0) - (before.tables[t] ?? 0)) / N] as const)
        .filter(([, bytes]) => bytes !== 0)
        .sort((a, b) => b[1] - a[1]),
    );
    const rowsPerRun = Object.fromEntries(Object.keys(after.rows).map((t) => [t, ((after.rows[t] ?? 0) - (before.rows[t] ?? 0)) / N]));
    const m = await machine();

    console.log(`storage and memory: ${N} analysis_code runs (${CONCURRENCY} at once, ${failed} not succeeded, ${seconds.toFixed(1)} s), compiled server, SQLite, offline model`);
    console.log(`${m.cpus} cores, Node ${m.node}, load ${m.loadAverage.join(" ")}, ${m.date}`);
    console.log(`bytes per run (file growth / ${N}): ${kb(perRun)}   target <= ${kb(TARGET_BYTES_PER_RUN)}   ${perRun <= TARGET_BYTES_PER_RUN ? "met" : "NOT met"}`);
    console.log("per table (pages of the table and its indexes, per run) and rows per run:");
    for (const [table, bytes] of Object.entries(perTable)) console.log(`  ${table.padEnd(18)} ${kb(bytes).padStart(9)}   ${rowsPerRun[table] !== undefined ? `${rowsPerRun[table]} rows` : ""}`);
    console.log(`server RSS idle: ${mb(idleRss)}   target <= ${mb(TARGET_IDLE_RSS)}   ${idleRss <= TARGET_IDLE_RSS ? "met" : "NOT met"}`);
    console.log(`server RSS after ${N} runs: ${mb(afterRss)}`);

    const results = {
      benchmark: "storage",
      command: "npx tsx bench/storage/index.ts",
      machine: m,
      runs: N,
      concurrency: CONCURRENCY,
      workflow: "analysis_code",
      model: "offline",
      database: "sqlite",
      server: "compiled (node --conditions=workflows-dist apps/api/dist/main.js)",
      failedRuns: failed,
      seconds,
      bytesPerRun: Math.round(perRun),
      targetBytesPerRun: TARGET_BYTES_PER_RUN,
      bytesPerRunByTable: Object.fromEntries(Object.entries(perTable).map(([t, b]) => [t, Math.round(b)])),
      rowsPerRun,
      fileBytes: { before: before.fileBytes, after: after.fileBytes },
      rss: { idleBytes: idleRss, afterRunsBytes: afterRss, targetIdleBytes: TARGET_IDLE_RSS },
    };
    const out = path.join(repoRoot, "bench/results/storage.json");
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`wrote ${path.relative(repoRoot, out)}`);
  } finally {
    await server.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
