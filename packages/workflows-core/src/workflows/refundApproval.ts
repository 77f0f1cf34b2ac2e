import { defineWorkflow } from "../specs";

/**
 * The billing specialist reviews a refund request and issues the refund with `issue_refund`, a tool that needs
 * a person's approval: the run waits (`awaiting_approval`) until someone decides with `runs.approve` (or
 * `wf approve`), then the specialist goes on with the tool's result or the rejection, and the writer drafts
 * the customer reply. Unanswered for a day, the approval expires and the run fails with APPROVAL_TIMEOUT.
 */
export default defineWorkflow({
  key: "refund_approval",
  displayName: "Refund with human approval",
  description: "billing_specialist reviews a refund request and issues the refund once a person approves it; writer drafts the reply.",
  steps: [
    {
      name: "review",
      agentKey: "billing_specialist",
      maxTurns: 4,
      approvalTimeoutMs: 24 * 3_600_000,
      inputMapper: (ctx) => `Refund request: ${ctx.input}\n\nReview it; if the refund is justified, issue it with issue_refund.`,
    },
    {
      name: "reply",
      agentKey: "writer",
      maxTurns: 2,
      inputMapper: (ctx) => `Draft a short reply to the customer about their refund.\n\nRequest:\n${ctx.input}\n\nBilling outcome:\n${ctx.previousOutput}`,
    },
  ],
});
