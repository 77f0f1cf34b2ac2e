import { draftVerdictSchema } from "@workflows/agents";
import { defineWorkflow, typedStep } from "../specs";

const check = typedStep({ name: "check", agentKey: "draft_checker", maxTurns: 2, outputSchema: draftVerdictSchema, inputMapper: (ctx) => `Request:\n${ctx.input}\n\nDraft:\n${ctx.byName.write?.output ?? ""}` });

/** The writer drafts, the checker approves or says what to fix; again, at most three passes. */
export default defineWorkflow({
  key: "revise_until_approved",
  displayName: "Write, check, revise until approved",
  description: "writer drafts, draft_checker approves or rejects with a reason ({ approved, reason }); the writer revises with that reason, at most 3 passes, failing with LOOP_EXHAUSTED when never approved.",
  steps: [
    {
      kind: "loop",
      name: "revise",
      maxIterations: 3,
      steps: [
        {
          name: "write",
          agentKey: "writer",
          maxTurns: 2,
          inputMapper: (ctx) => {
            const verdict = check.resultOf(ctx);
            if (ctx.iteration === 1 || !verdict) return `Write a short text for this request:\n${ctx.input}`;
            return `Revise your draft for this request:\n${ctx.input}\n\nThe checker said: ${verdict.reason}\n\nDraft:\n${ctx.byName.write?.output ?? ""}`;
          },
        },
        check,
      ],
      until: (ctx) => check.resultOf(ctx)?.approved === true,
    },
  ],
});
