import { z } from "zod";
import { defineWorkflow, typedStep } from "../specs";

const verdict = z.object({ approved: z.boolean(), reason: z.string() });
const check = typedStep({ name: "check", agentKey: "outline_checker", maxTurns: 2, outputSchema: verdict });

/** Outline, check, write: the writer runs only when the checker approved the outline; a rejection fails the run at the write step (GUARD_REJECTED). */
export default defineWorkflow({
  key: "gated_writing",
  displayName: "Outline, check, then write",
  description: "outline_writer drafts an outline, outline_checker approves or rejects it (structured { approved, reason }), writer writes only if approved; a rejection fails the run with the checker's reason.",
  steps: [
    { name: "outline", agentKey: "outline_writer", maxTurns: 2 },
    check,
    {
      name: "write",
      agentKey: "writer",
      maxTurns: 2,
      guard: (ctx) => check.resultOf(ctx)?.approved === true,
      onGuardFalse: "fail",
      guardReason: (ctx) => `the outline was rejected: ${check.resultOf(ctx)?.reason ?? "no verdict"}`,
      inputMapper: (ctx) => `Write the piece for this request:\n${ctx.input}\n\nFollow this approved outline:\n${ctx.byName.outline?.output ?? ""}`,
    },
  ],
});
