import type { AgentInputItem, Session } from "@openai/agents";
import type { CreateRunResult, NewRun, RunRecorder, SpanRecord, WorkflowEvent } from "@workflows/core";
import type { Redactor } from "./redactor";

/**
 * A recorder that redacts before storing: the run's input, every event (step inputs and outputs,
 * deltas, items, errors) and every span. The runner keeps the original values, so the model still
 * gets what the caller sent; a resumed run continues from what was stored, redacted.
 */
export function redactingRecorder(recorder: RunRecorder, redactor: Redactor): RunRecorder {
  return {
    createRun: (run: NewRun): Promise<CreateRunResult> => recorder.createRun({ ...run, input: redactor.text(run.input) }),
    loadRun: (workflowRunId) => recorder.loadRun(workflowRunId),
    append: (event: WorkflowEvent) => recorder.append(redactor.deep(event)),
    recordSpan: (span: SpanRecord) => recorder.recordSpan(redactor.deep(span)),
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
