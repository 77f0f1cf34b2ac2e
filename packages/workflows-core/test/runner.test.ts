import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { AgentStep, StepContext, WorkflowEvent, WorkflowSpec } from "../src";
import { RunInterruptedError, StepTimeoutError, WorkflowRunner } from "../src";
import { fnProvider, InMemoryRunRecorder, lastUserText } from "../src/testing";
import { collect, defaultResponder, setup, testCatalog, verdictSchema } from "./fixtures";

const chain = (steps: WorkflowSpec["steps"], extra: Partial<WorkflowSpec> = {}): WorkflowSpec => ({ key: "chain", displayName: "Chain", description: "test", steps, ...extra });

describe("WorkflowRunner", () => {
  it("passes the previous output to a step without a mapper and records a succeeded run", async () => {
    const { runner, recorder } = setup([chain([{ name: "a", agentKey: "echo" }, { name: "b", agentKey: "backup" }])]);
    const result = await runner.run("chain", "hello");
    expect(result.status).toBe("succeeded");
    expect(result.steps.map((s) => [s.name, s.status, s.input, s.output])).toEqual([
      ["a", "succeeded", "hello", "echo: hello"],
      ["b", "succeeded", "echo: hello", "backup: echo: hello"],
    ]);
    expect(result.finalOutput).toBe("backup: echo: hello");
    const stored = recorder.get(result.workflowRunId);
    expect(stored.run.status).toBe("succeeded");
    expect(stored.run.finalOutput).toBe("backup: echo: hello");
    expect(stored.steps).toEqual(result.steps);
  });

  it("gives mappers and guards the documented context", async () => {
    const seen: StepContext[] = [];
    const { runner } = setup([
      chain([
        { name: "first", agentKey: "echo" },
        { name: "verdict", agentKey: "judge" },
        {
          name: "third",
          agentKey: "echo",
          guard: (ctx) => {
            seen.push(structuredClone(ctx));
            return true;
          },
          inputMapper: (ctx) => {
            seen.push(structuredClone(ctx));
            return `mapped(${ctx.input}|${ctx.byName.first?.output ?? ""})`;
          },
        },
      ]),
    ]);
    const result = await runner.run("chain", "in");
    expect(seen).toHaveLength(2);
    const ctx = seen[1]!;
    expect(ctx.workflowKey).toBe("chain");
    expect(ctx.input).toBe("in");
    expect(ctx.steps.map((s) => s.name)).toEqual(["first", "verdict"]);
    expect(ctx.byName.first).toMatchObject({ index: 0, agentKey: "echo", status: "succeeded", output: "echo: in", structuredOutput: null });
    expect(ctx.byName.verdict?.structuredOutput).toEqual({ approved: true, reason: "fine" });
    expect(ctx.previousOutput).toBe(JSON.stringify({ approved: true, reason: "fine" }));
    expect(result.steps[2]?.input).toBe("mapped(in|echo: in)");
  });

  it("lists a guard-skipped step in the context, so ctx.steps stays indexed by step", async () => {
    let seen: StepContext | undefined;
    const { runner } = setup([
      chain([
        { name: "first", agentKey: "echo" },
        { name: "never", agentKey: "echo", guard: () => false },
        {
          name: "third",
          agentKey: "echo",
          inputMapper: (ctx) => {
            seen = structuredClone(ctx);
            return ctx.previousOutput;
          },
        },
      ]),
    ]);
    await runner.run("chain", "in");
    expect(seen?.steps.map((s) => [s.index, s.name, s.status])).toEqual([
      [0, "first", "succeeded"],
      [1, "never", "skipped"],
    ]);
    expect(seen?.byName.never).toMatchObject({ status: "skipped", output: null });
    expect(seen?.previousOutput).toBe("echo: in");
  });

  for (const mode of ["run", "stream"] as const) {
    it(`flows structured output to the next step (${mode} mode) and skips a guarded step`, async () => {
      const { runner, recorder } = setup([
        chain([
          { name: "check", agentKey: "judge", outputSchema: verdictSchema },
          { name: "write", agentKey: "echo", guard: (ctx) => verdictSchema.parse(ctx.byName.check?.structuredOutput).approved },
        ]),
      ]);
      const input = "please REJECT";
      let runId: string;
      if (mode === "run") {
        runId = (await runner.run("chain", input)).workflowRunId;
      } else {
        const events = await collect(runner.stream("chain", input));
        runId = events[0]!.workflowRunId;
        expect(events.find((e) => e.type === "step.completed")).toMatchObject({ structuredOutput: { approved: false, reason: "asked to reject" } });
      }
      const { run, steps, events } = recorder.get(runId);
      expect(steps[0]).toMatchObject({ status: "succeeded", structuredOutput: { approved: false, reason: "asked to reject" } });
      expect(steps[1]).toMatchObject({ status: "skipped", skipReason: "guard returned false", input: null });
      expect(events.map((e) => e.type)).toContain("step.skipped");
      expect(run.status).toBe("succeeded");
      expect(run.structuredOutput).toEqual({ approved: false, reason: "asked to reject" });
    });
  }

  it("streams events in order with contiguous seq, equal to what was recorded", async () => {
    const { runner, recorder } = setup([chain([{ name: "a", agentKey: "echo" }, { name: "b", agentKey: "echo" }])]);
    const events = await collect(runner.stream("chain", "a fairly long input so that several deltas are streamed"));
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]?.type).toBe("run.started");
    expect(events.at(-1)?.type).toBe("run.completed");
    const types = events.map((e) => e.type);
    expect(types.indexOf("step.started")).toBeLessThan(types.indexOf("step.delta"));
    expect(types.indexOf("step.delta")).toBeLessThan(types.indexOf("step.completed"));
    expect(recorder.get(events[0]!.workflowRunId).events).toEqual(events);
  });

  it("stores the deltas a step streams in one turn of the event loop as one step.delta, and those apart as several", async () => {
    const text = "echo: a fairly long input so that several deltas are streamed";
    const deltasOf = (events: WorkflowEvent[]) => events.flatMap((e) => (e.type === "step.delta" ? [e.delta] : []));
    const burst = setup([chain([{ name: "a", agentKey: "echo" }])], defaultResponder, { chunkSize: 8 });
    expect(deltasOf(await collect(burst.runner.stream("chain", text.slice("echo: ".length))))).toEqual([text]);
    // Apart: the model sends each delta only once the one before it was delivered.
    const seen: string[] = [];
    let waiter: { count: number; resolve: () => void } | undefined;
    const beforeDelta = (count: number) => (seen.length >= count ? Promise.resolve() : new Promise<void>((resolve) => (waiter = { count, resolve })));
    const apart = setup([chain([{ name: "a", agentKey: "echo" }])], defaultResponder, { chunkSize: 8, beforeDelta });
    for await (const event of apart.runner.stream("chain", text.slice("echo: ".length))) {
      if (event.type !== "step.delta") continue;
      seen.push(event.delta);
      if (waiter && seen.length >= waiter.count) waiter.resolve();
    }
    expect(seen).toEqual(Array.from({ length: Math.ceil(text.length / 8) }, (_, i) => text.slice(i * 8, i * 8 + 8)));
  });

  it("sums token usage per step and per run", async () => {
    const { runner } = setup([chain([{ name: "a", agentKey: "echo" }, { name: "b", agentKey: "echo" }])]);
    const result = await runner.run("chain", "usage");
    for (const step of result.steps) expect(step.usage.requests).toBe(1);
    expect(result.usage.requests).toBe(2);
    expect(result.usage.totalTokens).toBe(result.steps.reduce((n, s) => n + s.usage.totalTokens, 0));
    expect(result.usage.totalTokens).toBeGreaterThan(0);
  });

  describe("maxTurns and onFailure", () => {
    it("stop: a step over its maxTurns fails the run; later steps stay pending", async () => {
      const { runner } = setup([chain([{ name: "loop", agentKey: "pinger", maxTurns: 2 }, { name: "after", agentKey: "echo" }])]);
      const result = await runner.run("chain", "go");
      expect(result.status).toBe("failed");
      expect(result.error?.code).toBe("MAX_TURNS_EXCEEDED");
      expect(result.steps.map((s) => s.status)).toEqual(["failed", "pending"]);
      expect(result.steps[0]?.usage.requests).toBe(2);
    });

    it("maxTurns overrides the default: the same step passes with a larger budget", async () => {
      let calls = 0;
      const { runner } = setup([chain([{ name: "loop", agentKey: "pinger", maxTurns: 3 }])], (request) => {
        calls++;
        return calls < 3 ? { toolCall: { name: "ping" } } : { text: `done after ${lastUserText(request)}` };
      });
      expect((await runner.run("chain", "go")).status).toBe("succeeded");
    });

    it("skip: records the failure and goes on with the previous output", async () => {
      const { runner } = setup([
        chain([
          { name: "a", agentKey: "echo" },
          { name: "loop", agentKey: "pinger", maxTurns: 1, onFailure: "skip" },
          { name: "c", agentKey: "backup" },
        ]),
      ]);
      const result = await runner.run("chain", "x");
      expect(result.status).toBe("succeeded");
      expect(result.steps.map((s) => s.status)).toEqual(["succeeded", "failed", "succeeded"]);
      expect(result.steps[1]?.error?.code).toBe("MAX_TURNS_EXCEEDED");
      expect(result.steps[2]?.input).toBe("echo: x");
    });

    it("fallback: runs the fallback agent once in the failed agent's place", async () => {
      const { runner, recorder } = setup([chain([{ name: "loop", agentKey: "pinger", maxTurns: 1, onFailure: { fallbackAgentKey: "backup" } }])]);
      const result = await runner.run("chain", "y");
      expect(result.status).toBe("succeeded");
      expect(result.steps[0]).toMatchObject({ status: "succeeded", agentKey: "backup", attempts: 2, output: "backup: y", error: null });
      const failed = recorder.get(result.workflowRunId).events.find((e) => e.type === "step.failed");
      expect(failed).toMatchObject({ agentKey: "pinger", attempt: 1, onFailure: "fallback", error: { code: "MAX_TURNS_EXCEEDED" } });
    });

    it("a failing fallback stops the run", async () => {
      const { runner } = setup([chain([{ name: "loop", agentKey: "pinger", maxTurns: 1, onFailure: { fallbackAgentKey: "pinger" } }])]);
      const result = await runner.run("chain", "z");
      expect(result.status).toBe("failed");
      expect(result.steps[0]).toMatchObject({ status: "failed", attempts: 2 });
    });

    it("a model error fails the step with MODEL_ERROR", async () => {
      const { runner } = setup([chain([{ name: "a", agentKey: "echo" }])], () => ({ error: new Error("upstream 500") }));
      const result = await runner.run("chain", "x");
      expect(result.error).toEqual({ code: "MODEL_ERROR", message: "upstream 500" });
    });

    it("output not matching the step's outputSchema fails with INVALID_OUTPUT", async () => {
      const { runner } = setup([chain([{ name: "a", agentKey: "echo", outputSchema: verdictSchema }])], () => ({ text: "not json" }));
      const result = await runner.run("chain", "x");
      expect(result.error?.code).toBe("INVALID_OUTPUT");
    });

    it("a step's outputSchema reaches the model as the SDK's structured output, and its parsed value is the structured output", async () => {
      const { runner, model } = setup([chain([{ name: "a", agentKey: "echo", outputSchema: verdictSchema }])]);
      const result = await runner.run("chain", "x");
      expect(model.requests[0]?.outputType).not.toBe("text");
      expect(result.steps[0]).toMatchObject({ status: "succeeded", structuredOutput: { approved: true, reason: "fine" } });
    });

    it("a step's non-object outputSchema is checked on the text parsed as JSON (no structured output request)", async () => {
      const { runner, model } = setup([chain([{ name: "a", agentKey: "echo", outputSchema: z.array(z.number()) }])], () => ({ text: "not json" }));
      const result = await runner.run("chain", "x");
      expect(model.requests[0]?.outputType).toBe("text");
      expect(result.error?.code).toBe("INVALID_OUTPUT");
      expect(result.error?.message).toContain("not JSON");
    });

    it("a throwing mapper fails the step with MAPPER_ERROR", async () => {
      const { runner } = setup([
        chain([
          {
            name: "a",
            agentKey: "echo",
            inputMapper: () => {
              throw new Error("boom");
            },
          },
        ]),
      ]);
      const result = await runner.run("chain", "x");
      expect(result.error).toEqual({ code: "MAPPER_ERROR", message: "Input mapper failed: boom" });
    });
  });

  it("abort stops a run mid-step: the model call is aborted and the run recorded cancelled", async () => {
    const { runner, recorder, model } = setup([chain([{ name: "a", agentKey: "echo" }, { name: "b", agentKey: "echo" }])], undefined, { delayMs: 10_000 });
    const controller = new AbortController();
    const started = await runner.start("chain", "slow", { signal: controller.signal });
    if (!started.created) throw new Error("expected a new run");
    await waitFor(() => model.requests.length === 1);
    const t0 = Date.now();
    controller.abort(new Error("operator cancelled"));
    const result = await started.done;
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(result.status).toBe("cancelled");
    expect(result.error).toEqual({ code: "CANCELLED", message: "operator cancelled" });
    const stored = recorder.get(started.workflowRunId);
    expect(stored.run.status).toBe("cancelled");
    expect(stored.steps.map((s) => s.status)).toEqual(["cancelled", "cancelled"]);
    expect(stored.events.at(-1)).toMatchObject({ type: "run.cancelled", stepIndex: 0 });
    expect(model.requests[0]?.signal?.aborted).toBe(true);
  });

  it("an abort with RunInterruptedError (service shutdown) records the run interrupted, not cancelled", async () => {
    const { runner, recorder, model } = setup([chain([{ name: "a", agentKey: "echo" }])], undefined, { delayMs: 10_000 });
    const controller = new AbortController();
    const started = await runner.start("chain", "slow", { signal: controller.signal });
    if (!started.created) throw new Error("expected a new run");
    await waitFor(() => model.requests.length === 1);
    controller.abort(new RunInterruptedError());
    const result = await started.done;
    expect(result.status).toBe("interrupted");
    const stored = recorder.get(started.workflowRunId);
    expect(stored.run).toMatchObject({ status: "interrupted", error: { code: "INTERRUPTED", message: "The server stopped before the run finished." } });
    expect(stored.steps[0]?.status).toBe("cancelled");
    expect(stored.events.at(-1)).toMatchObject({ type: "run.cancelled", interrupted: true, stepIndex: 0 });
  });

  it("honours idempotency keys: a second start returns the first run", async () => {
    const { runner, recorder } = setup([chain([{ name: "a", agentKey: "echo" }])]);
    const first = await runner.start("chain", "x", { idempotencyKey: "k1" });
    const second = await runner.start("chain", "x", { idempotencyKey: "k1" });
    expect(second).toMatchObject({ created: false, workflowRunId: first.workflowRunId });
    expect(recorder.runIds()).toHaveLength(1);
    await expect(runner.run("chain", "x", { idempotencyKey: "k1" })).rejects.toThrow(/already exists/);
  });

  it("rejects an unknown workflow before recording anything", async () => {
    const { runner, recorder } = setup([chain([{ name: "a", agentKey: "echo" }])]);
    await expect(runner.run("nope", "x")).rejects.toThrow('Unknown workflow "nope". Known workflows: chain.');
    expect(recorder.runIds()).toHaveLength(0);
  });

  it("records one trace span set per step, attributed to its step", async () => {
    const { runner, recorder } = setup([chain([{ name: "a", agentKey: "pinger", maxTurns: 3 }, { name: "b", agentKey: "echo" }])], (request) =>
      request.tools.some((t) => t.name === "ping") && !JSON.stringify(request.input).includes("pong") ? { toolCall: { name: "ping" } } : { text: "ok" },
    );
    const result = await runner.run("chain", "trace me");
    expect(result.status).toBe("succeeded");
    const spans = recorder.get(result.workflowRunId).spans;
    expect(spans.filter((s) => s.kind === "agent").map((s) => [s.stepIndex, s.name])).toEqual([
      [0, "pinger"],
      [1, "echo"],
    ]);
    expect(spans.some((s) => s.kind === "function" && s.name === "ping" && s.stepIndex === 0)).toBe(true);
    expect(new Set(spans.filter((s) => s.stepIndex === 0).map((s) => s.traceId)).size).toBe(1);
  });
});

