import { assertInputSize, ShuttingDownError } from "../errors";
import type { Services } from "../context";
import { parseTraceparent } from "../telemetry/traceparent";

export type StartRunInput = { key?: string | null | undefined; input: string; conversationId?: string | null; idempotencyKey?: string | null };
/** Who asked: the caller's `traceparent` header, continued by the run's trace (a new trace without one). */
export type StartRunCaller = { traceparent: string | null };

/**
 * Starts a workflow run in the background and registers it for cancel and shutdown.
 * With a known idempotency key the existing run is returned (`created: false`) and nothing starts.
 */
export async function startRun(services: Services, req: StartRunInput, caller: StartRunCaller): ReturnType<Services["runner"]["start"]> {
  if (!services.activeRuns.accepting) throw new ShuttingDownError();
  assertInputSize("input", req.input, services.info.maxInputBytes);
  const controller = new AbortController();
  const key = req.key ?? services.runner.defaultKey();
  const trace = parseTraceparent(caller.traceparent);
  const started = await services.runner.start(key, req.input, {
    ...(req.conversationId ? { conversationId: req.conversationId } : {}),
    ...(req.idempotencyKey ? { idempotencyKey: req.idempotencyKey } : {}),
    signal: controller.signal,
    ...(trace ? { trace } : {}),
  });
  if (started.created) {
    services.activeRuns.add(started.workflowRunId, controller, started.done);
    started.done.catch((error: unknown) => services.logger.error({ err: error, workflowRunId: started.workflowRunId }, "run crashed"));
    services.logger.info({ workflowRunId: started.workflowRunId, workflowKey: key }, "run started");
  }
  return started;
}
