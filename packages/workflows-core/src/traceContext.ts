import { randomUUID } from "node:crypto";
import { z } from "zod";

/**
 * Where a run sits in a distributed trace (W3C Trace Context ids, lowercase hex): its trace, and the
 * caller's span the run continues, when a caller sent one. Core only carries these ids; exporting
 * spans is the business of whoever observes the runner.
 */
export const traceContextSchema = z.object({
  traceId: z.string().regex(/^[0-9a-f]{32}$/),
  parentSpanId: z.string().regex(/^[0-9a-f]{16}$/).nullable(),
});
export type TraceContext = z.infer<typeof traceContextSchema>;

/**
 * A fresh random trace id: a version-4 UUID's 32 hex digits, so never all zeros (which W3C forbids), and
 * its right-most 7 bytes random as W3C's random trace id flag asks. Node hands out UUIDs from a cached
 * pool: 0.5 µs, against 5 µs for `randomBytes(16)`, which reads the system's random source every call.
 */
export function newTraceId(): string {
  return randomUUID().replaceAll("-", "");
}
