import type { PlanNode } from "../plan";
import type { Executor, NodeEnd, RunHost } from "./executor";
import { runLoop } from "./loop";
import { runParallelStage } from "./parallelStage";
import { runSingleStep } from "./singleStep";

/** One executor per construct: adding a construct is adding its module and its line here. */
const executors: { [K in PlanNode["kind"]]: Executor<Extract<PlanNode, { kind: K }>> } = {
  step: runSingleStep,
  parallel: runParallelStage,
  loop: runLoop,
};

export function executeNode(host: RunHost, node: PlanNode): Promise<NodeEnd> {
  return (executors[node.kind] as Executor<PlanNode>)(host, node);
}

export type { NodeEnd, RunHost, StepEnd } from "./executor";
