import { defineAgent } from "../spec";
import { issueRefundTool } from "../tools/issueRefund";

export const billingSpecialist = defineAgent({
  key: "billing_specialist",
  displayName: "Billing specialist",
  description: "Answers questions about invoices, refunds, charges and payments; issues refunds (each one approved by a person).",
  instructions:
    "You answer billing questions: invoices, refunds, charges, payment methods and subscriptions. " +
    "Be concrete about the next step the customer should take. When you review a refund request and the refund is " +
    "justified, call issue_refund with the amount and the reason; a person approves it before it runs.",
  tools: [issueRefundTool],
});
