import { z } from "zod";
import type { EventBody } from "./events";

/** Where an approval stands: waiting, decided by a person, expired at its deadline, or dropped (run cancelled, step run again). */
export const approvalStatusSchema = z.enum(["pending", "approved", "rejected", "expired", "cancelled"]);
export type ApprovalStatus = z.infer<typeof approvalStatusSchema>;

/** One tool call waiting for (or given) a person's decision, as stored and as the API shows it. */
export const approvalRecordSchema = z.object({
  approvalId: z.string(),
  workflowRunId: z.string(),
  stepIndex: z.number().int().nonnegative(),
  agentKey: z.string(),
  toolName: z.string(),
  /** The SDK's call id: how the saved run state names the call. */
  callId: z.string(),
  /** The call's arguments as JSON text. */
  arguments: z.string(),
  status: approvalStatusSchema,
  reason: z.string().nullable(),
  decidedBy: z.string().nullable(),
  requestedAt: z.string(),
  deadlineAt: z.string().nullable(),
  decidedAt: z.string().nullable(),
});
export type ApprovalRecord = z.infer<typeof approvalRecordSchema>;

/** What a paused step stores: its approvals, each with the step's serialised SDK run state. */
export type NewApproval = Omit<ApprovalRecord, "status" | "reason" | "decidedBy" | "decidedAt"> & { state: string };

export type ApprovalDecision = { status: Exclude<ApprovalStatus, "pending">; reason: string | null; decidedBy: string; decidedAt: string };

/** The `step.approval_resolved` event that states a decision, whoever took it (a caller, the deadline, or the run's end). */
export function approvalResolved(approval: Pick<ApprovalRecord, "stepIndex" | "approvalId" | "toolName">, stepName: string, decision: Pick<ApprovalDecision, "status" | "reason" | "decidedBy">): Extract<EventBody, { type: "step.approval_resolved" }> {
  return {
    type: "step.approval_resolved",
    stepIndex: approval.stepIndex,
    stepName,
    approvalId: approval.approvalId,
    toolName: approval.toolName,
    approved: decision.status === "approved",
    expired: decision.status === "expired",
    reason: decision.reason,
    decidedBy: decision.decidedBy,
  };
}

/** The saved SDK state of a paused step and the approvals of that pause. */
export type PausedStep = { state: string; approvals: ApprovalRecord[] };
