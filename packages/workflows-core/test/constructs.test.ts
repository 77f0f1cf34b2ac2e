import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { EventOf, LoopStage, ParallelStage, WorkflowEvent, WorkflowSpec } from "../src";
import { InProcessAdmission, InvalidInputError, InvalidWorkflowSpecError, RunInterruptedError, typedStep, WorkflowRegistry } from "../src";
import { lastUserText, type Responder } from "../src/testing";
import { collect, defaultResponder, setup, testCatalog, verdictSchema } from "./fixtures";

const spec = (steps: WorkflowSpec["steps"], extra: Partial<WorkflowSpec> = {}): WorkflowSpec => ({ key: "flow", displayName: "Flow", description: "test", steps, ...extra });
const ofType = <T extends WorkflowEvent["type"]>(events: WorkflowEvent[], type: T) => events.filter((e): e is EventOf<T> => e.type === type);
const agentOf = (request: Parameters<Responder>[0]) => /^(\w+)/.exec(request.systemInstructions ?? "")?.[1]?.toLowerCase() ?? "";

/** Resolves once `n` calls are waiting; each call waits for all of them (proves they overlap). */
function barrier(n: number): () => Promise<void> {
  let waiting = 0;
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return () => {
    if (++waiting >= n) open();
    return opened;
  };
}

/** A promise that never settles: a model that hangs until its request is aborted. */
const never = <T>() => new Promise<T>(() => undefined);

const review: ParallelStage = {
  kind: "parallel",
  name: "review",
  branches: [
    { name: "clarity", agentKey: "echo", inputMapper: (ctx) => `clarity of ${ctx.input}` },
    { name: "accuracy", agentKey: "echo", inputMapper: (ctx) => `accuracy of ${ctx.input}` },
    { name: "tone", agentKey: "echo", inputMapper: (ctx) => `tone of ${ctx.input}` },
  ],
  reduce: { name: "verdict", agentKey: "backup" },
};

const revise: LoopStage = {
  kind: "loop",
  name: "revise",
  maxIterations: 3,
  steps: [
    { name: "draft", agentKey: "echo", inputMapper: (ctx) => `draft ${ctx.iteration}` },
    // The judge rejects the first pass only.
    { name: "check", agentKey: "judge", inputMapper: (ctx) => (ctx.iteration === 1 ? "REJECT" : "looks good") },
  ],
  until: (ctx) => verdictSchema.safeParse(ctx.byName.check?.structuredOutput).data?.approved === true,
};

describe("code steps", () => {
  it("run a function with the context: text is the output, a value the structured output, recorded as (code) with a span", async () => {
    const { runner, recorder } = setup([
      spec([
        { name: "count", kind: "code", run: (ctx) => ({ words: ctx.input.split(" ").length }) },
        { name: "say", kind: "code", run: (ctx) => `counted ${ctx.previousOutput}` },
      ]),
    ]);
    const result = await runner.run("flow", "one two three");
    expect(result.status).toBe("succeeded");
    expect(result.finalOutput).toBe('counted {"words":3}');
    const stored = recorder.get(result.workflowRunId);
    expect(stored.steps.map((s) => [s.name, s.agentKey, s.status, s.structuredOutput])).toEqual([
      ["count", "(code)", "succeeded", { words: 3 }],
      ["say", "(code)", "succeeded", null],
    ]);
    expect(stored.spans.filter((s) => s.kind === "custom").map((s) => [s.stepIndex, s.name])).toEqual([
      [0, "count"],
      [1, "say"],
    ]);
  });

  it("are retried with the step's policy when they throw, then fail with CODE_ERROR", async () => {
    let calls = 0;
    const { runner } = setup([
      spec([
        {
          name: "flaky",
          kind: "code",
          retry: { maxAttempts: 3 },
          run: (_ctx, { attempt }) => {
            calls++;
            if (attempt < 2) throw new Error("not yet");
            return "ok";
          },
        },
        { name: "broken", kind: "code", retry: { maxAttempts: 2 }, run: () => Promise.reject(new Error("always")) },
      ]),
    ]);
    const events = await collect(runner.stream("flow", "x"));
    expect(calls).toBe(2);
    expect(ofType(events, "step.retrying").map((e) => [e.stepName, e.attempt, e.error.code])).toEqual([
      ["flaky", 1, "CODE_ERROR"],
      ["broken", 1, "CODE_ERROR"],
    ]);
    expect(events.at(-1)).toMatchObject({ type: "run.failed", stepIndex: 1, error: { code: "CODE_ERROR", message: "Code step threw: always" } });
  });

  it("end at their time limit even when the function ignores the signal (STEP_TIMEOUT)", async () => {
    const { runner } = setup([spec([{ name: "stuck", kind: "code", timeoutMs: 30, retry: { maxAttempts: 1 }, run: () => never() }])]);
    const result = await runner.run("flow", "x");
    expect(result.error).toMatchObject({ code: "STEP_TIMEOUT" });
  });

  it("check a value against outputSchema (INVALID_OUTPUT, not retried)", async () => {
    let calls = 0;
    const { runner } = setup([spec([{ name: "n", kind: "code", outputSchema: z.object({ n: z.number() }), run: () => (calls++, { n: "one" }) }])]);
    const result = await runner.run("flow", "x");
    expect(calls).toBe(1);
    expect(result.error).toMatchObject({ code: "INVALID_OUTPUT" });
  });
});

