/**
 * API throughput and event latency, through the typed tRPC client over real HTTP on loopback.
 * - runs/s of analysis_code on the offline model via `workflows.run`, 1 and 50 concurrent,
 *   beside a no-op mutation on the same server (the floor: HTTP + tRPC alone);
 * - event latency over SSE: from the runner stamping an event (`at`) to the client receiving it.
 * Prints numbers; never asserts timings.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { appRouter, createLogger, createServer, createServices, mergeRouters, publicProcedure, router } from "@workflows/api";
import { createWorkflowsClient } from "@workflows/client";
import { isTerminalEvent } from "@workflows/core";

const dir = mkdtempSync(path.join(tmpdir(), "wf-bench-api-"));
const input = "Compute the mean and standard deviation of 3, 5, 8, 13, 21 and write a function that prints them.";

const benchRouter = mergeRouters(appRouter, router({ bench: router({ noop: publicProcedure.mutation(() => null) }) }));
type BenchRouter = typeof benchRouter;

async function withServer<T>(opts: { delayMs?: number }, body: (client: ReturnType<typeof makeClient>) => Promise<T>): Promise<T> {
  const services = await createServices({
    logger: createLogger({ level: "silent" }),
    databaseUrl: `file:${path.join(dir, `bench-${opts.delayMs ?? 0}.db`)}`,
    model: { provider: "offline", ...(opts.delayMs ? { delayMs: opts.delayMs } : {}) },
    maxInputBytes: 64 * 1024,
    shutdownGraceMs: 1_000,
  });
  const server = await createServer(services, { port: 0, host: "127.0.0.1", router: benchRouter });
  try {
    return await body(makeClient(server.url));
  } finally {
    await server.close();
    await services.close();
  }
}

const makeClient = (url: string) => createWorkflowsClient<BenchRouter>({ url, transport: "sse" });

/** Calls `op` `total` times with `concurrency` in flight; returns operations per second. */
async function throughput(total: number, concurrency: number, op: () => Promise<unknown>): Promise<number> {
  let started = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < total) {
        started++;
        await op();
      }
    }),
  );
  return total / ((performance.now() - t0) / 1000);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const fmt = (n: number) => n.toFixed(n < 10 ? 2 : 0);

try {
  await withServer({}, async (client) => {
    // Warm up: first-run costs (module loading, prepared statements) are not the steady state.
    await throughput(5, 1, () => client.workflows.run.mutate({ key: "analysis_code", input }));
    await throughput(200, 1, () => client.bench.noop.mutate());
    console.log("API throughput (offline model, SQLite in a temp dir, HTTP on loopback)");
    for (const concurrency of [1, 50]) {
      const noop = await throughput(concurrency === 1 ? 500 : 2_000, concurrency, () => client.bench.noop.mutate());
      const runs = await throughput(concurrency === 1 ? 30 : 200, concurrency, async () => {
        const r = await client.workflows.run.mutate({ key: "analysis_code", input });
        if (r.status !== "succeeded") throw new Error(`run ${r.workflowRunId} ${r.status}`);
      });
      console.log(`  concurrency ${String(concurrency).padStart(2)}: analysis_code ${fmt(runs).padStart(7)} runs/s   no-op mutation ${fmt(noop).padStart(7)} calls/s`);
    }
  });

  await withServer({ delayMs: 2 }, async (client) => {
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      for await (const { data: event } of client.workflows.runStream.subscribe({ key: "analysis_code", input })) {
        latencies.push(Date.now() - Date.parse(event.at));
        if (isTerminalEvent(event)) break;
      }
    }
    latencies.sort((a, b) => a - b);
    console.log(`Event latency over SSE, runner stamp -> client (ms, ${latencies.length} events): p50 ${pct(latencies, 50)}  p99 ${pct(latencies, 99)}  max ${latencies.at(-1)}`);
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
