import type { StepContext, StepResult } from "./specs";

/** The carried output of a step: its structured output as JSON when it has one, else its text. */
export function outputOf(result: StepResult): string {
  if (result.structuredOutput !== null && result.structuredOutput !== undefined) return JSON.stringify(result.structuredOutput);
  return result.output ?? "";
}

export function buildContext(workflowKey: string, input: string, data: unknown, results: readonly StepResult[]): StepContext {
  const byName: Record<string, StepResult> = {};
  for (const r of results) byName[r.name] = r;
  const lastSucceeded = results.findLast((r) => r.status === "succeeded");
  return {
    workflowKey,
    input,
    data,
    steps: results,
    byName,
    previousOutput: lastSucceeded ? outputOf(lastSucceeded) : input,
    iteration: null,
  };
}
