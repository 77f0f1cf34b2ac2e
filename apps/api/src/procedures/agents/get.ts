import { NotFoundError } from "@workflows/core";
import { z } from "zod";
import { idString } from "../../limits";
import { viewerProcedure } from "../../trpc";
import { agentDescriptorSchema } from "./schemas";

export const getAgentInput = z.object({ key: idString("key") });
export const getAgentOutput = agentDescriptorSchema;

export const getAgent = viewerProcedure
  .input(getAgentInput)
  .output(getAgentOutput)
  .query(({ ctx, input }) => {
    const agent = ctx.services.catalog.list().find((a) => a.key === input.key);
    if (!agent) throw new NotFoundError("agent", input.key);
    return agent;
  });
