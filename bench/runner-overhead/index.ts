// Our runner (in-memory recorder) vs the same agents chained by hand with the SDK's run(), one process,
// a zero-latency scripted model, non-streamed and streamed. Prints times and the ratios (the target is at
// most 1.05x for both) and writes bench/results/runner-overhead.json.
//   npx tsx bench/runner-overhead/index.ts [runs per side and variant, default 1500]
// Our side runs compiled, as the server does (bench/lib/compiled.ts). The two sides alternate in batches
// of 25 runs (which goes first alternates too), each batch paying for the garbage it makes. The headline
// ratio is of total times (the same work, done by each side); the median of batches is printed beside it.
import fs from "node:fs";
import path from "node:path";
import { Runner } from "@openai/agents";
import { WorkflowRunner } from "@workflows/core";
import { InMemoryRunRecorder } from "@workflows/core/testing";
import { catalog, modelProvider, registry, STEPS } from "../lib/chain";
import { runCompiled } from "../lib/compiled";
import { machine, repoRoot } from "../lib/serverProcess";
import { fmt, summarize } from "../lib/stats";

runCompiled();

const RUNS = Number(process.argv[2] ?? 1500);
const BATCH = 25;
const BATCHES = Math.max(2, Math.round(RUNS / BATCH));
const TARGET = 1.05;

// One runner and one SDK runner per side, as a service would hold them. The recorder forgets each run once
// it ended, as a database-backed service keeps nothing of it in memory.
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

/** Mean ms per run over one batch. */
async function batch(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < BATCH; i++) await fn();
  return (performance.now() - t0) / BATCH;
}

const variants = [
  { name: "non-streamed", ours, byHand },
  { name: "streamed", ours: oursStreamed, byHand: byHandStreamed },
];
const results: Record<string, { oursMsPerRun: number; sdkMsPerRun: number; ratio: number; ratioOfMedians: number; batches: number }> = {};
console.log(`runner-overhead: ${STEPS}-step chain, zero-latency scripted model, ${BATCHES} batches of ${BATCH} runs per side, alternating, node ${process.version}`);
for (const v of variants) {
  for (let i = 0; i < 8; i++) {
    await batch(v.ours);
    await batch(v.byHand);
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < BATCHES; i++) {
    if (i % 2 === 0) {
      a.push(await batch(v.ours));
      b.push(await batch(v.byHand));
    } else {
      b.push(await batch(v.byHand));
      a.push(await batch(v.ours));
    }
  }
  const sa = summarize(a);
  const sb = summarize(b);
  results[v.name] = { oursMsPerRun: sa.mean, sdkMsPerRun: sb.mean, ratio: sa.mean / sb.mean, ratioOfMedians: sa.median / sb.median, batches: BATCHES };
  console.log(` ${v.name}:`);
  console.log(`  workflows runner (in-memory recorder): ${fmt(sa.mean)} ms/run (median batch ${fmt(sa.median)})`);
  console.log(`  hand-written SDK run() chain:          ${fmt(sb.mean)} ms/run (median batch ${fmt(sb.median)})`);
  console.log(`  ratio: ${fmt(sa.mean / sb.mean)}x (of median batches ${fmt(sa.median / sb.median)}x)   target <= ${TARGET}x`);
}

const out = path.join(repoRoot, "bench/results/runner-overhead.json");
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify({ ...(await machine()), steps: STEPS, batch: BATCH, target: TARGET, results }, null, 2)}\n`);
console.log(`  wrote ${path.relative(repoRoot, out)}`);
