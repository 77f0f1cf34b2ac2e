/** Gives back a slot taken with `acquire`. Calling it twice is harmless. */
export type Release = () => void;

/**
 * Decides when a run may execute: at most so many at once, the rest wait in order. The runner takes a
 * slot before a run starts (or resumes) and gives it back when the run ends. Implementations: in-process
 * (`InProcessAdmission`) here; a database queue for several instances behind the same port.
 */
export interface Admission {
  /** Resolves with a slot once one is free; rejects with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<Release>;
  /** Runs holding a slot. */
  readonly active: number;
  /** Runs waiting for one. */
  readonly waiting: number;
}

type Waiter = { grant: (release: Release) => void };

/** First come, first served, `limit` at a time, in this process. */
export class InProcessAdmission implements Admission {
  readonly #limit: number;
  #active = 0;
  readonly #queue: Waiter[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`The concurrency limit must be a positive integer, got ${limit}.`);
    this.#limit = limit;
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#queue.length;
  }

  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (this.#active < this.#limit && this.#queue.length === 0) {
      this.#active++;
      return Promise.resolve(this.#release());
    }
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(release);
        },
      };
      const onAbort = () => {
        const at = this.#queue.indexOf(waiter);
        if (at >= 0) this.#queue.splice(at, 1);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #release(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      // The slot passes straight to the next waiter, so a newcomer cannot overtake the queue.
      if (next) next.grant(this.#release());
      else this.#active--;
    };
  }
}

/** No limit: every run starts at once (the default when no admission is configured). */
export const unlimitedAdmission: Admission = {
  acquire: (signal) => (signal?.aborted ? Promise.reject(signal.reason as Error) : Promise.resolve(() => undefined)),
  active: 0,
  waiting: 0,
};
