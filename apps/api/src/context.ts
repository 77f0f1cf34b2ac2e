import type { IncomingMessage } from "node:http";
import type { ModelProvider, Runner, Session } from "@openai/agents-core";
import type { AgentCatalog } from "@workflows/agents";
import type { DeleteRunResult, PruneResult } from "@workflows/db";
import type { ApprovalRecord, CreatedRun, DecideInput, DecisionOutcome, ResumeOptions, ResumedRun, RunQueue, RunRecord, RunStatus, SpanRecord, StepRecord, TraceContext, WorkflowDescriptor, WorkflowEvent } from "@workflows/core";
import type { ApiKeys } from "./auth/apiKeys";
import type { Gate } from "./auth/gate";
import type { Caller } from "./auth/roles";
import type { Logger } from "./logger";
import type { Redactor } from "./redaction/redactor";
import type { ActiveRuns } from "./runs/activeRuns";
import type { LiveSubscription, RunBroadcaster } from "./runs/runBroadcaster";
import type { Telemetry } from "./telemetry/telemetry";

/** What the API needs from the workflow registry. */
export interface WorkflowCatalogPort {
  list(): WorkflowDescriptor[];
}

/** What the API needs from the runner: record a run, start or resume one in the background. */
export interface RunStarter {
  create(key: string, input: string, opts?: { conversationId?: string | null; idempotencyKey?: string | null; createdBy?: string | null; trace?: TraceContext }): Promise<CreatedRun>;
  start(
    key: string,
    input: string,
    opts?: { conversationId?: string | null; idempotencyKey?: string | null; createdBy?: string | null; signal?: AbortSignal; trace?: TraceContext },
  ): Promise<{ created: true; workflowRunId: string; done: Promise<unknown> } | { created: false; workflowRunId: string }>;
  resume(workflowRunId: string, opts: ResumeOptions): Promise<ResumedRun>;
  /** Records a decision on a pending approval of a paused run (see WorkflowRunner.decide). */
  decide(workflowRunId: string, input: DecideInput): Promise<DecisionOutcome>;
  /** Expires approvals past their deadline; null when none was due. */
  expireApprovals(workflowRunId: string, now?: Date): Promise<{ complete: boolean; expired: string[] } | null>;
  /** Cancels a run waiting for approvals; false when it is not waiting. */
  cancelPaused(workflowRunId: string, reason: string, decidedBy: string): Promise<boolean>;
  listApprovals(workflowRunId: string): Promise<ApprovalRecord[]>;
  /** The key of the workflow marked `default: true`; NotFoundError when there is none. */
  defaultKey(): string;
}

/** `parent`: `top` (default) runs no sub-workflow step started, `all` every run, or the children of one run. */
export type RunListQuery = { workflowKey?: string; status?: RunStatus; createdBy?: string; parent?: "top" | "all" | { workflowRunId: string }; limit?: number; cursor?: string };

/** Reads of recorded runs, and the recorder's "events stored" notification. */
export interface RunStore {
  /** The run and its steps, in step order. */
  getRun(workflowRunId: string): Promise<{ run: RunRecord; steps: StepRecord[] } | null>;
  /** The run without its steps: one read, for status and lastSeq checks. */
  getRunRecord(workflowRunId: string): Promise<RunRecord | null>;
  listRuns(query: RunListQuery): Promise<{ items: RunRecord[]; nextCursor: string | null }>;
  /** The runs a run's sub-workflow steps started, by step index. */
  listChildren(workflowRunId: string): Promise<RunRecord[]>;
  listEvents(workflowRunId: string, opts: { afterSeq: number; limit: number }): Promise<WorkflowEvent[]>;
  listSpans(workflowRunId: string): Promise<SpanRecord[]>;
  /** The stored lastSeq of each of these runs that exists, in one read. */
  lastSeqs(workflowRunIds: readonly string[]): Promise<Map<string, number>>;
  /** Calls `listener` after events of a run are durably stored. Returns the unsubscribe function. */
  onStored(listener: (workflowRunId: string, lastSeq: number) => void): () => void;
  /**
   * Registers a live follower of the run after `afterSeq` with the run's broadcaster (one reader per run, see
   * `followRun`); the follower must `close()` it.
   */
  subscribe(workflowRunId: string, afterSeq: number): LiveSubscription;
}

