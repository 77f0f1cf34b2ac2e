import { StepTimeoutError } from "./errors";

type Lane = { controller: AbortController; signal: AbortSignal; timer: NodeJS.Timeout | undefined; timeoutMs: number; onTimeout: () => void };

/**
 * The abort signals of one run's attempts. Each attempt gets a signal that aborts with the run's reason when
 * the run is cancelled, or with a `StepTimeoutError` when its time limit passes. A signal that did not abort
 * serves the run's next attempt, with its timer re-armed: an AbortSignal, a timer and a listener on the run's
 * signal per attempt were about 4 % of the runner's time on a zero-latency model. Attempts that run at once
 * (parallel branches) hold signals of their own. The run's signal is listened to from the first attempt on:
 * `close()` at the end of a run that made one.
 */
export class AttemptSignals {
  readonly #runSignal: AbortSignal | undefined;
  readonly #free: Lane[] = [];
  readonly #busy = new Set<Lane>();
  #listening = false;
  readonly #onRunAbort = (): void => {
    for (const lane of this.#busy) lane.controller.abort(this.#runSignal?.reason);
  };

  constructor(runSignal: AbortSignal | undefined) {
    this.#runSignal = runSignal;
  }

  /**
   * Runs one attempt with its signal. Unless `reuse` is false, the signal serves later attempts: whoever adds
   * a listener to it removes it before `attempt` settles.
   */
  async run<T>(timeoutMs: number, attempt: (signal: AbortSignal) => Promise<T>, { reuse = true }: { reuse?: boolean } = {}): Promise<T> {
    if (!this.#listening) {
      this.#listening = true;
      this.#runSignal?.addEventListener("abort", this.#onRunAbort, { once: true });
    }
    const lane = this.#free.pop() ?? this.#newLane();
    this.#busy.add(lane);
    if (this.#runSignal?.aborted) lane.controller.abort(this.#runSignal.reason);
    arm(lane, timeoutMs);
    try {
      return await attempt(lane.signal);
    } finally {
      this.#busy.delete(lane);
      if (reuse && !lane.signal.aborted) this.#free.push(lane);
      else clearTimeout(lane.timer);
    }
  }

  #newLane(): Lane {
    const controller = new AbortController();
    const lane: Lane = {
      controller,
      signal: controller.signal,
      timer: undefined,
      timeoutMs: 0,
      // A timer that fires between attempts (the lane free) has nothing to stop.
      onTimeout: () => {
        if (this.#busy.has(lane)) controller.abort(new StepTimeoutError(lane.timeoutMs));
      },
    };
    return lane;
  }

  /** Stops the timers and lets go of the run's signal. */
  close(): void {
    this.#runSignal?.removeEventListener("abort", this.#onRunAbort);
    for (const lane of [...this.#free, ...this.#busy]) clearTimeout(lane.timer);
    this.#free.length = 0;
  }
}

/** Starts the lane's time limit: its timer again when the limit is the same (no new timer), else a new one. */
function arm(lane: Lane, timeoutMs: number): void {
  if (lane.timer !== undefined && lane.timeoutMs === timeoutMs) {
    lane.timer.refresh();
    return;
  }
  clearTimeout(lane.timer);
  lane.timer = setTimeout(lane.onTimeout, timeoutMs);
  lane.timeoutMs = timeoutMs;
}
