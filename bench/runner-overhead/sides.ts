// The two sides runner-overhead compares, as a service would hold them: one workflow runner (in-memory
// recorder) and the SDK's run() chained by hand, each running the 10-step chain non-streamed and streamed.
import { WorkflowRunner } from "@workflows/core";
import { InMemoryRunRecorder } from "@workflows/core/testing";
import { catalog, modelProvider, registry, sdkChain, STEPS } from "../lib/chain";

// The recorder forgets each run once it ended, as a database-backed service keeps nothing of it in memory.
const recorder = new InMemoryRunRecorder();
const runner = new WorkflowRunner({ registry, catalog, modelProvider, recorder });

async function ours(): Promise<void> {
  recorder.forget((await runner.run("chain10", "input")).workflowRunId);
}

const byHand = (): Promise<void> => sdkChain(STEPS, { stream: false });

// Streamed: our events consumed as they are stored, against the SDK's stream events consumed by hand.
async function oursStreamed(): Promise<void> {
  let runId = "";
  for await (const event of runner.stream("chain10", "input", { streamed: true })) runId = event.workflowRunId;
  recorder.forget(runId);
}

const byHandStreamed = (): Promise<void> => sdkChain(STEPS, { stream: true });

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
