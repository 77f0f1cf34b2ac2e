import { z } from "zod";

/** Closed sets, the same words in events, the database and the API. */
export const runStatusSchema = z.enum(["pending", "running", "succeeded", "failed", "cancelled", "interrupted"]);
export type RunStatus = z.infer<typeof runStatusSchema>;

export const stepStatusSchema = z.enum(["pending", "running", "succeeded", "skipped", "failed", "cancelled"]);
export type StepStatus = z.infer<typeof stepStatusSchema>;

export const terminalRunStatuses: ReadonlySet<RunStatus> = new Set(["succeeded", "failed", "cancelled", "interrupted"]);
