import type { RunState } from "@openai/agents-core";
import type { AgentCatalog, CatalogAgent } from "@workflows/agents";
import { z } from "zod";
import { runAttempt, type AttemptOutcome } from "../attempt";
import { classifyAttemptFailure, StepFailure } from "../failures";
import { abortableSleep, backoffDelay, retryPolicyOf } from "../retry";
import type { AgentStep } from "../specs";
import { withStepTrace } from "../tracing";
import { addUsage, type Usage } from "../usage";
import { pauseForApproval, resumeFromApproval } from "./approvalWait";
import type { RunHost, StepEnd } from "./executor";

/** Where a step starts counting: attempts and usage recorded before (a resumed step keeps them). */
export type StepStart = { index: number; input: string; attempts: number; usage: Usage };

/**
 * Runs one agent step: attempts of the step's agent (retried with backoff while the failure is transient
 * and attempts are left), then of its fallback agent when it has one, each under the step's time limit.
 */
export async function runAgentStep(host: RunHost, step: AgentStep, start: StepStart): Promise<StepEnd> {
  const { index } = start;
  const policy = retryPolicyOf(step, host.retryDefaults);
  const onFailure = step.onFailure ?? "stop";
  const agentKeys = typeof onFailure === "object" ? [step.agentKey, onFailure.fallbackAgentKey] : [step.agentKey];
  let attempt = start.attempts;
  let usage = start.usage;
  // A step that paused for approvals continues its attempt from the saved state, with the agent it paused in.
  let fromState: RunState<undefined, CatalogAgent> | undefined;
  let firstAgent = 0;
  const recorded = host.recorded(index);
  if (recorded?.status === "awaiting_approval") {
    firstAgent = Math.max(0, agentKeys.indexOf(recorded.agentKey));
    const resumed = await resumeFromApproval(host, step, index, agentFor(host.catalog, step, agentKeys[firstAgent] ?? step.agentKey));
    if (resumed.kind === "failed") {
      const goOn = onFailure === "skip";
      host.emit({ type: "step.failed", stepIndex: index, stepName: step.name, agentKey: recorded.agentKey, attempt: Math.max(1, attempt), error: resumed.error, usage, onFailure: goOn ? "skip" : "stop", durationMs: 0 });
      return { kind: "failed", error: resumed.error, goOn, result: { index, name: step.name, agentKey: recorded.agentKey, status: "failed", output: null, structuredOutput: null } };
    }
    fromState = resumed.state;
  }
  for (const [agentIndex, agentKey] of agentKeys.entries()) {
    if (agentIndex < firstAgent) continue;
    for (let tries = 1; ; tries++) {
      const input = fromState ?? start.input;
      fromState = undefined;
      if (typeof input === "string") attempt++;
      const t0 = performance.now();
      host.emit({ type: "step.started", stepIndex: index, stepName: step.name, agentKey, input: start.input, attempt: Math.max(1, attempt), ...(typeof input === "string" ? {} : { fromApproval: true }) });
      const outcome = await attemptWithTimeout(host, step, agentKey, start, input);
      usage = addUsage(usage, outcome.usage);
      host.addUsage(outcome.usage);
      if (host.signal?.aborted) return { kind: "cancelled" };
      if (outcome.ok === "paused") return pauseForApproval(host, step, { index, agentKey, usage, outcome });
      let error: unknown;
      if (outcome.ok) {
        try {
          const shaped = shapeOutput(host.catalog, step, agentKey, outcome.finalOutput);
          const durationMs = performance.now() - t0;
          host.emit({ type: "step.completed", stepIndex: index, stepName: step.name, agentKey, output: shaped.output, structuredOutput: shaped.structuredOutput, usage, responseId: outcome.responseId, durationMs });
          return { kind: "succeeded", result: { index, name: step.name, agentKey, status: "succeeded", ...shaped } };
        } catch (shapeError) {
          error = shapeError;
        }
      } else {
        error = outcome.error;
      }
      const failure = classifyAttemptFailure(error);
      if (failure.retryable && tries < policy.maxAttempts) {
        const delayMs = backoffDelay(policy, tries, failure.retryAfterMs);
        host.emit({ type: "step.retrying", stepIndex: index, stepName: step.name, agentKey, attempt, delayMs, error: { code: failure.code, message: failure.message, retryable: true }, usage });
        try {
          await abortableSleep(delayMs, host.signal);
        } catch {
          return { kind: "cancelled" };
        }
        continue;
      }
      const next = agentIndex + 1 < agentKeys.length ? "fallback" : onFailure === "skip" ? "skip" : "stop";
      const error_ = { code: failure.code, message: failure.message };
      host.emit({ type: "step.failed", stepIndex: index, stepName: step.name, agentKey, attempt, error: error_, usage, onFailure: next, durationMs: performance.now() - t0 });
      if (next === "fallback") break;
      return { kind: "failed", error: error_, goOn: next === "skip", result: { index, name: step.name, agentKey, status: "failed", output: null, structuredOutput: null } };
    }
  }
  throw new Error("unreachable: the last agent of a step ends it");
}

