import { z } from "zod";

export const agentDescriptorSchema = z.object({
  key: z.string(),
  displayName: z.string(),
  description: z.string(),
  tools: z.array(z.string()),
  handoffs: z.array(z.string()),
  model: z.string().nullable(),
  structuredOutput: z.boolean(),
});
