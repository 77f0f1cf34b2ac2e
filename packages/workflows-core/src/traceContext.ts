import { randomBytes } from "node:crypto";
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

/** A fresh random trace id (never all zeros, which W3C forbids). */
export function newTraceId(): string {
  for (;;) {
    const id = randomBytes(16).toString("hex");
    if (!/^0+$/.test(id)) return id;
  }
}
