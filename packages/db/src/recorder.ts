import {
  ConflictError,
  NotFoundError,
  projectEvent,
  SystemFaultError,
  terminalEventTypes,
  type CreateRunResult,
  type NewRun,
  type RunPatch,
  type RunRecorder,
  type SpanRecord,
  type StepRecord,
  type StepUpdate,
  type WorkflowEvent,
} from "@workflows/core";
import { exclusive } from "./exclusive";
import { Prisma, type PrismaClient } from "./generated/client";
import { eventCreateData, runPatchData, runRecordOf, spanCreateData, stepCreateData, stepPatchData } from "./mapping";

/** Called after each commit, once per run whose events it stored. */
export type StoredListener = (workflowRunId: string, lastSeq: number) => void;

export type PrismaRunRecorderOptions = {
  /** Most events (or spans) written in one transaction. */
  maxBatchSize?: number;
};

type Pending<T> = { item: T; resolve: () => void; reject: (error: unknown) => void };
type StepOp = { kind: "create"; runId: string; steps: StepRecord[] } | { kind: "update"; runId: string; update: StepUpdate };

/** Raised inside a transaction when a run's lastSeq moved under us (another writer): roll back, re-read, retry. */
class StaleSeqError extends Error {
  constructor(readonly runIds: string[]) {
    super(`lastSeq changed concurrently for ${runIds.join(", ")}`);
  }
}

const STALE_RETRIES = 3;
const SINGLE_INSERT_MAX = 4;
const TX_OPTIONS = { maxWait: 30_000, timeout: 30_000 } as const;

/**
 * The Prisma-backed `RunRecorder`. Appends are queued and written by one loop: each batch is ONE
 * transaction (events, run patch, step rows, all from `projectEvent`), and each `append` resolves after
 * the transaction holding its event committed. Events whose seq does not follow the stored lastSeq are
 * rejected with `ConflictError`, events of unknown runs with `NotFoundError`, storage failures with
 * `SystemFaultError("STORAGE_ERROR")`.
 */
export class PrismaRunRecorder implements RunRecorder {
  readonly #prisma: PrismaClient;
  readonly #maxBatch: number;
  #events: Pending<WorkflowEvent>[] = [];
  #spans: Pending<SpanRecord>[] = [];
  #draining: Promise<void> | null = null;
  #closed = false;
  /** lastSeq of runs this recorder is writing; saves a read per batch. Dropped at a run's terminal event. */
  readonly #lastSeq = new Map<string, number>();
  /** Runs known to exist, so spans need no existence read. */
  readonly #knownRuns = new Set<string>();
  readonly #listeners = new Set<StoredListener>();

  constructor(prisma: PrismaClient, options: PrismaRunRecorderOptions = {}) {
    this.#prisma = prisma;
    this.#maxBatch = Math.max(1, options.maxBatchSize ?? 500);
  }

