import type { WorkflowEvent } from "@workflows/core";

/** Reads a page of a run's stored events after `afterSeq`, in seq order. */
export type EventPageReader = (workflowRunId: string, opts: { afterSeq: number; limit: number }) => Promise<WorkflowEvent[]>;

export type RunBroadcasterOptions = {
  /** How the broadcaster reads what another writer stored (a notification or the poll), once per run. */
  read: EventPageReader;
  /** The stored lastSeq of several runs in one read: the poll asks it for every followed run at once. */
  lastSeqs: (workflowRunIds: readonly string[]) => Promise<Map<string, number>>;
  /** Events per read. Default 500. */
  pageSize?: number;
  /** Events a subscriber may hold unread; past that it drops them and catches up from the database. Default 1,000. */
  bufferSize?: number;
  /**
   * Every this often, the runs followed here with nothing handed on since the last time are checked in ONE
   * read of their lastSeq, and those that moved are read (the safety net for writers that cannot notify:
   * another process on the same SQLite file, notifications lost while LISTEN reconnects). Default 1 s.
   */
  pollMs?: number;
  onError?: (error: unknown, workflowRunId: string) => void;
};

export type BroadcasterStats = {
  /** Reads of events made by the broadcaster itself (notifications and polls), not by subscribers catching up. */
  reads: number;
  /** Of those, reads made because the safety poll found a run moved. */
  polls: number;
  /** Safety poll checks (one read of the lastSeq of every followed run that was quiet). */
  pollChecks: number;
  /** Times a subscriber's buffer overflowed and it fell back to the database. */
  overflows: number;
};

/** What a subscriber finds when it looks at what was handed on to it. */
export type Take = { type: "events"; events: WorkflowEvent[] } | { type: "behind" } | { type: "empty" };

/**
 * One follower's view of a run's live events: a bounded buffer the broadcaster fills with events that were
 * just stored. The follower reads the database itself while it is behind (it joined late, the buffer
 * overflowed, or an event is missing), and takes from the buffer once it is caught up.
 */
export class LiveSubscription {
  readonly workflowRunId: string;
  #buffer: WorkflowEvent[] = [];
  /** The follower's position as of its last `take`: events up to here are not buffered again. */
  #position: number;
  /** Events were dropped (overflow): the follower must read the database before taking again. */
  #lost = false;
  #wake: (() => void) | undefined;
  readonly #capacity: number;
  readonly #channel: Channel;
  readonly #onOverflow: () => void;
  #closed = false;
  /** Caught up and taking from the buffer (not reading the database). */
  #live = false;

  /** @internal Made by `RunBroadcaster.subscribe`. */
  constructor(channel: Channel, opts: { afterSeq: number; capacity: number; onOverflow: () => void }) {
    this.workflowRunId = channel.workflowRunId;
    this.#channel = channel;
    this.#position = opts.afterSeq;
    this.#capacity = opts.capacity;
    this.#onOverflow = opts.onOverflow;
  }

  /** Events after `afterSeq`, gap-free, when the buffer continues from there; `behind` when the database must fill a gap first. */
  take(afterSeq: number): Take {
    this.#position = Math.max(this.#position, afterSeq);
    if (this.#lost) {
      this.#lost = false;
      this.#live = false;
      return { type: "behind" };
    }
    const buffer = this.#buffer;
    let start = 0;
    while (start < buffer.length && buffer[start]!.seq <= afterSeq) start++;
    if (start === buffer.length) {
      this.#buffer = [];
      return { type: "empty" };
    }
    if (buffer[start]!.seq !== afterSeq + 1) {
      this.#buffer = buffer.slice(start);
      this.#live = false;
      return { type: "behind" };
    }
    this.#buffer = [];
    return { type: "events", events: start === 0 ? buffer : buffer.slice(start) };
  }

  /** Whether anything after `afterSeq` was handed on and not taken yet (or dropped: then the database has it). */
  holdsAfter(afterSeq: number): boolean {
    return this.#lost || (this.#buffer.at(-1)?.seq ?? 0) > afterSeq;
  }

