/** The outcome of taking one call from a caller's budget. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * Calls per minute per caller, as a token bucket: a caller may burst up to `perMinute` calls, then gets
 * one more every `60 s / perMinute`. Each caller has its own bucket, so one caller's burst never slows
 * another. In memory, per process: with several instances each allows `perMinute`.
 */
export class RateLimiter {
  readonly #capacity: number;
  readonly #refillPerMs: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #now: () => number;

  constructor(perMinute: number, now: () => number = Date.now) {
    this.#capacity = perMinute;
    this.#refillPerMs = perMinute / 60_000;
    this.#now = now;
  }

  take(caller: string): RateDecision {
    const now = this.#now();
    const bucket = this.#buckets.get(caller) ?? { tokens: this.#capacity, at: now };
    bucket.tokens = Math.min(this.#capacity, bucket.tokens + (now - bucket.at) * this.#refillPerMs);
    bucket.at = now;
    this.#buckets.set(caller, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterMs: Math.ceil((1 - bucket.tokens) / this.#refillPerMs) };
  }
}