  async createRun(input: NewRun): Promise<CreateRunResult> {
    this.#assertOpen();
    const result = await exclusive(this.#prisma, () => this.#createRun(input));
    this.#knownRuns.add(result.run.id);
    if (result.status === "created") this.#lastSeq.set(result.run.id, result.run.lastSeq);
    return result;
  }

  append(event: WorkflowEvent): Promise<void> {
    return this.#enqueue(this.#events, event);
  }

  recordSpan(span: SpanRecord): Promise<void> {
    return this.#enqueue(this.#spans, span);
  }

  /** Subscribes to commits; returns the unsubscribe function. Listener errors are ignored. */
  onStored(listener: StoredListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves once everything appended so far has been written (or rejected). */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /** Drains the queue; later appends reject. Does not disconnect the PrismaClient (the caller owns it). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  /**
   * Marks runs still `pending` or `running` as `interrupted` (error code INTERRUPTED) and their running
   * steps `cancelled`: at shutdown for this process's runs, at start-up (no ids) for runs a dead process left.
   * Returns the ids it changed.
   */
  async markInterrupted(workflowRunIds?: readonly string[]): Promise<string[]> {
    await this.flush();
    if (workflowRunIds && workflowRunIds.length === 0) return [];
    const changed = await exclusive(this.#prisma, async () => {
      const live = { in: ["pending", "running"] };
      const rows = await this.#storage("Marking runs interrupted", () =>
        this.#prisma.workflowRun.findMany({
          where: { status: live, ...(workflowRunIds ? { id: { in: [...workflowRunIds] } } : {}) },
          select: { id: true, lastSeq: true },
        }),
      );
      if (rows.length === 0) return rows;
      const ids = rows.map((r) => r.id);
      const now = new Date();
      await this.#storage("Marking runs interrupted", () =>
        this.#prisma.$transaction(
          async (tx) => {
            await tx.workflowRun.updateMany({
              where: { id: { in: ids }, status: live },
              data: { status: "interrupted", errorCode: "INTERRUPTED", errorMessage: "The server stopped before the run finished.", endedAt: now },
            });
            await tx.workflowRunStep.updateMany({ where: { runId: { in: ids }, status: "running" }, data: { status: "cancelled", endedAt: now } });
          },
          TX_OPTIONS,
        ),
      );
      return rows;
    });
    for (const row of changed) {
      this.#lastSeq.delete(row.id);
      this.#notify(row.id, row.lastSeq);
    }
    return changed.map((r) => r.id);
  }

  async #createRun(input: NewRun): Promise<CreateRunResult> {
    const key = input.idempotencyKey ?? null;
    if (key !== null) {
      const existing = await this.#storage("Reading a run", () => this.#prisma.workflowRun.findUnique({ where: { idempotencyKey: key } }));
      if (existing) return { status: "existing", run: runRecordOf(existing) };
    }
    try {
      const row = await this.#prisma.workflowRun.create({
        data: {
          id: input.id,
          workflowKey: input.workflowKey,
          versionHash: input.versionHash,
          status: "pending",
          input: input.input,
          conversationId: input.conversationId ?? null,
          idempotencyKey: key,
          createdAt: new Date(),
        },
      });
      return { status: "created", run: runRecordOf(row) };
    } catch (error) {
      if (!isUniqueViolation(error)) throw storageError("Creating a run", error);
      // Lost a race with another writer using the same key: theirs is the run.
      if (key !== null) {
        const existing = await this.#storage("Reading a run", () => this.#prisma.workflowRun.findUnique({ where: { idempotencyKey: key } }));
        if (existing) return { status: "existing", run: runRecordOf(existing) };
      }
      throw new ConflictError(`Run "${input.id}" already exists.`, { cause: error });
    }
  }

  #enqueue<T>(queue: Pending<T>[], item: T): Promise<void> {
    if (this.#closed) return Promise.reject(new SystemFaultError("STORAGE_ERROR", "The run recorder is closed."));
    return new Promise<void>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      this.#kick();
    });
  }

  #kick(): void {
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = null;
      // An append that came after the loop's last check but before this callback found #draining set.
      if (this.#events.length > 0 || this.#spans.length > 0) this.#kick();
    });
  }

  async #drain(): Promise<void> {
    // Let appends made in the same tick join the first batch.
    await Promise.resolve();
    while (this.#events.length > 0 || this.#spans.length > 0) {
      if (this.#events.length > 0) await this.#writeEvents(this.#events.splice(0, this.#maxBatch));
      if (this.#spans.length > 0) await this.#writeSpans(this.#spans.splice(0, this.#maxBatch));
    }
  }

  async #writeEvents(batch: Pending<WorkflowEvent>[]): Promise<void> {
    let accepted: Pending<WorkflowEvent>[] = [];
    try {
      const stored = await exclusive(this.#prisma, async () => {
        let remaining = batch;
        for (let attempt = 1; ; attempt++) {
          const validated = await this.#validate(remaining);
          remaining = validated.accepted;
          accepted = validated.accepted;
          if (accepted.length === 0) return new Map<string, number>();
          try {
            return await this.#commitEvents(accepted.map((p) => p.item), validated.before);
          } catch (error) {
            if (!(error instanceof StaleSeqError) || attempt >= STALE_RETRIES) throw error;
            for (const id of error.runIds) this.#lastSeq.delete(id);
          }
        }
      });
      for (const p of accepted) {
        const event = p.item;
        if (terminalEventTypes.has(event.type)) this.#lastSeq.delete(event.workflowRunId);
        else this.#lastSeq.set(event.workflowRunId, event.seq);
      }
      for (const p of accepted) p.resolve();
      for (const [runId, lastSeq] of stored) this.#notify(runId, lastSeq);
    } catch (error) {
      for (const p of accepted) this.#lastSeq.delete(p.item.workflowRunId);
      const failure = error instanceof StaleSeqError ? new ConflictError(`Another writer is appending to run(s) ${error.runIds.join(", ")}.`) : storageError(`Storing ${accepted.length} workflow event(s)`, error);
      for (const p of accepted) p.reject(failure);
    }
  }

  /**
   * Rejects events that do not follow their run's lastSeq (as the in-memory recorder does). Returns the
   * rest and, per run, the lastSeq the batch builds on.
   */
  async #validate(batch: Pending<WorkflowEvent>[]): Promise<{ accepted: Pending<WorkflowEvent>[]; before: Map<string, number> }> {
    // The cache is a hint: a run is read from the database when it is not cached or its first event does
    // not follow the cached value, so every rejection below reflects what is stored.
    const firstSeqOf = new Map<string, number>();
    for (const p of batch) if (!firstSeqOf.has(p.item.workflowRunId)) firstSeqOf.set(p.item.workflowRunId, p.item.seq);
    const missing = [...firstSeqOf].filter(([id, seq]) => this.#lastSeq.get(id) !== seq - 1).map(([id]) => id);
    const known = new Map<string, number>();
    for (const id of firstSeqOf.keys()) {
      const cached = this.#lastSeq.get(id);
      if (cached !== undefined) known.set(id, cached);
    }
    if (missing.length > 0) {
      for (const id of missing) known.delete(id);
      const rows = await this.#prisma.workflowRun.findMany({ where: { id: { in: missing } }, select: { id: true, lastSeq: true } });
      for (const row of rows) known.set(row.id, row.lastSeq);
    }
    const accepted: Pending<WorkflowEvent>[] = [];
    const before = new Map<string, number>();
    const current = new Map<string, number>();
    for (const p of batch) {
      const { workflowRunId: runId, seq } = p.item;
      const last = current.get(runId) ?? known.get(runId);
      if (last === undefined) p.reject(new NotFoundError("run", runId));
      else if (seq !== last + 1) p.reject(new ConflictError(`Event seq ${seq} does not follow ${last} in run "${runId}".`));
      else {
        if (!before.has(runId)) before.set(runId, last);
        current.set(runId, seq);
        accepted.push(p);
      }
    }
    return { accepted, before };
  }

  /** One transaction for the batch. Returns each touched run's new lastSeq. */
  async #commitEvents(events: WorkflowEvent[], before: ReadonlyMap<string, number>): Promise<Map<string, number>> {
    const runPatches = new Map<string, RunPatch>();
    const stepOps: StepOp[] = [];
    for (const event of events) {
      const projection = projectEvent(event);
      const runId = event.workflowRunId;
      runPatches.set(runId, Object.assign(runPatches.get(runId) ?? {}, projection.run));
      if (projection.createSteps.length > 0) stepOps.push({ kind: "create", runId, steps: projection.createSteps });
      for (const update of projection.updateSteps) stepOps.push({ kind: "update", runId, update });
    }
    const newLastSeq = new Map<string, number>();
    await this.#prisma.$transaction(async (tx) => {
      // The run update comes first: a write takes SQLite's write lock at once (a read first could fail
      // with SQLITE_BUSY when another process commits in between), and its lastSeq condition detects
      // a concurrent writer of the same run.
      const stale: string[] = [];
      for (const [runId, patch] of runPatches) {
        const expected = before.get(runId) ?? 0;
        const { count } = await tx.workflowRun.updateMany({ where: { id: runId, lastSeq: expected }, data: runPatchData(patch) });
        if (count !== 1) stale.push(runId);
        if (patch.lastSeq !== undefined) newLastSeq.set(runId, patch.lastSeq);
      }
      if (stale.length > 0) throw new StaleSeqError(stale);
      // createMany's plan is not cached by Prisma's query compiler (about 4 ms each, measured); a single
      // create is cached (<1 ms). The runner's awaited appends make batches of one the common case.
      if (events.length <= SINGLE_INSERT_MAX) for (const event of events) await tx.workflowRunEvent.create({ data: eventCreateData(event), select: { seq: true } });
      else await tx.workflowRunEvent.createMany({ data: events.map(eventCreateData) });
      for (const op of stepOps) {
        if (op.kind === "create") {
          await tx.workflowRunStep.createMany({ data: op.steps.map((s) => stepCreateData(op.runId, s)) });
        } else if ("index" in op.update) {
          await tx.workflowRunStep.updateMany({ where: { runId: op.runId, index: op.update.index }, data: stepPatchData(op.update.patch) });
        } else {
          await tx.workflowRunStep.updateMany({ where: { runId: op.runId, status: { in: op.update.whereStatus } }, data: stepPatchData(op.update.patch) });
        }
      }
    }, TX_OPTIONS);
    return newLastSeq;
  }

  async #writeSpans(batch: Pending<SpanRecord>[]): Promise<void> {
    let accepted: Pending<SpanRecord>[] = [];
    try {
      await exclusive(this.#prisma, async () => {
        const unknown = [...new Set(batch.map((p) => p.item.workflowRunId).filter((id) => !this.#knownRuns.has(id)))];
        if (unknown.length > 0) {
          const rows = await this.#prisma.workflowRun.findMany({ where: { id: { in: unknown } }, select: { id: true } });
          this.#rememberRuns(rows.map((r) => r.id));
        }
        for (const p of batch) {
          if (this.#knownRuns.has(p.item.workflowRunId)) accepted.push(p);
          else p.reject(new NotFoundError("run", p.item.workflowRunId));
        }
        if (accepted.length > 0) await this.#prisma.traceSpan.createMany({ data: accepted.map((p) => spanCreateData(p.item)) });
      });
      for (const p of accepted) p.resolve();
    } catch (error) {
      const failure = storageError(`Storing ${accepted.length} trace span(s)`, error);
      for (const p of accepted) p.reject(failure);
      accepted = [];
    }
  }

  #rememberRuns(ids: string[]): void {
    // A bound, not a cache policy: forgetting only costs one existence read later.
    if (this.#knownRuns.size > 10_000) this.#knownRuns.clear();
    for (const id of ids) this.#knownRuns.add(id);
  }

  #notify(runId: string, lastSeq: number): void {
    for (const listener of this.#listeners) {
      try {
        listener(runId, lastSeq);
      } catch {
        // A subscriber's bug must not fail the writer.
      }
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new SystemFaultError("STORAGE_ERROR", "The run recorder is closed.");
  }

  async #storage<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw storageError(what, error);
    }
  }
}

function storageError(what: string, cause: unknown): SystemFaultError {
  if (cause instanceof SystemFaultError) return cause;
  return new SystemFaultError("STORAGE_ERROR", `${what} failed in the database.`, { cause });
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}
