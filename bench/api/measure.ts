import { isTerminalEvent } from "@workflows/core";
import type { BenchClient, Instance } from "./instances";

const input = "Compute the mean and standard deviation of 3, 5, 8, 13, 21 and write a function that prints them.";

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

/** Each call goes to the next instance in turn: the load is spread evenly over them. */
function roundRobin(instances: Instance[]): () => Instance {
  let calls = 0;
  return () => instances[calls++ % instances.length]!;
}

async function runOnce(client: BenchClient): Promise<void> {
  const r = await client.workflows.run.mutate({ key: "analysis_code", input });
  if (r.status !== "succeeded") throw new Error(`run ${r.workflowRunId} ${r.status}`);
}

/** `serverCpuMsPerRun`: the server's main-thread CPU time per run; null when the server shares this process. */
export type Throughput = { concurrency: number; runsPerSecond: number; floorPerSecond: number; serverCpuMsPerRun: number | null };

/** runs/s of analysis_code through `workflows.run`, and the instances' floor call for scale, at 1 and 50 concurrent. */
export async function measureThroughput(instances: Instance[]): Promise<Throughput[]> {
  const next = roundRobin(instances);
  // Warm up: first-run costs (module loading, prepared statements, the JIT's optimising compiles, which take
  // a few hundred runs to settle) are not the steady state.
  await throughput(300 * instances.length, 10, () => runOnce(next().client));
  await throughput(200, 1, () => next().floor());
  const results: Throughput[] = [];
  for (const concurrency of [1, 50]) {
    const floorPerSecond = await throughput(concurrency === 1 ? 500 : 2_000, concurrency, () => next().floor());
    const runs = concurrency === 1 ? 30 : 200;
    const cpu = instances.length === 1 ? instances[0]!.serverCpuMs : undefined;
    const cpuBefore = cpu?.();
    const runsPerSecond = await throughput(runs, concurrency, () => runOnce(next().client));
    const serverCpuMsPerRun = cpu && cpuBefore !== undefined ? (cpu() - cpuBefore) / runs : null;
    results.push({ concurrency, runsPerSecond, floorPerSecond, serverCpuMsPerRun });
  }
  return results;
}

/** Event latency over SSE: receive time minus the runner's `at` stamp, for every event of `runs` streamed runs (one at a time). */
export async function measureEventLatency(instances: Instance[], runs: number): Promise<number[]> {
  const next = roundRobin(instances);
  const latencies: number[] = [];
  for (let i = 0; i < runs; i++) {
    for await (const { data: event } of next().client.workflows.runStream.subscribe({ key: "analysis_code", input })) {
      latencies.push(Date.now() - Date.parse(event.at));
      if (isTerminalEvent(event)) break;
    }
  }
  return latencies;
}

export type CrossInstanceLag = { lags: number[]; runs: number; executedOnA: number };

/**
 * Live tail across instances: a run started on A (`workflows.runStream`) is followed with `runs.events`
 * on the instance that does NOT execute it (the queue hands it to A or B), so every event reaches the
 * follower through PostgreSQL (commit, NOTIFY, read). Lag = receive time minus the event's `at` stamp.
 * Only events stamped after the follower's first event count: earlier ones come from its backfill, not
 * the live tail.
 */
export async function measureCrossInstanceLag(pair: [Instance, Instance], runs: number): Promise<CrossInstanceLag> {
  const [a, b] = pair;
  const lags: number[] = [];
  let executedOnA = 0;
  for (let i = 0; i < runs; i++) {
    const stream = a.client.workflows.runStream.subscribe({ key: "analysis_code", input })[Symbol.asyncIterator]();
    const first = await stream.next();
    if (first.done) throw new Error("runStream ended before its first event");
    const firstEvent = first.value.data;
    const runId = firstEvent.workflowRunId;
    // Keep A's stream drained while B follows, as a client would.
    const drained = (async () => {
      for (let e = firstEvent; !isTerminalEvent(e); ) {
        const r = await stream.next();
        if (r.done) break;
        e = r.value.data;
      }
      await stream.return?.();
    })();
    const executor = await executorOf(pair, runId);
    if (executor === a) executedOnA++;
    const follower = executor === a ? b : a;
    let liveFrom = Number.POSITIVE_INFINITY;
    for await (const { data: event } of follower.client.runs.events.subscribe({ workflowRunId: runId })) {
      const now = Date.now();
      if (liveFrom === Number.POSITIVE_INFINITY) liveFrom = now;
      const at = Date.parse(event.at);
      if (at >= liveFrom) lags.push(now - at);
      if (isTerminalEvent(event)) break;
    }
    await drained;
  }
  return { lags, runs, executedOnA };
}

/** The instance that took the run from the queue (it shows among its active runs within milliseconds). */
async function executorOf(pair: [Instance, Instance], runId: string): Promise<Instance> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = pair.find((i) => i.services?.activeRuns.has(runId));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`run ${runId} executes on neither instance`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
