import { InvalidInputError } from "./errors";
import type { WorkflowSpec } from "./specs";

/**
 * The input as the workflow sees it (`ctx.data`): parsed by its inputSchema (the text is read as JSON
 * first, and taken as it is when it is not JSON), or the text itself when it declares none. A mismatch is
 * an InvalidInputError carrying the schema's issues under `input`.
 */
export function parseInput(spec: WorkflowSpec, input: string): unknown {
  if (!spec.inputSchema) return input;
  let value: unknown = input;
  try {
    value = JSON.parse(input);
  } catch {
    // Not JSON: a schema for text may still accept it.
  }
  const parsed = spec.inputSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({ path: ["input", ...issue.path.map((p) => (typeof p === "number" ? p : String(p)))], message: issue.message, code: issue.code }));
  const first = issues[0];
  throw new InvalidInputError(`Input of workflow "${spec.key}" does not match its inputSchema: ${first ? `${first.path.join(".")}: ${first.message}` : "invalid"}.`, { issues });
}