describe("typed input and outputs", () => {
  const typed = spec([{ name: "greet", kind: "code", run: (ctx) => `hello ${(ctx.data as { name: string }).name}` }], { inputSchema: z.object({ name: z.string().min(1) }) });

  it("validates the input before anything is recorded, with the schema's issues under `input`", async () => {
    const { runner, recorder } = setup([typed]);
    const error: unknown = await runner.start("flow", JSON.stringify({ name: "" })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).issues?.[0]).toMatchObject({ path: ["input", "name"], code: "too_small" });
    await expect(runner.start("flow", "not json")).rejects.toThrow(/inputSchema/);
    expect(recorder.runIds()).toEqual([]);
    expect((await runner.run("flow", JSON.stringify({ name: "Ada" }))).finalOutput).toBe("hello Ada");
  });

  it("publishes the input as JSON Schema; plain text workflows publish a string schema", () => {
    const registry = WorkflowRegistry.create({ workflows: [typed, spec([{ name: "a", agentKey: "echo" }], { key: "plain" })], catalog: testCatalog });
    expect(registry.require("flow").descriptor.inputSchema).toMatchObject({ type: "object", properties: { name: { type: "string", minLength: 1 } }, required: ["name"] });
    expect(registry.require("plain").descriptor.inputSchema).toEqual({ type: "string" });
  });

  it("types a step's declared output for later steps (typedStep), read without parsing again", async () => {
    const check = typedStep({ name: "check", agentKey: "judge", outputSchema: verdictSchema });
    const { runner } = setup([spec([check, { name: "use", kind: "code", run: (ctx) => (check.resultOf(ctx)?.approved === true ? "approved" : "rejected") }])]);
    expect((await runner.run("flow", "fine")).finalOutput).toBe("approved");
  });

  it("a guard with onGuardFalse: fail fails the step with GUARD_REJECTED and its reason", async () => {
    const { runner } = setup([
      spec([
        { name: "check", agentKey: "judge" },
        { name: "write", agentKey: "echo", guard: () => false, onGuardFalse: "fail", guardReason: (ctx) => `rejected: ${verdictSchema.parse(ctx.byName.check?.structuredOutput).reason}` },
      ]),
    ]);
    const result = await runner.run("flow", "REJECT");
    expect(result.status).toBe("failed");
    expect(result.error).toEqual({ code: "GUARD_REJECTED", message: 'Step "write" did not pass its guard: rejected: asked to reject' });
    expect(result.steps[1]).toMatchObject({ status: "failed", error: { code: "GUARD_REJECTED" } });
  });
});

