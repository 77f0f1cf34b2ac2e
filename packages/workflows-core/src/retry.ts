import type { AgentStep, CodeStep, RetryPolicy } from "./specs";

/** The service-wide defaults a step's own `retry` settings override field by field. */
export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 3, initialDelayMs: 1_000, maxDelayMs: 30_000, multiplier: 2 };

export function retryPolicyOf(step: AgentStep | CodeStep, defaults: RetryPolicy): RetryPolicy {
  return step.retry ? { ...defaults, ...definedOnly(step.retry) } : defaults;
}

/**
 * The wait before retrying after failed attempt `attempt` (1-based): full jitter, a uniform draw in
 * [0, min(maxDelayMs, initialDelayMs * multiplier^(attempt-1))). A delay the model asked for
 * (Retry-After) replaces the draw, still capped by maxDelayMs.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, retryAfterMs: number | null, random: () => number = Math.random): number {
  if (retryAfterMs !== null) return Math.min(policy.maxDelayMs, Math.max(0, retryAfterMs));
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.max(0, attempt - 1));
  return Math.floor(random() * cap);
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function definedOnly<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key in value) if (value[key] !== undefined) out[key] = value[key];
  return out;
}
