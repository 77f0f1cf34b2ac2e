/**
 * Start-up time and idle memory of the API server process, compiled (`pnpm start`: plain Node on dist/) vs
 * through tsx (`pnpm dev`), on a fresh SQLite file each start (so each start also creates and migrates it),
 * offline model. Start-up: from spawn to the "listening" log line. Idle RSS: after the server has been
 * listening for IDLE_MS. ROUNDS starts of each, interleaved. Prints numbers; never asserts.
 *   npx tsx bench/startup/index.ts
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { summarize } from "../lib/stats";
import { buildServer, machine, mb, startServer, type ServerMode } from "../lib/serverProcess";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const IDLE_MS = 3_000;

const dir = mkdtempSync(path.join(tmpdir(), "wf-bench-startup-"));
try {
  const buildStarted = performance.now();
  buildServer();
  const buildMs = performance.now() - buildStarted;
  const samples: Record<ServerMode, { startMs: number[]; rss: number[] }> = { compiled: { startMs: [], rss: [] }, tsx: { startMs: [], rss: [] } };
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of ["compiled", "tsx"] as const) {
      const server = await startServer(mode, { DATABASE_URL: `file:${path.join(dir, `${mode}-${round}.db`)}` });
      await sleep(IDLE_MS);
      samples[mode].startMs.push(server.startMs);
      samples[mode].rss.push(server.rss());
      await server.stop();
    }
  }
  const m = await machine();
  console.log(`server start-up and idle RSS, ${ROUNDS} starts each (fresh SQLite file), ${m.cpus} cores, Node ${m.node}, load ${m.loadAverage.join(" ")}, ${m.date}`);
  console.log(`build (node scripts/build.mjs): ${buildMs.toFixed(0)} ms`);
  console.log("| server | start-up median (min-max) | idle RSS median (min-max) |");
  console.log("|---|---|---|");
  for (const mode of ["compiled", "tsx"] as const) {
    const s = samples[mode];
    const t = summarize(s.startMs);
    const r = summarize(s.rss);
    console.log(`| ${mode} | ${t.median.toFixed(0)} ms (${Math.min(...s.startMs).toFixed(0)}-${Math.max(...s.startMs).toFixed(0)}) | ${mb(r.median)} (${mb(Math.min(...s.rss))}-${mb(Math.max(...s.rss))}) |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
