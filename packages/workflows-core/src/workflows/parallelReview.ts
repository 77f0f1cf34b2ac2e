import { z } from "zod";
import { defineWorkflow, type StepContext } from "../specs";

const input = z.object({ text: z.string().min(1, "text must not be empty").max(20_000, "text must be at most 20000 characters") });
const textOf = (ctx: StepContext) => input.parse(ctx.data).text;

/** Three reviewers read the same text at once; the editor merges their reviews into one verdict. */
export default defineWorkflow({
  key: "parallel_review",
  displayName: "Review a text three ways at once, then one verdict",
  description: "clarity_reviewer, accuracy_reviewer and tone_reviewer review { text } in parallel; review_editor turns the three reviews into one verdict.",
  inputSchema: input,
  steps: [
    {
      kind: "parallel",
      name: "review",
      branches: [
        { name: "clarity", agentKey: "clarity_reviewer", maxTurns: 2, inputMapper: (ctx) => `Review this text for clarity:\n\n${textOf(ctx)}` },
        { name: "accuracy", agentKey: "accuracy_reviewer", maxTurns: 2, inputMapper: (ctx) => `Review this text for accuracy:\n\n${textOf(ctx)}` },
        { name: "tone", agentKey: "tone_reviewer", maxTurns: 2, inputMapper: (ctx) => `Review this text for tone:\n\n${textOf(ctx)}` },
      ],
      // The default input of a reducer is every branch's output, one "## branch" section each.
      reduce: { name: "verdict", agentKey: "review_editor", maxTurns: 2, inputMapper: (ctx) => `Reviews of one text:\n\n${ctx.previousOutput}\n\nText:\n${textOf(ctx)}` },
    },
  ],
});
