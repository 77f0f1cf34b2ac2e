import { runRecordSchema, type RunRecord } from "@workflows/core";
import { z } from "zod";

/** A run as the API shows it: the record, plus its id under the name the rest of the API uses. */
export const runViewSchema = runRecordSchema.extend({ workflowRunId: z.string() });
export type RunView = z.infer<typeof runViewSchema>;

export const toRunView = (run: RunRecord): RunView => ({ ...run, workflowRunId: run.id });
