import { z } from "zod";
import { defineWorkflow } from "../specs";

const verdict = z.object({ approved: z.boolean(), reason: z.string() });

/** Outline, check, write: the writer runs only when the checker approved the outline. */
export default defineWorkflow({
  key: "gated_writing",
  displayName: "Outline, check, then write",
  description: "outline_writer drafts an outline, outline_checker approves or rejects it (structured { approved, reason }), writer writes only if approved.",
  steps: [
    { name: "outline", agentKey: "outline_writer", maxTurns: 2 },
    { name: "check", agentKey: "outline_checker", maxTurns: 2, outputSchema: verdict },
    {
      name: "write",
      agentKey: "writer",
      maxTurns: 2,
      guard: (ctx) => verdict.safeParse(ctx.byName.check?.structuredOutput).data?.approved === true,
      inputMapper: (ctx) => `Write the piece for this request:\n${ctx.input}\n\nFollow this approved outline:\n${ctx.byName.outline?.output ?? ""}`,
    },
  ],
});
