import { createHash } from "node:crypto";
import type { AgentCatalog } from "@workflows/agents";
import { z } from "zod";
import { InvalidWorkflowSpecError, NotFoundError } from "./errors";
import { workflowSpecSchema, type WorkflowDescriptor, type WorkflowSpec, type WorkflowStep } from "./specs";

export type RegisteredWorkflow = { spec: WorkflowSpec; descriptor: WorkflowDescriptor; versionHash: string };

/** The validated workflows. Built once at start-up; every definition problem fails it with a precise message. */
export class WorkflowRegistry {
  readonly #byKey: ReadonlyMap<string, RegisteredWorkflow>;

  private constructor(byKey: Map<string, RegisteredWorkflow>) {
    this.#byKey = byKey;
  }

  static create(options: { workflows: readonly WorkflowSpec[]; catalog: AgentCatalog }): WorkflowRegistry {
    const byKey = new Map<string, RegisteredWorkflow>();
    for (const spec of options.workflows) {
      validateSpec(spec, options.catalog);
      if (byKey.has(spec.key)) throw new InvalidWorkflowSpecError(`Duplicate workflow key "${spec.key}".`, spec.key);
      const versionHash = hashSpec(spec, options.catalog);
      byKey.set(spec.key, { spec, versionHash, descriptor: describe(spec, versionHash) });
    }
    const defaults = options.workflows.filter((w) => w.default === true).map((w) => w.key);
    if (defaults.length > 1) throw new InvalidWorkflowSpecError(`More than one default workflow: ${defaults.map((k) => `"${k}"`).join(", ")}. Mark at most one with default: true.`);
    return new WorkflowRegistry(byKey);
  }

  list(): WorkflowDescriptor[] {
    return [...this.#byKey.values()].map((w) => w.descriptor);
  }

  get(key: string): RegisteredWorkflow | undefined {
    return this.#byKey.get(key);
  }

  require(key: string): RegisteredWorkflow {
    const found = this.#byKey.get(key);
    if (!found) throw new NotFoundError("workflow", key, `Known workflows: ${[...this.#byKey.keys()].join(", ")}.`);
    return found;
  }

  default(): RegisteredWorkflow | undefined {
    return [...this.#byKey.values()].find((w) => w.spec.default === true);
  }
}

function validateSpec(spec: WorkflowSpec, catalog: AgentCatalog): void {
  const key = typeof spec?.key === "string" ? spec.key : "(no key)";
  const parsed = workflowSpecSchema.safeParse(spec);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path ?? [];
    const stepIndex = path[0] === "steps" && typeof path[1] === "number" ? path[1] : undefined;
    const stepName = stepIndex !== undefined ? spec.steps[stepIndex]?.name : undefined;
    const where = stepIndex !== undefined ? ` step ${stepIndex}${stepName ? ` "${stepName}"` : ""}` : "";
    const field = path.slice(stepIndex !== undefined ? 2 : 0).join(".");
    throw new InvalidWorkflowSpecError(`Workflow "${key}"${where}: ${field ? `${field}: ` : ""}${issue?.message ?? "invalid"}.`, key, stepName);
  }
  const names = new Set<string>();
  for (const step of spec.steps) {
    const fail = (problem: string) => new InvalidWorkflowSpecError(`Workflow "${key}" step "${step.name}": ${problem}`, key, step.name);
    if (names.has(step.name)) throw fail("duplicate step name.");
    names.add(step.name);
    checkAgent(step.agentKey, "agent", spec, catalog, fail);
    const onFailure = step.onFailure;
    if (typeof onFailure === "object") checkAgent(onFailure.fallbackAgentKey, "fallback agent", spec, catalog, fail);
  }
}

function checkAgent(agentKey: string, role: string, spec: WorkflowSpec, catalog: AgentCatalog, fail: (problem: string) => Error): void {
  if (!catalog.has(agentKey)) throw fail(`unknown ${role} "${agentKey}". Known agents: ${catalog.keys().join(", ")}.`);
  const handoffs = catalog.handoffsOf(agentKey);
  if (handoffs.length > 0 && spec.allowHandoffAgents !== true) {
    throw fail(`${role} "${agentKey}" hands off (to ${handoffs.join(", ")}), which makes the chain non-deterministic. Use an agent without handoffs, or set allowHandoffAgents: true on the workflow.`);
  }
}

function onFailureOf(step: WorkflowStep): WorkflowDescriptor["steps"][number]["onFailure"] {
  return step.onFailure ?? "stop";
}

function describe(spec: WorkflowSpec, versionHash: string): WorkflowDescriptor {
  return {
    key: spec.key,
    displayName: spec.displayName,
    description: spec.description,
    stepCount: spec.steps.length,
    default: spec.default === true,
    allowHandoffAgents: spec.allowHandoffAgents === true,
    versionHash,
    steps: spec.steps.map((s) => ({
      name: s.name,
      agentKey: s.agentKey,
      onFailure: onFailureOf(s),
      maxTurns: s.maxTurns ?? null,
      guarded: s.guard !== undefined,
      mapped: s.inputMapper !== undefined,
      retry: s.retry ?? null,
      timeoutMs: s.timeoutMs ?? null,
    })),
  };
}

/**
 * Identifies what shapes a run's execution: the steps (agents, policies, limits, mappers, guards, schemas)
 * and every agent they can reach (instructions, model and its settings, tools and their schemas, output
 * type, handoffs). A run records it; a resume on a different hash must be asked for explicitly.
 */
function hashSpec(spec: WorkflowSpec, catalog: AgentCatalog): string {
  const agentKeys = new Set<string>();
  const visit = (key: string) => {
    if (agentKeys.has(key)) return;
    agentKeys.add(key);
    for (const target of catalog.handoffsOf(key)) visit(target);
  };
  for (const s of spec.steps) {
    visit(s.agentKey);
    if (typeof s.onFailure === "object") visit(s.onFailure.fallbackAgentKey);
  }
  const canonical = JSON.stringify({
    key: spec.key,
    allowHandoffAgents: spec.allowHandoffAgents === true,
    steps: spec.steps.map((s) => ({
      name: s.name,
      agentKey: s.agentKey,
      onFailure: onFailureOf(s),
      maxTurns: s.maxTurns ?? null,
      retry: s.retry ?? null,
      timeoutMs: s.timeoutMs ?? null,
      inputMapper: s.inputMapper?.toString() ?? null,
      guard: s.guard?.toString() ?? null,
      outputSchema: s.outputSchema ? JSON.stringify(s.outputSchema.def) : null,
    })),
    agents: [...agentKeys].sort().map((key) => agentFingerprint(catalog, key)),
  });
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}

function agentFingerprint(catalog: AgentCatalog, key: string): unknown {
  const spec = catalog.get(key);
  const agent = catalog.agent(key);
  const descriptor = catalog.list().find((a) => a.key === key);
  return {
    key,
    instructions: spec?.instructions ?? null,
    model: descriptor?.model ?? null,
    modelSettings: agent.modelSettings,
    outputType: spec?.outputType ? JSON.stringify(z.toJSONSchema(spec.outputType)) : null,
    handoffs: spec?.handoffs ?? [],
    tools: (spec?.tools ?? []).map((t) => ({
      name: t.name,
      type: t.type,
      description: "description" in t ? t.description : null,
      parameters: "parameters" in t ? t.parameters : null,
      strict: "strict" in t ? t.strict : null,
    })),
  };
}
