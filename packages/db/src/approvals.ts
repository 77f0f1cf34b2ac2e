import { approvalStatusSchema, type ApprovalDecision, type ApprovalRecord, type NewApproval, type PausedStep } from "@workflows/core";
import { exclusive } from "./exclusive";
import type { PrismaClient } from "./client";

/** A run waiting for approvals: how many are pending, and the earliest deadline among them. */
export type PausedRun = { workflowRunId: string; pending: number; deadlineAt: string | null };

const recordColumns = {
  runId: true,
  approvalId: true,
  stepIndex: true,
  agentKey: true,
  toolName: true,
  callId: true,
  arguments: true,
  status: true,
  reason: true,
  decidedBy: true,
  requestedAt: true,
  deadlineAt: true,
  decidedAt: true,
} as const;

type Row = { runId: string; approvalId: string; stepIndex: number; agentKey: string; toolName: string; callId: string; arguments: string; status: string; reason: string | null; decidedBy: string | null; requestedAt: Date; deadlineAt: Date | null; decidedAt: Date | null };

function recordOf(row: Row): ApprovalRecord {
  return {
    approvalId: row.approvalId,
    workflowRunId: row.runId,
    stepIndex: row.stepIndex,
    agentKey: row.agentKey,
    toolName: row.toolName,
    callId: row.callId,
    arguments: row.arguments,
    status: approvalStatusSchema.parse(row.status),
    reason: row.reason,
    decidedBy: row.decidedBy,
    requestedAt: row.requestedAt.toISOString(),
    deadlineAt: row.deadlineAt?.toISOString() ?? null,
    decidedAt: row.decidedAt?.toISOString() ?? null,
  };
}

/** The approvals of paused runs (`WorkflowRunApproval`), the same on SQLite and PostgreSQL. */
export class ApprovalStore {
  readonly #prisma: PrismaClient;

  constructor(prisma: PrismaClient) {
    this.#prisma = prisma;
  }

  async savePause(approvals: readonly NewApproval[]): Promise<void> {
    const first = approvals[0];
    if (!first) return;
    const at = new Date(first.requestedAt);
    await exclusive(this.#prisma, () =>
      this.#prisma.$transaction([
        // A step paused again (run again after a crash) leaves its earlier, never-decided approvals behind.
        this.#prisma.workflowRunApproval.updateMany({
          where: { runId: first.workflowRunId, stepIndex: { in: [...new Set(approvals.map((a) => a.stepIndex))] }, status: "pending" },
          data: { status: "cancelled", decidedBy: "(superseded)", decidedAt: at },
        }),
        this.#prisma.workflowRunApproval.createMany({
          data: approvals.map((a) => ({
            runId: a.workflowRunId,
            approvalId: a.approvalId,
            stepIndex: a.stepIndex,
            agentKey: a.agentKey,
            toolName: a.toolName,
            callId: a.callId,
            arguments: a.arguments,
            state: a.state,
            status: "pending",
            requestedAt: new Date(a.requestedAt),
            deadlineAt: a.deadlineAt === null ? null : new Date(a.deadlineAt),
          })),
        }),
      ]),
    );
  }

  async list(workflowRunId: string): Promise<ApprovalRecord[]> {
    const rows = await exclusive(this.#prisma, () =>
      this.#prisma.workflowRunApproval.findMany({ where: { runId: workflowRunId }, select: recordColumns, orderBy: [{ requestedAt: "asc" }, { approvalId: "asc" }] }),
    );
    return rows.map(recordOf);
  }

  async pausedStep(workflowRunId: string, stepIndex: number): Promise<PausedStep | null> {
    const rows = await exclusive(this.#prisma, () =>
      this.#prisma.workflowRunApproval.findMany({ where: { runId: workflowRunId, stepIndex }, orderBy: [{ requestedAt: "asc" }, { approvalId: "asc" }] }),
    );
    const latest = rows.at(-1);
    if (!latest) return null;
    // The approvals of one pause were saved together, with the same state.
    const pause = rows.filter((r) => r.state === latest.state);
    return { state: latest.state, approvals: pause.map(recordOf) };
  }

  async decide(workflowRunId: string, approvalId: string, decision: ApprovalDecision): Promise<boolean> {
    const { count } = await exclusive(this.#prisma, () =>
      this.#prisma.workflowRunApproval.updateMany({
        where: { runId: workflowRunId, approvalId, status: "pending" },
        data: { status: decision.status, reason: decision.reason, decidedBy: decision.decidedBy, decidedAt: new Date(decision.decidedAt) },
      }),
    );
    return count === 1;
  }

  /** Every run waiting for approvals, with its pending count and earliest pending deadline (start-up: deadlines, lost resumes). */
  async pausedRuns(): Promise<PausedRun[]> {
    const runs = await exclusive(this.#prisma, () =>
      this.#prisma.workflowRun.findMany({
        where: { status: "awaiting_approval" },
        select: { id: true, approvals: { where: { status: "pending" }, select: { deadlineAt: true } } },
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      }),
    );
    return runs.map((run) => {
      const deadlines = run.approvals.flatMap((a) => (a.deadlineAt ? [a.deadlineAt.getTime()] : []));
      return { workflowRunId: run.id, pending: run.approvals.length, deadlineAt: deadlines.length > 0 ? new Date(Math.min(...deadlines)).toISOString() : null };
    });
  }
}
