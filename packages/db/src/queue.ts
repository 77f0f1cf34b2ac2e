// The run queue of several servers on one PostgreSQL database, on pg-boss (docs/adr/0003-multi-instance.md):
// starting a run queues a job; every server works the queue with as many slots as MAX_CONCURRENT_RUNS.
import type { RunQueue } from "@workflows/core";
import type { PgBoss } from "pg-boss";

export type PgBossRunQueueOptions = {
  /** Connection string of the database (pg-boss keeps its tables in its own schema there). */
  url: string;
  /** Connections of pg-boss's own pool (besides one for LISTEN). */
  poolSize?: number;
  /** A job whose worker stopped heart-beating this long is handed to another server. */
  heartbeatSeconds?: number;
  /** How often an idle slot looks for a job NOTIFY did not announce to it. Default 1 s. */
  pollSeconds?: number;
  onError?: (error: unknown) => void;
};

export const runQueueName = "workflow-runs";
const schema = "workflows_queue";

/**
 * pg-boss as the `RunQueue` port: a job per run, its id the run id's job, woken by LISTEN/NOTIFY. pg-boss is
 * loaded when the queue starts, so that a server on SQLite never holds it in memory.
 */
export class PgBossRunQueue implements RunQueue {
  readonly #opts: PgBossRunQueueOptions;
  readonly #heartbeatSeconds: number;
  #boss: PgBoss | undefined;
  #started: Promise<PgBoss> | undefined;

  constructor(opts: PgBossRunQueueOptions) {
    this.#opts = opts;
    this.#heartbeatSeconds = opts.heartbeatSeconds ?? 10;
  }

  /** Creates (or migrates) pg-boss's schema and the queue. */
  async start(): Promise<void> {
    await this.#ready();
  }

  #ready(): Promise<PgBoss> {
    this.#started ??= (async () => {
      const { PgBoss } = await import("pg-boss");
      const boss = new PgBoss({
        connectionString: this.#opts.url,
        schema,
        max: this.#opts.poolSize ?? 3,
        application_name: "workflows-queue",
        useListenNotify: true,
        // Maintenance (expiring, archiving) runs often enough for the heartbeat to matter.
        superviseIntervalSeconds: 1,
        monitorIntervalSeconds: 1,
      });
      boss.on("error", (error: unknown) => this.#opts.onError?.(error));
      this.#boss = boss;
      await boss.start();
      const existing = await boss.getQueue(runQueueName);
      const options = { heartbeatSeconds: this.#heartbeatSeconds, notify: true, expireInSeconds: 24 * 3600, retryLimit: 100, retryDelay: 1 };
      if (existing) await boss.updateQueue(runQueueName, options);
      else await boss.createQueue(runQueueName, options);
      return boss;
    })();
    return this.#started;
  }

  async enqueue(workflowRunId: string, parentSpanId: string | null = null): Promise<void> {
    const boss = await this.#ready();
    await boss.send(runQueueName, { workflowRunId, parentSpanId });
  }

  /**
   * `concurrency` slots, each a pg-boss worker of its own. NOTIFY wakes the idle slots when a job is created;
   * a slot that frees up while jobs wait looks at once (it asks pg-boss to skip its poll delay), not at its
   * next poll: with every slot busy and a backlog, a freed slot otherwise sat idle up to `pollSeconds`.
   */
  async work(concurrency: number, execute: (workflowRunId: string, parentSpanId: string | null) => Promise<void>): Promise<void> {
    const boss = await this.#ready();
    const poll = this.#opts.pollSeconds ?? 1;
    for (let i = 0; i < concurrency; i++) {
      const slot: { id?: string } = {};
      slot.id = await boss.work<{ workflowRunId: string; parentSpanId?: string | null }>(
        runQueueName,
        // pg-boss slows idle polling to 30 s on notify queues unless told otherwise.
        { localConcurrency: 1, batchSize: 1, pollingIntervalSeconds: poll, notifyPollingIntervalSeconds: poll },
        async ([job]) => {
          try {
            if (job) await execute(job.data.workflowRunId, job.data.parentSpanId ?? null);
          } finally {
            // The next fetch comes right after this handler returns; an empty one falls back to polling.
            if (slot.id !== undefined) boss.notifyWorker(slot.id);
          }
        },
      );
    }
  }

  async stop(timeoutMs: number): Promise<void> {
    if (!this.#started) return;
    await this.#started.catch(() => undefined);
    // A start that failed half-way may have opened pg-boss's pool: it is stopped too.
    await this.#boss?.stop({ graceful: true, timeout: Math.max(1_000, timeoutMs) });
  }

  /** Jobs waiting for a server. */
  async queued(): Promise<number> {
    const boss = await this.#ready();
    return (await boss.getQueue(runQueueName))?.queuedCount ?? 0;
  }
}
