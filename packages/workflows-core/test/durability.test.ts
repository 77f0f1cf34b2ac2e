import { describe, expect, it } from "vitest";
import type { EventOf, WorkflowEvent, WorkflowSpec } from "../src";
import { ConflictError, InProcessAdmission, NotFoundError, WorkflowRegistry, WorkflowRunner } from "../src";
import * as testCatalogModule from "@workflows/agents";
import { FnModel, fnProvider, lastUserText, type Responder } from "../src/testing";
import { collect, defaultResponder, httpError, setup, testCatalog } from "./fixtures";

const chain = (steps: WorkflowSpec["steps"], extra: Partial<WorkflowSpec> = {}): WorkflowSpec => ({ key: "chain", displayName: "Chain", description: "test", steps, ...extra });
const ofType = <T extends WorkflowEvent["type"]>(events: WorkflowEvent[], type: T) => events.filter((e): e is EventOf<T> => e.type === type);

/** Fails the first `n` requests with `error`, then answers as the default responder does. */
const failFirst = (n: number, error: () => Error): Responder => (request, i) => (i < n ? { error: error() } : defaultResponder(request, i));

describe("retries", () => {
  it("retries a 500 twice and succeeds on the third request, each retry an event, usage of failed attempts counted", async () => {
    const { runner, model, recorder } = setup([chain([{ name: "a", agentKey: "echo" }])], failFirst(2, () => httpError(500)));
    const events = await collect(runner.stream("chain", "hi"));
    expect(model.requests).toHaveLength(3);
    const retrying = ofType(events, "step.retrying");
    expect(retrying.map((e) => [e.attempt, e.error.code, e.error.retryable])).toEqual([
      [1, "MODEL_ERROR", true],
      [2, "MODEL_ERROR", true],
    ]);
    expect(ofType(events, "step.started").map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(events.at(-1)?.type).toBe("run.completed");
    const stored = recorder.get(events[0]!.workflowRunId);
    expect(stored.steps[0]).toMatchObject({ status: "succeeded", attempts: 3, error: null });
  });

  it("does not retry a 400: one request, the run fails", async () => {
    const { runner, model } = setup([chain([{ name: "a", agentKey: "echo" }])], failFirst(5, () => httpError(400)));
    const result = await runner.run("chain", "hi");
    expect(model.requests).toHaveLength(1);
    expect(result.status).toBe("failed");
    expect(result.error).toMatchObject({ code: "MODEL_ERROR" });
    expect(result.steps[0]).toMatchObject({ status: "failed", attempts: 1 });
  });

  it("gives up after maxAttempts and then uses the fallback agent, which gets its own attempts", async () => {
    const responder: Responder = (request, i) => (/^Echo/.test(request.systemInstructions ?? "") ? { error: httpError(503) } : defaultResponder(request, i));
    const { runner, model } = setup([chain([{ name: "a", agentKey: "echo", retry: { maxAttempts: 2 }, onFailure: { fallbackAgentKey: "backup" } }])], responder);
    const events = await collect(runner.stream("chain", "x"));
    expect(model.requests).toHaveLength(3);
    expect(ofType(events, "step.started").map((e) => [e.agentKey, e.attempt])).toEqual([
      ["echo", 1],
      ["echo", 2],
      ["backup", 3],
    ]);
    expect(ofType(events, "step.failed").map((e) => e.onFailure)).toEqual(["fallback"]);
    expect(events.at(-1)).toMatchObject({ type: "run.completed", finalOutput: "backup: x" });
  });

  it("waits what Retry-After asks (capped by maxDelayMs) before retrying", async () => {
    const { runner } = setup([chain([{ name: "a", agentKey: "echo", retry: { maxDelayMs: 20 } }])], failFirst(1, () => httpError(429, { "retry-after-ms": "15" })));
    const events = await collect(runner.stream("chain", "hi"));
    expect(ofType(events, "step.retrying")[0]?.delayMs).toBe(15);
    expect(events.at(-1)?.type).toBe("run.completed");
  });

  it("aborts a hung model request at the step timeout and retries it as STEP_TIMEOUT", async () => {
    const aborted: boolean[] = [];
    const responder: Responder = (request, i) => {
      if (i === 0) {
        return new Promise(() => {
          request.signal?.addEventListener("abort", () => aborted.push(true));
        });
      }
      return defaultResponder(request, i);
    };
    const { runner, model } = setup([chain([{ name: "a", agentKey: "echo", timeoutMs: 50 }])], responder);
    const events = await collect(runner.stream("chain", "hi"));
    expect(aborted).toEqual([true]);
    expect(model.requests).toHaveLength(2);
    expect(ofType(events, "step.retrying")[0]?.error).toMatchObject({ code: "STEP_TIMEOUT", retryable: true });
    expect(events.at(-1)?.type).toBe("run.completed");
  });

  it("fails with STEP_TIMEOUT once the attempts are used up", async () => {
    const hang: Responder = () => new Promise(() => undefined);
    const { runner } = setup([chain([{ name: "a", agentKey: "echo", timeoutMs: 20, retry: { maxAttempts: 2 } }])], hang, { delayMs: 0 });
    const result = await runner.run("chain", "hi");
    expect(result).toMatchObject({ status: "failed", error: { code: "STEP_TIMEOUT" } });
    expect(result.steps[0]?.attempts).toBe(2);
  });

  it("cancels at once during a backoff wait", async () => {
    const controller = new AbortController();
    const { runner, model } = setup([chain([{ name: "a", agentKey: "echo" }])], failFirst(9, () => httpError(500)), {}, { retry: { initialDelayMs: 3_600_000, maxDelayMs: 3_600_000 } });
    const seen: WorkflowEvent[] = [];
    const started = await runner.start("chain", "hi", {
      signal: controller.signal,
      onEvent: (e) => {
        seen.push(e);
        if (e.type === "step.retrying") controller.abort(new Error("stop now"));
      },
    });
    if (!started.created) throw new Error("expected a new run");
    const result = await started.done;
    expect(result.status).toBe("cancelled");
    expect(model.requests).toHaveLength(1);
    expect(seen.at(-1)).toMatchObject({ type: "run.cancelled", reason: "stop now" });
  });
});

describe("resume", () => {
  const threeSteps = chain([
    { name: "a", agentKey: "echo" },
    { name: "b", agentKey: "backup", inputMapper: (ctx) => `from a: ${ctx.byName.a?.output ?? "?"}` },
    { name: "c", agentKey: "echo" },
  ]);

  it("re-runs from the first step that did not succeed, feeding recorded outputs to the next mapper; seq and usage go on", async () => {
    let failB = true;
    const responder: Responder = (request, i) => (failB && /^Backup/.test(request.systemInstructions ?? "") ? { error: httpError(400) } : defaultResponder(request, i));
    const { runner, model, recorder } = setup([threeSteps], responder);
    const first = await runner.run("chain", "in");
    expect(first).toMatchObject({ status: "failed" });
    expect(model.requests).toHaveLength(2);
    const usageBefore = first.usage;

    failB = false;
    const events: WorkflowEvent[] = [];
    const resumed = await runner.resume(first.workflowRunId, { resumedBy: "api", onEvent: (e) => events.push(e) });
    expect(resumed.fromStepIndex).toBe(1);
    const result = await resumed.done;
    expect(result.status).toBe("succeeded");
    // a was not asked again: only b and c.
    expect(model.requests).toHaveLength(4);
    expect(model.requests.slice(2).map(lastUserText)).toEqual(["from a: echo: in", "backup: from a: echo: in"]);
    expect(events[0]).toMatchObject({ type: "run.resumed", fromStepIndex: 1, resumedBy: "api", previousStatus: "failed" });
    const stored = recorder.get(first.workflowRunId);
    expect(stored.events.map((e) => e.seq)).toEqual(stored.events.map((_, i) => i + 1));
    expect(stored.run).toMatchObject({ status: "succeeded", error: null, finalOutput: "echo: backup: from a: echo: in" });
    expect(stored.steps.map((s) => [s.name, s.status, s.attempts])).toEqual([
      ["a", "succeeded", 1],
      ["b", "succeeded", 2],
      ["c", "succeeded", 1],
    ]);
    // The run's total is every attempt's usage: the failed first b included.
    const sum = stored.steps.reduce((n, s) => n + s.usage.totalTokens, 0);
    expect(stored.run.usage.totalTokens).toBe(sum);
    expect(stored.run.usage.totalTokens).toBeGreaterThan(usageBefore.totalTokens);
    // The 400 came back without usage: three requests answered.
    expect(stored.run.usage.requests).toBe(3);
  });

  it("refuses runs that are not resumable, and unknown runs", async () => {
    const { runner } = setup([threeSteps]);
    const done = await runner.run("chain", "in");
    await expect(runner.resume(done.workflowRunId, { resumedBy: "api" })).rejects.toThrow(ConflictError);
    await expect(runner.resume(done.workflowRunId, { resumedBy: "api" })).rejects.toThrow(/succeeded/);
    await expect(runner.resume("nope", { resumedBy: "api" })).rejects.toThrow(NotFoundError);
  });

  it("refuses a run whose workflow changed since, naming both versions, unless allowNewVersion", async () => {
    const failing = setup([threeSteps], failFirst(1, () => httpError(400)));
    const first = await failing.runner.run("chain", "in");
    expect(first.status).toBe("failed");
    const changed = chain(threeSteps.steps.map((s) => (s.name === "c" ? { ...s, maxTurns: 3 } : s)));
    const registry = WorkflowRegistry.create({ workflows: [changed], catalog: testCatalog });
    const runner = new WorkflowRunner({ registry, catalog: testCatalog, modelProvider: fnProvider(new FnModel(defaultResponder)), recorder: failing.recorder });
    const oldHash = failing.registry.require("chain").versionHash;
    const newHash = registry.require("chain").versionHash;
    expect(newHash).not.toBe(oldHash);
    const refusal = runner.resume(first.workflowRunId, { resumedBy: "api" });
    await expect(refusal).rejects.toThrow(ConflictError);
    await expect(refusal).rejects.toThrow(new RegExp(`${oldHash}.*${newHash}`));
    const resumed = await runner.resume(first.workflowRunId, { resumedBy: "api", allowNewVersion: true });
    expect((await resumed.done).status).toBe("succeeded");
    expect(failing.recorder.get(first.workflowRunId).run.versionHash).toBe(newHash);
  });

  it("lets exactly one of two simultaneous resumes claim the run", async () => {
    const { runner } = setup([threeSteps], failFirst(1, () => httpError(400)));
    const first = await runner.run("chain", "in");
    const [a, b] = await Promise.all([runner.resume(first.workflowRunId, { resumedBy: "api" }), runner.resume(first.workflowRunId, { resumedBy: "api" })]);
    const outcomes = await Promise.allSettled([a.done, b.done]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
    const lost = outcomes.find((o) => o.status === "rejected");
    expect(lost?.reason).toBeInstanceOf(ConflictError);
  });
});

describe("versions", () => {
  it("change when an agent's instructions change, not only the steps", () => {
    const spec = chain([{ name: "a", agentKey: "echo" }]);
    const before = WorkflowRegistry.create({ workflows: [spec], catalog: testCatalog }).require("chain").versionHash;
    const { AgentCatalog } = testCatalogModule;
    const edited = new AgentCatalog([{ key: "echo", displayName: "Echo", description: "Echoes.", instructions: "Echo the input, loudly." }]);
    const after = WorkflowRegistry.create({ workflows: [spec], catalog: edited }).require("chain").versionHash;
    expect(after).not.toBe(before);
  });
});

describe("admission", () => {
  it("never runs more than the limit at once; the others wait pending and start in order", async () => {
    let inFlight = 0;
    let peak = 0;
    const responder: Responder = async (request, i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return defaultResponder(request, i);
    };
    const admission = new InProcessAdmission(2);
    const { runner, recorder } = setup([chain([{ name: "a", agentKey: "echo" }, { name: "b", agentKey: "echo" }])], responder, {}, { admission });
    const starts = await Promise.all(Array.from({ length: 8 }, (_, i) => runner.start("chain", `run ${i}`)));
    expect(admission.waiting).toBe(6);
    const pending = starts.filter((s) => s.created && recorder.get(s.workflowRunId).run.status === "pending");
    expect(pending.length).toBeGreaterThanOrEqual(6);
    const results = await Promise.all(starts.map((s) => (s.created ? s.done : Promise.reject(new Error("not created")))));
    expect(results.every((r) => r.status === "succeeded")).toBe(true);
    expect(peak).toBe(2);
  });

  it("cancels a run still waiting for a slot", async () => {
    const admission = new InProcessAdmission(1);
    const { runner, recorder } = setup([chain([{ name: "a", agentKey: "echo" }])], defaultResponder, { delayMs: 30 }, { admission });
    const first = await runner.start("chain", "one");
    const controller = new AbortController();
    const second = await runner.start("chain", "two", { signal: controller.signal });
    controller.abort(new Error("not needed"));
    if (!second.created || !first.created) throw new Error("expected new runs");
    expect((await second.done).status).toBe("cancelled");
    expect(recorder.get(second.workflowRunId).events.map((e) => e.type)).toEqual(["run.cancelled"]);
    expect((await first.done).status).toBe("succeeded");
  });
});

describe("idempotency", () => {
  it("answers a repeated key with the first run, and refuses the key for another input", async () => {
    const { runner } = setup([chain([{ name: "a", agentKey: "echo" }])]);
    const first = await runner.start("chain", "same", { idempotencyKey: "k1" });
    const again = await runner.start("chain", "same", { idempotencyKey: "k1" });
    expect(again).toMatchObject({ created: false, workflowRunId: first.workflowRunId });
    await expect(runner.start("chain", "different", { idempotencyKey: "k1" })).rejects.toThrow(ConflictError);
  });
});


describe("observers", () => {
  it("see every stored event of every run, in order, beside each run's own listener", async () => {
    const observed: WorkflowEvent[] = [];
    const { runner } = setup([chain([{ name: "a", agentKey: "echo" }])], defaultResponder, {}, { observe: (e) => observed.push(e) });
    const streamed = await collect(runner.stream("chain", "one"));
    await runner.run("chain", "two");
    expect(observed.slice(0, streamed.length)).toEqual(streamed);
    expect(observed.filter((e) => e.type === "run.completed")).toHaveLength(2);
  });
});
