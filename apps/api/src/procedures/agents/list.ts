import { z } from "zod";
import { viewerProcedure } from "../../trpc";
import { agentDescriptorSchema } from "./schemas";

export const listAgentsOutput = z.array(agentDescriptorSchema);

export const listAgents = viewerProcedure.output(listAgentsOutput).query(({ ctx }) => ctx.services.catalog.list());