describe("parallel stages", () => {
  it("run their branches at once, each its own recorded step, then the reducer over all results", async () => {
    const arrived = barrier(3);
    const responder: Responder = async (request, i) => {
      if (agentOf(request) === "echo") await arrived();
      return defaultResponder(request, i);
    };
    const { runner, recorder, model } = setup([spec([review])], responder);
    const result = await runner.run("flow", "the text");
    expect(result.status).toBe("succeeded");
    expect(model.requests).toHaveLength(4);
    const stored = recorder.get(result.workflowRunId);
    expect(stored.steps.map((s) => [s.index, s.name, s.stage, s.status])).toEqual([
      [0, "clarity", "review", "succeeded"],
      [1, "accuracy", "review", "succeeded"],
      [2, "tone", "review", "succeeded"],
      [3, "verdict", "review", "succeeded"],
    ]);
    expect(lastUserText(model.requests[3]!)).toBe("## clarity\necho: clarity of the text\n\n## accuracy\necho: accuracy of the text\n\n## tone\necho: tone of the text");
    expect(result.finalOutput).toMatch(/^backup: ## clarity/);
  });

  it("stream each branch's text as its own step.delta events, whole, though the branches stream in the same turns", async () => {
    const arrived = barrier(3);
    const responder: Responder = async (request, i) => {
      if (agentOf(request) === "echo") await arrived();
      return defaultResponder(request, i);
    };
    const { runner } = setup([spec([review])], responder, { chunkSize: 3 });
    const events = await collect(runner.stream("flow", "the text"));
    const textOf = (stepIndex: number) => ofType(events, "step.delta").filter((e) => e.stepIndex === stepIndex).map((e) => e.delta).join("");
    expect([0, 1, 2].map(textOf)).toEqual(["echo: clarity of the text", "echo: accuracy of the text", "echo: tone of the text"]);
    for (const step of [0, 1, 2]) {
      const types = events.filter((e) => "stepIndex" in e && e.stepIndex === step).map((e) => e.type);
      expect(types.indexOf("step.delta")).toBeGreaterThan(types.indexOf("step.started"));
      expect(types.lastIndexOf("step.delta")).toBeLessThan(types.indexOf("step.completed"));
    }
  });

  it("count each branch running beyond the first against the admission: one slot runs them one at a time, without deadlock", async () => {
    let inFlight = 0;
    let peak = 0;
    const responder: Responder = async (request, i) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return defaultResponder(request, i);
    };
    const one = setup([spec([review])], responder, {}, { admission: new InProcessAdmission(1) });
    const results = await Promise.all([one.runner.run("flow", "a"), one.runner.run("flow", "b")]);
    expect(results.map((r) => r.status)).toEqual(["succeeded", "succeeded"]);
    expect(peak).toBe(1);
  });

  it("keep the other branches when a branch with onFailure: skip fails; the reducer sees the failure", async () => {
    const stage: ParallelStage = { ...review, branches: [review.branches[0]!, { name: "broken", kind: "code", onFailure: "skip", retry: { maxAttempts: 1 }, run: () => Promise.reject(new Error("down")) }] };
    const { runner, model } = setup([spec([stage])]);
    const result = await runner.run("flow", "t");
    expect(result.status).toBe("succeeded");
    expect(result.steps.map((s) => s.status)).toEqual(["succeeded", "failed", "succeeded"]);
    expect(lastUserText(model.requests.at(-1)!)).toContain("## broken\n(failed)");
  });

  it("fail the run at a branch that fails under onFailure: stop; the reducer never runs", async () => {
    const stage: ParallelStage = { ...review, branches: [review.branches[0]!, { name: "broken", kind: "code", retry: { maxAttempts: 1 }, run: () => Promise.reject(new Error("down")) }] };
    const { runner } = setup([spec([stage])]);
    const result = await runner.run("flow", "t");
    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("CODE_ERROR");
    expect(result.steps.map((s) => s.status)).toEqual(["succeeded", "failed", "pending"]);
  });

  it("resume in the middle: only the branch that had not finished runs again, then the reducer", async () => {
    const hang: Responder = (request, i) => (lastUserText(request).startsWith("accuracy") ? never() : defaultResponder(request, i));
    const first = setup([spec([review])], hang);
    const controller = new AbortController();
    let completed = 0;
    const started = await first.runner.start("flow", "doc", {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === "step.completed" && ++completed === 2) controller.abort(new RunInterruptedError());
      },
    });
    if (!started.created) throw new Error("not created");
    expect((await started.done).status).toBe("interrupted");
    expect(first.recorder.get(started.workflowRunId).steps.map((s) => s.status)).toEqual(["succeeded", "cancelled", "succeeded", "cancelled"]);

    const again = setup([spec([review])], defaultResponder, {}, { recorder: first.recorder });
    const resumed = await again.runner.resume(started.workflowRunId, { resumedBy: "start-up" });
    expect(resumed.fromStepIndex).toBe(1);
    const result = await resumed.done;
    expect(result.status).toBe("succeeded");
    expect(again.model.requests.map(lastUserText)[0]).toBe("accuracy of doc");
    expect(again.model.requests).toHaveLength(2);
    expect(lastUserText(again.model.requests[1]!)).toContain("## accuracy\necho: accuracy of doc");
    const stored = again.recorder.get(started.workflowRunId);
    expect(stored.steps.map((s) => [s.name, s.status])).toEqual([
      ["clarity", "succeeded"],
      ["accuracy", "succeeded"],
      ["tone", "succeeded"],
      ["verdict", "succeeded"],
    ]);
    expect(stored.events.map((e) => e.seq)).toEqual(stored.events.map((_, i) => i + 1));
  });
});

