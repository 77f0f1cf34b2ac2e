import { toolNeedsApproval, type AgentCatalog } from "@workflows/agents";
import { InvalidWorkflowSpecError } from "./errors";
import type { SubWorkflowStep, WorkflowSpec, WorkflowStep } from "./specs";

/** The sub-workflow steps of a spec, in plan order (inside stages and loops too). */
export function subWorkflowSteps(spec: WorkflowSpec): SubWorkflowStep[] {
  return spec.steps.flatMap((node: WorkflowStep) => (node.kind === "parallel" ? [...node.branches, node.reduce] : node.kind === "loop" ? node.steps : [node])).filter((s): s is SubWorkflowStep => s.kind === "workflow");
}

const fail = (spec: WorkflowSpec, step: SubWorkflowStep, problem: string) => new InvalidWorkflowSpecError(`Workflow "${spec.key}" step "${step.name}": ${problem}`, spec.key, step.name);

/**
 * Checks every sub-workflow step against the whole set: its workflow exists, no chain of sub-workflows
 * comes back to a workflow it started from (A → B → A, or A → A), and no child can pause for a tool
 * approval (a child run has no way to wait yet). Returns the specs children first: the order their
 * version hashes are computed in (a parent's hash includes its children's).
 */
export function orderBySubWorkflows(specs: readonly WorkflowSpec[], catalog: AgentCatalog): WorkflowSpec[] {
  const byKey = new Map(specs.map((s) => [s.key, s]));
  for (const spec of specs) {
    for (const step of subWorkflowSteps(spec)) {
      if (!byKey.has(step.workflowKey)) throw fail(spec, step, `unknown workflow "${step.workflowKey}". Known workflows: ${[...byKey.keys()].join(", ")}.`);
    }
  }
  const ordered: WorkflowSpec[] = [];
  const done = new Set<string>();
  /** The path from the root: each workflow with the step it continues through. */
  const path: { spec: WorkflowSpec; step: SubWorkflowStep | null }[] = [];
  const visit = (spec: WorkflowSpec): void => {
    if (done.has(spec.key)) return;
    const at = path.findIndex((p) => p.spec.key === spec.key);
    if (at >= 0) {
      const cycle = path.slice(at);
      const keys = [...cycle.map((p) => p.spec.key), spec.key].join(" → ");
      const { spec: from, step } = cycle[0]!;
      throw fail(from, step!, `sub-workflows form a cycle: ${keys}. A workflow cannot run itself, directly or through other workflows.`);
    }
    const here: { spec: WorkflowSpec; step: SubWorkflowStep | null } = { spec, step: null };
    path.push(here);
    for (const step of subWorkflowSteps(spec)) {
      here.step = step;
      visit(byKey.get(step.workflowKey)!);
    }
    path.pop();
    done.add(spec.key);
    ordered.push(spec);
  };
  for (const spec of specs) visit(spec);
  for (const spec of specs) {
    for (const step of subWorkflowSteps(spec)) {
      const pause = approvalIn(byKey.get(step.workflowKey)!, byKey, catalog);
      if (pause) {
        throw fail(
          spec,
          step,
          `workflow "${step.workflowKey}" can pause for a tool approval (agent "${pause.agentKey}", tool "${pause.toolName}"${pause.via === step.workflowKey ? "" : ` in its sub-workflow "${pause.via}"`}), and a sub-workflow cannot wait for approvals. Run it as a workflow of its own.`,
        );
      }
    }
  }
  return ordered;
}

/** The first agent tool needing approval that a workflow (or any workflow below it) can reach; null when none. */
function approvalIn(spec: WorkflowSpec, byKey: ReadonlyMap<string, WorkflowSpec>, catalog: AgentCatalog, seen = new Set<string>()): { agentKey: string; toolName: string; via: string } | null {
  if (seen.has(spec.key)) return null;
  seen.add(spec.key);
  for (const node of spec.steps) {
    const leaves = node.kind === "parallel" ? [...node.branches, node.reduce] : node.kind === "loop" ? node.steps : [node];
    for (const step of leaves) {
      if (step.kind === "code") continue;
      if (step.kind === "workflow") {
        const child = byKey.get(step.workflowKey);
        const found = child ? approvalIn(child, byKey, catalog, seen) : null;
        if (found) return found;
        continue;
      }
      const agents = [step.agentKey, ...(typeof step.onFailure === "object" ? [step.onFailure.fallbackAgentKey] : [])];
      for (const agentKey of reachableAgents(agents, catalog)) {
        const tool = (catalog.get(agentKey)?.tools ?? []).find(toolNeedsApproval);
        if (tool) return { agentKey, toolName: tool.name, via: spec.key };
      }
    }
  }
  return null;
}

function reachableAgents(start: readonly string[], catalog: AgentCatalog): string[] {
  const seen = new Set<string>();
  const visit = (key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    for (const next of catalog.handoffsOf(key)) visit(next);
  };
  for (const key of start) visit(key);
  return [...seen];
}
