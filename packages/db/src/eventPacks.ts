// A finished run's events, folded into one compressed row (WorkflowRunEventPack). Events are the bulk of a
// run's storage (an `analysis_code` run: 190 events, 43 KB of JSON, most of it `step.delta`s repeating the
// run id, the workflow key and the step name); deflated together they take about 3 KB. A run's events are
// written one row each while it runs (the hot append path stays as it is) and packed once it ends, in one
// transaction that inserts the pack and deletes the rows it holds; a run resumed later appends rows again
// and is packed again when it ends, so a run may hold several packs, each a contiguous range of seqs.
// Reads see rows and packs in one snapshot and return the events exactly as they were appended.
import { deflateRawSync, inflateRawSync } from "node:zlib";

/** The stored form of events (their JSON texts, in seq order). */
export function packPayloads(payloads: readonly string[]): Buffer {
  return deflateRawSync(Buffer.from(`[${payloads.join(",")}]`, "utf8"));
}

/** The events of a pack, parsed (JSON values, in seq order). */
export function unpackEvents(data: Uint8Array): unknown[] {
  return JSON.parse(inflateRawSync(data).toString("utf8")) as unknown[];
}

/**
 * The events after `afterSeq`, at most `limit`, in seq order, as JSON values, from what ONE snapshot holds:
 * the first `limit` rows after `afterSeq` and every pack ending after it. Exact: an event not among the rows
 * read comes after `limit` events that are.
 */
export function mergeStoredEvents(rows: readonly { seq: number; payload: string }[], packs: readonly { firstSeq: number; data: Uint8Array }[], afterSeq: number, limit: number): unknown[] {
  const found = rows.map((row) => ({ seq: row.seq, event: JSON.parse(row.payload) as unknown }));
  if (packs.length === 0) return found.map((e) => e.event);
  for (const pack of packs) {
    unpackEvents(pack.data).forEach((event, i) => {
      const seq = pack.firstSeq + i;
      if (seq > afterSeq) found.push({ seq, event });
    });
  }
  found.sort((a, b) => a.seq - b.seq);
  return found.slice(0, limit).map((e) => e.event);
}

/** What one pack of these rows (a run's rows in seq order) holds: their contiguous prefix; null when there are none. */
export function packableRange(rows: readonly { seq: number; payload: string }[]): { firstSeq: number; lastSeq: number; payloads: string[] } | null {
  const first = rows[0];
  if (!first) return null;
  let end = 1;
  while (end < rows.length && rows[end]!.seq === first.seq + end) end++;
  return { firstSeq: first.seq, lastSeq: first.seq + end - 1, payloads: rows.slice(0, end).map((row) => row.payload) };
}
