// @openai/agents installs the SDK's OpenAI trace exporter when it is first evaluated. Importing it here makes
// it evaluate before installTracing() below replaces that exporter with ours (as the server runs), whichever
// module a benchmark imports first.
import { Runner } from "@openai/agents";
import { AgentCatalog } from "@workflows/agents";
import { installTracing, WorkflowRegistry, type WorkflowSpec } from "@workflows/core";
import { FnModel, fnProvider, lastUserText } from "@workflows/core/testing";

/** The benchmarks' workload: a chain of STEPS text agents on a zero-latency scripted model. */
export const STEPS = 10;
/** Longest chain a benchmark builds (`chainKey(n)` for n up to this). */
export const MAX_STEPS = 50;

export const catalog = new AgentCatalog(
  Array.from({ length: MAX_STEPS }, (_, i) => ({ key: `agent_${i}`, displayName: `Agent ${i}`, description: "bench", instructions: `Agent ${i}.` })),
);
const chainSpec = (n: number, key: string): WorkflowSpec => ({
  key,
  displayName: `${n} steps`,
  description: "bench",
  steps: Array.from({ length: n }, (_, i) => ({ name: `step_${i}`, agentKey: `agent_${i}` })),
});
export const spec: WorkflowSpec = chainSpec(STEPS, "chain10");
/** The key of the n-step chain in `registry` (n: 2, 10 or 50). */
export const chainKey = (n: number): string => `chain${n}`;
export const modelProvider = fnProvider(new FnModel((request) => ({ text: `ok ${lastUserText(request).length}` }), { keepRequests: false }));
export const registry = WorkflowRegistry.create({ workflows: [spec, chainSpec(2, chainKey(2)), chainSpec(MAX_STEPS, chainKey(MAX_STEPS))], catalog });
installTracing();

/** The SDK's side of the comparisons: one SDK runner, as a service would hold it. */
const sdkRunner = new Runner({ modelProvider, tracingDisabled: false, workflowName: "workflows" });

/** The first `steps` agents chained by hand with the SDK's run(), each output the next input; streamed, every stream event consumed. */
export async function sdkChain(steps: number, { stream }: { stream: boolean }): Promise<void> {
  let text = "input";
  for (let i = 0; i < steps; i++) {
    const agent = catalog.agent(`agent_${i}`);
    if (!stream) {
      text = String((await sdkRunner.run(agent, text)).finalOutput);
      continue;
    }
    const result = await sdkRunner.run(agent, text, { stream: true });
    for await (const event of result) void event;
    await result.completed;
    text = String(result.finalOutput);
  }
}
