// Where runner-overhead's difference goes: both sides profiled in this one process, batch by batch as
// index.ts alternates them (so a machine that speeds up or slows down weighs on both alike), each sample's
// self time charged to its function. Prints µs per run by package and the functions whose time differs most.
//   npx tsx bench/runner-overhead/profile.ts [non-streamed|streamed, default non-streamed] [rounds, default 60]
// Self time of an async function includes resuming it after each await. Our side runs compiled (bench/lib/compiled.ts).
import { Session } from "node:inspector/promises";
import type { Profiler, Runtime } from "node:inspector";
import { runCompiled } from "../lib/compiled";
import { BATCH, batch, variants } from "./sides";

runCompiled();

const variant = variants.find((v) => v.name === (process.argv[2] ?? "non-streamed"));
if (!variant) throw new Error(`unknown variant ${process.argv[2]}: non-streamed or streamed`);
const ROUNDS = Number(process.argv[3] ?? 60);
const WARM_UP = 8;

/** A frame's package (node_modules name, or our workspace folder), else its URL or V8's pseudo-frame name. */
function packageOf(frame: Runtime.CallFrame): string {
  const dependency = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(frame.url)?.[1];
  if (dependency) return dependency;
  const workspace = /\/(packages\/[^/]+|apps\/[^/]+|bench)\//.exec(frame.url)?.[1];
  if (workspace) return workspace;
  if (frame.url.startsWith("node:")) return "node";
  return frame.functionName.startsWith("(") ? frame.functionName : "other";
}

type Tally = { byPackage: Map<string, number>; byFunction: Map<string, number>; runs: number };
const tally = (): Tally => ({ byPackage: new Map(), byFunction: new Map(), runs: 0 });
const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);

function charge(to: Tally, profile: Profiler.Profile): void {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const frame = frames.get(samples[i]!);
    // The inspector's own dispatch (stopping the profiler) is neither side's work.
    if (!frame || frame.functionName === "(idle)" || (frame.functionName === "dispatch" && frame.url === "")) continue;
    const pkg = packageOf(frame);
    add(to.byPackage, pkg, deltas[i] ?? 0);
    add(to.byFunction, `${pkg} ${frame.functionName || "(anonymous)"}:${frame.lineNumber + 1}`, deltas[i] ?? 0);
  }
  to.runs += BATCH;
}

const session = new Session();
session.connect();
await session.post("Profiler.enable");
await session.post("Profiler.setSamplingInterval", { interval: 50 });
const sides = { ours: tally(), sdk: tally() };
for (let round = 0; round < WARM_UP + ROUNDS; round++) {
  const order = round % 2 === 0 ? (["ours", "sdk"] as const) : (["sdk", "ours"] as const);
  for (const side of order) {
    const run = side === "ours" ? variant.ours : variant.byHand;
    if (round < WARM_UP) {
      await batch(run);
      continue;
    }
    await session.post("Profiler.start");
    await batch(run);
    const { profile } = await session.post("Profiler.stop");
    charge(sides[side], profile);
  }
}
session.disconnect();

const perRun = (t: Tally, key: string, map: "byPackage" | "byFunction") => (t[map].get(key) ?? 0) / t.runs;
function table(map: "byPackage" | "byFunction", rows: number): void {
  const keys = new Set([...sides.ours[map].keys(), ...sides.sdk[map].keys()]);
  const lines = [...keys].map((key) => ({ key, ours: perRun(sides.ours, key, map), sdk: perRun(sides.sdk, key, map) }));
  lines.sort((a, b) => Math.abs(b.ours - b.sdk) - Math.abs(a.ours - a.sdk));
  console.log(`${"ours".padStart(8)} ${"SDK".padStart(8)} ${"diff".padStart(8)}  µs per run, ${map === "byPackage" ? "package" : "function"}`);
  for (const l of lines.slice(0, rows)) console.log(`${l.ours.toFixed(1).padStart(8)} ${l.sdk.toFixed(1).padStart(8)} ${(l.ours - l.sdk).toFixed(1).padStart(8)}  ${l.key}`);
}
const total = (t: Tally) => [...t.byPackage.values()].reduce((a, b) => a + b, 0) / t.runs;
console.log(`runner-overhead profile, ${variant.name}: ${ROUNDS} rounds of ${BATCH} runs per side, sampled every 50 µs, node ${process.version}`);
console.log(`sampled CPU per run: ours ${total(sides.ours).toFixed(0)} µs, hand-written SDK chain ${total(sides.sdk).toFixed(0)} µs (the profiler adds its own cost to both)`);
table("byPackage", 10);
table("byFunction", 30);
