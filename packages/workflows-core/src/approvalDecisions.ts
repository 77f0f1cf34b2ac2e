import { type ApprovalDecision, type ApprovalRecord, approvalResolved } from "./approvals";
import { ConflictError, NotFoundError } from "./errors";
import type { EventBody, WorkflowEvent } from "./events";
import type { RunRecord, StepRecord } from "./records";
import type { RunRecorder } from "./recorder";
import { pausedRunStatuses } from "./statuses";

export type DecideInput = { approvalId: string; approved: boolean; reason?: string | null; decidedBy: string };

/** After a decision: whether every approval of the pause is decided (the run can continue), and the approval as now stored. */
export type DecisionOutcome = { complete: boolean; approval: ApprovalRecord };

/**
 * Decisions on a paused run, taken outside any execution (nothing executes a paused run): each is stored on
 * its approval first (exactly one decider wins), then appended to the run's log at its next seq.
 */
export class ApprovalDecisions {
  readonly #recorder: RunRecorder;

  constructor(recorder: RunRecorder) {
    this.#recorder = recorder;
  }

  /** NotFoundError for an unknown run or approval; ConflictError when it was decided already or the run does not wait. */
  async decide(workflowRunId: string, input: DecideInput): Promise<DecisionOutcome> {
    const { run, approvals } = await this.#load(workflowRunId);
    const approval = approvals.find((a) => a.approvalId === input.approvalId);
    if (!approval) throw new NotFoundError("approval", input.approvalId, `Run "${workflowRunId}" has ${describePending(approvals)}.`);
    if (approval.status !== "pending") throw alreadyDecided(approval);
    if (!pausedRunStatuses.has(run.status)) throw new ConflictError(`Run "${workflowRunId}" is ${run.status}, not awaiting approval: there is nothing to decide.`);
    const decision: ApprovalDecision = { status: input.approved ? "approved" : "rejected", reason: input.reason ?? null, decidedBy: input.decidedBy, decidedAt: new Date().toISOString() };
    if (!(await this.#recorder.decideApproval(workflowRunId, approval.approvalId, decision))) {
      const now = (await this.#recorder.listApprovals(workflowRunId)).find((a) => a.approvalId === approval.approvalId) ?? approval;
      throw alreadyDecided(now);
    }
    await this.#appendResolved(run.id, approval, decision);
    return { complete: await this.#complete(workflowRunId), approval: { ...approval, ...decision } };
  }

  /**
   * Expires the run's pending approvals whose deadline is at or before `now` (decided by "timeout"); the
   * resumed step then fails with APPROVAL_TIMEOUT. Returns null when nothing expired.
   */
  async expire(workflowRunId: string, now: Date = new Date()): Promise<{ complete: boolean; expired: string[] } | null> {
    const { run, approvals } = await this.#load(workflowRunId);
    if (!pausedRunStatuses.has(run.status)) return null;
    const due = approvals.filter((a) => a.status === "pending" && a.deadlineAt !== null && Date.parse(a.deadlineAt) <= now.getTime());
    const expired: string[] = [];
    for (const approval of due) {
      const decision: ApprovalDecision = { status: "expired", reason: `no decision by ${approval.deadlineAt ?? "the deadline"}`, decidedBy: "timeout", decidedAt: now.toISOString() };
      if (!(await this.#recorder.decideApproval(workflowRunId, approval.approvalId, decision))) continue;
      await this.#appendResolved(run.id, approval, decision);
      expired.push(approval.approvalId);
    }
    if (expired.length === 0) return null;
    return { complete: await this.#complete(workflowRunId), expired };
  }

  /**
   * Cancels a paused run: its pending approvals end `cancelled` (one `step.approval_resolved` each, as every
   * decision is stated in the log), then the run `cancelled`. False when it is not paused.
   */
  async cancel(workflowRunId: string, reason: string, decidedBy: string): Promise<boolean> {
    const { approvals } = await this.#load(workflowRunId);
    const decision: ApprovalDecision = { status: "cancelled", reason, decidedBy, decidedAt: new Date().toISOString() };
    for (const approval of approvals) {
      if (approval.status === "pending" && (await this.#recorder.decideApproval(workflowRunId, approval.approvalId, decision))) await this.#appendResolved(workflowRunId, approval, decision);
    }
    return this.#appendWithRetry(workflowRunId, ({ run }) => {
      if (!pausedRunStatuses.has(run.status)) return null;
      const paused = approvals.find((a) => a.status === "pending");
      return { type: "run.cancelled", reason, stepIndex: paused?.stepIndex ?? null, usage: run.usage, durationMs: 0, by: decidedBy };
    });
  }

  async #load(workflowRunId: string): Promise<{ run: RunRecord; approvals: ApprovalRecord[] }> {
    const loaded = await this.#recorder.loadRun(workflowRunId);
    if (!loaded) throw new NotFoundError("run", workflowRunId);
    return { run: loaded.run, approvals: await this.#recorder.listApprovals(workflowRunId) };
  }

  async #complete(workflowRunId: string): Promise<boolean> {
    return (await this.#recorder.listApprovals(workflowRunId)).every((a) => a.status !== "pending");
  }

  #appendResolved(workflowRunId: string, approval: ApprovalRecord, decision: ApprovalDecision): Promise<boolean> {
    return this.#appendWithRetry(workflowRunId, ({ steps }) => approvalResolved(approval, steps.find((s) => s.index === approval.stepIndex)?.name ?? "", decision));
  }

  /** Appends at the run's next seq; another decision may take that seq first, so it re-reads and tries again. */
  async #appendWithRetry(workflowRunId: string, body: (loaded: { run: RunRecord; steps: StepRecord[] }) => EventBody | null): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      const loaded = await this.#recorder.loadRun(workflowRunId);
      if (!loaded) throw new NotFoundError("run", workflowRunId);
      const made = body(loaded);
      if (!made) return false;
      const event: WorkflowEvent = { ...made, workflowRunId, workflowKey: loaded.run.workflowKey, seq: loaded.run.lastSeq + 1, at: new Date().toISOString() };
      try {
        await this.#recorder.append(event);
        return true;
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt >= 10) throw error;
      }
    }
  }
}

function alreadyDecided(approval: ApprovalRecord): ConflictError {
  const by = approval.decidedBy ? ` by ${approval.decidedBy}` : "";
  return new ConflictError(`Approval "${approval.approvalId}" is already ${approval.status}${by}; a decision cannot be changed.`);
}

function describePending(approvals: readonly ApprovalRecord[]): string {
  const pending = approvals.filter((a) => a.status === "pending").map((a) => `"${a.approvalId}" (${a.toolName})`);
  return pending.length > 0 ? `these pending approvals: ${pending.join(", ")}` : "no pending approval";
}
