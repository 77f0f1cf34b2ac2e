import { z } from "zod";
import { openProcedure } from "../../trpc";

export const healthOutput = z.object({
  ok: z.literal(true),
  version: z.string(),
  /** Database kind, e.g. `sqlite`. */
  database: z.string(),
  /** `offline`, `openai` or `custom`. */
  modelProvider: z.string(),
  model: z.string(),
  activeRuns: z.number().int().nonnegative(),
  accepting: z.boolean(),
});

export const health = openProcedure.output(healthOutput).query(({ ctx }) => {
  const { info, activeRuns } = ctx.services;
  return {
    ok: true as const,
    version: info.version,
    database: info.databaseKind,
    modelProvider: info.modelProvider,
    model: info.model,
    activeRuns: activeRuns.size,
    accepting: activeRuns.accepting,
  };
});
