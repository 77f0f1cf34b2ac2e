import {
  ConflictError,
  idempotencyMismatch,
  NotFoundError,
  runInterruptedEvent,
  SystemFaultError,
  terminalEventTypes,
  terminalRunStatuses,
  zeroUsage,
  type ApprovalDecision,
  type ApprovalRecord,
  type CreateRunResult,
  type NewApproval,
  type PausedStep,
  type NewRun,
  type RunRecord,
  type RunRecorder,
  type SpanRecord,
  type StepRecord,
  type WorkflowEvent,
} from "@workflows/core";
import { ApprovalStore, type PausedRun } from "./approvals";
import { planBatch, type BatchPlan } from "./batch";
import { Prisma, type PrismaClient } from "./client";
import { runRecordOf, type RunRow } from "./mapping";
import { storedNotifications } from "./notifications";
import { exclusive } from "./exclusive";
import { groupBy } from "./groupBy";
import { getRun, unfinishedDescendants } from "./queries";
import { GuardFailure, PrismaRunWriter, UniqueViolation, type RunWriter } from "./runWriter";
import { sqliteConnectionsOf } from "./sqliteConnections";
import { PgRunWriter } from "./pgRunWriter";
import { poolOf } from "./database";

/**
 * Called after each commit, once per run whose events it stored, with those events (in seq order, ending at
 * `lastSeq`): what live followers hand on without reading them back. The array and events must not be changed.
 */
export type StoredListener = (workflowRunId: string, lastSeq: number, events: readonly WorkflowEvent[]) => void;

/** Most runs packed in one transaction: a pack transaction delays the events queued behind it. */
const MAX_PACK_BATCH = 32;

/** What the recorder has written so far (for benchmarks and diagnostics). */
/** Committed batch transactions, their statements, events and spans; finished runs packed, the events packed, packs that failed. */
export type RecorderStats = { transactions: number; statements: number; events: number; spans: number; packs: number; packedEvents: number; packFailures: number };

export type PrismaRunRecorderOptions = {
  /** Most events (or spans) written in one transaction. */
  maxBatchSize?: number;
  /** The `ServerInstance` id written as the owner of the runs this recorder creates, starts or resumes. */
  owner?: string | null;
  /**
   * PostgreSQL: announce every commit to the other instances (NOTIFY inside the batch's transaction, so the
   * notification arrives exactly when the events are visible), signed with this sender id.
   */
  announceAs?: string;
  /**
   * `direct` (default): on a database `openDatabase` opened, writes skip Prisma (SQLite: better-sqlite3 on a
   * connection of its own; PostgreSQL: named prepared statements on the pool). `prisma`: everything through
   * Prisma (for comparisons).
   */
  writes?: "direct" | "prisma";
  /**
   * Fold a run's event and span rows into one compressed pack once it ends (runPacks.ts; default true). Reads
   * return the same events and spans either way.
   */
  packRuns?: boolean;
};

type Pending<T> = { item: T; resolve: () => void; reject: (error: unknown) => void };
type Validated = { events: Pending<WorkflowEvent>[]; spans: Pending<SpanRecord>[]; before: Map<string, number> };

/** Raised inside a transaction when a run's lastSeq moved under us (another writer): roll back, re-read, retry. */
class StaleSeqError extends Error {
  constructor(
    readonly runIds: string[],
    options?: ErrorOptions,
  ) {
    super(`lastSeq changed concurrently for one of ${runIds.join(", ")}`, options);
  }
}

const STALE_RETRIES = 3;

/**
 * The Prisma-backed `RunRecorder`. Appends and spans are queued and written by one loop: whatever queued
 * while the previous batch was being written is the next batch, written in ONE transaction of a few raw
 * statements (sql.ts, planned by batch.ts from `projectEvent`), and each `append`/`recordSpan` resolves
 * after that transaction committed. Events whose seq does not follow the stored lastSeq are rejected with
 * `ConflictError`, events and spans of unknown runs with `NotFoundError`, storage failures with
 * `SystemFaultError("STORAGE_ERROR")`.
 */