describe("loops", () => {
  it("repeat their steps until the condition holds, each pass its own rows with the iteration; passes not needed are skipped", async () => {
    const { runner, recorder } = setup([spec([revise])]);
    const result = await runner.run("flow", "topic");
    expect(result.status).toBe("succeeded");
    const stored = recorder.get(result.workflowRunId);
    expect(stored.steps.map((s) => [s.index, s.name, s.stage, s.iteration, s.status])).toEqual([
      [0, "draft", "revise", 1, "succeeded"],
      [1, "check", "revise", 1, "succeeded"],
      [2, "draft", "revise", 2, "succeeded"],
      [3, "check", "revise", 2, "succeeded"],
      [4, "draft", "revise", 3, "skipped"],
      [5, "check", "revise", 3, "skipped"],
    ]);
    expect(stored.steps[4]?.skipReason).toBe('loop "revise" ended after pass 2');
    expect(result.structuredOutput).toEqual({ approved: true, reason: "fine" });
  });

  it("fail with LOOP_EXHAUSTED when the last pass still does not satisfy the condition, or go on with onExhausted: continue", async () => {
    const stubborn: LoopStage = { ...revise, maxIterations: 2, steps: [{ name: "check", agentKey: "judge", inputMapper: () => "REJECT" }] };
    const failing = setup([spec([stubborn])]);
    const failed = await failing.runner.run("flow", "t");
    expect(failed.error).toEqual({ code: "LOOP_EXHAUSTED", message: 'Loop "revise" did not reach its condition in 2 passes.' });
    const going = setup([spec([{ ...stubborn, onExhausted: "continue" as const }, { name: "after", kind: "code", run: () => "done" }])]);
    expect((await going.runner.run("flow", "t")).finalOutput).toBe("done");
  });

  it("resume in the middle of a pass: earlier passes are not run again and the loop knows its iteration", async () => {
    const hang: Responder = (request, i) => (lastUserText(request) === "looks good" ? never() : defaultResponder(request, i));
    const first = setup([spec([revise])], hang);
    const controller = new AbortController();
    const started = await first.runner.start("flow", "t", {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === "step.started" && e.stepIndex === 3) controller.abort(new RunInterruptedError());
      },
    });
    if (!started.created) throw new Error("not created");
    expect((await started.done).status).toBe("interrupted");

    const again = setup([spec([revise])], defaultResponder, {}, { recorder: first.recorder });
    const resumed = await again.runner.resume(started.workflowRunId, { resumedBy: "api" });
    expect(resumed.fromStepIndex).toBe(3);
    expect((await resumed.done).status).toBe("succeeded");
    expect(again.model.requests.map(lastUserText)).toEqual(["looks good"]);
    expect(again.recorder.get(started.workflowRunId).steps.map((s) => [s.iteration, s.status])).toEqual([
      [1, "succeeded"],
      [1, "succeeded"],
      [2, "succeeded"],
      [2, "succeeded"],
      [3, "skipped"],
      [3, "skipped"],
    ]);
  });
});

describe("registry checks of the constructs", () => {
  const fails = (steps: WorkflowSpec["steps"]) => () => WorkflowRegistry.create({ workflows: [spec(steps)], catalog: testCatalog });

  it("names the workflow and the step", () => {
    expect(fails([{ ...review, branches: [review.branches[0]!] }])).toThrow(/Workflow "flow" step 0 "review": branches: a parallel stage needs at least two branches/);
    expect(fails([{ ...revise, maxIterations: undefined as unknown as number }])).toThrow(/Workflow "flow" step 0 "revise": maxIterations: a loop needs maxIterations/);
    expect(fails([{ ...revise, steps: [] }])).toThrow(/a loop needs at least one step/);
    expect(fails([{ ...review, reduce: { name: "verdict", agentKey: "ghost" } }])).toThrow(/Workflow "flow" step "verdict": unknown agent "ghost"/);
    expect(fails([review, { name: "tone", agentKey: "echo" }])).toThrow(/step "tone": duplicate step name/);
    expect(fails([{ name: "c", kind: "code" } as unknown as WorkflowSpec["steps"][number]])).toThrow(InvalidWorkflowSpecError);
  });
});
