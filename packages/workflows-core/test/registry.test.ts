import { createDefaultCatalog } from "@workflows/agents";
import { describe, expect, it } from "vitest";
import { discoverWorkflows, InvalidWorkflowSpecError, WorkflowRegistry, type WorkflowSpec } from "../src";
import { testCatalog } from "./fixtures";

const wf = (over: Partial<WorkflowSpec> = {}): WorkflowSpec => ({
  key: "wf",
  displayName: "Wf",
  description: "",
  steps: [{ name: "one", agentKey: "echo" }],
  ...over,
});

const create = (...workflows: WorkflowSpec[]) => () => WorkflowRegistry.create({ workflows, catalog: testCatalog });

describe("WorkflowRegistry rejects", () => {
  it("duplicate workflow keys", () => {
    expect(create(wf(), wf())).toThrow('Duplicate workflow key "wf".');
  });
  it("a workflow without steps", () => {
    expect(create(wf({ steps: [] }))).toThrow('Workflow "wf": steps: a workflow needs at least one step.');
  });
  it("an unknown agent key, naming the step", () => {
    expect(create(wf({ steps: [{ name: "one", agentKey: "ghost" }] }))).toThrow(/^Workflow "wf" step "one": unknown agent "ghost"\. Known agents: echo, backup/);
  });
  it("an agent with handoffs unless allowHandoffAgents", () => {
    const spec = wf({ steps: [{ name: "route", agentKey: "router" }] });
    expect(create(spec)).toThrow('Workflow "wf" step "route": agent "router" hands off (to echo), which makes the chain non-deterministic. Use an agent without handoffs, or set allowHandoffAgents: true on the workflow.');
    expect(create({ ...spec, allowHandoffAgents: true })).not.toThrow();
  });
  it("more than one default", () => {
    expect(create(wf({ key: "a", default: true }), wf({ key: "b", default: true }))).toThrow('More than one default workflow: "a", "b". Mark at most one with default: true.');
  });
  it("a bad maxTurns", () => {
    expect(create(wf({ steps: [{ name: "one", agentKey: "echo", maxTurns: 0 }] }))).toThrow('Workflow "wf" step 0 "one": maxTurns: maxTurns must be at least 1.');
    expect(create(wf({ steps: [{ name: "one", agentKey: "echo", maxTurns: 1.5 }] }))).toThrow('Workflow "wf" step 0 "one": maxTurns: maxTurns must be an integer.');
  });
  it("a fallback agent that does not exist", () => {
    expect(create(wf({ steps: [{ name: "one", agentKey: "echo", onFailure: { fallbackAgentKey: "nobody" } }] }))).toThrow(/^Workflow "wf" step "one": unknown fallback agent "nobody"/);
  });
  it("duplicate step names", () => {
    expect(create(wf({ steps: [{ name: "one", agentKey: "echo" }, { name: "one", agentKey: "backup" }] }))).toThrow('Workflow "wf" step "one": duplicate step name.');
  });
  it("with a typed error that names the workflow and step", () => {
    try {
      create(wf({ steps: [{ name: "one", agentKey: "ghost" }] }))();
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidWorkflowSpecError);
      expect(error).toMatchObject({ workflowKey: "wf", stepName: "one", fault: "user" });
    }
  });
});

describe("WorkflowRegistry", () => {
  it("describes workflows for listing, with a version hash that follows the definition", () => {
    const a = WorkflowRegistry.create({ workflows: [wf({ default: true })], catalog: testCatalog });
    const b = WorkflowRegistry.create({ workflows: [wf({ steps: [{ name: "one", agentKey: "echo", maxTurns: 3 }] })], catalog: testCatalog });
    expect(a.list()[0]).toMatchObject({ key: "wf", stepCount: 1, default: true, steps: [{ name: "one", agentKey: "echo", onFailure: "stop", maxTurns: null }] });
    expect(a.default()?.spec.key).toBe("wf");
    expect(a.list()[0]?.versionHash).not.toBe(b.list()[0]?.versionHash);
    expect(() => a.require("missing")).toThrow('Unknown workflow "missing". Known workflows: wf.');
  });

  it("discovers the shipped sample workflows and validates them against the shipped agents", async () => {
    const workflows = await discoverWorkflows();
    const registry = WorkflowRegistry.create({ workflows, catalog: createDefaultCatalog() });
    expect(registry.list().map((w) => w.key).sort()).toEqual(["analysis_code", "gated_writing", "parallel_review", "refund_approval", "revise_until_approved", "triage_reply"]);
    expect(registry.default()?.spec.key).toBe("analysis_code");
  });
});
