import { createHash } from "node:crypto";
import { toolNeedsApproval, type AgentCatalog } from "@workflows/agents";
import { z } from "zod";
import { InvalidWorkflowSpecError, NotFoundError } from "./errors";
import { planOf, type Plan } from "./plan";
import { workflowSpecSchema, type WorkflowDescriptor } from "./specSchema";
import { CODE_STEP_AGENT, isLeafStep, type LeafStep, type WorkflowSpec, type WorkflowStep } from "./specs";

export type RegisteredWorkflow = { spec: WorkflowSpec; plan: Plan; descriptor: WorkflowDescriptor; versionHash: string };

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
      const plan = planOf(spec);
      byKey.set(spec.key, { spec, plan, versionHash, descriptor: describe(spec, plan, versionHash) });
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
  const unique = (name: string, fail: (problem: string) => Error) => {
    if (names.has(name)) throw fail("duplicate step name.");
    names.add(name);
  };
  for (const node of spec.steps) {
    const failAt = (name: string) => (problem: string) => new InvalidWorkflowSpecError(`Workflow "${key}" step "${name}": ${problem}`, key, name);
    unique(node.name, failAt(node.name));
    for (const step of leavesOf(node)) {
      if (step !== node) unique(step.name, failAt(step.name));
      if (step.kind === "code") continue;
      checkAgent(step.agentKey, "agent", spec, catalog, failAt(step.name));
      const onFailure = step.onFailure;
      if (typeof onFailure === "object") checkAgent(onFailure.fallbackAgentKey, "fallback agent", spec, catalog, failAt(step.name));
      if (step.approvalTimeoutMs !== undefined) checkApprovalTools(step.agentKey, catalog, failAt(step.name));
    }
  }
}

/** The leaf steps of a top-level entry: itself, a stage's branches and reducer, or a loop's steps. */
export function leavesOf(node: WorkflowStep): LeafStep[] {
  if (isLeafStep(node)) return [node];
  if (node.kind === "parallel") return [...node.branches, node.reduce];
  return node.steps;
}

function checkAgent(agentKey: string, role: string, spec: WorkflowSpec, catalog: AgentCatalog, fail: (problem: string) => Error): void {
  if (!catalog.has(agentKey)) throw fail(`unknown ${role} "${agentKey}". Known agents: ${catalog.keys().join(", ")}.`);
  const handoffs = catalog.handoffsOf(agentKey);
  if (handoffs.length > 0 && spec.allowHandoffAgents !== true) {
    throw fail(`${role} "${agentKey}" hands off (to ${handoffs.join(", ")}), which makes the chain non-deterministic. Use an agent without handoffs, or set allowHandoffAgents: true on the workflow.`);
  }
}

/** An approval timeout only means something when the agent (or an agent it hands off to) has a tool that needs approval. */
function checkApprovalTools(agentKey: string, catalog: AgentCatalog, fail: (problem: string) => Error): void {
  const seen = new Set<string>();
  const visit = (key: string): string[] => {
    if (seen.has(key)) return [];
    seen.add(key);
    const tools = (catalog.get(key)?.tools ?? []).filter(toolNeedsApproval).map((t) => t.name);
    return [...tools, ...catalog.handoffsOf(key).flatMap(visit)];
  };
  if (visit(agentKey).length > 0) return;
  const tools = (catalog.get(agentKey)?.tools ?? []).map((t) => t.name);
  throw fail(`approvalTimeoutMs is set but agent "${agentKey}" has no tool that needs approval (its tools: ${tools.length > 0 ? tools.join(", ") : "none"}). Define the tool with needsApproval, or remove approvalTimeoutMs.`);
}

function onFailureOf(step: LeafStep): WorkflowDescriptor["steps"][number]["onFailure"] {
  return step.onFailure ?? "stop";
}

const textInput = { type: "string" } as const;

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { unrepresentable: "any" });
}

