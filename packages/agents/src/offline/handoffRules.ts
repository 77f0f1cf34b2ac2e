import type { SerializedHandoff } from "@openai/agents-core";

/** Keywords in the user's message that send it to a handoff whose tool name contains `target`. */
export const handoffRules: readonly { target: string; keywords: RegExp }[] = [
  { target: "billing", keywords: /\b(invoices?|refunds?|billing|billed|charged?|charges|payments?|pay|subscriptions?|price|receipt)\b/i },
  { target: "tech", keywords: /\b(errors?|bugs?|crash(es|ed|ing)?|exceptions?|fails?|failing|failed|broken|stack ?trace|timeouts?)\b/i },
];

/** The handoff the offline model takes for this message, or null to answer itself. */
export function chooseHandoff(handoffs: readonly SerializedHandoff[], userText: string): SerializedHandoff | null {
  for (const rule of handoffRules) {
    if (!rule.keywords.test(userText)) continue;
    const match = handoffs.find((h) => h.toolName.includes(rule.target));
    if (match) return match;
  }
  return null;
}
