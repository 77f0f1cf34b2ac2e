import { describe, expect, it } from "vitest";
import { createDefaultCatalog, defaultAgentSpecs } from "./agents";
import { AgentCatalog, InvalidAgentCatalogError } from "./catalog";
import { defineAgent } from "./spec";

const spec = (key: string, handoffs?: string[]) => defineAgent({ key, displayName: key, description: `${key} agent`, instructions: "Be brief.", ...(handoffs ? { handoffs } : {}) });

describe("AgentCatalog validation", () => {
  it("rejects duplicate keys", () => {
    expect(() => new AgentCatalog([spec("a"), spec("a")])).toThrow(new InvalidAgentCatalogError('Duplicate agent key "a".'));
  });

  it("rejects unknown handoff targets", () => {
    expect(() => new AgentCatalog([spec("a", ["ghost"])])).toThrow(new InvalidAgentCatalogError('Agent "a" hands off to unknown agent "ghost".'));
  });

  it("rejects keys that are not snake_case and handoffs to self", () => {
    expect(() => new AgentCatalog([spec("Bad-Key")])).toThrow(InvalidAgentCatalogError);
    expect(() => new AgentCatalog([spec("a", ["a"])])).toThrow('Agent "a" hands off to itself.');
  });

  it("throws a named error for an unknown agent", () => {
    expect(() => new AgentCatalog([spec("a")]).agent("b")).toThrow('Unknown agent "b".');
  });
});

describe("the default catalog", () => {
  const catalog = createDefaultCatalog();

  it("ships every agent the workflows use", () => {
    expect(catalog.keys()).toEqual(["triage", "billing_specialist", "tech_specialist", "data_analyst", "code_assistant", "outline_writer", "outline_checker", "writer", "clarity_reviewer", "accuracy_reviewer", "tone_reviewer", "review_editor", "draft_checker"]);
    expect(defaultAgentSpecs.map((s) => s.key)).toEqual(catalog.keys());
  });

  it("wires triage to at least two specialists as real SDK handoffs", () => {
    expect(catalog.handoffsOf("triage")).toEqual(["billing_specialist", "tech_specialist"]);
    expect(catalog.agent("triage").handoffs.map((h) => ("name" in h ? h.name : h.agentName))).toEqual(["billing_specialist", "tech_specialist"]);
  });

  it("lists data_analyst's tool and outline_checker's structured output", () => {
    const byKey = new Map(catalog.list().map((d) => [d.key, d]));
    expect(byKey.get("data_analyst")?.tools).toEqual(["compute_statistics"]);
    expect(byKey.get("outline_checker")?.structuredOutput).toBe(true);
    expect(byKey.get("writer")).toMatchObject({ tools: [], handoffs: [], structuredOutput: false, model: null });
  });

  it("builds fresh SDK agents per catalog", () => {
    expect(createDefaultCatalog().agent("triage")).not.toBe(catalog.agent("triage"));
  });
});
