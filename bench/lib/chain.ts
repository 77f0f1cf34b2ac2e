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
