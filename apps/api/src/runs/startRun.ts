import { assertInputSize, ShuttingDownError } from "../errors";
import type { Services } from "../context";

export type StartRunInput = { key?: string | null | undefined; input: string; conversationId?: string | null; idempotencyKey?: string | null; createdBy: string };

/**
 * Starts a workflow run in the background and registers it for cancel and shutdown.
 * With a known idempotency key the existing run is returned (`created: false`) and nothing starts.
 */
export async function startRun(services: Services, req: StartRunInput): ReturnType<Services["runner"]["start"]> {
  if (!services.activeRuns.accepting) throw new ShuttingDownError();
  assertInputSize("input", req.input, services.info.maxInputBytes);
  const controller = new AbortController();
  const key = req.key ?? services.runner.defaultKey();
  const started = await services.runner.start(key, req.input, {
    ...(req.conversationId ? { conversationId: req.conversationId } : {}),
    ...(req.idempotencyKey ? { idempotencyKey: req.idempotencyKey } : {}),
    createdBy: req.createdBy,
    signal: controller.signal,
  });
  if (started.created) {
    services.activeRuns.add(started.workflowRunId, controller, started.done);
    started.done.catch((error: unknown) => services.logger.error({ err: error, workflowRunId: started.workflowRunId }, "run crashed"));
    services.logger.info({ workflowRunId: started.workflowRunId, workflowKey: key, createdBy: req.createdBy }, "run started");
  }
  return started;
}
