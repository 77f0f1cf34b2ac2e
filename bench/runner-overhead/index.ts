// Our runner (in-memory recorder) vs the same agents chained by hand with the SDK's run(), one process,
// a zero-latency scripted model, non-streamed and streamed. Prints times and the ratios; the target is at
// most 1.05x for both.
import { Runner } from "@openai/agents";
import { WorkflowRunner } from "@workflows/core";
import { InMemoryRunRecorder } from "@workflows/core/testing";
import { catalog, modelProvider, registry, STEPS } from "../lib/chain";
import { fmt, summarize } from "../lib/stats";

const RUNS = Number(process.argv[2] ?? 1500);
const ROUNDS = 5;

// One runner and one SDK runner per side, as a service would hold them. The recorder forgets each run once
// it ended, as a database-backed service keeps nothing of it in memory: a heap that grows with every run
// measured would tax our side with garbage collection the SDK side never pays.
const recorder = new InMemoryRunRecorder();
const runner = new WorkflowRunner({ registry, catalog, modelProvider, recorder });
async function ours(): Promise<void> {
  recorder.forget((await runner.run("chain10", "input")).workflowRunId);
}

const sdkRunner = new Runner({ modelProvider, tracingDisabled: false, workflowName: "workflows" });
async function byHand(): Promise<void> {
  let text = "input";
  for (let i = 0; i < STEPS; i++) {
    const result = await sdkRunner.run(catalog.agent(`agent_${i}`), text);
    text = String(result.finalOutput);
  }
}

// Streamed: our events consumed as they are stored, against the SDK's stream events consumed by hand.
async function oursStreamed(): Promise<void> {
  let runId = "";
  for await (const event of runner.stream("chain10", "input", { streamed: true })) runId = event.workflowRunId;
  recorder.forget(runId);
}
async function byHandStreamed(): Promise<void> {
  let text = "input";
  for (let i = 0; i < STEPS; i++) {
    const result = await sdkRunner.run(catalog.agent(`agent_${i}`), text, { stream: true });
    for await (const event of result) void event;
    await result.completed;
    text = String(result.finalOutput);
  }
}

async function time(fn: () => Promise<void>, n: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return samples;
}

const pairs = [
  { name: "non-streamed", ours, byHand },
  { name: "streamed", ours: oursStreamed, byHand: byHandStreamed },
];
for (const p of pairs) {
  await time(p.ours, 200);
  await time(p.byHand, 200);
}
const samples = pairs.map(() => ({ a: [] as number[], b: [] as number[] }));
for (let r = 0; r < ROUNDS; r++) {
  for (const [i, p] of pairs.entries()) {
    samples[i]!.a.push(...(await time(p.ours, RUNS / ROUNDS)));
    samples[i]!.b.push(...(await time(p.byHand, RUNS / ROUNDS)));
  }
}
console.log(`runner-overhead: ${STEPS}-step chain, zero-latency scripted model, ${RUNS} runs each in ${ROUNDS} interleaved rounds, node ${process.version}`);
for (const [i, p] of pairs.entries()) {
  const sa = summarize(samples[i]!.a);
  const sb = summarize(samples[i]!.b);
  console.log(` ${p.name}:`);
  console.log(`  workflows runner (in-memory recorder): median ${fmt(sa.median)} ms/run  mean ${fmt(sa.mean)}  p95 ${fmt(sa.p95)}`);
  console.log(`  hand-written SDK run() chain:          median ${fmt(sb.median)} ms/run  mean ${fmt(sb.mean)}  p95 ${fmt(sb.p95)}`);
  console.log(`  ratio (median): ${fmt(sa.median / sb.median)}x   ratio (mean): ${fmt(sa.mean / sb.mean)}x   target <= 1.05x`);
}
