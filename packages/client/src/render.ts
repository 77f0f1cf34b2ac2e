import type { RunDetails, RunEvent } from "./index.js";

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** Turns run events into terminal lines; keeps track of whether a text stream is mid-line. */
export class RunPrinter {
  #midLine = false;
  #stepCount = 0;
  /** Where each row sits: its parallel stage or loop pass ("review", "revise pass 2"); empty at the top level. */
  #places: string[] = [];
  /** Text streamed so far per step index, so the final output is not printed a second time. */
  readonly #streamed = new Map<number, string>();
  constructor(private readonly out: (text: string) => void) {}

  #line(text: string) {
    if (this.#midLine) this.out("\n");
    this.#midLine = false;
    this.out(`${text}\n`);
  }

  #wasStreamed(output: string): boolean {
    const wanted = output.trim();
    return [...this.#streamed.values()].some((text) => text.trim() === wanted);
  }

  /** A line of our own (not an event), on a line of its own. */
  note(text: string): void {
    this.#line(text);
  }

  /** Prints one event; returns the exit code once the run has ended, else null. */
  print(event: RunEvent): number | null {
    switch (event.type) {
      case "run.started":
        this.#stepCount = event.steps.length;
        this.#places = event.steps.map((s) => (s.stage ? ` in ${s.stage}${s.iteration ? ` pass ${s.iteration}` : ""}` : ""));
        this.#line(`▶ ${event.workflowKey} run ${event.workflowRunId} (${event.steps.length} steps)`);
        return null;
      case "step.started":
        this.#streamed.delete(event.stepIndex);
        this.#line(`● [${event.stepIndex + 1}/${this.#stepCount || "?"}] ${event.stepName} (${event.agentKey})${this.#places[event.stepIndex] ?? ""}${event.attempt > 1 ? ` attempt ${event.attempt}` : ""}`);
        return null;
      case "step.delta":
        if (!this.#midLine) this.out("  ");
        this.out(event.delta.replace(/\n/g, "\n  "));
        this.#midLine = true;
        this.#streamed.set(event.stepIndex, (this.#streamed.get(event.stepIndex) ?? "") + event.delta);
        return null;
      case "step.item":
        if (event.item.kind === "tool_called") this.#line(`  ↳ tool ${event.item.toolName}(${event.item.arguments})`);
        else if (event.item.kind === "handoff_occurred") this.#line(`  ↳ handoff ${event.item.fromAgentKey} → ${event.item.toAgentKey}`);
        return null;
      case "step.completed":
        this.#line(`✓ ${event.stepName} done in ${seconds(event.durationMs)}, ${event.usage.totalTokens} tokens (${event.usage.inputTokens} in / ${event.usage.outputTokens} out)`);
        return null;
      case "step.retrying":
        this.#line(`↻ ${event.stepName} attempt ${event.attempt} failed [${event.error.code}] ${event.error.message}; retrying in ${seconds(event.delayMs)}`);
        return null;
      case "step.skipped":
        this.#line(`○ ${event.stepName} skipped: ${event.reason}`);
        return null;
      case "step.failed":
        this.#line(`✗ ${event.stepName} failed [${event.error.code}] ${event.error.message} (next: ${event.onFailure})`);
        return null;
      case "run.completed":
        this.#line(`✓ run ${event.workflowRunId} succeeded in ${seconds(event.durationMs)}, ${event.usage.totalTokens} tokens`);
        // Streamed runs have shown the output live already; replays without deltas and whole-response runs have not.
        if (!this.#wasStreamed(event.finalOutput)) this.#line(`\n${event.finalOutput}`);
        return 0;
      case "run.failed":
        this.#line(`✗ run ${event.workflowRunId} failed [${event.error.code}]: ${event.error.message}`);
        return 1;
      case "run.cancelled":
        this.#line(`✗ run ${event.workflowRunId} ${event.interrupted === true ? "interrupted" : "cancelled"}: ${event.reason}`);
        return 1;
      case "run.interrupted":
        this.#line(`✗ run ${event.workflowRunId} interrupted: ${event.reason}`);
        return 1;
      case "step.approval_requested":
        this.#line(`⏸ ${event.stepName} waits for approval ${event.approvalId}: ${event.agentKey} wants ${event.toolName}(${event.arguments})${event.deadlineAt ? `, until ${event.deadlineAt}` : ""}`);
        this.#line(`  decide: wf approve ${event.workflowRunId} --approval ${event.approvalId}   (or --reject --reason "…")`);
        return null;
      case "step.approval_resolved":
        this.#line(`${event.approved ? "✓" : "✗"} approval ${event.approvalId} (${event.toolName}) ${event.expired ? "expired" : event.approved ? "approved" : "rejected"} by ${event.decidedBy}${event.reason ? `: ${event.reason}` : ""}`);
        return null;
      case "run.awaiting_approval":
        // Not an end: the run continues once decided, and this stream with it.
        this.#line(`⏸ run ${event.workflowRunId} waits for ${event.approvalIds.length === 1 ? "an approval" : `${event.approvalIds.length} approvals`} (still watching; Ctrl-C leaves it waiting)`);
        return null;
      case "run.resumed":
        this.#line(`▶ run ${event.workflowRunId} resumed from step ${event.fromStepIndex + 1} (${event.resumedBy}; was ${event.previousStatus})`);
        return null;
      default:
        event satisfies never;
        return null;
    }
  }
}

type Usage = RunDetails["run"]["usage"];

const tokens = (u: Usage) => `${u.totalTokens} tokens (${u.inputTokens} in / ${u.outputTokens} out)`;

/** A recorded run as lines: status, each step with its status, attempts and usage, then the error or output. */
export function formatRun({ run, steps, approvals = [] }: Pick<RunDetails, "run" | "steps"> & { approvals?: RunDetails["approvals"] }): string {
  const took = run.startedAt && run.endedAt ? ` in ${seconds(Date.parse(run.endedAt) - Date.parse(run.startedAt))}` : "";
  const lines = [
    `run ${run.workflowRunId} (${run.workflowKey}): ${run.status}${took}, ${tokens(run.usage)}`,
    `created ${run.createdAt}`,
    `input: ${run.input}`,
    steps.length === 0 ? "no steps started" : "steps:",
    ...steps.map((s) => {
      const detail = s.error ? ` [${s.error.code}] ${s.error.message}` : s.skipReason ? `: ${s.skipReason}` : "";
      return `  ${s.index + 1}. ${s.name} (${s.agentKey}) ${s.status}${detail}, ${s.attempts} attempt${s.attempts === 1 ? "" : "s"}, ${tokens(s.usage)}`;
    }),
  ];
  if (approvals.length > 0) {
    lines.push("approvals:");
    for (const a of approvals) {
      const decided = a.status === "pending" ? `pending${a.deadlineAt ? ` until ${a.deadlineAt}` : ""}` : `${a.status}${a.decidedBy ? ` by ${a.decidedBy}` : ""}${a.reason ? `: ${a.reason}` : ""}`;
      lines.push(`  ${a.approvalId} step ${a.stepIndex + 1} ${a.toolName}(${a.arguments}) ${decided}`);
    }
  }
  if (run.error) lines.push(`error [${run.error.code}]: ${run.error.message}`);
  if (run.finalOutput !== null) lines.push("", run.finalOutput);
  return `${lines.join("\n")}\n`;
}
