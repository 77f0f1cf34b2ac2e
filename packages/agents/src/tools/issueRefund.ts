import { createHash } from "node:crypto";
import { tool } from "@openai/agents-core";
import { z } from "zod";
import { requireApproval } from "./approval";

export const issueRefundParameters = z.object({
  reason: z.string().max(2_000).describe("Why the customer is refunded, in one sentence."),
  amount: z.number().min(0).describe("The amount to refund, in the invoice's currency."),
});

/** What the model reads once a refund went through: a reference derived from the request (no payment system here). */
export function issueRefundOutput(args: z.infer<typeof issueRefundParameters>): string {
  const reference = `rf_${createHash("sha256").update(`${args.amount}\0${args.reason}`).digest("hex").slice(0, 10)}`;
  return JSON.stringify({ refunded: true, amount: args.amount, reference });
}

/** Issues a refund. Money leaves the company: every call waits for a person's approval. */
export const issueRefundTool = requireApproval(
  tool({
    name: "issue_refund",
    description: "Issues a refund to the customer. Every call waits for a person's approval before it runs.",
    parameters: issueRefundParameters,
    execute: (args) => issueRefundOutput(args),
  }),
);
