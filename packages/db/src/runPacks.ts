// A finished run's events and trace spans, folded into one compressed row (WorkflowRunPack). Events are the
// bulk of a run's storage (an `analysis_code` run: 190 events, 43 KB of JSON, most of it `step.delta`s
// repeating the run id, the workflow key and the step name; deflated together, about 3 KB), and a span row
// costs more in keys and indexes than its data. While a run runs, each event and span is a row of its own
// (the hot append path is unchanged); once it ends (or pauses for approval), one transaction inserts the pack
// and deletes the rows it holds. A run resumed later writes rows again and is packed again when it ends: a
// run may hold several packs, each a contiguous range of seqs. Reads take rows and packs in one snapshot and
// return the events and spans exactly as they were recorded.
import { deflateRawSync, inflateRawSync } from "node:zlib";
import type { TraceSpan } from "./client";

/** The stored form of a list of JSON texts. */
export function deflateJson(texts: readonly string[]): Buffer {
  return deflateRawSync(Buffer.from(`[${texts.join(",")}]`, "utf8"));
}

/** The values `deflateJson` stored, parsed. */
export function inflateJson(data: Uint8Array): unknown[] {
  return JSON.parse(inflateRawSync(data).toString("utf8")) as unknown[];
}

export type PackRow = { runId: string; lastSeq: number; firstSeq: number; events: Buffer; spanCount: number; spans: Buffer | null };
type EventRow = { seq: number; payload: string };
type PackedSpan = Omit<TraceSpan, "id" | "runId">;

/**
 * The pack of a finished run's rows (events in seq order, spans in id order): its events' contiguous prefix
 * and every span. Null when there is no event row. `lastSpanId`: the spans it holds are those up to this id.
 */
export function planPack(runId: string, events: readonly EventRow[], spans: readonly TraceSpan[]): { pack: PackRow; lastSpanId: number | null } | null {
  const first = events[0];
  if (!first) return null;
  let end = 1;
  while (end < events.length && events[end]!.seq === first.seq + end) end++;
  const packedSpans = spans.map(({ id: _id, runId: _runId, ...span }): PackedSpan => span);
  return {
    pack: {
      runId,
      firstSeq: first.seq,
      lastSeq: first.seq + end - 1,
      events: deflateJson(events.slice(0, end).map((row) => row.payload)),
      spanCount: spans.length,
      spans: spans.length > 0 ? deflateJson(packedSpans.map((span) => JSON.stringify(span))) : null,
    },
    lastSpanId: spans.at(-1)?.id ?? null,
  };
}

/**
 * The events after `afterSeq`, at most `limit`, in seq order, as JSON values, from what ONE snapshot holds:
 * the first `limit` rows after `afterSeq` and every pack ending after it. Exact: an event not among the rows
 * read comes after `limit` events that are.
 */
export function mergeEvents(rows: readonly EventRow[], packs: readonly { firstSeq: number; events: Uint8Array }[], afterSeq: number, limit: number): unknown[] {
  const found = rows.map((row) => ({ seq: row.seq, event: JSON.parse(row.payload) as unknown }));
  if (packs.length === 0) return found.map((e) => e.event);
  for (const pack of packs) {
    inflateJson(pack.events).forEach((event, i) => {
      const seq = pack.firstSeq + i;
      if (seq > afterSeq) found.push({ seq, event });
    });
  }
  found.sort((a, b) => a.seq - b.seq);
  return found.slice(0, limit).map((e) => e.event);
}

/** A run's spans in recording order from ONE snapshot: its packs' (in seq order), then its rows (in id order). */
export function mergeSpans(runId: string, packs: readonly { spans: Uint8Array | null }[], rows: readonly TraceSpan[]): TraceSpan[] {
  const packed = packs.flatMap((pack) => (pack.spans === null ? [] : (inflateJson(pack.spans) as PackedSpan[]).map((span): TraceSpan => ({ ...span, id: 0, runId }))));
  return packed.length === 0 ? [...rows] : [...packed, ...rows];
}
