import { z } from "zod";
import { publicProcedure } from "../../trpc";
import { agentDescriptorSchema } from "./schemas";

export const listAgentsOutput = z.array(agentDescriptorSchema);

export const listAgents = publicProcedure.output(listAgentsOutput).query(({ ctx }) => ctx.services.catalog.list());
