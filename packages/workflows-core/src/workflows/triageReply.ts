import { defineWorkflow } from "../specs";

/** Triage routes the request to a specialist by handoff, then the writer turns the answer into a customer reply. */
export default defineWorkflow({
  key: "triage_reply",
  displayName: "Triage to a specialist, then draft the reply",
  description: "triage hands off to the right specialist (a handoff agent inside a chain, allowed explicitly), then writer drafts the customer-facing reply.",
  allowHandoffAgents: true,
  steps: [
    { name: "route", agentKey: "triage", maxTurns: 4 },
    {
      name: "reply",
      agentKey: "writer",
      maxTurns: 2,
      inputMapper: (ctx) => `Draft a short, friendly customer reply.\n\nCustomer message:\n${ctx.input}\n\nSpecialist answer:\n${ctx.previousOutput}`,
    },
  ],
});
