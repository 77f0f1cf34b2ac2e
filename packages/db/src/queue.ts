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

  async work(concurrency: number, execute: (workflowRunId: string, parentSpanId: string | null) => Promise<void>): Promise<void> {
    const boss = await this.#ready();
    await boss.work<{ workflowRunId: string; parentSpanId?: string | null }>(
      runQueueName,
      // NOTIFY wakes an idle worker when a job is created; a worker that frees up later (all were busy when
      // the job came) finds it by polling, which pg-boss slows to 30 s on notify queues unless told otherwise.
      { localConcurrency: concurrency, batchSize: 1, pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 1 },
      async ([job]) => {
        if (job) await execute(job.data.workflowRunId, job.data.parentSpanId ?? null);
      },
    );
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