export class PrismaRunRecorder implements RunRecorder {
  readonly #prisma: PrismaClient;
  /** Where writes go: the direct SQLite connection `openDatabase` opened beside the client, else Prisma. */
  readonly #writer: RunWriter;
  readonly #maxBatch: number;
  #events: Pending<WorkflowEvent>[] = [];
  #spans: Pending<SpanRecord>[] = [];
  #draining: Promise<void> | null = null;
  /** Runs that ended, whose event chunks and span rows are packed once no batch waits. */
  readonly #toPack = new Set<string>();
  /** Where the next `packLeftovers` goes on from (a run id; "" for the start). */
  #leftoversAfter = "";
  readonly #packRuns: boolean;
  #closed = false;
  /** lastSeq of runs this recorder is writing; saves a read per batch. Dropped at a run's terminal event. */
  readonly #lastSeq = new Map<string, number>();
  /**
   * Stored step rows of runs this recorder is writing (same lifetime as #lastSeq): batches write them
   * whole with one upsert instead of one UPDATE per step.
   */
  readonly #steps = new Map<string, StepRecord[]>();
  /** Runs known to exist, so spans need no existence read. */
  readonly #knownRuns = new Set<string>();
  readonly #listeners = new Set<StoredListener>();
  readonly #stats: RecorderStats = { transactions: 0, statements: 0, events: 0, spans: 0, packs: 0, packedEvents: 0, packFailures: 0 };

  readonly #owner: string | null;
  readonly #announceAs: string | null;
  readonly #approvals: ApprovalStore;

  constructor(prisma: PrismaClient, options: PrismaRunRecorderOptions = {}) {
    this.#prisma = prisma;
    this.#writer = writerFor(prisma, options.writes ?? "direct");
    this.#maxBatch = Math.max(1, options.maxBatchSize ?? 500);
    this.#packRuns = options.packRuns ?? true;
    this.#owner = options.owner ?? null;
    this.#announceAs = options.announceAs ?? null;
    this.#approvals = new ApprovalStore(prisma);
  }

  savePause(approvals: readonly NewApproval[]): Promise<void> {
    this.#assertOpen();
    return this.#storage("Saving approvals", () => this.#approvals.savePause(approvals));
  }

  listApprovals(workflowRunId: string): Promise<ApprovalRecord[]> {
    return this.#storage("Reading approvals", () => this.#approvals.list(workflowRunId));
  }

  loadPausedStep(workflowRunId: string, stepIndex: number): Promise<PausedStep | null> {
    return this.#storage("Reading a paused step", () => this.#approvals.pausedStep(workflowRunId, stepIndex));
  }

  decideApproval(workflowRunId: string, approvalId: string, decision: ApprovalDecision): Promise<boolean> {
    return this.#storage("Recording a decision", () => this.#approvals.decide(workflowRunId, approvalId, decision));
  }

  /** Runs waiting for approvals, with their pending count and earliest deadline. */
  pausedRuns(): Promise<PausedRun[]> {
    return this.#storage("Reading paused runs", () => this.#approvals.pausedRuns());
  }

