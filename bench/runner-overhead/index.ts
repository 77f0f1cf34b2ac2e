// Our runner (in-memory recorder) vs the same agents chained by hand with the SDK's run(), one process,
// a zero-latency scripted model, non-streamed and streamed. Prints times and the ratios (the target is at
// most 1.05x for both) and writes bench/results/runner-overhead.json.
//   npx tsx bench/runner-overhead/index.ts [runs per side and variant, default 1500]
// Our side runs compiled, as the server does (bench/lib/compiled.ts). The two sides alternate in batches
// of 25 runs (which goes first alternates too), each batch paying for the garbage it makes. The headline
// ratio is of total times (the same work, done by each side); the median of batches is printed beside it.
import fs from "node:fs";
import path from "node:path";
import { runCompiled } from "../lib/compiled";
import { machine, repoRoot } from "../lib/serverProcess";
import { fmt, summarize } from "../lib/stats";
import { BATCH, batch, STEPS, variants } from "./sides";

runCompiled();

const RUNS = Number(process.argv[2] ?? 1500);
const BATCHES = Math.max(2, Math.round(RUNS / BATCH));
const TARGET = 1.05;

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
