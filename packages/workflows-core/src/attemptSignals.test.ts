import { getEventListeners } from "node:events";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AttemptSignals } from "./attemptSignals";
import { StepTimeoutError } from "./errors";

/** Resolves with the signal's reason once it aborts. */
const untilAborted = (signal: AbortSignal): Promise<unknown> => new Promise((resolve) => signal.addEventListener("abort", () => resolve(signal.reason as unknown), { once: true }));

describe("AttemptSignals", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("gives the next attempt the signal of one that did not abort, a new one after an abort, and its own to each attempt at once", async () => {
    const signals = new AttemptSignals(undefined);
    const first = await signals.run(1_000, (signal) => Promise.resolve(signal));
    const second = await signals.run(1_000, (signal) => Promise.resolve(signal));
    expect(second).toBe(first);
    const [a, b] = await Promise.all([signals.run(1_000, (signal) => Promise.resolve(signal)), signals.run(1_000, (signal) => Promise.resolve(signal))]);
    expect(a).not.toBe(b);
    expect([a, b]).toContain(first);
    const controller = new AbortController();
    const cancelled = new AttemptSignals(controller.signal);
    const aborted = await cancelled.run(1_000, (signal) => {
      controller.abort(new Error("stop"));
      return Promise.resolve(signal);
    });
    expect(aborted.aborted).toBe(true);
    signals.close();
    cancelled.close();
  });

  it("never lends the signal of an attempt run with reuse: false", async () => {
    const signals = new AttemptSignals(undefined);
    const own = await signals.run(1_000, (signal) => Promise.resolve(signal), { reuse: false });
    const next = await signals.run(1_000, (signal) => Promise.resolve(signal));
    expect(next).not.toBe(own);
    signals.close();
  });

  it("times each attempt from its own start, the timer of a reused signal included", async () => {
    vi.useFakeTimers();
    const signals = new AttemptSignals(undefined);
    await signals.run(100, async () => {
      await vi.advanceTimersByTimeAsync(80);
    });
    let seen: AbortSignal | undefined;
    const reason = signals.run(100, (signal) => {
      seen = signal;
      return untilAborted(signal);
    });
    await vi.advanceTimersByTimeAsync(70);
    expect(seen?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(31);
    await expect(reason).resolves.toBeInstanceOf(StepTimeoutError);
    // A different limit on the next attempt is that attempt's, on a new signal (the old one aborted).
    let laterSignal: AbortSignal | undefined;
    const later = signals.run(500, (signal) => {
      laterSignal = signal;
      return untilAborted(signal);
    });
    expect(laterSignal).not.toBe(seen);
    await vi.advanceTimersByTimeAsync(499);
    expect(laterSignal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(later).resolves.toMatchObject({ timeoutMs: 500 });
    signals.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("aborts the attempts running when the run is cancelled, and starts later ones aborted", async () => {
    const controller = new AbortController();
    const signals = new AttemptSignals(controller.signal);
    const running = signals.run(60_000, (signal) => untilAborted(signal));
    controller.abort(new Error("operator cancelled"));
    await expect(running).resolves.toMatchObject({ message: "operator cancelled" });
    await expect(signals.run(60_000, (signal) => Promise.resolve(signal.aborted))).resolves.toBe(true);
    signals.close();
  });

  it("listens to the run's signal from the first attempt; close lets go of it and stops every timer", async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const signals = new AttemptSignals(controller.signal);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    await signals.run(60_000, () => Promise.resolve());
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(1);
    signals.close();
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
