import { workflowDescriptorSchema } from "@workflows/core";
import { z } from "zod";
import { viewerProcedure } from "../../trpc";

export const listWorkflowsOutput = z.array(workflowDescriptorSchema);

export const listWorkflows = viewerProcedure.output(listWorkflowsOutput).query(({ ctx }) => ctx.services.workflows.list());
