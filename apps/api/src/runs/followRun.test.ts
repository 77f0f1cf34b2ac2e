import type { RunRecord, RunStatus, WorkflowEvent } from "@workflows/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { RunStore } from "../context";
import { followRun } from "./followRun";
import { RunBroadcaster } from "./runBroadcaster";

const RUN = "run-1";

/**
 * A run's stored events in memory, with the reads counted and, when `hold` is on, each read answered only
 * when the test says (its result is what was stored when it was asked, as a database snapshot would be).
 * Batches are committed by hand: stored, then handed to the broadcaster as the recorder does.
 */
class Fixture {
  readonly events: WorkflowEvent[] = [];
  status: RunStatus = "running";
  readonly reads = { listEvents: 0, getRunRecord: 0, lastSeqs: 0 };
  hold = false;
  readonly held: (() => void)[] = [];
  readonly broadcaster: RunBroadcaster;
  readonly store: RunStore;

  constructor(opts: { bufferSize?: number; pageSize?: number; pollMs?: number } = {}) {
    // No poll unless asked: every read below is one the test caused.
    this.broadcaster = new RunBroadcaster({ read: (id, o) => this.store.listEvents(id, o), lastSeqs: (ids) => this.store.lastSeqs(ids), pollMs: 3_600_000, ...opts });
    this.store = {
      getRun: () => Promise.reject(new Error("not used")),
      getRunRecord: (id) => {
        this.reads.getRunRecord++;
        return this.answer(id === RUN ? ({ id, status: this.status, lastSeq: this.events.length } as RunRecord) : null);
      },
      listEvents: (id, { afterSeq, limit }) => {
        this.reads.listEvents++;
        return this.answer(this.events.filter((e) => e.workflowRunId === id && e.seq > afterSeq).slice(0, limit));
      },
      listRuns: () => Promise.reject(new Error("not used")),
      listSpans: () => Promise.reject(new Error("not used")),
      listChildren: () => Promise.reject(new Error("not used")),
      lastSeqs: (ids) => {
        this.reads.lastSeqs++;
        return this.answer(new Map(ids.filter((id) => id === RUN).map((id) => [id, this.events.length])));
      },
      onStored: () => () => undefined,
      subscribe: (id, afterSeq) => this.broadcaster.subscribe(id, afterSeq),
    };
  }

  /** Stores `count` events (the last one terminal when `end`), then hands them on. */
  commit(count: number, opts: { end?: boolean; publish?: boolean } = {}): WorkflowEvent[] {
    const batch: WorkflowEvent[] = [];
    for (let i = 0; i < count; i++) {
      const seq = this.events.length + 1;
      const last = opts.end === true && i === count - 1;
      const event: WorkflowEvent = last
        ? { type: "run.completed", workflowRunId: RUN, workflowKey: "w", seq, at: "2026-01-01T00:00:00.000Z", finalOutput: "done", structuredOutput: null, usage: { requests: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0 }, durationMs: 1 }
        : { type: "step.delta", workflowRunId: RUN, workflowKey: "w", seq, at: "2026-01-01T00:00:00.000Z", stepIndex: 0, stepName: "s", delta: `d${seq}` };
      this.events.push(event);
      batch.push(event);
    }
    if (opts.end) this.status = "succeeded";
    if (opts.publish !== false) this.broadcaster.publish(RUN, batch);
    return batch;
  }

  /** Answers the oldest held read; false when none is waiting. */
  release(): boolean {
    const next = this.held.shift();
    next?.();
    return next !== undefined;
  }

  follow(afterSeq = 0, signal?: AbortSignal): { seqs: number[]; done: Promise<number[]> } {
    const seqs: number[] = [];
    const done = (async () => {
      for await (const event of followRun(this.store, RUN, { afterSeq, ...(signal ? { signal } : {}) })) seqs.push(event.seq);
      return seqs;
    })();
    return { seqs, done };
  }

  private answer<T>(value: T): Promise<T> {
    if (!this.hold) return Promise.resolve(value);
    return new Promise<T>((resolve) => this.held.push(() => resolve(value)));
  }
}

