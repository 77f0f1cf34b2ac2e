import type { Admission, SpanRecord, WorkflowEvent } from "@workflows/core";
import type { RecorderStats } from "@workflows/db";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** Label value for a workflow or agent key that is not in the registry or catalog (labels stay bounded). */
export const OTHER = "other";

export type MetricsOptions = {
  /** Workflow keys of the registry: the only values of the `workflow` label besides "other". */
  workflowKeys: Iterable<string>;
  /** Agent keys of the catalog: the only values of the `agent` label besides "other". */
  agentKeys: Iterable<string>;
  /** Runs holding and waiting for a slot. */
  admission: Pick<Admission, "active" | "waiting">;
  /** Open event streams (followers of runs). */
  eventSubscribers: () => number;
  /** The run recorder's totals since start (its `stats`): transactions, events, packs. */
  recorderStats?: () => RecorderStats;
  /** Process metrics (memory, event loop lag, GC). Default true. */
  processMetrics?: boolean;
};

export type Metrics = {
  /** This server's own registry (never prom-client's global one: several servers may share a process). */
  registry: Registry;
  /** Feeds the counters and histograms from a stored run event (the runner's `observe`). */
  observe(event: WorkflowEvent): void;
  /** Feeds model requests and tokens from a stored SDK span (the runner's `observeSpan`). */
  observeSpan(span: SpanRecord): void;
};

const runBuckets = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
const stepBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Prometheus metrics of one server, all prefixed `workflows_`; label values come from the registry and catalog only. */
export function createMetrics(opts: MetricsOptions): Metrics {
  const registry = new Registry();
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const workflows = new Set(opts.workflowKeys);
  const agents = new Set(opts.agentKeys);
  const workflow = (key: string) => (workflows.has(key) ? key : OTHER);
  const agent = (key: unknown) => (typeof key === "string" && agents.has(key) ? key : OTHER);
  const registers = [registry];

  const runsStarted = new Counter({ name: "workflows_runs_started_total", help: "Runs started (resumed runs are not counted again).", labelNames: ["workflow"], registers });
  const runsFinished = new Counter({ name: "workflows_runs_finished_total", help: "Runs finished, by final status.", labelNames: ["workflow", "status"], registers });
  const runDuration = new Histogram({ name: "workflows_run_duration_seconds", help: "Run duration from start (or resume) to its end.", labelNames: ["workflow", "status"], buckets: runBuckets, registers });
  const stepDuration = new Histogram({ name: "workflows_step_duration_seconds", help: "Duration of the attempt that ended a step (completed or failed).", labelNames: ["workflow", "agent"], buckets: stepBuckets, registers });
  const stepRetries = new Counter({ name: "workflows_step_retries_total", help: "Step attempts that failed transiently and were retried.", labelNames: ["workflow", "agent"], registers });
  const modelRequests = new Counter({ name: "workflows_model_requests_total", help: "Model turns (one model request each), by agent and outcome.", labelNames: ["agent", "outcome"], registers });
  const tokens = new Counter({ name: "workflows_tokens_total", help: "Tokens used, by agent and kind (input, output, cached_input).", labelNames: ["agent", "kind"], registers });
  new Gauge({ name: "workflows_runs_active", help: "Runs executing in this server (holding an admission slot).", registers, collect() { this.set(opts.admission.active); } });
  new Gauge({ name: "workflows_runs_pending", help: "Runs waiting for an admission slot in this server.", registers, collect() { this.set(opts.admission.waiting); } });
  new Gauge({ name: "workflows_event_subscribers", help: "Open event streams following runs.", registers, collect() { this.set(opts.eventSubscribers()); } });
  const recorderStats = opts.recorderStats;
  if (recorderStats) {
    // Counters read from the recorder's own totals at each scrape (they only grow: the difference is added).
    const total = (name: string, help: string, read: (t: RecorderStats) => number) => {
      let counted = 0;
      new Counter({ name, help, registers, collect() { const now = read(recorderStats()); this.inc(Math.max(0, now - counted)); counted = Math.max(counted, now); } });
    };
    total("workflows_recorder_transactions_total", "Write transactions of the run recorder (each commits one batch of events and spans).", (t) => t.transactions);
    total("workflows_recorder_events_total", "Run events stored.", (t) => t.events);
    total("workflows_recorder_spans_total", "Trace spans stored.", (t) => t.spans);
    total("workflows_recorder_packs_total", "Finished runs whose event and span rows were folded into one pack.", (t) => t.packs);
    total("workflows_recorder_pack_failures_total", "Packs that failed (the run's rows stay, read the same, and are packed again by the leftover sweep).", (t) => t.packFailures);
  }

  const finished = (event: WorkflowEvent & { durationMs?: number }, status: string) => {
    const labels = { workflow: workflow(event.workflowKey), status };
    runsFinished.inc(labels);
    if (event.durationMs !== undefined) runDuration.observe(labels, event.durationMs / 1000);
  };

  return {
    registry,
    observe(event) {
      switch (event.type) {
        case "run.started":
          runsStarted.inc({ workflow: workflow(event.workflowKey) });
          break;
        case "step.completed":
        case "step.failed":
          stepDuration.observe({ workflow: workflow(event.workflowKey), agent: agent(event.agentKey) }, event.durationMs / 1000);
          break;
        case "step.retrying":
          stepRetries.inc({ workflow: workflow(event.workflowKey), agent: agent(event.agentKey) });
          break;
        case "run.completed":
          finished(event, "succeeded");
          break;
        case "run.failed":
          finished(event, "failed");
          break;
        case "run.cancelled":
          finished(event, event.interrupted === true ? "interrupted" : "cancelled");
          break;
        case "run.interrupted":
          finished(event, "interrupted");
          break;
        default:
          break;
      }
    },
    observeSpan(span) {
      // A turn is one model request (plus the tools it called); the SDK puts the agent's name and usage on it.
      if (span.kind !== "turn") return;
      const name = agent(span.data.agent_name);
      modelRequests.inc({ agent: name, outcome: span.error === null ? "ok" : "error" });
      const usage = span.data.usage;
      if (typeof usage !== "object" || usage === null) return;
      const counts = usage as Record<string, unknown>;
      for (const [kind, key] of [["input", "input_tokens"], ["output", "output_tokens"], ["cached_input", "cached_input_tokens"]] as const) {
        const n = counts[key];
        if (typeof n === "number" && n > 0) tokens.inc({ agent: name, kind }, n);
      }
    },
  };
}
