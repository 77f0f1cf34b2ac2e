import { pruneRuns, type Database, type PruneResult } from "@workflows/db";
import type { Logger } from "../logger";

/** RUN_RETENTION_DAYS and how often the sweep looks for runs past it. */
export type RetentionConfig = { days: number; intervalMs: number };

const DAY_MS = 86_400_000;

/**
 * Deletes finished runs older than the retention period: once at start, then every `intervalMs`. One sweep at
 * a time in this process; sweeps of several instances on one PostgreSQL database share the work (pruneRuns).
 */
export class RetentionSweeper {
  readonly #db: Pick<Database, "prisma" | "kind">;
  readonly #config: RetentionConfig;
  readonly #logger: Logger;
  readonly #stop = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #current: Promise<PruneResult> | null = null;

  constructor(db: Pick<Database, "prisma" | "kind">, config: RetentionConfig, logger: Logger) {
    this.#db = db;
    this.#config = config;
    this.#logger = logger;
  }

  start(): void {
    const tick = () => {
      void this.sweep()
        .catch((err: unknown) => this.#logger.warn({ err }, "retention sweep failed; next try at the next interval"))
        .finally(() => {
          if (!this.#stop.signal.aborted) this.#timer = setTimeout(tick, this.#config.intervalMs).unref();
        });
    };
    tick();
  }

  /** Deletes runs that finished more than `days` before `now`, after the sweep in progress, if any. */
  sweep(now: Date = new Date()): Promise<PruneResult> {
    const run = async () => {
      const before = new Date(now.getTime() - this.#config.days * DAY_MS);
      const started = Date.now();
      const result = await pruneRuns(this.#db, { before, signal: this.#stop.signal });
      if (result.deleted.runs > 0) this.#logger.info({ before: before.toISOString(), deleted: result.deleted, batches: result.batches, ms: Date.now() - started }, "retention: old runs deleted");
      return result;
    };
    const next = (this.#current ?? Promise.resolve()).then(run, run);
    this.#current = next;
    return next;
  }

  /** Stops the timer; a sweep in progress ends after its current batch. */
  async stop(): Promise<void> {
    this.#stop.abort();
    clearTimeout(this.#timer);
    await this.#current?.catch(() => undefined);
  }
}
