import { ConflictError } from "@workflows/core";
import type { Services } from "../context";
import { resumeRun } from "./resumeRun";

const LEFTOVERS_INTERVAL_MS = 60_000;

/** What recovery needs of the database: this server's heartbeat, and the runs whose owner died. */
export interface OwnerLiveness {
  heartbeat(): Promise<void>;
  orphanedRuns(): Promise<string[]>;
}

export type RecoveryOptions = {
  liveness: OwnerLiveness;
  /** Resume orphaned runs; false marks them interrupted instead. */
  resume: boolean;
  intervalMs: number;
  /**
   * Runs waiting for approvals are not orphans (nothing executes them): this sweep re-arms their deadlines
   * and continues those whose approvals were all decided. Never marks them interrupted.
   */
  sweepPaused?: () => Promise<void>;
  /** Packs finished runs whose events a crash or a failed pack left as rows (the recorder's `packLeftovers`). */
  packLeftovers?: () => Promise<void>;
};

/**
 * Keeps this server's heartbeat and takes over the runs of dead servers: at start-up and then every
 * interval, each run left `pending`/`running` by a dead owner is resumed from its last completed step
 * (or, with resume off or impossible, recorded `interrupted`). Several servers may sweep at once: the
 * `run.resumed` seq guard lets exactly one of them continue each run. The sweep also packs the finished
 * runs whose event rows a crash or a failed pack left (at start-up, then once a minute).
 */
export class Recovery {
  readonly #services: Services;
  readonly #opts: RecoveryOptions;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  #leftoversDueAt = 0;

  constructor(services: Services, opts: RecoveryOptions) {
    this.#services = services;
    this.#opts = opts;
  }

  /** Sweeps once now, then heartbeats and sweeps on the interval. */
  start(): Promise<void> {
    this.#timer = setInterval(() => void this.#tick(), this.#opts.intervalMs);
    this.#timer.unref();
    return this.sweep();
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sweeping;
  }

  /** One pass over the orphaned runs; resolves once each was handed to the runner (not when they finish). */
  sweep(): Promise<void> {
    this.#sweeping ??= this.#sweep().finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  async #tick(): Promise<void> {
    const { logger } = this.#services;
    try {
      await this.#opts.liveness.heartbeat();
      await this.sweep();
    } catch (error) {
      logger.error({ err: error }, "heartbeat or recovery sweep failed");
    }
  }

  async #sweep(): Promise<void> {
    if (this.#services.activeRuns.accepting) await this.#opts.sweepPaused?.();
    await this.#sweepOrphans();
    // Its search reads every event row's run id (the live runs' rows): at start-up, then once a minute.
    if (Date.now() >= this.#leftoversDueAt) {
      this.#leftoversDueAt = Date.now() + LEFTOVERS_INTERVAL_MS;
      await this.#opts.packLeftovers?.();
    }
  }

  async #sweepOrphans(): Promise<void> {
    const { activeRuns, logger } = this.#services;
    const orphans = (await this.#opts.liveness.orphanedRuns()).filter((id) => !activeRuns.has(id));
    if (orphans.length === 0) return;
    if (!this.#opts.resume) {
      const marked = await this.#services.markInterrupted(orphans, "The server running it stopped; RESUME_ON_START=false, so it was not resumed. Resume it with runs.resume.");
      if (marked.length > 0) logger.warn({ workflowRunIds: marked }, "runs left unfinished by a stopped server marked interrupted");
      return;
    }
    const resumed: string[] = [];
    // Handed to the runner together: each resume reads its run, then waits for a slot in arrival order.
    await Promise.all(
      orphans.map(async (workflowRunId) => {
        if (!activeRuns.accepting) return;
        try {
          await resumeRun(this.#services, { workflowRunId, resumedBy: "start-up", orphaned: true });
          resumed.push(workflowRunId);
        } catch (error) {
          if (!(error instanceof ConflictError)) throw error;
          // Not resumable here (its workflow changed or is unknown): say so in its log instead of leaving it running.
          await this.#services.markInterrupted([workflowRunId], `Not resumed after its server stopped: ${error.message}`);
          logger.warn({ workflowRunId, err: error }, "orphaned run could not be resumed; marked interrupted");
        }
      }),
    );
    if (resumed.length > 0) logger.info({ workflowRunIds: resumed }, "runs of a stopped server resumed");
  }
}