/** One attempt, aborted when the run is cancelled or when the step's time limit passes. */
function attemptWithTimeout(host: RunHost, step: AgentStep, agentKey: string, start: StepStart, input: string | RunState<undefined, CatalogAgent>): Promise<AttemptOutcome> {
  return host.attempts.run(step.timeoutMs ?? host.stepTimeoutMs, async (signal) => {
    const outcome = await withStepTrace({ workflowKey: host.workflowKey, workflowRunId: host.workflowRunId, stepName: step.name, stepIndex: start.index }, () =>
      runAttempt({
        runner: host.sdkRunner,
        agent: agentFor(host.catalog, step, agentKey),
        input,
        maxTurns: step.maxTurns ?? host.defaultMaxTurns,
        signal,
        streamed: host.streamed,
        onDelta: (delta) => host.emit({ type: "step.delta", stepIndex: start.index, stepName: step.name, delta }),
        onItem: (item) => host.emit({ type: "step.item", stepIndex: start.index, stepName: step.name, item }),
      }),
    );
    // However the SDK surfaced the abort (an abort error, a cancelled stream), the reason is what happened.
    if (outcome.ok || !signal.aborted) return outcome;
    const reason: unknown = signal.reason;
    return { ok: false, error: reason, usage: outcome.usage };
  });
}

const withOutputType = new WeakMap<AgentStep, Map<string, CatalogAgent>>();

/** Whether the step asks the model for its outputSchema as the SDK's structured output (an object schema, on an agent without its own output type). */
function structuredByStep(catalog: AgentCatalog, step: AgentStep, agentKey: string): boolean {
  return step.outputSchema instanceof z.ZodObject && catalog.get(agentKey)?.outputType === undefined;
}

/** The catalog's agent, given the step's outputSchema as its `outputType` when the step declares one the agent lacks. */
function agentFor(catalog: AgentCatalog, step: AgentStep, agentKey: string): CatalogAgent {
  const agent = catalog.agent(agentKey);
  if (!structuredByStep(catalog, step, agentKey)) return agent;
  const byAgent = withOutputType.get(step) ?? new Map<string, CatalogAgent>();
  withOutputType.set(step, byAgent);
  let typed = byAgent.get(agentKey);
  if (!typed) {
    typed = agent.clone({ outputType: step.outputSchema as z.ZodObject }) as CatalogAgent;
    byAgent.set(agentKey, typed);
  }
  return typed;
}

/** The step's text and structured output, validated against the step's outputSchema when it has one. */
function shapeOutput(catalog: AgentCatalog, step: AgentStep, agentKey: string, finalOutput: unknown): { output: string; structuredOutput: unknown } {
  const structuredAgent = catalog.get(agentKey)?.outputType !== undefined || structuredByStep(catalog, step, agentKey);
  const output = typeof finalOutput === "string" ? finalOutput : JSON.stringify(finalOutput ?? null);
  let structuredOutput: unknown = structuredAgent ? finalOutput : null;
  if (step.outputSchema) {
    let candidate: unknown = structuredOutput;
    if (!structuredAgent) {
      try {
        candidate = JSON.parse(output);
      } catch {
        throw new StepFailure("INVALID_OUTPUT", `Step "${step.name}" must answer with JSON matching its outputSchema; the answer is not JSON.`);
      }
    }
    const parsed = step.outputSchema.safeParse(candidate);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new StepFailure("INVALID_OUTPUT", `Step "${step.name}" output does not match its outputSchema: ${issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid"}.`);
    }
    structuredOutput = parsed.data;
  }
  return { output, structuredOutput: structuredOutput ?? null };
}
