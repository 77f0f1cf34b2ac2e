import { initTRPC, TRPCError } from "@trpc/server";
import { RateLimitedError } from "./auth/gate";
import type { Access } from "./auth/roles";
import type { Context } from "./context";
import { INTERNAL_MESSAGE, PayloadTooLargeError, toTRPCError, validationIssues } from "./errors";
import { findOversize, limits } from "./limits";

/** What each procedure states next to its definition: who may call it. */
export type ProcedureMeta = { access: Access };

const t = initTRPC
  .context<Context>()
  .meta<ProcedureMeta>()
  .create({
    // Never send stack traces, whatever NODE_ENV says.
    isDev: false,
    sse: {
      ping: { enabled: true, intervalMs: 5_000 },
      client: { reconnectAfterInactivityMs: 15_000 },
    },
    errorFormatter({ shape, error }) {
      const { stack: _stack, ...data } = shape.data;
      const zodIssues = error.code === "BAD_REQUEST" ? validationIssues(error.cause) : null;
      const first = zodIssues?.[0];
      let message = shape.message;
      if (error.code === "INTERNAL_SERVER_ERROR") message = INTERNAL_MESSAGE;
      else if (first) message = first.path.length ? `${first.path.join(".")}: ${first.message}` : first.message;
      const retryAfterMs = error.cause instanceof RateLimitedError ? error.cause.retryAfterMs : null;
      return { ...shape, message, data: { ...data, zodIssues, ...(retryAfterMs !== null ? { retryAfterMs } : {}) } };
    },
  });

export const router = t.router;
export const mergeRouters = t.mergeRouters;

/**
 * The base of every procedure. It asks the gate (auth/gate.ts) whether the caller may run a procedure
 * of its `meta.access` (a procedure without one needs `admin`: new procedures fail closed), ends the
 * subscriptions of keys revoked meanwhile, and maps domain errors through `toTRPCError`, once, here.
 * State the access with `.meta({ access: "viewer" })` next to each definition.
 */
export const publicProcedure = t.procedure.use(async ({ ctx, meta, type, next, getRawInput }) => {
  const caller = await ctx.services.gate.admit(ctx.authorization, meta?.access ?? "admin");
  assertInputBounds(await getRawInput(), ctx.services.info.maxInputBytes);
  const result = await next({ ctx: { caller } });
  if (!result.ok) throw toTRPCError(result.error);
  if (type === "subscription" && isAsyncIterable(result.data)) return { ...result, data: ctx.services.gate.endWhenRevoked(result.data, caller) };
  return result;
});

/** A procedure open to every caller, key or not (`health`). */
export const openProcedure = publicProcedure.meta({ access: "public" });
/** Reads: agents, workflows, runs and their events. */
export const viewerProcedure = publicProcedure.meta({ access: "viewer" });
/** Viewer rights plus starting, streaming, cancelling and resuming runs, and chat. */
export const operatorProcedure = publicProcedure.meta({ access: "operator" });
/** Operator rights plus managing API keys and deleting runs. */
export const adminProcedure = publicProcedure.meta({ access: "admin" });

/** MAX_INPUT_BYTES for every string a caller sends, and a nesting limit, before any schema looks at the input. */
function assertInputBounds(raw: unknown, maxBytes: number): void {
  const found = findOversize(raw, maxBytes);
  if (found?.problem === "too_large") throw toTRPCError(new PayloadTooLargeError(found.path, maxBytes));
  if (found) throw new TRPCError({ code: "BAD_REQUEST", message: `"${found.path}" is nested deeper than ${limits.inputDepth} levels.` });
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === "object" && value !== null && Symbol.asyncIterator in value;