  async createRun(input: NewRun): Promise<CreateRunResult> {
    this.#assertOpen();
    const result = await this.#createRun(input);
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

  /** Counts of committed transactions, their statements, events and spans. */
  get stats(): RecorderStats {
    return { ...this.#stats };
  }

  /**
   * Packs finished runs whose events are still chunks: what a crash between a run's last commit and its pack
   * leaves, or a pack that failed (they read the same, in several times the space). Only live runs hold
   * event chunks otherwise, so the search starts from the chunks, not from every finished run. At most `limit`
   * runs per call, in run id order from where the previous call stopped (from the start again once a call
   * finds fewer), so runs whose pack keeps failing never hide those after them; resolves to how many were packed.
   */
  async packLeftovers(limit = 100): Promise<number> {
    if (!this.#packRuns) return 0;
    // From the event chunks (few: live runs'), each run looked up by its key; never a scan of the finished runs.
    const statuses = Prisma.join([...terminalRunStatuses]);
    const after = this.#leftoversAfter;
    const leftovers = await exclusive(this.#prisma, () =>
      this.#prisma.$queryRaw<{ runId: string }[]>`SELECT "e"."runId" FROM (SELECT DISTINCT "runId" FROM "WorkflowRunEventChunk" WHERE "runId" > ${after}) "e" JOIN "WorkflowRun" "r" ON "r"."id" = "e"."runId" WHERE "r"."status" IN (${statuses}) ORDER BY "e"."runId" LIMIT ${limit}`,
    );
    this.#leftoversAfter = leftovers.length < limit ? "" : (leftovers.at(-1)?.runId ?? "");
    let made = 0;
    for (let i = 0; i < leftovers.length; i += MAX_PACK_BATCH) made += await this.#pack(leftovers.slice(i, i + MAX_PACK_BATCH).map((l) => l.runId));
    return made;
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

  /** The run and its steps in index order, after everything appended so far is written. */
  async loadRun(workflowRunId: string): Promise<{ run: RunRecord; steps: StepRecord[] } | null> {
    // Only a run this recorder is writing can have writes in flight; others are read as they are.
    if (this.#lastSeq.has(workflowRunId) || this.#events.some((p) => p.item.workflowRunId === workflowRunId)) await this.flush();
    return this.#storage("Reading a run", () => getRun(this.#prisma, workflowRunId));
  }

  /**
   * Records runs still `pending` or `running` as `interrupted`, each with a `run.interrupted` event at its
   * next seq (usage: what its steps recorded), and their unfinished sub-workflow runs with them (nothing
   * else drives a child; a resume of the parent continues it). A run another writer moves meanwhile is left
   * to it. Returns the ids it changed.
   */
  async markInterrupted(workflowRunIds: readonly string[], reason = "The server stopped before the run finished."): Promise<string[]> {
    const changed: string[] = [];
    const children = await this.#storage("Reading sub-workflow runs", () => unfinishedDescendants(this.#prisma, workflowRunIds));
    for (const id of [...workflowRunIds, ...children]) {
      const loaded = await this.loadRun(id);
      if (!loaded || (loaded.run.status !== "pending" && loaded.run.status !== "running")) continue;
      try {
        await this.append(runInterruptedEvent(loaded.run, loaded.steps, reason));
        changed.push(id);
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
      }
    }
    return changed;
  }

  /**
   * Records a run that never started (`pending`, no event stored: it waits in a queue) as cancelled, with a
   * `run.cancelled` event at seq 1. False when it is not such a run, or an executor started it meanwhile.
   */
  async cancelNotStarted(workflowRunId: string, reason: string, by?: string): Promise<boolean> {
    const loaded = await this.loadRun(workflowRunId);
    if (!loaded || loaded.run.status !== "pending" || loaded.run.lastSeq !== 0) return false;
    const { run } = loaded;
    try {
      await this.append({ type: "run.cancelled", workflowRunId, workflowKey: run.workflowKey, seq: 1, at: new Date().toISOString(), reason, stepIndex: null, usage: zeroUsage(), durationMs: 0, ...(by !== undefined ? { by } : {}) });
      return true;
    } catch (error) {
      if (error instanceof ConflictError) return false;
      throw error;
    }
  }

  async #createRun(input: NewRun): Promise<CreateRunResult> {
    const key = input.idempotencyKey ?? null;
    if (key !== null) {
      const existing = await this.#storage("Reading a run", () => this.#writer.findRunByIdempotencyKey(key));
      if (existing) return existingRun(existing, input);
    }
    const row: RunRow = {
      id: input.id,
      workflowKey: input.workflowKey,
      versionHash: input.versionHash,
      status: "pending",
      input: input.input,
      finalOutput: null,
      structuredOutput: null,
      errorCode: null,
      errorMessage: null,
      conversationId: input.conversationId ?? null,
      idempotencyKey: key,
      idempotencyFingerprint: key !== null ? (input.fingerprint ?? null) : null,
      requests: 0,
      inputTokens: 0,
      outputTokens: 0,
      totalTokens: 0,
      lastSeq: 0,
      owner: this.#owner,
      createdBy: input.createdBy ?? null,
      traceId: input.traceId ?? null,
      parentRunId: input.parentRunId ?? null,
      parentStepIndex: input.parentStepIndex ?? null,
      createdAt: new Date(),
      startedAt: null,
      endedAt: null,
    };
    try {
      await this.#writer.insertRun(row);
      return { status: "created", run: runRecordOf(row) };
    } catch (error) {
      if (!(error instanceof UniqueViolation)) throw storageError("Creating a run", error);
      // Lost a race with another writer using the same key: theirs is the run.
      if (key !== null) {
        const existing = await this.#storage("Reading a run", () => this.#writer.findRunByIdempotencyKey(key));
        if (existing) return existingRun(existing, input);
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
    // Group commit: everything appended before the event loop's next check phase joins the first batch
    // (waiting for the microtasks alone made one transaction per event on a fast run: 7 per step).
    await new Promise<void>((resolve) => setImmediate(resolve));
    // Whatever queued while a batch was being written forms the next one: events and spans together.
    for (;;) {
      while (this.#events.length > 0 || this.#spans.length > 0) {
        await this.#writeBatch(this.#events.splice(0, this.#maxBatch), this.#spans.splice(0, this.#maxBatch));
      }
      // Packing comes after every waiting batch, so that it delays no event more than one pack transaction.
      if (this.#toPack.size === 0) return;
      const runIds = [...this.#toPack].slice(0, MAX_PACK_BATCH);
      for (const runId of runIds) this.#toPack.delete(runId);
      await this.#pack(runIds);
    }
  }

  /** Packs finished runs' rows (`RunWriter.packRuns`); resolves to how many packs it made. */
  async #pack(runIds: readonly string[]): Promise<number> {
    if (runIds.length === 0) return 0;
    const results = await this.#writer.packRuns(runIds).catch(() => runIds.map(() => null));
    let made = 0;
    for (const packed of results) {
      if (packed === null) this.#stats.packFailures++;
      else if (packed > 0) {
        made++;
        this.#stats.packs++;
        this.#stats.packedEvents += packed;
      }
    }
    return made;
  }

  /** Writes one batch in one transaction; settles every item of it. */
  async #writeBatch(events: Pending<WorkflowEvent>[], spans: Pending<SpanRecord>[]): Promise<void> {
    // Until validation says otherwise every item is in the batch: a failed read must reject them all.
    let accepted: Validated = { events, spans, before: new Map() };
    try {
      const plan = await this.#validateAndCommit(events, spans, (validated) => (accepted = validated));
      if (plan) for (const [runId, rows] of plan.steps) this.#steps.set(runId, rows);
      for (const p of accepted.events) {
        const event = p.item;
        // A paused run may wait for days and continue in another process: nothing of it is kept, and what
        // it recorded so far is packed as a finished run's is (its next part is packed when it ends).
        if (terminalEventTypes.has(event.type) || event.type === "run.awaiting_approval") {
          this.#forget(event.workflowRunId);
          if (this.#packRuns) this.#toPack.add(event.workflowRunId);
        } else this.#lastSeq.set(event.workflowRunId, event.seq);
      }
      for (const p of accepted.events) p.resolve();
      for (const p of accepted.spans) p.resolve();
      if (plan) this.#notify(plan.lastSeq, accepted.events);
    } catch (error) {
      for (const p of accepted.events) this.#forget(p.item.workflowRunId);
      const what = `Storing ${accepted.events.length} workflow event(s) and ${accepted.spans.length} trace span(s)`;
      const eventFailure = error instanceof StaleSeqError ? new ConflictError(`Another writer is appending to run(s) ${error.runIds.join(", ")}.`) : storageError(what, error);
      for (const p of accepted.events) p.reject(eventFailure);
      const spanFailure = error instanceof StaleSeqError ? storageError(what, error) : eventFailure;
      for (const p of accepted.spans) p.reject(spanFailure);
    }
  }

  /** Validates and commits the batch; re-validates and retries when another writer moved one of its runs. */
  async #validateAndCommit(events: Pending<WorkflowEvent>[], spans: Pending<SpanRecord>[], onAccepted: (validated: Validated) => void): Promise<BatchPlan | null> {
    let remaining = { events, spans };
    for (let attempt = 1; ; attempt++) {
      const accepted = await this.#validate(remaining.events, remaining.spans);
      onAccepted(accepted);
      remaining = accepted;
      if (accepted.events.length === 0 && accepted.spans.length === 0) return null;
      try {
        return await this.#commit(
          accepted.events.map((p) => p.item),
          accepted.spans.map((p) => p.item),
          accepted.before,
        );
      } catch (error) {
        if (!(error instanceof StaleSeqError) || attempt >= STALE_RETRIES) throw error;
        for (const id of error.runIds) {
          this.#forget(id);
          this.#knownRuns.delete(id);
        }
      }
    }
  }

  /**
   * Rejects events that do not follow their run's lastSeq (as the in-memory recorder does) and events and
   * spans of unknown runs. Returns the rest and, per run with events, the lastSeq the batch builds on.
   */
  async #validate(events: Pending<WorkflowEvent>[], spans: Pending<SpanRecord>[]): Promise<Validated> {
    // The caches are hints: a run is read from the database when it is not cached or its first event does
    // not follow the cached value, so every rejection below reflects what is stored.
    const firstSeqOf = new Map<string, number>();
    for (const p of events) if (!firstSeqOf.has(p.item.workflowRunId)) firstSeqOf.set(p.item.workflowRunId, p.item.seq);
    const known = new Map<string, number>();
    const toRead = new Set<string>();
    for (const [id, seq] of firstSeqOf) {
      const cached = this.#lastSeq.get(id);
      if (cached === seq - 1) known.set(id, cached);
      else {
        // What this recorder remembers of the run may be out of date: rows are patched until it knows again.
        this.#forget(id);
        toRead.add(id);
      }
    }
    for (const p of spans) if (!this.#knownRuns.has(p.item.workflowRunId)) toRead.add(p.item.workflowRunId);
    if (toRead.size > 0) {
      const rows = await this.#writer.lastSeqOf([...toRead]);
      for (const row of rows) if (firstSeqOf.has(row.id)) known.set(row.id, row.lastSeq);
      this.#rememberRuns(rows.map((r) => r.id));
    }
    const accepted: Validated = { events: [], spans: [], before: new Map() };
    const current = new Map<string, number>();
    for (const p of events) {
      const { workflowRunId: runId, seq } = p.item;
      const last = current.get(runId) ?? known.get(runId);
      if (last === undefined) p.reject(new NotFoundError("run", runId));
      else if (seq !== last + 1) p.reject(new ConflictError(`Event seq ${seq} does not follow ${last} in run "${runId}".`));
      else {
        if (!accepted.before.has(runId)) accepted.before.set(runId, last);
        current.set(runId, seq);
        accepted.events.push(p);
      }
    }
    for (const p of spans) {
      if (this.#knownRuns.has(p.item.workflowRunId)) accepted.spans.push(p);
      else p.reject(new NotFoundError("run", p.item.workflowRunId));
    }
    return accepted;
  }

  /** One transaction for the batch. Returns what it wrote. */
  async #commit(events: WorkflowEvent[], spans: SpanRecord[], before: ReadonlyMap<string, number>): Promise<BatchPlan> {
    const plan = planBatch(events, spans, before, this.#steps, this.#owner);
    // One transaction for the batch. The run updates come first: their guard stops the transaction when
    // another writer moved a run.
    const announce = this.#announceAs === null ? [] : storedNotifications(this.#announceAs, plan.lastSeq);
    try {
      await this.#writer.commit([...plan.runUpdates.map((u) => u.sql), ...plan.statements, ...announce]);
    } catch (error) {
      if (error instanceof GuardFailure) throw new StaleSeqError([...new Set([...events, ...spans].map((item) => item.workflowRunId))], { cause: error });
      throw error;
    }
    this.#stats.transactions++;
    this.#stats.statements += plan.runUpdates.length + plan.statements.length;
    this.#stats.events += events.length;
    this.#stats.spans += spans.length;
    return plan;
  }

  /** Drops what is cached about a run's stored state; the next batch reads or patches instead. */
  #forget(runId: string): void {
    this.#lastSeq.delete(runId);
    this.#steps.delete(runId);
  }

  #rememberRuns(ids: string[]): void {
    // A bound, not a cache policy: forgetting only costs one existence read later.
    if (this.#knownRuns.size > 10_000) this.#knownRuns.clear();
    for (const id of ids) this.#knownRuns.add(id);
  }

  #notify(lastSeqs: ReadonlyMap<string, number>, stored: readonly Pending<WorkflowEvent>[]): void {
    if (this.#listeners.size === 0) return;
    const byRun = groupBy(stored.map((p) => p.item), (event) => event.workflowRunId);
    for (const [runId, lastSeq] of lastSeqs) {
      const events = byRun.get(runId) ?? [];
      for (const listener of this.#listeners) {
        try {
          listener(runId, lastSeq, events);
        } catch {
          // A subscriber's bug must not fail the writer.
        }
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

function writerFor(prisma: PrismaClient, writes: "direct" | "prisma"): RunWriter {
  const viaPrisma = new PrismaRunWriter(prisma);
  if (writes === "prisma") return viaPrisma;
  const pool = poolOf(prisma);
  return sqliteConnectionsOf(prisma)?.writer ?? (pool ? new PgRunWriter(pool, viaPrisma) : viaPrisma);
}

/** The run an idempotency key already names, unless it was made for another workflow or input. */
function existingRun(row: Parameters<typeof runRecordOf>[0], input: NewRun): CreateRunResult {
  const run = runRecordOf(row);
  const same = row.idempotencyFingerprint !== null && input.fingerprint ? row.idempotencyFingerprint === input.fingerprint : row.workflowKey === input.workflowKey && row.input === input.input;
  if (!same) throw idempotencyMismatch(run);
  return { status: "existing", run };
}

function storageError(what: string, cause: unknown): SystemFaultError {
  if (cause instanceof SystemFaultError) return cause;
  return new SystemFaultError("STORAGE_ERROR", `${what} failed in the database.`, { cause });
}
