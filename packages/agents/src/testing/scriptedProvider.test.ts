import { Runner } from "@openai/agents-core";
import { ScriptedModel, assistantMessage } from "@openai/agents/testing";
import { describe, expect, it } from "vitest";
import { createDefaultCatalog } from "../agents";
import { scriptedProvider } from "./scriptedProvider";

describe("scriptedProvider", () => {
  it("serves a ScriptedModel to the Runner for the agent's model name", async () => {
    const provider = scriptedProvider(new ScriptedModel([[assistantMessage("scripted answer")]]));
    const result = await new Runner({ modelProvider: provider, tracingDisabled: true }).run(createDefaultCatalog().agent("writer"), "hello");
    expect(result.finalOutput).toBe("scripted answer");
    expect(provider.requestedModelNames).toEqual([""]);
  });
});
