import { workflowDescriptorSchema } from "@workflows/core";
import { z } from "zod";
import { publicProcedure } from "../../trpc";

export const listWorkflowsOutput = z.array(workflowDescriptorSchema);

export const listWorkflows = publicProcedure.output(listWorkflowsOutput).query(({ ctx }) => ctx.services.workflows.list());
