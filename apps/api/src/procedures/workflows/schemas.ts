import { z } from "zod";
import { agentText, blankMessage, idString } from "../../limits";

/** The request shared by `workflows.run` and `workflows.runStream`. */
export const startRunInput = z.object({
  /** The workflow to run; the one marked `default: true` when left out. */
  key: idString("key").nullish(),
  /** Text, or any JSON value (an object, an array of numbers...), which the workflow receives as JSON text. */
  input: z
    .union([agentText("input"), z.record(z.string(), z.unknown()), z.array(z.unknown()), z.number(), z.boolean()], {
      error: (issue) =>
        issue.input === undefined ? "input is required: text or a JSON value" : typeof issue.input === "string" ? blankMessage("input") : "input must be text or a JSON value (object, array, number, boolean)",
    })
    .transform((value) => (typeof value === "string" ? value : JSON.stringify(value))),
  conversationId: idString("conversationId").nullish(),
  idempotencyKey: idString("idempotencyKey").nullish(),
});
