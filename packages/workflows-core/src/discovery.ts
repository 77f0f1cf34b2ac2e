import { readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { InvalidWorkflowSpecError } from "./errors";
import type { WorkflowSpec } from "./specs";

/** Where the sample workflows that ship with the product live, one module each. */
export const sampleWorkflowsDir = fileURLToPath(new URL("./workflows", import.meta.url));

/**
 * Loads every workflow module in a folder: each `*.ts`/`*.js` file (tests excluded) must default-export
 * one workflow spec. Files are read in name order so the listing is stable.
 */
export async function discoverWorkflows(dir: string = sampleWorkflowsDir): Promise<WorkflowSpec[]> {
  const files = (await readdir(dir))
    .filter((f) => /\.(ts|js|mjs)$/.test(f) && !/\.(test|spec)\.|\.d\.ts$|^index\./.test(f))
    .sort();
  const specs: WorkflowSpec[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as { default?: unknown };
    if (typeof mod.default !== "object" || mod.default === null) {
      throw new InvalidWorkflowSpecError(`Workflow module "${file}" must default-export a workflow (export default defineWorkflow({...})).`);
    }
    specs.push(mod.default as WorkflowSpec);
  }
  return specs;
}