describe("WorkflowRunner attempt signals", () => {
  const hang = new Promise<never>(() => undefined);

  it("a chain's attempts share one signal and leave no listener behind; a cancel at a later step aborts that step's model call", async () => {
    const steps = ["a", "b", "c", "d"].map((name) => ({ name, agentKey: "echo" }));
    const { runner, model, recorder } = setup([chain(steps)], (request, n) => (n === 2 ? hang : Promise.resolve(defaultResponder(request, n))));
    const controller = new AbortController();
    // Whole responses: the model then sees the attempt's own signal (a streamed run hands it one of the SDK's).
    const started = await runner.start("chain", "x", { signal: controller.signal, streamed: false });
    if (!started.created) throw new Error("expected a new run");
    await waitFor(() => model.requests.length === 3);
    controller.abort(new Error("operator cancelled"));
    const result = await started.done;
    expect(result).toMatchObject({ status: "cancelled", error: { code: "CANCELLED", message: "operator cancelled" } });
    expect(recorder.get(started.workflowRunId).steps.map((s) => s.status)).toEqual(["succeeded", "succeeded", "cancelled", "cancelled"]);
    const signals = model.requests.map((r) => r.signal);
    expect(signals).toHaveLength(3);
    expect(new Set(signals).size).toBe(1);
    expect(signals[2]?.aborted).toBe(true);
    expect(getEventListeners(signals[2] as AbortSignal, "abort")).toHaveLength(0);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("an attempt that timed out keeps its aborted signal; the retry and the steps after it share a new one", async () => {
    const steps = [
      { name: "a", agentKey: "echo", timeoutMs: 30, retry: { maxAttempts: 2 } },
      { name: "b", agentKey: "echo" },
    ];
    const { runner, model } = setup([chain(steps)], (request, n) => (n === 0 ? hang : Promise.resolve(defaultResponder(request, n))));
    const result = await runner.run("chain", "x");
    expect(result.status).toBe("succeeded");
    const [timedOut, retried, next] = model.requests.map((r) => r.signal);
    expect(timedOut?.aborted).toBe(true);
    expect(timedOut?.reason).toBeInstanceOf(StepTimeoutError);
    expect(retried).not.toBe(timedOut);
    expect(retried?.aborted).toBe(false);
    expect(next).toBe(retried);
  });
});

describe("WorkflowRunner storage failures", () => {
  it("a recorder that throws instead of rejecting is a storage failure, not a crash", async () => {
    const { registry, model } = setup([chain([{ name: "a", agentKey: "echo" }])]);
    const recorder = new InMemoryRunRecorder();
    const append = recorder.append.bind(recorder);
    recorder.append = (event) => {
      if (event.type === "step.started") throw new Error("driver bug");
      return append(event);
    };
    const runner = new WorkflowRunner({ registry, catalog: testCatalog, modelProvider: fnProvider(model), recorder });
    await expect(runner.run("chain", "x")).rejects.toMatchObject({ name: "SystemFaultError", code: "STORAGE_ERROR" });
  });

  it("a defect of the runner is recorded as a failed run (INTERNAL) and reported with its cause", async () => {
    const { runner, registry, recorder } = setup([chain([{ name: "a", agentKey: "echo" }])]);
    // Only a defect can get an unknown agent past the registry; simulate one.
    (registry.require("chain").spec.steps[0] as AgentStep).agentKey = "ghost";
    const error: unknown = await runner.run("chain", "x").catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "SystemFaultError", code: "INTERNAL" });
    expect((error as Error).cause).toBeInstanceOf(Error);
    const [runId] = recorder.runIds();
    expect(recorder.get(runId!).run).toMatchObject({ status: "failed", error: { code: "INTERNAL", message: "The runner failed unexpectedly." } });
  });

  it("fails the run with STORAGE_ERROR and ends the stream when the recorder cannot store an event", async () => {
    const { registry, model } = setup([chain([{ name: "a", agentKey: "echo" }, { name: "b", agentKey: "echo" }])]);
    const recorder = new InMemoryRunRecorder();
    const append = recorder.append.bind(recorder);
    recorder.append = (event) => (event.type === "step.completed" ? Promise.reject(new Error("disk full")) : append(event));
    const runner = new WorkflowRunner({ registry, catalog: testCatalog, modelProvider: fnProvider(model), recorder });
    const seen: WorkflowEvent[] = [];
    const consume = async () => {
      for await (const e of runner.stream("chain", "x")) seen.push(e);
    };
    await expect(consume()).rejects.toMatchObject({ name: "SystemFaultError", code: "STORAGE_ERROR" });
    expect(seen.map((e) => e.type)).not.toContain("step.completed");
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 2_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
