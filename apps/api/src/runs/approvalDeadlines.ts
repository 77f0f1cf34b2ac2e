import type { Services } from "../context";
import { continueAfterApproval } from "./continueRun";

/** setTimeout's limit; a later deadline is waited for in steps. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The deadlines of runs waiting for approvals (`approvalTimeoutMs`), kept as timers in this process and
 * rebuilt from the database by `sweep` (start-up and every recovery interval), so a deadline holds across
 * restarts and on every instance. When one passes, its approvals expire (exactly one instance wins each)
 * and the run continues, to fail its step with APPROVAL_TIMEOUT. The sweep also continues paused runs
 * whose approvals are all decided but which never resumed (the deciding server died in between).
 */
export class ApprovalDeadlines {
  readonly #services: Services;
  readonly #timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  #stopped = false;

  constructor(services: Services) {
    this.#services = services;
  }

  /** Expires the run's due approvals at `deadlineAt` (an earlier timer of the run is kept). */
  schedule(workflowRunId: string, deadlineAt: string): void {
    if (this.#stopped) return;
    const at = Date.parse(deadlineAt);
    const existing = this.#timers.get(workflowRunId);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => void this.#fire(workflowRunId, at), Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now())));
    timer.unref();
    this.#timers.set(workflowRunId, { at, timer });
  }

  async sweep(): Promise<void> {
    const { logger } = this.#services;
    for (const paused of await this.#services.pausedRuns()) {
      if (paused.pending === 0) {
        logger.info({ workflowRunId: paused.workflowRunId }, "run with every approval decided continues");
        await continueAfterApproval(this.#services, paused.workflowRunId);
      } else if (paused.deadlineAt !== null) this.schedule(paused.workflowRunId, paused.deadlineAt);
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  async #fire(workflowRunId: string, at: number): Promise<void> {
    this.#timers.delete(workflowRunId);
    if (this.#stopped) return;
    if (at > Date.now()) {
      this.schedule(workflowRunId, new Date(at).toISOString());
      return;
    }
    const { logger } = this.#services;
    try {
      const expired = await this.#services.runner.expireApprovals(workflowRunId);
      if (!expired) return;
      logger.warn({ workflowRunId, approvalIds: expired.expired }, "approvals expired: nobody decided in time");
      if (expired.complete) await continueAfterApproval(this.#services, workflowRunId);
    } catch (error) {
      logger.error({ err: error, workflowRunId }, "expiring approvals failed");
    }
  }
}
