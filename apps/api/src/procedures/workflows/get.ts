import { NotFoundError, workflowDescriptorSchema } from "@workflows/core";
import { z } from "zod";
import { idString } from "../../limits";
import { viewerProcedure } from "../../trpc";

export const getWorkflowInput = z.object({ key: idString("key") });
export const getWorkflowOutput = workflowDescriptorSchema;

export const getWorkflow = viewerProcedure
  .input(getWorkflowInput)
  .output(getWorkflowOutput)
  .query(({ ctx, input }) => {
    const workflow = ctx.services.workflows.list().find((w) => w.key === input.key);
    if (!workflow) throw new NotFoundError("workflow", input.key);
    return workflow;
  });
