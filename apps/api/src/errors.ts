import { TRPCError } from "@trpc/server";
import { ConflictError, InvalidInputError, NotFoundError, WorkflowError } from "@workflows/core";
import { KeyNameTakenError, KeyNotFoundError } from "./auth/apiKeys";

/** Input larger than MAX_INPUT_BYTES. */
export class PayloadTooLargeError extends Error {
  constructor(
    readonly field: string,
    readonly maxBytes: number,
  ) {
    super(`"${field}" is larger than ${maxBytes} bytes.`);
    this.name = new.target.name;
  }
}

/** The server is shutting down and takes no new runs. */
export class ShuttingDownError extends Error {
  constructor() {
    super("The server is shutting down; no new runs are accepted.");
    this.name = new.target.name;
  }
}

export const INTERNAL_MESSAGE = "Internal server error";

/**
 * The one mapping from domain errors to tRPC errors. Anything not recognised becomes an
 * INTERNAL_SERVER_ERROR whose message the formatter replaces with a generic one.
 */
export function toTRPCError(error: unknown): TRPCError {
  if (error instanceof TRPCError) {
    // tRPC wraps what a resolver throws in INTERNAL_SERVER_ERROR; look at what it wrapped.
    if (error.code === "INTERNAL_SERVER_ERROR" && error.cause && error.cause !== error && !(error.cause instanceof TRPCError)) {
      return mapDomainError(error.cause) ?? error;
    }
    return error;
  }
  return mapDomainError(error) ?? new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: INTERNAL_MESSAGE, cause: asError(error) });
}

function mapDomainError(error: unknown): TRPCError | undefined {
  if (error instanceof NotFoundError) return new TRPCError({ code: "NOT_FOUND", message: error.message, cause: error });
  if (error instanceof InvalidInputError) return new TRPCError({ code: "BAD_REQUEST", message: error.message, cause: error });
  if (error instanceof ConflictError) return new TRPCError({ code: "CONFLICT", message: error.message, cause: error });
  if (error instanceof PayloadTooLargeError) return new TRPCError({ code: "PAYLOAD_TOO_LARGE", message: error.message, cause: error });
  if (error instanceof KeyNameTakenError) return new TRPCError({ code: "CONFLICT", message: error.message, cause: error });
  if (error instanceof KeyNotFoundError) return new TRPCError({ code: "NOT_FOUND", message: error.message, cause: error });
  if (error instanceof ShuttingDownError) return new TRPCError({ code: "SERVICE_UNAVAILABLE", message: error.message, cause: error });
  if (error instanceof WorkflowError && error.fault === "user") return new TRPCError({ code: "BAD_REQUEST", message: error.message, cause: error });
  return undefined;
}

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

export type ValidationIssue = { path: (string | number)[]; message: string; code: string };

/** The issues of a schema validation failure (zod or any standard schema), else null. */
export function validationIssues(cause: unknown): ValidationIssue[] | null {
  if (typeof cause !== "object" || cause === null || !("issues" in cause) || !Array.isArray(cause.issues)) return null;
  return (cause.issues as unknown[]).map((raw) => {
    const issue = (typeof raw === "object" && raw !== null ? raw : {}) as { path?: unknown; message?: unknown; code?: unknown };
    const path = Array.isArray(issue.path)
      ? issue.path.map((p: unknown) => (typeof p === "number" ? p : typeof p === "object" && p !== null && "key" in p ? String(p.key) : String(p)))
      : [];
    return { path, message: typeof issue.message === "string" ? issue.message : "Invalid value", code: typeof issue.code === "string" ? issue.code : "invalid" };
  });
}

/** Rejects a text field larger than `maxBytes` UTF-8 bytes. */
export function assertInputSize(field: string, value: string, maxBytes: number): void {
  // Cheap upper bound first: a UTF-16 unit is at most 3 UTF-8 bytes.
  if (value.length * 3 <= maxBytes) return;
  if (Buffer.byteLength(value, "utf8") > maxBytes) throw new PayloadTooLargeError(field, maxBytes);
}

/** Re-throws errors raised while a subscription streams, mapped like any other. */
export async function* mapStreamErrors<T>(source: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
  try {
    yield* source;
  } catch (error) {
    throw toTRPCError(error);
  }
}
