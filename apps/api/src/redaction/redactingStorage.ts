import type { AgentInputItem, Session } from "@openai/agents-core";
import type { ApprovalDecision, CreateRunResult, NewApproval, NewRun, RunRecorder, SpanRecord, WorkflowEvent } from "@workflows/core";
import type { Redactor } from "./redactor";

/**
 * A recorder that redacts before storing: the run's input, every event (step inputs and outputs,
 * deltas, items, errors), every span, and paused steps' saved state and approvals. The runner keeps the original values, so the model still
 * gets what the caller sent; a resumed run continues from what was stored, redacted.
 */
export function redactingRecorder(recorder: RunRecorder, redactor: Redactor): RunRecorder {
  return {
    createRun: (run: NewRun): Promise<CreateRunResult> => recorder.createRun({ ...run, input: redactor.text(run.input) }),
    loadRun: (workflowRunId) => recorder.loadRun(workflowRunId),
    append: (event: WorkflowEvent) => recorder.append(redactor.deep(event)),
    recordSpan: (span: SpanRecord) => recorder.recordSpan(redactor.deep(span)),
    // A paused step's SDK state (its conversation so far) and its tool arguments are stored redacted too:
    // the step continues from what was stored, like a resumed run.
    savePause: (approvals: readonly NewApproval[]) =>
      recorder.savePause(approvals.map(({ state, ...approval }) => ({ ...redactor.deep(approval), state: JSON.stringify(redactor.deep(JSON.parse(state) as unknown)) }))),
    listApprovals: (workflowRunId) => recorder.listApprovals(workflowRunId),
    loadPausedStep: (workflowRunId, stepIndex) => recorder.loadPausedStep(workflowRunId, stepIndex),
    decideApproval: (workflowRunId, approvalId, decision: ApprovalDecision) => recorder.decideApproval(workflowRunId, approvalId, redactor.deep(decision)),
  };
}

/** A chat session that stores redacted history (the current turn reaches the model as sent). */
export function redactingSession(session: Session, redactor: Redactor): Session {
  return {
    getSessionId: () => session.getSessionId(),
    getItems: (limit) => session.getItems(limit),
    addItems: (items: AgentInputItem[]) => session.addItems(redactor.deep(items)),
    popItem: () => session.popItem(),
    clearSession: () => session.clearSession(),
  };
}
