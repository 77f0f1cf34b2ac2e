/** Codes a step or run failure carries, in events, records and API answers alike. */
export const failureCodes = [
  "MAX_TURNS_EXCEEDED",
  "MODEL_ERROR",
  "INVALID_OUTPUT",
  "TOOL_ERROR",
  "GUARDRAIL_TRIPPED",
  "MAPPER_ERROR",
  "GUARD_ERROR",
  "GUARD_REJECTED",
  "CODE_ERROR",
  "LOOP_EXHAUSTED",
  "STEP_TIMEOUT",
  "APPROVAL_TIMEOUT",
  "CANCELLED",
  "INTERRUPTED",
  "STORAGE_ERROR",
  "INTERNAL",
] as const;
export type FailureCode = (typeof failureCodes)[number];

/** Base of every error this product throws; `fault` says who must act. */
export abstract class WorkflowError extends Error {
  abstract readonly fault: "user" | "system";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A workflow definition is wrong; raised at start-up by the registry. */
export class InvalidWorkflowSpecError extends WorkflowError {
  readonly fault = "user";
  constructor(
    message: string,
    readonly workflowKey?: string,
    readonly stepName?: string,
  ) {
    super(message);
  }
}

/** An unknown workflow, agent or run was asked for. */
export class NotFoundError extends WorkflowError {
  readonly fault = "user";
  constructor(
    readonly kind: "workflow" | "agent" | "run" | "approval",
    readonly key: string,
    hint?: string,
  ) {
    super(`Unknown ${kind} "${key}".${hint ? ` ${hint}` : ""}`);
  }
}

/** One problem of an input checked against a schema (a workflow's `inputSchema`). */
export type InputIssue = { path: (string | number)[]; message: string; code: string };

/** Input a caller gave is not acceptable (too large, empty, wrong shape); `issues` when a schema said why. */
export class InvalidInputError extends WorkflowError {
  readonly fault = "user";
  readonly issues: InputIssue[] | undefined;
  constructor(message: string, options?: ErrorOptions & { issues?: InputIssue[] }) {
    super(message, options);
    this.issues = options?.issues;
  }
}

/** The request conflicts with the current state (cancel a finished run, reuse an idempotency key). */
export class ConflictError extends WorkflowError {
  readonly fault = "user";
}

/**
 * The abort reason that stops a run because the service is going away (not because someone cancelled it):
 * the run is recorded `interrupted` instead of `cancelled`.
 */
export class RunInterruptedError extends WorkflowError {
  readonly fault = "system";
  constructor(message = "The server stopped before the run finished.") {
    super(message);
  }
}

/** The abort reason of a run cancelled on request; `by` (who asked) is recorded in its `run.cancelled` event. */
export class RunCancelledError extends WorkflowError {
  readonly fault = "user";
  constructor(
    readonly by: string,
    message = `Cancelled by ${by}.`,
  ) {
    super(message);
  }
}

/** The abort reason of an attempt that ran past its step's `timeoutMs`. */
export class StepTimeoutError extends WorkflowError {
  readonly fault = "system";
  constructor(readonly timeoutMs: number) {
    super(`The attempt did not finish within ${timeoutMs} ms.`);
  }
}

/** The model, a tool or the storage failed; not the caller's doing. */
export class SystemFaultError extends WorkflowError {
  readonly fault = "system";
  constructor(
    readonly code: FailureCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
