import { AgentCatalog } from "@workflows/agents";
import { installTracing, WorkflowRegistry, type WorkflowSpec } from "@workflows/core";
import { FnModel, fnProvider, lastUserText } from "@workflows/core/testing";

/** The benchmarks' workload: a chain of STEPS text agents on a zero-latency scripted model. */
export const STEPS = 10;

export const catalog = new AgentCatalog(
  Array.from({ length: STEPS }, (_, i) => ({ key: `agent_${i}`, displayName: `Agent ${i}`, description: "bench", instructions: `Agent ${i}.` })),
);
export const spec: WorkflowSpec = {
  key: "chain10",
  displayName: "Ten steps",
  description: "bench",
  steps: Array.from({ length: STEPS }, (_, i) => ({ name: `step_${i}`, agentKey: `agent_${i}` })),
};
export const modelProvider = fnProvider(new FnModel((request) => ({ text: `ok ${lastUserText(request).length}` })));
export const registry = WorkflowRegistry.create({ workflows: [spec], catalog });
installTracing();
