import { agentKeyOf, isLeafStep, type LeafStep, type LoopStage, type ParallelStage, type WorkflowSpec } from "./specs";

/**
 * One step row a run records: every leaf step has its own index, known before the run starts. A loop has
 * a row per step and pass (`maxIterations` passes); the passes a run does not need end `skipped`.
 */
export type Slot = {
  index: number;
  name: string;
  agentKey: string;
  /** The parallel stage or loop holding the step; null at the top level. */
  stage: string | null;
  /** The loop pass (1-based); null outside loops. */
  iteration: number | null;
  step: LeafStep;
};

/** What the step loop walks: one node per top-level entry of the spec, each run by its construct's executor. */
export type PlanNode =
  | { kind: "step"; slot: Slot }
  | { kind: "parallel"; stage: ParallelStage; branches: Slot[]; reducer: Slot }
  | { kind: "loop"; stage: LoopStage; passes: Slot[][] };

export type Plan = { nodes: PlanNode[]; slots: Slot[] };

/** Lays a spec out as nodes and indexed slots; the same spec always gives the same indices (resume relies on it). */
export function planOf(spec: WorkflowSpec): Plan {
  const slots: Slot[] = [];
  const slot = (step: LeafStep, stage: string | null, iteration: number | null): Slot => {
    const s: Slot = { index: slots.length, name: step.name, agentKey: agentKeyOf(step), stage, iteration, step };
    slots.push(s);
    return s;
  };
  const nodes = spec.steps.map((step): PlanNode => {
    if (isLeafStep(step)) return { kind: "step", slot: slot(step, null, null) };
    if (step.kind === "parallel") return { kind: "parallel", stage: step, branches: step.branches.map((b) => slot(b, step.name, null)), reducer: slot(step.reduce, step.name, null) };
    const passes: Slot[][] = [];
    for (let iteration = 1; iteration <= step.maxIterations; iteration++) passes.push(step.steps.map((s) => slot(s, step.name, iteration)));
    return { kind: "loop", stage: step, passes };
  });
  return { nodes, slots };
}