export type ServiceInfo = {
  version: string;
  databaseKind: string;
  /** `offline`, `openai`, or `custom` for an injected provider. */
  modelProvider: string;
  /** Human description of the model configuration; never includes a key. */
  model: string;
  maxInputBytes: number;
  /** This server's instance id (the owner recorded on the runs it executes). */
  instanceId: string;
};

/** Everything a procedure can reach; built once per process by `createServices`. */
export type Services = {
  info: ServiceInfo;
  logger: Logger;
  catalog: AgentCatalog;
  /** Metrics and trace export of this server. */
  telemetry: Telemetry;
  workflows: WorkflowCatalogPort;
  runner: RunStarter;
  /** Several instances (PostgreSQL): new runs go through this queue to whichever instance has a free slot. Absent on SQLite. */
  queue?: RunQueue;
  runs: RunStore;
  /** The per-run broadcaster live followers are fed from (`runs.subscribe`); its stats are for diagnostics. */
  liveEvents: RunBroadcaster;
  activeRuns: ActiveRuns;
  /** API keys in the database. */
  keys: ApiKeys;
  /** Who may call what: authentication, roles, rate limits. */
  gate: Gate;
  /** Replaces secrets in what is stored and logged. */
  redactor: Redactor;
  /** The model provider chat uses (the same one the runner uses). */
  modelProvider: ModelProvider;
  /** The SDK runner chat uses; agents name their model themselves (the catalog's default model). */
  chatRunner: Runner;
  /** Conversation history for chat, stored in the database. */
  openSession(conversationId: string): Session;
  /** Several instances (PostgreSQL): asks the instance executing a run to cancel it on behalf of `by` (a key's name or `local`). Absent on SQLite. */
  requestCancel?(workflowRunId: string, by: string): Promise<void>;
  /** With a queue: records a run still waiting in it as cancelled; false when an instance already started it. */
  cancelQueued?(workflowRunId: string, by: string): Promise<boolean>;
  /** Deletes a finished run with every row keyed by it (`runs.delete`). */
  deleteRun(workflowRunId: string): Promise<DeleteRunResult>;
  /** RUN_RETENTION_DAYS: the periodic sweep of old finished runs; null when runs are kept forever. */
  retention: { sweep(now?: Date): Promise<PruneResult> } | null;
  /** Runs waiting for approvals, with their pending count and earliest deadline (start-up sweeps). */
  pausedRuns(): Promise<{ workflowRunId: string; pending: number; deadlineAt: string | null }[]>;
  /** Records runs interrupted from outside their execution (a `run.interrupted` event each); returns those it changed. */
  markInterrupted(workflowRunIds: readonly string[], reason: string): Promise<string[]>;
  /**
   * Stops taking new runs, lets in-flight runs finish within the grace period, then aborts them and
   * marks whatever is still unfinished `interrupted`. Idempotent.
   */
  drain(): Promise<void>;
  /** Resolves when the database answers a trivial query; rejects when it does not, or once `close` began (readiness). */
  ping(): Promise<void>;
  /** Drains, then flushes the recorder and closes the database. Idempotent. */
  close(): Promise<void>;
};

/** A call's context: the services, and the credentials it presented (checked per procedure by the gate). */
export type Context = {
  services: Services;
  authorization: string | null;
  /** The request's W3C `traceparent` header (on WebSocket: the upgrade request's), for runs to continue the caller's trace. */
  traceparent: string | null;
};

/** The context of a procedure that passed the gate. */
export type CallerContext = Context & { caller: Caller };

type ContextSource = {
  req?: Pick<IncomingMessage, "headers">;
  info?: { connectionParams: Record<string, string | undefined> | null };
};

/**
 * The `Authorization` header (HTTP, SSE, a WebSocket's upgrade request) wins over the `authorization`
 * connection param (WebSocket, or an SSE client that cannot set headers).
 */
export const createContextFactory =
  (services: Services) =>
  ({ req, info }: ContextSource = {}): Context => {
    const header = req?.headers.authorization;
    const param = info?.connectionParams?.authorization;
    const authorization = typeof header === "string" ? header : typeof param === "string" ? param : null;
    const traceparent = req?.headers.traceparent;
    return { services, authorization, traceparent: typeof traceparent === "string" ? traceparent : null };
  };
