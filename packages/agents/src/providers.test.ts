import { Runner } from "@openai/agents-core";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDefaultCatalog } from "./agents";
import { createModelProvider, defaultModelName, describeModelConfig, type ModelConfig } from "./providers";
import { startFakeOpenAI, type FakeOpenAI } from "./testing";
import { disableDefaultTraceExport } from "./tracing";

beforeAll(() => disableDefaultTraceExport());
// The OpenAI provider loads @openai/agents-openai and the openai client on its first getModel (providers.ts).
// Loaded here, outside every test's time limit: on a loaded machine that first load takes seconds.
beforeAll(() => Promise.all([import("@openai/agents-openai"), import("openai")]), 60_000);

describe("openai provider against a local OpenAI imitation", () => {
  let fake: FakeOpenAI;
  beforeEach(async () => {
    fake = await startFakeOpenAI({
      toolArguments: { compute_statistics: { data: "3, 5, 10" } },
      text: ({ toolOutputs }) => `The tool said: ${toolOutputs.join(" | ")}`,
    });
  });
  afterEach(() => fake.close());

  const cases = [
    { api: "responses", stream: false, path: "/v1/responses" },
    { api: "responses", stream: true, path: "/v1/responses" },
    { api: "chat_completions", stream: false, path: "/v1/chat/completions" },
    { api: "chat_completions", stream: true, path: "/v1/chat/completions" },
  ] as const;

  it.each(cases)("runs data_analyst with a real tool call over $api (stream: $stream)", async ({ api, stream, path }) => {
    const config: ModelConfig = { provider: "openai", apiKey: "test", baseURL: fake.baseURL, api, model: "gpt-4.1-mini" };
    const runner = new Runner({ modelProvider: createModelProvider(config), model: defaultModelName(config), tracingDisabled: true });
    const agent = createDefaultCatalog().agent("data_analyst");
    const expected = '{"count":3,"sum":18,"mean":6,"median":5,"min":3,"max":10,"stddev":2.94392028878}';

    let finalOutput: unknown;
    if (stream) {
      const result = await runner.run(agent, "numbers: 3, 5, 10", { stream: true });
      let deltas = "";
      for await (const e of result) if (e.type === "raw_model_stream_event" && e.data.type === "output_text_delta") deltas += e.data.delta;
      await result.completed;
      expect(deltas).toBe(result.finalOutput);
      finalOutput = result.finalOutput;
    } else {
      finalOutput = (await runner.run(agent, "numbers: 3, 5, 10")).finalOutput;
    }

    expect(finalOutput).toBe(`The tool said: ${expected}`);
    expect(fake.log.map((r) => [r.path, r.stream, r.body.model])).toEqual([
      [path, stream, "gpt-4.1-mini"],
      [path, stream, "gpt-4.1-mini"],
    ]);
    expect(fake.log[0]?.headers.authorization).toBe("Bearer test");
  });

  it("gives agents without a model the configured model name", async () => {
    const config: ModelConfig = { provider: "openai", apiKey: "test", baseURL: fake.baseURL, api: "chat_completions", model: "my-local-model" };
    const result = await new Runner({ modelProvider: createModelProvider(config), tracingDisabled: true }).run(createDefaultCatalog().agent("writer"), "1. a");
    expect(result.finalOutput).toBe("The tool said: ");
    expect(fake.log[0]?.body.model).toBe("my-local-model");
  });

  it("sends no reasoning settings to a non-reasoning model when the run names it (RunConfig.model)", async () => {
    const config: ModelConfig = { provider: "openai", apiKey: "test", baseURL: fake.baseURL, api: "responses", model: "gpt-4.1-mini" };
    await new Runner({ modelProvider: createModelProvider(config), model: defaultModelName(config), tracingDisabled: true }).run(createDefaultCatalog().agent("writer"), "1. a");
    expect(fake.log[0]?.keys).not.toContain("reasoning");
  });

  it("sends no reasoning settings when the catalog names the model on its agents (defaultModel)", async () => {
    const config: ModelConfig = { provider: "openai", apiKey: "test", baseURL: fake.baseURL, api: "responses", model: "gpt-4.1-mini" };
    const catalog = createDefaultCatalog({ defaultModel: defaultModelName(config) });
    await new Runner({ modelProvider: createModelProvider(config), tracingDisabled: true }).run(catalog.agent("writer"), "1. a");
    expect(fake.log[0]?.body.model).toBe("gpt-4.1-mini");
    expect(fake.log[0]?.keys).not.toContain("reasoning");
  });
});

describe("describeModelConfig", () => {
  it("says which provider, API, model and URL, and never the key", () => {
    expect(describeModelConfig({ provider: "offline" })).toBe("offline (offline-deterministic)");
    const text = describeModelConfig({ provider: "openai", apiKey: "sk-secret", baseURL: "http://127.0.0.1:9/v1", api: "responses", model: "gpt-4.1-mini" });
    expect(text).toBe("openai (responses, gpt-4.1-mini, http://127.0.0.1:9/v1)");
    expect(describeModelConfig({ provider: "openai", apiKey: "sk-secret", api: "chat_completions" })).not.toContain("sk-secret");
  });
});