function describe(spec: WorkflowSpec, plan: Plan, versionHash: string): WorkflowDescriptor {
  return {
    key: spec.key,
    displayName: spec.displayName,
    description: spec.description,
    stepCount: plan.slots.length,
    default: spec.default === true,
    allowHandoffAgents: spec.allowHandoffAgents === true,
    versionHash,
    inputSchema: spec.inputSchema ? jsonSchemaOf(spec.inputSchema) : { ...textInput },
    steps: spec.steps.flatMap((node) =>
      leavesOf(node).map((s) => ({
        name: s.name,
        agentKey: s.kind === "code" ? CODE_STEP_AGENT : s.agentKey,
        kind: s.kind === "code" ? ("code" as const) : ("agent" as const),
        stage: isLeafStep(node)
          ? null
          : node.kind === "parallel"
            ? { name: node.name, kind: "parallel" as const, role: s === node.reduce ? ("reduce" as const) : ("branch" as const), maxIterations: null }
            : { name: node.name, kind: "loop" as const, role: "body" as const, maxIterations: node.maxIterations },
        onFailure: onFailureOf(s),
        maxTurns: s.kind === "code" ? null : (s.maxTurns ?? null),
        guarded: s.guard !== undefined,
        mapped: s.kind !== "code" && s.inputMapper !== undefined,
        outputSchema: s.outputSchema ? jsonSchemaOf(s.outputSchema) : null,
        retry: s.retry ?? null,
        timeoutMs: s.timeoutMs ?? null,
        approvalTimeoutMs: s.kind === "code" ? null : (s.approvalTimeoutMs ?? null),
      })),
    ),
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
  const leaves = spec.steps.flatMap(leavesOf);
  for (const s of leaves) {
    if (s.kind === "code") continue;
    visit(s.agentKey);
    if (typeof s.onFailure === "object") visit(s.onFailure.fallbackAgentKey);
  }
  const fnText = (f: unknown) => (typeof f === "function" ? f.toString() : null);
  const canonical = JSON.stringify({
    key: spec.key,
    allowHandoffAgents: spec.allowHandoffAgents === true,
    ...(spec.inputSchema ? { inputSchema: JSON.stringify(z.toJSONSchema(spec.inputSchema, { unrepresentable: "any" })) } : {}),
    // Linear workflows hash as they did before stages existed: their runs keep resuming across this change.
    steps: spec.steps.map((node) =>
      isLeafStep(node)
        ? leafFingerprint(node, fnText)
        : node.kind === "parallel"
          ? { kind: "parallel", name: node.name, maxConcurrency: node.maxConcurrency ?? null, branches: node.branches.map((b) => leafFingerprint(b, fnText)), reduce: leafFingerprint(node.reduce, fnText) }
          : { kind: "loop", name: node.name, maxIterations: node.maxIterations, onExhausted: node.onExhausted ?? "fail", until: fnText(node.until), steps: node.steps.map((b) => leafFingerprint(b, fnText)) },
    ),
    agents: [...agentKeys].sort().map((key) => agentFingerprint(catalog, key)),
  });
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}

function leafFingerprint(s: LeafStep, fnText: (f: unknown) => string | null): unknown {
  const guardPolicy = s.onGuardFalse || s.guardReason ? { onGuardFalse: s.onGuardFalse ?? "skip", guardReason: fnText(s.guardReason) } : {};
  const outputSchema = s.outputSchema ? JSON.stringify(s.outputSchema.def) : null;
  if (s.kind === "code") return { kind: "code", name: s.name, onFailure: onFailureOf(s), retry: s.retry ?? null, timeoutMs: s.timeoutMs ?? null, run: fnText(s.run), guard: fnText(s.guard), outputSchema, ...guardPolicy };
  // The key order of a linear step's fingerprint is the one recorded runs were hashed with.
  // approvalTimeoutMs joins the fingerprint only when set: steps without it keep the hash they had.
  const approval = s.approvalTimeoutMs === undefined ? {} : { approvalTimeoutMs: s.approvalTimeoutMs };
  return { name: s.name, agentKey: s.agentKey, onFailure: onFailureOf(s), maxTurns: s.maxTurns ?? null, retry: s.retry ?? null, timeoutMs: s.timeoutMs ?? null, inputMapper: fnText(s.inputMapper), guard: fnText(s.guard), outputSchema, ...guardPolicy, ...approval };
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
