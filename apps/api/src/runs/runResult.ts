import { failureSchema, runStatusSchema, stepRecordSchema, usageSchema, type RunRecord, type StepRecord } from "@workflows/core";
import { z } from "zod";

export const runStepSchema = stepRecordSchema.pick({
  index: true,
  name: true,
  agentKey: true,
  stage: true,
  iteration: true,
  status: true,
  output: true,
  structuredOutput: true,
  usage: true,
  startedAt: true,
  endedAt: true,
  error: true,
});

/** What `workflows.run` answers: the recorded outcome of one run. */
export const runResultSchema = z.object({
  workflowKey: z.string(),
  workflowRunId: z.string(),
  status: runStatusSchema,
  steps: z.array(runStepSchema),
  finalOutput: z.string().nullable(),
  structuredOutput: z.unknown().nullable(),
  usage: usageSchema,
  error: failureSchema.nullable(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});
export type RunResult = z.infer<typeof runResultSchema>;

export function toRunResult({ run, steps }: { run: RunRecord; steps: StepRecord[] }): RunResult {
  return {
    workflowKey: run.workflowKey,
    workflowRunId: run.id,
    status: run.status,
    steps: steps.map((s) => ({
        index: s.index,
        name: s.name,
        agentKey: s.agentKey,
        stage: s.stage,
        iteration: s.iteration,
        status: s.status,
        output: s.output,
        structuredOutput: s.structuredOutput ?? null,
        usage: s.usage,
        startedAt: s.startedAt,
        endedAt: s.endedAt,
        error: s.error,
      })),
    finalOutput: run.finalOutput,
    structuredOutput: run.structuredOutput ?? null,
    usage: run.usage,
    error: run.error,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
  };
}
