import {
  GuardrailExecutionError,
  InputGuardrailTripwireTriggered,
  MaxTurnsExceededError,
  ModelBehaviorError,
  OutputGuardrailTripwireTriggered,
  ToolCallError,
} from "@openai/agents";
import type { FailureCode } from "./errors";
import type { Failure } from "./events";

const maxMessageLength = 500;

/** A step failure the runner raises itself (mapper threw, output did not match its schema). */
export class StepFailure extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Names what went wrong in a step with one of our codes and a bounded message. */
export function classifyFailure(error: unknown): Failure {
  const code = codeOf(error);
  const raw = error instanceof Error ? error.message : String(error);
  const message = raw.length > maxMessageLength ? `${raw.slice(0, maxMessageLength)}…` : raw;
  return { code, message: message || code };
}

function codeOf(error: unknown): FailureCode {
  if (error instanceof StepFailure) return error.code;
  if (error instanceof MaxTurnsExceededError) return "MAX_TURNS_EXCEEDED";
  if (error instanceof ToolCallError) return "TOOL_ERROR";
  if (error instanceof InputGuardrailTripwireTriggered || error instanceof OutputGuardrailTripwireTriggered || error instanceof GuardrailExecutionError) {
    return "GUARDRAIL_TRIPPED";
  }
  if (error instanceof ModelBehaviorError) return "INVALID_OUTPUT";
  return "MODEL_ERROR";
}
