import type { TraceContext } from "@workflows/core";

const pattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * The caller's trace from a W3C `traceparent` header (`00-<trace id>-<span id>-<flags>`), or undefined
 * when there is none or it is malformed: as the W3C spec says, a bad header starts a new trace, it is
 * not an error.
 */
export function parseTraceparent(header: string | string[] | undefined | null): TraceContext | undefined {
  if (typeof header !== "string") return undefined;
  const match = pattern.exec(header.trim().toLowerCase());
  if (!match) return undefined;
  const [, version, traceId, spanId] = match as unknown as [string, string, string, string];
  // Version ff is invalid; version 00 has no trailing fields; all-zero ids are invalid.
  if (version === "ff" || (version === "00" && match[5] !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, parentSpanId: spanId };
}
