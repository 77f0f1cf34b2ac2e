import { initTRPC } from "@trpc/server";
import type { Context } from "./context";
import { INTERNAL_MESSAGE, toTRPCError, validationIssues } from "./errors";

const t = initTRPC.context<Context>().create({
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
    return { ...shape, message, data: { ...data, zodIssues } };
  },
});

export const router = t.router;
export const mergeRouters = t.mergeRouters;

/** Every procedure maps domain errors through `toTRPCError`, once, here. */
export const publicProcedure = t.procedure.use(async ({ next }) => {
  const result = await next();
  if (!result.ok) throw toTRPCError(result.error);
  return result;
});
