import { childRunIdOf } from "../childRuns";
import type { Failure } from "../events";
import { SUB_WORKFLOW_AGENT, type StepContext, type SubWorkflowStep } from "../specs";
import type { Usage } from "../usage";
import type { RunHost, StepEnd } from "./executor";
import { messageOf } from "./leafStep";

export type SubWorkflowStart = { index: number; ctx: StepContext; attempts: number; usage: Usage };

/**
 * Runs a sub-workflow step: the child run of this step (id derived from the run and the step's index) is
 * started, or continued when a resumed parent finds it unfinished, or taken as it is when it had succeeded.
 * The step's output is the child's final output; a child that fails fails the step. Not retried here: the
 * child's steps retry under their own policies. The child's usage counts in the step's and the run's.
 */
export async function runSubWorkflowStep(host: RunHost, step: SubWorkflowStep, start: SubWorkflowStart): Promise<StepEnd> {
  const { index, ctx } = start;
  const agentKey = SUB_WORKFLOW_AGENT;
  const childRunId = childRunIdOf(host.workflowRunId, index);
  const attempt = start.attempts + 1;
  const t0 = performance.now();
  const fail = (error: Failure, usage: Usage): StepEnd => {
    const goOn = step.onFailure === "skip";
    host.emit({ type: "step.failed", stepIndex: index, stepName: step.name, agentKey, attempt, error, usage, onFailure: goOn ? "skip" : "stop", durationMs: performance.now() - t0 });
    return { kind: "failed", error, goOn, result: { index, name: step.name, agentKey, status: "failed", output: null, structuredOutput: null } };
  };
  let input: string;
  try {
    input = inputText(step.input ? step.input(ctx) : ctx.previousOutput);
  } catch (error) {
    return fail({ code: "MAPPER_ERROR", message: `Input mapper failed: ${messageOf(error)}` }, start.usage);
  }
  // The step names its child only once the child run exists, so a client may follow it at once; a child
  // refused before it existed (its input does not match its inputSchema) starts the step unnamed.
  let announced = false;
  const announce = (child: boolean) => {
    if (announced) return;
    announced = true;
    host.emit({ type: "step.started", stepIndex: index, stepName: step.name, agentKey, input, attempt, ...(child ? { childRunId } : {}) });
  };
  const end = await host.runChild({ parentStepIndex: index, childRunId, workflowKey: step.workflowKey, input, onReady: () => announce(true) });
  announce(false);
  if (host.signal?.aborted) return { kind: "cancelled" };
  if (end.kind === "rejected") return fail(end.error, start.usage);
  // The child's usage is cumulative over its resumes; the run already counts what this step recorded before.
  host.addUsage(minus(end.usage, start.usage));
  const usage = end.usage;
  if (end.status !== "succeeded") {
    const why = end.error ? `${end.error.code}: ${end.error.message}` : end.status;
    return fail({ code: "SUBWORKFLOW_FAILED", message: `Sub-workflow "${step.workflowKey}" (run "${childRunId}") ended ${end.status}: ${why}`.slice(0, 2_000) }, usage);
  }
  let shaped: { output: string; structuredOutput: unknown };
  try {
    shaped = shapeOutput(step, end.finalOutput ?? "", end.structuredOutput ?? null);
  } catch (error) {
    return fail({ code: "INVALID_OUTPUT", message: messageOf(error) }, usage);
  }
  host.emit({ type: "step.completed", stepIndex: index, stepName: step.name, agentKey, ...shaped, usage, responseId: null, durationMs: performance.now() - t0 });
  return { kind: "succeeded", result: { index, name: step.name, agentKey, status: "succeeded", ...shaped } };
}

/** Text as it is; any other value as JSON (a typed child input). */
function inputText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined || typeof value === "function" || typeof value === "symbol") throw new Error(`it returned ${typeof value}, expected text or a JSON value`);
  return JSON.stringify(value);
}

/** The child's output, checked against the step's outputSchema when it declares one (its text read as JSON when it has no structured output). */
function shapeOutput(step: SubWorkflowStep, output: string, structuredOutput: unknown): { output: string; structuredOutput: unknown } {
  if (!step.outputSchema) return { output, structuredOutput };
  let candidate = structuredOutput;
  if (candidate === null) {
    try {
      candidate = JSON.parse(output);
    } catch {
      candidate = output;
    }
  }
  const parsed = step.outputSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Step "${step.name}" output does not match its outputSchema: ${issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid"}.`);
  }
  return { output, structuredOutput: typeof parsed.data === "string" ? null : (parsed.data ?? null) };
}

function minus(total: Usage, part: Usage): Usage {
  const d = (key: keyof Usage) => Math.max(0, total[key] - part[key]);
  return { requests: d("requests"), inputTokens: d("inputTokens"), outputTokens: d("outputTokens"), totalTokens: d("totalTokens") };
}
