import { runStatusSchema } from "@workflows/core";
import { z } from "zod";
import { idString, limits } from "../../limits";
import { runViewSchema, toRunView } from "../../runs/runView";
import { viewerProcedure } from "../../trpc";

export const listRunsInput = z
  .object({
    workflowKey: idString("workflowKey").nullish(),
    status: runStatusSchema.nullish(),
    /** Only runs started by this caller: an API key's name, or `local`. */
    createdBy: z.string().min(1).max(limits.keyNameChars, `createdBy must be at most ${limits.keyNameChars} characters`).nullish(),
    /** Only the runs this run's sub-workflow steps started. */
    parentRunId: idString("parentRunId").nullish(),
    /** Also list sub-workflow runs (by default only top-level runs are listed). Ignored with parentRunId. */
    includeChildren: z.boolean().nullish(),
    limit: z.number().int().min(1).max(100).default(20),
    cursor: z.string().min(1).max(limits.cursorChars, `cursor must be at most ${limits.cursorChars} characters`).nullish(),
  })
  .default({ limit: 20 });
export const listRunsOutput = z.object({ items: z.array(runViewSchema), nextCursor: z.string().nullable() });

/** Newest first, paged by `nextCursor`. Top-level runs only, unless `parentRunId` or `includeChildren` says otherwise. */
export const listRuns = viewerProcedure
  .input(listRunsInput)
  .output(listRunsOutput)
  .query(async ({ ctx, input }) => {
    const page = await ctx.services.runs.listRuns({
      limit: input.limit,
      ...(input.workflowKey ? { workflowKey: input.workflowKey } : {}),
      ...(input.status ? { status: input.status } : {}),
      ...(input.createdBy ? { createdBy: input.createdBy } : {}),
      ...(input.cursor ? { cursor: input.cursor } : {}),
      parent: input.parentRunId ? { workflowRunId: input.parentRunId } : input.includeChildren === true ? "all" : "top",
    });
    return { items: page.items.map(toRunView), nextCursor: page.nextCursor };
  });
