import {
  GuardrailExecutionError,
  InputGuardrailTripwireTriggered,
  MaxTurnsExceededError,
  ModelBehaviorError,
  OutputGuardrailTripwireTriggered,
  ToolCallError,
} from "@openai/agents-core";
import { StepTimeoutError, type FailureCode } from "./errors";
import type { AttemptFailure, Failure } from "./events";

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

/** What went wrong in an attempt, whether trying again can help, and how long the model asked us to wait. */
export type ClassifiedFailure = AttemptFailure & {
  /** From `retry-after-ms` or `Retry-After` (seconds or an HTTP date); null when the answer carried neither. */
  retryAfterMs: number | null;
};

/** Names what went wrong in a step with one of our codes and a bounded message. */
export function classifyFailure(error: unknown): Failure {
  const { code, message } = classifyAttemptFailure(error);
  return { code, message };
}

/**
 * The one classification of attempt failures. Transient (retryable): model HTTP 408/409/429/5xx, a
 * connection reset or refused, a stream cut mid-response, the step timeout. Everything else is not:
 * other 4xx, max turns, output that fails the schema, guardrails, tool errors, mapper and guard errors.
 */
export function classifyAttemptFailure(error: unknown, now: number = Date.now()): ClassifiedFailure {
  const raw = error instanceof Error ? error.message : String(error);
  const message = (raw.length > maxMessageLength ? `${raw.slice(0, maxMessageLength)}…` : raw) || "";
  const status = httpStatusOf(error);
  let code: FailureCode;
  let retryable: boolean;
  if (error instanceof StepTimeoutError) {
    code = "STEP_TIMEOUT";
    retryable = true;
  } else if (status !== null) {
    code = "MODEL_ERROR";
    retryable = status === 408 || status === 409 || status === 429 || status >= 500;
  } else {
    code = codeOf(error);
    retryable = code === "MODEL_ERROR" && isConnectionFailure(error);
  }
  return { code, message: message || code, retryable, retryAfterMs: retryable ? retryAfterOf(error, now) : null };
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

/** The HTTP status of a model API error (the openai client's `APIError.status`); null for anything else. */
function httpStatusOf(error: unknown): number | null {
  if (typeof error !== "object" || error === null || !("status" in error)) return null;
  const status = (error).status;
  return typeof status === "number" && Number.isInteger(status) && status >= 400 && status <= 599 ? status : null;
}

const connectionCodes = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "ENETUNREACH", "EHOSTUNREACH", "EAI_AGAIN", "UND_ERR_SOCKET", "UND_ERR_CLOSED", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);
const connectionNames = new Set(["APIConnectionError", "APIConnectionTimeoutError", "SocketError"]);
const connectionMessages = /^(terminated|other side closed|socket hang up|fetch failed|premature close)$|stream (ended|closed) (before|prematurely|unexpectedly)|connection (error|reset|closed)/i;

/** A network failure on the way to or from the model: a reset, a refused connection, a stream cut mid-response. */
function isConnectionFailure(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== null && current !== undefined; depth++) {
    if (typeof current !== "object") return false;
    const { name, code, message } = current as { name?: unknown; code?: unknown; message?: unknown };
    if (typeof code === "string" && connectionCodes.has(code)) return true;
    // The openai client's errors keep `name` "Error"; their class says what they are.
    if ((typeof name === "string" && connectionNames.has(name)) || connectionNames.has(current.constructor.name)) return true;
    if (typeof message === "string" && connectionMessages.test(message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** `retry-after-ms` (milliseconds) or `Retry-After` (seconds, or an HTTP date) of a model API error. */
export function retryAfterOf(error: unknown, now: number = Date.now()): number | null {
  const headers = typeof error === "object" && error !== null && "headers" in error ? (error).headers : undefined;
  const ms = headerOf(headers, "retry-after-ms");
  if (ms !== null) {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
  }
  const after = headerOf(headers, "retry-after");
  if (after === null) return null;
  if (/^\s*\d+(\.\d+)?\s*$/.test(after)) return Math.round(Number(after) * 1000);
  const date = Date.parse(after);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

function headerOf(headers: unknown, name: string): string | null {
  if (typeof headers !== "object" || headers === null) return null;
  if ("get" in headers && typeof headers.get === "function") return (headers as Headers).get(name);
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name && typeof value === "string") return value;
  return null;
}
