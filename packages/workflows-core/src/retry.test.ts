import { describe, expect, it } from "vitest";
import { InProcessAdmission } from "./admission";
import { abortableSleep, backoffDelay, defaultRetryPolicy, retryPolicyOf } from "./retry";

const policy = { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 3 };

describe("backoffDelay", () => {
  it("draws uniformly below a cap that grows by the multiplier and stops at maxDelayMs", () => {
    expect(backoffDelay(policy, 1, null, () => 0.999_999)).toBe(99);
    expect(backoffDelay(policy, 2, null, () => 0.999_999)).toBe(299);
    expect(backoffDelay(policy, 3, null, () => 0.999_999)).toBe(899);
    expect(backoffDelay(policy, 4, null, () => 0.999_999)).toBe(999);
    expect(backoffDelay(policy, 9, null, () => 0.999_999)).toBe(999);
    expect(backoffDelay(policy, 3, null, () => 0)).toBe(0);
  });

  it("jitters: many draws spread over the whole range, none outside it", () => {
    const draws = Array.from({ length: 2_000 }, () => backoffDelay(policy, 2, null));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(300);
    expect(Math.min(...draws)).toBeLessThan(30);
    expect(Math.max(...draws)).toBeGreaterThan(270);
  });

  it("takes the model's Retry-After instead of the draw, capped by maxDelayMs", () => {
    expect(backoffDelay(policy, 1, 700, () => 0)).toBe(700);
    expect(backoffDelay(policy, 1, 5_000, () => 0)).toBe(1_000);
  });
});

describe("retryPolicyOf", () => {
  it("overrides the defaults field by field", () => {
    expect(retryPolicyOf({ name: "a", agentKey: "x", retry: { maxAttempts: 1 } }, defaultRetryPolicy)).toEqual({ ...defaultRetryPolicy, maxAttempts: 1 });
    expect(retryPolicyOf({ name: "a", agentKey: "x" }, defaultRetryPolicy)).toBe(defaultRetryPolicy);
  });
});

describe("abortableSleep", () => {
  it("rejects at once with the signal's reason", async () => {
    const controller = new AbortController();
    const sleeping = abortableSleep(60_000, controller.signal);
    controller.abort(new Error("stop"));
    await expect(sleeping).rejects.toThrow("stop");
  });
});

describe("InProcessAdmission", () => {
  it("lets `limit` runs in, the rest in arrival order as slots are given back", async () => {
    const admission = new InProcessAdmission(2);
    const order: number[] = [];
    const a = await admission.acquire();
    const b = await admission.acquire();
    const waiting = [3, 4].map((n) => admission.acquire().then((release) => (order.push(n), release)));
    expect([admission.active, admission.waiting]).toEqual([2, 2]);
    a();
    a();
    const c = await waiting[0]!;
    expect([admission.active, admission.waiting]).toEqual([2, 1]);
    b();
    const d = await waiting[1]!;
    c();
    d();
    expect(order).toEqual([3, 4]);
    expect([admission.active, admission.waiting]).toEqual([0, 0]);
  });

  it("drops a waiter whose signal aborts", async () => {
    const admission = new InProcessAdmission(1);
    const held = await admission.acquire();
    const controller = new AbortController();
    const waiting = admission.acquire(controller.signal);
    controller.abort(new Error("cancelled"));
    await expect(waiting).rejects.toThrow("cancelled");
    expect(admission.waiting).toBe(0);
    held();
    expect(admission.active).toBe(0);
  });
});
