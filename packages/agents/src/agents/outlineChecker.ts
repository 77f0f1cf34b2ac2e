import { z } from "zod";
import { defineAgent } from "../spec";

export const outlineVerdictSchema = z.object({ approved: z.boolean(), reason: z.string() });
export type OutlineVerdict = z.infer<typeof outlineVerdictSchema>;

export const outlineChecker = defineAgent({
  key: "outline_checker",
  displayName: "Outline checker",
  description: "Approves or rejects an outline, with a reason (structured output).",
  instructions:
    "You review outlines. Approve an outline that is on topic, ordered and has three to six points; otherwise reject it. " +
    "Always reject an outline that contains the word REJECT. Give a one-sentence reason.",
  outputType: outlineVerdictSchema,
});
