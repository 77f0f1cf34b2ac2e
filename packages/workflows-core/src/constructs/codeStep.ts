import { withCustomSpan } from "@openai/agents-core";
import { StepTimeoutError } from "../errors";
import { classifyAttemptFailure, StepFailure, type ClassifiedFailure } from "../failures";
import { abortableSleep, backoffDelay, retryPolicyOf } from "../retry";
import { CODE_STEP_AGENT, type CodeStep, type StepContext } from "../specs";
import { withStepTrace } from "../tracing";
import type { Usage } from "../usage";
import type { RunHost, StepEnd } from "./executor";
import { messageOf } from "./leafStep";

export type CodeStepStart = { index: number; ctx: StepContext; attempts: number; usage: Usage };

type CodeOutcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Runs a code step: its function under the step's time limit, retried with backoff like an agent step
 * (a throw is retryable as CODE_ERROR; an output that fails its outputSchema is not), traced as a custom span.
 */
export async function runCodeStep(host: RunHost, step: CodeStep, start: CodeStepStart): Promise<StepEnd> {
  const { index, ctx } = start;
  const policy = retryPolicyOf(step, host.retryDefaults);
  const agentKey = CODE_STEP_AGENT;
  // A code step makes no model request: its usage is whatever its earlier attempts recorded (none).
  const usage = start.usage;
  let attempt = start.attempts;
  for (let tries = 1; ; tries++) {
    attempt++;
    const t0 = performance.now();
    host.emit({ type: "step.started", stepIndex: index, stepName: step.name, agentKey, input: ctx.previousOutput, attempt });
    const outcome = await attemptWithTimeout(host, step, start, attempt);
    if (host.signal?.aborted) return { kind: "cancelled" };
    let error: unknown;
    if (outcome.ok) {
      try {
        const shaped = shapeValue(step, outcome.value);
        host.emit({ type: "step.completed", stepIndex: index, stepName: step.name, agentKey, output: shaped.output, structuredOutput: shaped.structuredOutput, usage, responseId: null, durationMs: performance.now() - t0 });
        return { kind: "succeeded", result: { index, name: step.name, agentKey, status: "succeeded", ...shaped } };
      } catch (shapeError) {
        error = shapeError;
      }
    } else {
      error = outcome.error;
    }
    const failure = classify(error);
    if (failure.retryable && tries < policy.maxAttempts) {
      const delayMs = backoffDelay(policy, tries, null);
      host.emit({ type: "step.retrying", stepIndex: index, stepName: step.name, agentKey, attempt, delayMs, error: { code: failure.code, message: failure.message, retryable: true }, usage });
      try {
        await abortableSleep(delayMs, host.signal);
      } catch {
        return { kind: "cancelled" };
      }
      continue;
    }
    const goOn = step.onFailure === "skip";
    const error_ = { code: failure.code, message: failure.message };
    host.emit({ type: "step.failed", stepIndex: index, stepName: step.name, agentKey, attempt, error: error_, usage, onFailure: goOn ? "skip" : "stop", durationMs: performance.now() - t0 });
    return { kind: "failed", error: error_, goOn, result: { index, name: step.name, agentKey, status: "failed", output: null, structuredOutput: null } };
  }
}

function classify(error: unknown): ClassifiedFailure {
  if (error instanceof StepTimeoutError || error instanceof StepFailure) return classifyAttemptFailure(error);
  return { code: "CODE_ERROR", message: `Code step threw: ${messageOf(error)}`.slice(0, 2_000), retryable: true, retryAfterMs: null };
}

function attemptWithTimeout(host: RunHost, step: CodeStep, start: CodeStepStart, attempt: number): Promise<CodeOutcome> {
  return host.attempts.run(step.timeoutMs ?? host.stepTimeoutMs, async (signal) => {
    // The function may ignore the signal: the attempt ends at the abort anyway, its late result is dropped.
    let onAbort = (): void => undefined;
    const aborted = new Promise<CodeOutcome>((resolve) => {
      onAbort = () => resolve({ ok: false, error: signal.reason });
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await withStepTrace({ workflowKey: host.workflowKey, workflowRunId: host.workflowRunId, stepName: step.name, stepIndex: start.index }, () =>
        withCustomSpan(
          async (span) => {
            const ran = (async (): Promise<CodeOutcome> => ({ ok: true, value: await step.run(start.ctx, { signal, attempt }) }))().catch((error: unknown) => ({ ok: false as const, error }));
            const outcome = await Promise.race([ran, aborted]);
            if (!outcome.ok) span.setError({ message: messageOf(outcome.error) });
            return outcome;
          },
          { data: { name: step.name, data: { kind: "code", attempt } } },
        ),
      );
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    // The operator's function may leave listeners on the signal: its signal serves no other attempt.
  }, { reuse: false });
}

/** Text stays text; any other value is the structured output (its JSON the text), checked against outputSchema. */
function shapeValue(step: CodeStep, value: unknown): { output: string; structuredOutput: unknown } {
  let structured: unknown = typeof value === "string" ? null : (value ?? null);
  if (step.outputSchema) {
    const parsed = step.outputSchema.safeParse(typeof value === "string" ? value : structured);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new StepFailure("INVALID_OUTPUT", `Step "${step.name}" output does not match its outputSchema: ${issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid"}.`);
    }
    structured = typeof parsed.data === "string" ? null : parsed.data;
  }
  const output = typeof value === "string" ? value : JSON.stringify(structured ?? null);
  return { output, structuredOutput: structured ?? null };
}
