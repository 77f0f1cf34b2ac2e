import { assertInputSize, ShuttingDownError } from "../errors";
import type { Services } from "../context";
import { parseTraceparent } from "../telemetry/traceparent";

export type StartRunInput = { key?: string | null | undefined; input: string; conversationId?: string | null; idempotencyKey?: string | null };
/** Who asked: the caller's name (audit: the run's `createdBy`) and `traceparent` header, continued by the run's trace (a new trace without one). */
export type StartRunCaller = { createdBy: string; traceparent: string | null };

export type StartedRun = { workflowRunId: string; created: boolean; /** Settles when the run ends, if it executes in this request's process. */ done: Promise<unknown> | null };

/**
 * Starts a workflow run in the background and registers it for cancel and shutdown; with several instances
 * (a queue), records it and queues it for whichever instance has a free slot. Either way the caller follows
 * the run in the database. With a known idempotency key the existing run is returned (`created: false`) and
 * nothing starts.
 */
export async function startRun(services: Services, req: StartRunInput, caller: StartRunCaller): Promise<StartedRun> {
  if (!services.activeRuns.accepting) throw new ShuttingDownError();
  assertInputSize("input", req.input, services.info.maxInputBytes);
  const key = req.key ?? services.runner.defaultKey();
  const trace = parseTraceparent(caller.traceparent);
  const options = {
    ...(req.conversationId ? { conversationId: req.conversationId } : {}),
    ...(req.idempotencyKey ? { idempotencyKey: req.idempotencyKey } : {}),
    createdBy: caller.createdBy,
    ...(trace ? { trace } : {}),
  };
  if (services.queue) {
    const created = await services.runner.create(key, req.input, options);
    if (created.created) {
      await services.queue.enqueue(created.workflowRunId, trace?.parentSpanId ?? null);
      services.logger.info({ workflowRunId: created.workflowRunId, workflowKey: key, createdBy: caller.createdBy }, "run queued");
    }
    return { workflowRunId: created.workflowRunId, created: created.created, done: null };
  }
  const controller = new AbortController();
  const started = await services.runner.start(key, req.input, { ...options, signal: controller.signal });
  if (started.created) {
    services.activeRuns.add(started.workflowRunId, controller, started.done);
    started.done.catch((error: unknown) => services.logger.error({ err: error, workflowRunId: started.workflowRunId }, "run crashed"));
    services.logger.info({ workflowRunId: started.workflowRunId, workflowKey: key, createdBy: caller.createdBy }, "run started");
    return { workflowRunId: started.workflowRunId, created: true, done: started.done };
  }
  return { workflowRunId: started.workflowRunId, created: false, done: null };
}
