import { z } from "zod";

/** Closed sets, the same words in events, the database and the API. */
export const runStatusSchema = z.enum(["pending", "running", "succeeded", "failed", "cancelled", "interrupted", "awaiting_approval"]);
export type RunStatus = z.infer<typeof runStatusSchema>;

export const stepStatusSchema = z.enum(["pending", "running", "succeeded", "skipped", "failed", "cancelled", "awaiting_approval"]);
export type StepStatus = z.infer<typeof stepStatusSchema>;

export const terminalRunStatuses: ReadonlySet<RunStatus> = new Set(["succeeded", "failed", "cancelled", "interrupted"]);

/** A run that waits for a person: not executing anywhere, not finished; a decision resumes it. */
export const pausedRunStatuses: ReadonlySet<RunStatus> = new Set(["awaiting_approval"]);
