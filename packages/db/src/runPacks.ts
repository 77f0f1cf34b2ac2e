// A finished run's events and trace spans, folded into one compressed row (WorkflowRunPack). Events are the
// bulk of a run's storage (an `analysis_code` run: 190 events, 43 KB of JSON, most of it `step.delta`s
// repeating the run id, the workflow key and the step name; deflated together, about 3 KB), and a span row
// costs more in keys and indexes than its data. While a run runs, its events are chunk rows (one per run per
// recorder batch, WorkflowRunEventChunk) and each span is a row of its own; once it ends (or pauses for
// approval), one transaction inserts the pack and deletes the rows it holds. A run resumed later writes
// chunks again and is packed again when it ends: a run may hold several packs, each a contiguous range of
// seqs. Reads take chunks and packs in one snapshot and return the events and spans exactly as they were
// recorded.
import { deflateRawSync, inflateRawSync } from "node:zlib";
import type { TraceSpan } from "./client";

/**
 * Deflate's level 3 (zlib's default is 6): on `analysis_code` runs' packs, 0.16 against 0.25-0.40 ms per
 * pack for 3.2 against 2.9 KB (2026-11-29, docs/benchmarks.md). Level 4 and above add lazy matching, which
 * costs nearly twice the time for 6 % less.
 */
const LEVEL = 3;

/** The stored form of a list of JSON texts. */
export function deflateJson(texts: readonly string[]): Buffer {
  return deflateRawSync(Buffer.from(`[${texts.join(",")}]`, "utf8"), { level: LEVEL });
}

/** The values `deflateJson` stored, parsed. */
export function inflateJson(data: Uint8Array): unknown[] {
  return JSON.parse(inflateRawSync(data).toString("utf8")) as unknown[];
}

export type PackRow = { runId: string; lastSeq: number; firstSeq: number; events: Buffer; spanCount: number; spans: Buffer | null };
/** A chunk row's events: `events` is the JSON array text of the events firstSeq..lastSeq. */
export type EventChunk = { firstSeq: number; lastSeq: number; events: string };
type PackedSpan = Omit<TraceSpan, "id" | "runId">;

/**
 * The pack of a finished run's rows (chunks in seq order, spans in id order): its chunks' contiguous prefix
 * and every span. Null when there is no chunk. `lastSpanId`: the spans it holds are those up to this id.
 */
export function planPack(runId: string, chunks: readonly EventChunk[], spans: readonly TraceSpan[]): { pack: PackRow; lastSpanId: number | null } | null {
  const first = chunks[0];
  if (!first) return null;
  let end = 1;
  while (end < chunks.length && chunks[end]!.firstSeq === chunks[end - 1]!.lastSeq + 1) end++;
  const packedSpans = spans.map(({ id: _id, runId: _runId, ...span }): PackedSpan => span);
  return {
    pack: {
      runId,
      firstSeq: first.firstSeq,
      lastSeq: chunks[end - 1]!.lastSeq,
      // Each chunk's array without its brackets: the texts join into one array, unparsed.
      events: deflateJson(chunks.slice(0, end).map((chunk) => chunk.events.slice(1, -1))),
      spanCount: spans.length,
      spans: spans.length > 0 ? deflateJson(packedSpans.map((span) => JSON.stringify(span))) : null,
    },
    lastSpanId: spans.at(-1)?.id ?? null,
  };
}

/**
 * The events after `afterSeq`, at most `limit`, in seq order, as JSON values, from what ONE snapshot holds:
 * the first `limit` chunks ending after `afterSeq` and every pack ending after it. Exact: each chunk read
 * holds at least one event after `afterSeq`, so an event in a chunk not read comes after `limit` events that are.
 */
export function mergeEvents(chunks: readonly EventChunk[], packs: readonly { firstSeq: number; events: Uint8Array }[], afterSeq: number, limit: number): unknown[] {
  const ranges = chunks.map((chunk) => ({ firstSeq: chunk.firstSeq, events: JSON.parse(chunk.events) as unknown[] }));
  for (const pack of packs) ranges.push({ firstSeq: pack.firstSeq, events: inflateJson(pack.events) });
  // Chunks and packs hold disjoint ranges of seqs.
  ranges.sort((a, b) => a.firstSeq - b.firstSeq);
  const found: unknown[] = [];
  for (const range of ranges) {
    for (let i = Math.max(0, afterSeq + 1 - range.firstSeq); i < range.events.length && found.length < limit; i++) found.push(range.events[i]);
  }
  return found;
}

/** A run's spans in recording order from ONE snapshot: its packs' (in seq order), then its rows (in id order). */
export function mergeSpans(runId: string, packs: readonly { spans: Uint8Array | null }[], rows: readonly TraceSpan[]): TraceSpan[] {
  const packed = packs.flatMap((pack) => (pack.spans === null ? [] : (inflateJson(pack.spans) as PackedSpan[]).map((span): TraceSpan => ({ ...span, id: 0, runId }))));
  return packed.length === 0 ? [...rows] : [...packed, ...rows];
}