  /** Resolves at the next hand-on (or overflow), or at `close()`. */
  wait(): Promise<void> {
    if (this.#buffer.length > 0 || this.#lost || this.#closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#wake = () => {
        this.#wake = undefined;
        resolve();
      };
    });
  }

  /**
   * The follower read the database up to the run's stored `lastSeq` and goes live: the broadcaster now knows
   * where the run stands and reads after that when notified.
   */
  caughtUp(lastSeq: number): void {
    this.#live = true;
    this.#channel.caughtUp(lastSeq);
  }

  /** Caught up with the database and fed by the broadcaster alone. */
  get live(): boolean {
    return this.#live;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#buffer = [];
    this.#channel.leave(this);
    this.#wake?.();
  }

  /** @internal Hands on stored events (contiguous, in seq order). */
  push(events: readonly WorkflowEvent[]): void {
    if (this.#closed || this.#lost) return;
    let last = this.#buffer.at(-1)?.seq ?? this.#position;
    for (const event of events) {
      if (event.seq <= last) continue;
      // A hole: what is buffered cannot be taken gap-free; keep the newest and let the database fill the rest.
      if (event.seq !== last + 1 && this.#buffer.length > 0) this.#buffer = [];
      this.#buffer.push(event);
      last = event.seq;
    }
    if (this.#buffer.length > this.#capacity) {
      this.#buffer = [];
      this.#lost = true;
      this.#onOverflow();
    }
    this.#wake?.();
  }
}

/** One run's followers in this process and what the broadcaster knows of the run. */
class Channel {
  readonly subscribers = new Set<LiveSubscription>();
  /** Highest seq known to be stored and handed on; null until a follower caught up or a batch came. */
  known: number | null = null;
  /** Highest seq another writer announced. */
  announced = 0;
  reading = false;
  /** Something was handed on since the last poll tick. */
  fresh = false;

  constructor(
    readonly workflowRunId: string,
    private readonly owner: RunBroadcaster,
  ) {}

  caughtUp(lastSeq: number): void {
    if (this.known === null || lastSeq > this.known) this.known = lastSeq;
    this.owner.pull(this, false);
  }

  leave(subscription: LiveSubscription): void {
    if (this.subscribers.delete(subscription)) this.owner.left(this);
  }
}

/**
 * Fans a run's stored events out to every follower in this process: one reader per run, not per follower.
 * Batches stored here are handed on as they were committed (`publish`, no read); batches another instance
 * stored are read once per run per notification (`announce`) and handed on the same way. Each follower has
 * a bounded buffer: a slow one drops what it holds and catches up from the database (see `followRun`).
 */
export class RunBroadcaster {
  readonly #channels = new Map<string, Channel>();
  readonly #read: EventPageReader;
  readonly #pageSize: number;
  readonly #bufferSize: number;
  readonly #pollMs: number;
  readonly #onError: (error: unknown, workflowRunId: string) => void;
  readonly #lastSeqs: (workflowRunIds: readonly string[]) => Promise<Map<string, number>>;
  readonly #stats: BroadcasterStats = { reads: 0, polls: 0, pollChecks: 0, overflows: 0 };
  #subscribers = 0;
  #timer: NodeJS.Timeout | undefined;
  #checking = false;

  constructor(opts: RunBroadcasterOptions) {
    this.#read = opts.read;
    this.#lastSeqs = opts.lastSeqs;
    this.#pageSize = opts.pageSize ?? 500;
    this.#bufferSize = opts.bufferSize ?? 1_000;
    this.#pollMs = opts.pollMs ?? 1_000;
    this.#onError = opts.onError ?? (() => undefined);
  }

  /** Followers in this process. */
  get subscribers(): number {
    return this.#subscribers;
  }

  /** Followers of the run in this process, and how many of them are live (caught up, reading nothing). */
  followers(workflowRunId: string): { total: number; live: number } {
    const subscribers = [...(this.#channels.get(workflowRunId)?.subscribers ?? [])];
    return { total: subscribers.length, live: subscribers.filter((s) => s.live).length };
  }

  get stats(): BroadcasterStats {
    return { ...this.#stats };
  }

  /**
   * Registers a follower positioned after `afterSeq`. Subscribe BEFORE reading the database: every batch
   * committed after that read is then handed on to it.
   */
  subscribe(workflowRunId: string, afterSeq: number): LiveSubscription {
    let channel = this.#channels.get(workflowRunId);
    if (!channel) {
      channel = new Channel(workflowRunId, this);
      this.#channels.set(workflowRunId, channel);
      this.#arm();
    }
    const subscription = new LiveSubscription(channel, { afterSeq, capacity: this.#bufferSize, onOverflow: () => this.#stats.overflows++ });
    channel.subscribers.add(subscription);
    this.#subscribers++;
    return subscription;
  }

  /** Events of one run just committed (contiguous, in seq order), handed on without a read. */
  publish(workflowRunId: string, events: readonly WorkflowEvent[]): void {
    const channel = this.#channels.get(workflowRunId);
    const last = events.at(-1);
    if (!channel || !last) return;
    if (channel.known === null || last.seq > channel.known) channel.known = last.seq;
    channel.fresh = true;
    for (const subscription of channel.subscribers) subscription.push(events);
  }

  /** Another writer stored the run's events up to `lastSeq`: read them once and hand them on. */
  announce(workflowRunId: string, lastSeq: number): void {
    const channel = this.#channels.get(workflowRunId);
    if (!channel) return;
    if (lastSeq > channel.announced) channel.announced = lastSeq;
    this.pull(channel, false);
  }

  /** Stops every poll; followers still registered get nothing more. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#channels.clear();
  }

  /** @internal Reads what the channel lacks (announced past known, or any new event when `poll`), one read at a time. */
  pull(channel: Channel, poll: boolean): void {
    if (channel.reading || channel.known === null) return;
    if (!poll && channel.announced <= channel.known) return;
    channel.reading = true;
    void this.#readMissing(channel, poll)
      .catch((error: unknown) => this.#onError(error, channel.workflowRunId))
      .finally(() => {
        channel.reading = false;
        // A notification that came during the read and was not covered by it.
        if (this.#channels.get(channel.workflowRunId) === channel && channel.known !== null && channel.announced > channel.known) this.pull(channel, false);
      });
  }

  async #readMissing(channel: Channel, poll: boolean): Promise<void> {
    for (;;) {
      const afterSeq = channel.known ?? 0;
      this.#stats.reads++;
      if (poll) this.#stats.polls++;
      const events = await this.#read(channel.workflowRunId, { afterSeq, limit: this.#pageSize });
      if (this.#channels.get(channel.workflowRunId) !== channel) return;
      this.publish(channel.workflowRunId, events.filter((e) => e.seq > afterSeq));
      if (events.length < this.#pageSize) return;
    }
  }

  /** @internal A follower of the channel left; the last one takes the channel with it. */
  left(channel: Channel): void {
    this.#subscribers--;
    if (channel.subscribers.size > 0 || this.#channels.get(channel.workflowRunId) !== channel) return;
    this.#channels.delete(channel.workflowRunId);
    if (this.#channels.size === 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #arm(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#poll().finally(() => {
        if (this.#channels.size > 0) this.#arm();
      });
    }, this.#pollMs);
    this.#timer.unref();
  }

  /** One read of the lastSeq of every quiet followed run; a read of events for each that moved. */
  async #poll(): Promise<void> {
    if (this.#checking) return;
    const quiet: Channel[] = [];
    for (const channel of this.#channels.values()) {
      if (!channel.fresh && !channel.reading && channel.known !== null) quiet.push(channel);
      channel.fresh = false;
    }
    if (quiet.length === 0) return;
    this.#checking = true;
    try {
      this.#stats.pollChecks++;
      const stored = await this.#lastSeqs(quiet.map((c) => c.workflowRunId));
      for (const channel of quiet) {
        const lastSeq = stored.get(channel.workflowRunId);
        if (lastSeq === undefined || this.#channels.get(channel.workflowRunId) !== channel || channel.known === null || lastSeq <= channel.known) continue;
        this.pull(channel, true);
      }
    } catch (error) {
      this.#onError(error, quiet[0]!.workflowRunId);
    } finally {
      this.#checking = false;
    }
  }
}
