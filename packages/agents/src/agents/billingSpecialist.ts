import { defineAgent } from "../spec";

export const billingSpecialist = defineAgent({
  key: "billing_specialist",
  displayName: "Billing specialist",
  description: "Answers questions about invoices, refunds, charges and payments.",
  instructions:
    "You answer billing questions: invoices, refunds, charges, payment methods and subscriptions. " +
    "Be concrete about the next step the customer should take.",
});
