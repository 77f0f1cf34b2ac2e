import { RunState } from "@openai/agents-core";
import type { CatalogAgent } from "@workflows/agents";
import type { ApprovalRecord } from "../approvals";
import type { AttemptOutcome } from "../attempt";
import type { Failure } from "../events";
import type { AgentStep } from "../specs";
import type { Usage } from "../usage";
import type { RunHost, StepEnd } from "./executor";

/**
 * The approval wait: an agent step whose tool calls need a person's decision stops here, its SDK run state
 * saved with the approvals; after the decisions a resumed run continues the same attempt from that state.
 */
export async function pauseForApproval(
  host: RunHost,
  step: AgentStep,
  at: { index: number; agentKey: string; usage: Usage; outcome: Extract<AttemptOutcome, { ok: "paused" }> },
): Promise<StepEnd> {
  const deadlineAt = step.approvalTimeoutMs === undefined ? null : new Date(Date.now() + step.approvalTimeoutMs).toISOString();
  await host.pause({ index: at.index, stepName: step.name, agentKey: at.agentKey, state: at.outcome.state, calls: at.outcome.calls, usage: at.usage, deadlineAt });
  return { kind: "paused" };
}

/** The saved state with every decision applied, or why the step cannot continue (nobody answered in time). */
export type ApprovalResume = { kind: "continue"; state: RunState<undefined, CatalogAgent> } | { kind: "failed"; error: Failure };

/** Restores the paused step's SDK state and applies the recorded decisions: approve runs the tool, reject hands the reason to the model. */
export async function resumeFromApproval(host: RunHost, step: AgentStep, index: number, agent: CatalogAgent): Promise<ApprovalResume> {
  const paused = await host.pausedStep(index);
  if (!paused) return { kind: "failed", error: { code: "INTERNAL", message: `Step "${step.name}" waited for approval but its saved state is missing.` } };
  const expired = paused.approvals.find((a) => a.status === "expired");
  if (expired) {
    return { kind: "failed", error: { code: "APPROVAL_TIMEOUT", message: `Nobody decided on "${expired.toolName}" (approval ${expired.approvalId}) within ${step.approvalTimeoutMs ?? "its"} ms.` } };
  }
  const state = await RunState.fromString<undefined, CatalogAgent>(agent, paused.state);
  const byCall = new Map<string, ApprovalRecord>(paused.approvals.map((a) => [a.callId, a]));
  for (const item of state.getInterruptions()) {
    const raw = item.rawItem;
    const callId = "callId" in raw && typeof raw.callId === "string" ? raw.callId : (raw.id ?? "");
    const decision = byCall.get(callId);
    if (decision?.status === "approved") state.approve(item);
    else if (decision?.status === "rejected") state.reject(item, { message: rejectionMessage(decision) });
    else return { kind: "failed", error: { code: "INTERNAL", message: `Step "${step.name}": the tool call ${callId} has no decision (${decision?.status ?? "unknown"}).` } };
  }
  return { kind: "continue", state };
}

function rejectionMessage(decision: ApprovalRecord): string {
  return decision.reason ? `Tool execution was not approved: ${decision.reason}` : "Tool execution was not approved.";
}
