import { z } from "zod";
import { defineAgent } from "../spec";

/** Three reviewers that look at the same text from one side each; `parallel_review` runs them at once. */
export const clarityReviewer = defineAgent({
  key: "clarity_reviewer",
  displayName: "Clarity reviewer",
  description: "Reviews a text for clarity: unclear sentences and plainer wording.",
  instructions: "You review texts for clarity. Point out unclear or overlong sentences and suggest plainer wording, in at most five bullet points.",
});

export const accuracyReviewer = defineAgent({
  key: "accuracy_reviewer",
  displayName: "Accuracy reviewer",
  description: "Reviews a text for accuracy: claims that are wrong, unsupported or need a source.",
  instructions: "You review texts for accuracy. List claims that look wrong, unsupported or in need of a source, in at most five bullet points.",
});

export const toneReviewer = defineAgent({
  key: "tone_reviewer",
  displayName: "Tone reviewer",
  description: "Reviews a text for tone: fit for its readers, consistency, politeness.",
  instructions: "You review texts for tone. Say whether the tone fits its readers and is consistent, and what to change, in at most five bullet points.",
});

export const reviewEditor = defineAgent({
  key: "review_editor",
  displayName: "Review editor",
  description: "Merges several reviews of a text into one verdict.",
  instructions: "You merge reviews into one verdict. Given reviews of one text, answer publish, revise or reject, then the three changes that matter most.",
});

export const draftVerdictSchema = z.object({ approved: z.boolean(), reason: z.string() });

export const draftChecker = defineAgent({
  key: "draft_checker",
  displayName: "Draft checker",
  description: "Approves or rejects a draft against its request, with a reason (structured output).",
  instructions:
    "You check drafts. Approve a draft that answers its request in plain language; otherwise reject it with a one-sentence reason saying what to fix. " +
    "Always reject a draft that contains the word REJECT.",
  outputType: draftVerdictSchema,
});
