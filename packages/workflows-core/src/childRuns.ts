import { createHash } from "node:crypto";
import { ConflictError, InvalidInputError, SystemFaultError } from "./errors";
import type { Failure } from "./events";
import type { ExecutionOptions, WorkflowRunResult } from "./execution";
import { parseInput } from "./input";
import type { RunRecorder } from "./recorder";
import type { WorkflowRegistry } from "./registry";
import type { ResumedRun, ResumeOptions } from "./runner";
import type { TraceContext } from "./traceContext";
import type { Usage } from "./usage";

/** What a sub-workflow step asks for: the child run of this parent step, with this input. */
export type ChildRunRequest = {
  parentRunId: string;
  parentStepIndex: number;
  childRunId: string;
  workflowKey: string;
  input: string;
  /** The parent's signal: cancelling (or interrupting) the parent does the same to the child. */
  signal: AbortSignal | undefined;
  streamed: boolean;
  trace?: TraceContext;
  /** Called once the child run exists (found or created), before it runs: only then may the parent name it. */
  onReady?: () => void;
};

/**
 * How a child run ended. `ended`: it ran (or continued) to its end here, or had succeeded before
 * (`reused`: nothing ran). `rejected`: it never started (its input does not match the child's inputSchema,
 * or the child cannot continue); `error` says why.
 */
export type ChildRunEnd =
  | { kind: "ended"; reused: boolean; status: WorkflowRunResult["status"]; finalOutput: string | null; structuredOutput: unknown; usage: Usage; error: Failure | null }
  | { kind: "rejected"; error: Failure };

export type ChildRunPort = { run(request: ChildRunRequest): Promise<ChildRunEnd> };

/**
 * The id of the child run of a parent's step: derived from the parent run id and the step's slot index
 * (unique per loop pass), so a resumed parent finds the child it started instead of starting another.
 * Shaped as a UUID (version 8, name-based) like the ids of other runs.
 */
export function childRunIdOf(parentRunId: string, stepIndex: number): string {
  const hex = createHash("sha256").update(`${parentRunId}\0sub-workflow\0${stepIndex}`).digest("hex");
  const variant = ((parseInt(hex[16] ?? "0", 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export type ChildRunsDeps = {
  registry: WorkflowRegistry;
  recorder: RunRecorder;
  /** Executes a new run to its end (what `WorkflowRunner.start` does after recording it). */
  execute(opts: ExecutionOptions): Promise<WorkflowRunResult>;
  /** Continues a recorded run in the caller's slot (`WorkflowRunner.resume`). */
  resume(workflowRunId: string, opts: ResumeOptions): Promise<ResumedRun>;
};

/**
 * Starts and continues child runs for their parents. The parent is the child's only driver: the recovery
 * sweep leaves runs with a parent alone, and a parent that resumes finds its child by the derived id and
 * takes its recorded output (it succeeded), or continues it from its first unfinished step.
 */
export class ChildRuns implements ChildRunPort {
  readonly #deps: ChildRunsDeps;

  constructor(deps: ChildRunsDeps) {
    this.#deps = deps;
  }

  async run(request: ChildRunRequest): Promise<ChildRunEnd> {
    const { recorder, registry } = this.#deps;
    const workflow = registry.require(request.workflowKey);
    try {
      const existing = await recorder.loadRun(request.childRunId);
      if (existing) {
        const { run } = existing;
        if (run.parentRunId !== request.parentRunId) return rejected("INTERNAL", `Run "${request.childRunId}" exists but is not a child of run "${request.parentRunId}".`);
        // A parent resumed on a new version (allowNewVersion) whose step now names another workflow.
        if (run.workflowKey !== request.workflowKey) return rejected("SUBWORKFLOW_FAILED", `Run "${request.childRunId}" of this step ran workflow "${run.workflowKey}"; the step now runs "${request.workflowKey}". Start a new run.`);
        request.onReady?.();
        if (run.status === "succeeded") return { kind: "ended", reused: true, status: run.status, finalOutput: run.finalOutput, structuredOutput: run.structuredOutput, usage: run.usage, error: null };
        // The parent's version check covered the child: a parent's version hash includes its children's.
        const resumed = await this.#deps.resume(request.childRunId, { resumedBy: "parent", orphaned: true, allowNewVersion: true, signal: request.signal, streamed: request.streamed });
        return ended(await resumed.done);
      }
      let data: unknown;
      try {
        data = parseInput(workflow.spec, request.input);
      } catch (error) {
        if (error instanceof InvalidInputError) return rejected("INVALID_INPUT", `Sub-workflow "${request.workflowKey}": ${error.message}`);
        throw error;
      }
      const parent = (await recorder.loadRun(request.parentRunId))?.run;
      await recorder.createRun({
        id: request.childRunId,
        workflowKey: workflow.spec.key,
        versionHash: workflow.versionHash,
        input: request.input,
        conversationId: parent?.conversationId ?? null,
        createdBy: parent?.createdBy ?? null,
        traceId: request.trace?.traceId ?? parent?.traceId ?? null,
        parentRunId: request.parentRunId,
        parentStepIndex: request.parentStepIndex,
      });
      request.onReady?.();
      const result = await this.#deps.execute({
        workflow,
        workflowRunId: request.childRunId,
        input: request.input,
        data,
        signal: request.signal,
        streamed: request.streamed,
        parent: { workflowRunId: request.parentRunId, stepIndex: request.parentStepIndex },
        inheritSlot: true,
        ...(request.trace ? { trace: request.trace } : {}),
      });
      return ended(result);
    } catch (error) {
      if (error instanceof SystemFaultError) return rejected(error.code, `Sub-workflow "${request.workflowKey}" (run "${request.childRunId}"): ${error.message}`);
      if (error instanceof ConflictError) return rejected("SUBWORKFLOW_FAILED", `Sub-workflow "${request.workflowKey}" (run "${request.childRunId}") could not continue: ${error.message}`);
      throw error;
    }
  }
}

function ended(result: WorkflowRunResult): ChildRunEnd {
  return { kind: "ended", reused: false, status: result.status, finalOutput: result.finalOutput, structuredOutput: result.structuredOutput, usage: result.usage, error: result.error };
}

function rejected(code: Failure["code"], message: string): ChildRunEnd {
  return { kind: "rejected", error: { code, message } };
}
