// The two sides runner-overhead compares, as a service would hold them: one workflow runner (in-memory
// recorder) and one SDK runner, each running the 10-step chain non-streamed and streamed. Import this module
// before ../lib/chain: importing @openai/agents installs the SDK's OpenAI trace exporter, which chain.ts
// replaces with ours (as the server does).
import { Runner } from "@openai/agents";
import { WorkflowRunner } from "@workflows/core";
import { InMemoryRunRecorder } from "@workflows/core/testing";
import { catalog, modelProvider, registry, STEPS } from "../lib/chain";

// The recorder forgets each run once it ended, as a database-backed service keeps nothing of it in memory.
const recorder = new InMemoryRunRecorder();
const runner = new WorkflowRunner({ registry, catalog, modelProvider, recorder });
const sdkRunner = new Runner({ modelProvider, tracingDisabled: false, workflowName: "workflows" });

async function ours(): Promise<void> {
  recorder.forget((await runner.run("chain10", "input")).workflowRunId);
}

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

export { STEPS };

export type Variant = { name: "non-streamed" | "streamed"; ours: () => Promise<void>; byHand: () => Promise<void> };
export const variants: Variant[] = [
  { name: "non-streamed", ours, byHand },
  { name: "streamed", ours: oursStreamed, byHand: byHandStreamed },
];

/** Batches alternate between the sides in rounds of this many runs. */
export const BATCH = 25;

/** Mean ms per run over one batch. */
export async function batch(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < BATCH; i++) await fn();
  return (performance.now() - t0) / BATCH;
}