/** Lets every promise continuation and I/O callback queued so far run (no timers involved). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** A small seeded generator, so each interleaving below is the same on every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

describe("followRun on the broadcaster", () => {
  it("joins a run being written without gaps or duplicates, whichever way its reads, the broadcaster's reads and local and remote commits interleave", async () => {
    for (let seed = 1; seed <= 60; seed++) {
      const random = prng(seed);
      // Small pages and buffers too, so that paging, going live and falling back all happen.
      const f = new Fixture({ pageSize: 1 + Math.floor(random() * 4), bufferSize: 2 + Math.floor(random() * 6) });
      f.commit(Math.floor(random() * 6));
      f.hold = true;
      const follower = f.follow();
      for (let step = 0; step < 40; step++) {
        const dice = random();
        if (dice < 0.3) f.commit(1 + Math.floor(random() * 3));
        else if (dice < 0.45) {
          // Stored by another instance: announced, read by the broadcaster (that read is held too).
          const stored = f.commit(1 + Math.floor(random() * 3), { publish: false });
          f.broadcaster.announce(RUN, stored.at(-1)!.seq);
        } else f.release();
        await settle();
        // With no read outstanding, everything committed so far has arrived: none waits for a later commit to reveal it.
        if (f.held.length === 0) expect(follower.seqs, `seed ${seed}, step ${step}`).toEqual(oneTo(f.events.length));
      }
      f.hold = false;
      while (f.release()) await settle();
      // Everything committed so far has arrived, without waiting for a later commit to reveal a gap.
      expect(follower.seqs, `seed ${seed}`).toEqual(oneTo(f.events.length));
      f.commit(1, { end: true });
      const seqs = await follower.done;
      expect(seqs, `seed ${seed}`).toEqual(oneTo(f.events.length));
    }
  });

  it("hands a caught-up follower each committed batch without reading the database", async () => {
    const f = new Fixture();
    f.commit(3);
    const follower = f.follow();
    await settle();
    expect(follower.seqs).toEqual([1, 2, 3]);
    const before = { ...f.reads };
    for (let i = 0; i < 10; i++) {
      f.commit(2);
      await settle();
    }
    expect(follower.seqs).toEqual(oneTo(23));
    expect(f.reads).toEqual(before);
    f.commit(1, { end: true });
    expect(await follower.done).toEqual(oneTo(24));
  });

  it("a slow follower past its buffer drops what it holds, catches up from the database, then goes live again", async () => {
    const f = new Fixture({ bufferSize: 4 });
    f.commit(2);
    const slow = followRun(f.store, RUN, {});
    const got: number[] = [];
    const next = async () => {
      const r = await slow.next();
      if (!r.done) got.push(r.value.seq);
      return r;
    };
    await next();
    await next();
    expect(got).toEqual([1, 2]);
    // The follower does not pull while 9 events are committed: its buffer (4) overflows once.
    for (let i = 0; i < 9; i++) f.commit(1);
    await settle();
    expect(f.broadcaster.stats.overflows).toBe(1);
    const readsBefore = f.reads.listEvents;
    for (let i = 0; i < 9; i++) await next();
    expect(got).toEqual(oneTo(11));
    expect(f.reads.listEvents).toBeGreaterThan(readsBefore);
    // Caught up again: new batches come live, with no read.
    const next12 = next();
    await settle();
    const liveReads = { ...f.reads };
    f.commit(1);
    await next12;
    expect(got).toEqual(oneTo(12));
    expect(f.reads).toEqual(liveReads);
    f.commit(1, { end: true });
    await next();
    expect((await slow.next()).done).toBe(true);
    expect(got).toEqual(oneTo(13));
  });

  it("many followers of one run: one database read per announced batch, not one per follower", async () => {
    const f = new Fixture();
    f.commit(5);
    const followers = Array.from({ length: 100 }, () => f.follow());
    await settle();
    for (const follower of followers) expect(follower.seqs).toEqual(oneTo(5));
    expect(f.broadcaster.subscribers).toBe(100);
    // Batches stored by another instance: the broadcaster hears of them (NOTIFY) and reads them once.
    const before = { ...f.reads };
    for (let batch = 0; batch < 10; batch++) {
      const stored = f.commit(3, { publish: false });
      f.broadcaster.announce(RUN, stored.at(-1)!.seq);
      // A second notification of the same commit costs nothing.
      f.broadcaster.announce(RUN, stored.at(-1)!.seq);
      await settle();
    }
    expect(f.reads.listEvents - before.listEvents).toBe(10);
    expect(f.reads.getRunRecord).toBe(before.getRunRecord);
    expect(f.broadcaster.stats.reads).toBe(10);
    f.commit(1, { end: true });
    for (const follower of followers) expect(await follower.done).toEqual(oneTo(36));
    expect(f.broadcaster.subscribers).toBe(0);
  });

  it("resumes after lastEventId, ends at once on a finished run, and a terminal event followed by run.resumed is not the end", async () => {
    const f = new Fixture();
    f.commit(4);
    const resumed = f.follow(2);
    await settle();
    expect(resumed.seqs).toEqual([3, 4]);
    f.commit(1, { end: true });
    expect(await resumed.done).toEqual([3, 4, 5]);
    expect(await f.follow(5).done).toEqual([]);
    // Replay of a run finished, resumed and finished again goes through both ends.
    f.status = "running";
    f.commit(2);
    f.commit(1, { end: true });
    expect(await f.follow(0).done).toEqual(oneTo(8));
  });

  describe("the safety poll", () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it("finds events stored by a writer that cannot notify: one lastSeq read per tick for the run, one events read when it moved", async () => {
      vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
      const f = new Fixture({ pollMs: 1_000 });
      f.commit(2);
      const followers = Array.from({ length: 20 }, () => f.follow());
      await settle();
      const before = { ...f.reads };
      // Nothing moved: the tick reads the lastSeq once, for every follower together, and no events.
      vi.advanceTimersByTime(1_000);
      await settle();
      expect(f.reads).toEqual({ ...before, lastSeqs: before.lastSeqs + 1 });
      // Another process stored 3 events and could not notify: found at the next tick, read once.
      f.commit(3, { publish: false });
      vi.advanceTimersByTime(1_000);
      await settle();
      expect(f.reads).toEqual({ ...before, lastSeqs: before.lastSeqs + 2, listEvents: before.listEvents + 1 });
      for (const follower of followers) expect(follower.seqs).toEqual(oneTo(5));
      // A batch handed on since the last tick: nothing to check.
      f.commit(1);
      vi.advanceTimersByTime(1_000);
      await settle();
      expect(f.reads.lastSeqs).toBe(before.lastSeqs + 2);
      f.commit(1, { end: true });
      for (const follower of followers) expect(await follower.done).toEqual(oneTo(7));
    });
  });

  it("stops when the signal aborts and leaves the broadcaster", async () => {
    const f = new Fixture();
    f.commit(1);
    const controller = new AbortController();
    const follower = f.follow(0, controller.signal);
    await settle();
    expect(f.broadcaster.subscribers).toBe(1);
    controller.abort();
    expect(await follower.done).toEqual([1]);
    expect(f.broadcaster.subscribers).toBe(0);
  });
});
