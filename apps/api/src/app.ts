import { readFileSync } from "node:fs";
import { Runner, type ModelProvider } from "@openai/agents-core";
import { createDefaultCatalog, createModelProvider, defaultModelName, describeModelConfig, disableDefaultTraceExport, type AgentCatalog, type ModelConfig } from "@workflows/agents";
import { discoverWorkflows, InProcessAdmission, RunCancelledError, terminalRunStatuses, WorkflowRegistry, WorkflowRunner, type WorkflowSpec } from "@workflows/core";
import { ApiKeyStore, deleteRun, getRun, getRunRecord, listChildRuns, listEvents, listRuns, listSpans, openDatabase, PgBossRunQueue, PgNotifications, PrismaRunRecorder, PrismaSession, runLastSeqs, ServerInstances } from "@workflows/db";
import { ApiKeys } from "./auth/apiKeys";
import { Gate, type AuthConfig } from "./auth/gate";
import type { RunStore, Services } from "./context";
import type { DurabilityConfig } from "./env";
import type { Logger } from "./logger";
import { ActiveRuns } from "./runs/activeRuns";
import { redactingRecorder, redactingSession } from "./redaction/redactingStorage";
import { Redactor } from "./redaction/redactor";
import { ApprovalDeadlines } from "./runs/approvalDeadlines";
import { executeQueuedRun } from "./runs/queuedRun";
import type { OtlpConfig } from "./telemetry/otlpExport";
import { createTelemetry } from "./telemetry/telemetry";
import { Recovery } from "./runs/recovery";
import { RetentionSweeper, type RetentionConfig } from "./runs/retention";
import { RunBroadcaster } from "./runs/runBroadcaster";

export type ServicesOptions = {
  logger: Logger;
  /** `postgres://…` URL, or SQLite `file:` URL; the embedded SQLite database when absent. */
  databaseUrl?: string | undefined;
  /** PostgreSQL: connections in this server's pool (default 10). */
  databasePoolSize?: number;
  model: ModelConfig;
  /** Replaces the provider built from `model` (tests and benchmarks: scripted models). */
  modelProvider?: ModelProvider;
  maxInputBytes: number;
  shutdownGraceMs: number;
  /** Default: the sample workflows shipped with core. */
  workflows?: WorkflowSpec[];
  /** Default: the built-in agent catalog. */
  catalog?: AgentCatalog;
  /** Default: as `parseEnv({})` gives (3 attempts, 10 min step limit, 16 runs at once, resume on). */
  durability?: Partial<DurabilityConfig>;
  /** Default: no keys (every caller is `local`), no rate limit; open subscriptions re-check their key every 2 s. */
  auth?: Partial<AuthConfig>;
  /** Replaces secrets in what is stored. Default: the built-in patterns only. */
  redactor?: Redactor;
  /** OTLP trace export (`OTEL_EXPORTER_OTLP_*`); default none: nothing is sent. */
  otlp?: OtlpConfig | null;
  /** RUN_RETENTION_DAYS: delete old finished runs periodically. Default none: runs are kept forever. */
  retention?: RetentionConfig | null;
};

const defaultDurability: DurabilityConfig = {
  stepMaxAttempts: 3,
  stepRetryBaseDelayMs: 1_000,
  stepTimeoutMs: 600_000,
  maxConcurrentRuns: 16,
  resumeOnStart: true,
  heartbeatIntervalMs: 5_000,
  ownerTimeoutMs: 20_000,
};

const version = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** Builds everything the API serves from: database (created and migrated), catalog, registry, runner. */
export async function createServices(opts: ServicesOptions): Promise<Services> {
  const { logger } = opts;
  // Importing the SDK installs an exporter that would send traces to OpenAI; the runner installs ours.
  disableDefaultTraceExport();
  const durability = { ...defaultDurability, ...opts.durability };
  const db = await openDatabase({ url: opts.databaseUrl ?? null, ...(opts.databasePoolSize ? { poolSize: opts.databasePoolSize } : {}) });
  const instances = new ServerInstances(db.prisma, { staleAfterMs: durability.ownerTimeoutMs });
  await instances.register();
  // PostgreSQL: several instances share the database; each hears the others' commits and cancel requests,
  // and new runs go through a queue to whichever instance has a free slot.
  const shared =
    db.kind === "postgres" && db.pool !== null && opts.databaseUrl
      ? {
          pool: db.pool,
          notifications: new PgNotifications({ url: opts.databaseUrl, instanceId: instances.id, onError: (err) => logger.warn({ err }, "LISTEN connection lost; reconnecting") }),
          queue: new PgBossRunQueue({ url: opts.databaseUrl, onError: (err) => logger.warn({ err }, "run queue error") }),
        }
      : null;
  await shared?.notifications.start();
  await shared?.queue.start();
  const recorder = new PrismaRunRecorder(db.prisma, { owner: instances.id, ...(shared ? { announceAs: instances.id } : {}) });
  const redactor = opts.redactor ?? new Redactor();
  const keys = new ApiKeys(new ApiKeyStore(db.prisma));
  const gate = new Gate(keys, { mode: "none", rateLimitPerMin: null, revocationCheckMs: 2_000, ...opts.auth });

  const catalog = opts.catalog ?? createDefaultCatalog({ defaultModel: opts.modelProvider ? undefined : defaultModelName(opts.model) });
  const registry = WorkflowRegistry.create({ workflows: opts.workflows ?? (await discoverWorkflows()), catalog });
  const modelProvider = opts.modelProvider ?? createModelProvider(opts.model);
  const admission = new InProcessAdmission(durability.maxConcurrentRuns);
  // Reads through `runs` (below), so that a wrapper placed on `runs.listEvents` sees the broadcaster's reads too.
  const broadcaster = new RunBroadcaster({
    read: (id, o) => runs.listEvents(id, o),
    lastSeqs: (ids) => runs.lastSeqs(ids),
    onError: (err, workflowRunId) => logger.warn({ err, workflowRunId }, "reading stored events for live followers failed"),
  });
  const telemetry = await createTelemetry({
    logger,
    otlp: opts.otlp ?? null,
    serviceVersion: version,
    genAi: opts.modelProvider ? { system: "custom", model: undefined } : { system: opts.model.provider, model: defaultModelName(opts.model) },
    workflowKeys: registry.list().map((w) => w.key),
    agentKeys: catalog.keys(),
    admission,
    // Every live follower of a run's events (streams, waits) is a subscriber of the broadcaster.
    eventSubscribers: () => broadcaster.subscribers,
    recorderStats: () => recorder.stats,
  });
  // Built once the services exist (below); the runner's observer reaches it through this holder.
  const deadlines: { current?: ApprovalDeadlines } = {};
  const runner = new WorkflowRunner({
    registry,
    catalog,
    modelProvider,
    recorder: redactingRecorder(recorder, redactor),
    admission,
    observe: (event) => {
      telemetry.observe(event);
      // A run that paused here with a deadline gets its timer now, not at the next sweep.
      if (event.type === "run.awaiting_approval" && event.deadlineAt !== null) deadlines.current?.schedule(event.workflowRunId, event.deadlineAt);
    },
    observeSpan: telemetry.observeSpan,
    retry: { maxAttempts: durability.stepMaxAttempts, initialDelayMs: durability.stepRetryBaseDelayMs },
    stepTimeoutMs: durability.stepTimeoutMs,
  });
  const activeRuns = new ActiveRuns();
  const retention = opts.retention ? new RetentionSweeper(db, opts.retention, logger) : null;

  const runs: RunStore = {
    getRun: (id) => getRun(db.prisma, id),
    getRunRecord: (id) => getRunRecord(db.prisma, id),
    listRuns: (query) => listRuns(db.prisma, query),
    listChildren: (id) => listChildRuns(db.prisma, id),
    listEvents: (id, o) => listEvents(db.prisma, id, o),
    listSpans: (id) => listSpans(db.prisma, id),
    lastSeqs: (ids) => runLastSeqs(db.prisma, ids),
    onStored: (listener) => {
      const local = recorder.onStored(listener);
      const remote = shared?.notifications.onStored(listener);
      return () => {
        local();
        remote?.();
      };
    },
    subscribe: (id, afterSeq) => broadcaster.subscribe(id, afterSeq),
  };
  // The live feed: this instance's commits hand their events on as they are; another instance's (PostgreSQL
  // NOTIFY) are read once per run and handed on the same way.
  recorder.onStored((id, _lastSeq, events) => broadcaster.publish(id, events));
  shared?.notifications.onStored((id, lastSeq) => broadcaster.announce(id, lastSeq));
  shared?.notifications.onCancel((id, by) => void activeRuns.abort(id, new RunCancelledError(by)));

  let draining: Promise<void> | undefined;
  let queueStopped: Promise<void> | undefined;
  const drain = () =>
    (draining ??= (async () => {
      activeRuns.stopAccepting();
      // Take no more runs from the queue; runs in progress end below (finished or interrupted).
      queueStopped = shared?.queue.stop(opts.shutdownGraceMs + 10_000).catch((err: unknown) => logger.warn({ err }, "run queue did not stop cleanly"));
      // `recovery` is declared below; drain only runs once createServices has built it.
      await recovery.stop();
      await retention?.stop();
      deadlines.current?.stop();
      if (activeRuns.size === 0) return;
      logger.info({ activeRuns: activeRuns.size, graceMs: opts.shutdownGraceMs }, "waiting for in-flight runs");
      if (await activeRuns.drain(opts.shutdownGraceMs)) return;
      const aborted = await activeRuns.abortAll("server shutting down", 5_000);
      await recorder.flush();
      const unfinished: string[] = [];
      for (const id of aborted) {
        const recorded = await runs.getRunRecord(id);
        if (recorded && !terminalRunStatuses.has(recorded.status)) unfinished.push(id);
      }
      if (unfinished.length > 0) await recorder.markInterrupted(unfinished, "The server stopped before the run finished.");
      logger.warn({ aborted, interrupted: unfinished }, "in-flight runs aborted at shutdown");
    })());

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await drain();
      await queueStopped;
      await recorder.flush();
      // Runs have ended (or were interrupted): their spans go out before the process does.
      await telemetry.shutdown();
      await recorder.close();
      // Runs this server still owns (none after a clean drain) become orphans for the others at once.
      await instances.deregister();
      await shared?.notifications.close();
      broadcaster.close();
      await db.close();
    })());

  const services: Services = {
    info: {
      version,
      databaseKind: db.kind,
      modelProvider: opts.modelProvider ? "custom" : opts.model.provider,
      model: opts.modelProvider ? "custom provider" : describeModelConfig(opts.model),
      maxInputBytes: opts.maxInputBytes,
      instanceId: instances.id,
    },
    logger,
    catalog,
    telemetry,
    workflows: registry,
    runner,
    ...(shared ? { queue: shared.queue } : {}),
    runs,
    liveEvents: broadcaster,
    activeRuns,
    keys,
    gate,
    redactor,
    modelProvider,
    chatRunner: new Runner({ modelProvider, workflowName: "chat" }),
    openSession: (conversationId) => redactingSession(new PrismaSession(db.prisma, conversationId), redactor),
    markInterrupted: (ids, reason) => recorder.markInterrupted(ids, reason),
    // The run's last writes (spans after its end event) land before its rows go.
    deleteRun: async (id) => {
      await recorder.flush();
      return await deleteRun(db, id);
    },
    retention,
    pausedRuns: () => recorder.pausedRuns(),
    ...(shared
      ? {
          requestCancel: (id: string, by: string) => shared.notifications.requestCancel(shared.pool, id, by),
          cancelQueued: (id: string, by: string) => recorder.cancelNotStarted(id, new RunCancelledError(by).message, by),
        }
      : {}),
    drain,
    // After `$disconnect` Prisma would reconnect on the next query: a closed database must not look ready.
    ping: async () => {
      if (closing) throw new Error("database closed");
      await db.prisma.$queryRawUnsafe("SELECT 1");
    },
    close,
  };
  const approvalDeadlines = new ApprovalDeadlines(services);
  deadlines.current = approvalDeadlines;
  const recovery = new Recovery(services, {
    liveness: instances,
    resume: durability.resumeOnStart,
    intervalMs: durability.heartbeatIntervalMs,
    sweepPaused: () => approvalDeadlines.sweep(),
    packLeftovers: async () => {
      const packed = await recorder.packLeftovers();
      if (packed > 0) logger.info({ runs: packed }, "finished runs whose events were left unpacked (a crash, a failed pack) packed");
    },
  });
  try {
    await recovery.start();
    retention?.start();
    await shared?.queue.work(durability.maxConcurrentRuns, (id, parentSpanId) => executeQueuedRun(services, (runId) => instances.isOrphaned(runId), id, parentSpanId));
  } catch (error) {
    await close();
    throw error;
  }
  return services;
}
