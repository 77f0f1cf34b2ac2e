import type { Model, ModelProvider } from "@openai/agents-core";
import type { OpenAIProvider } from "@openai/agents-openai";
import { OFFLINE_MODEL_NAME, OfflineModelProvider } from "./offline/offlineModel";

export type ModelConfig =
  | { provider: "offline"; /** Pause between streamed deltas, for demos and cancellation tests. */ delayMs?: number }
  | { provider: "openai"; apiKey: string; baseURL?: string; api: "responses" | "chat_completions"; model?: string };

/** The SDK's default when neither the agent nor the configuration names a model. */
const SDK_DEFAULT_MODEL = "SDK default model";

/**
 * The model provider for a configuration. It leaves tracing alone: call `disableDefaultTraceExport()` once at
 * startup, before installing trace processors (doing it here would wipe processors installed earlier).
 */
export function createModelProvider(config: ModelConfig): ModelProvider {
  switch (config.provider) {
    case "offline":
      return new OfflineModelProvider(config.delayMs === undefined ? {} : { delayMs: config.delayMs });
    case "openai":
      return new OpenAIModelProvider(config);
    default:
      return config satisfies never;
  }
}

/** The model name runs should use by default, to pass as `RunConfig.model` (see `OpenAIModelProvider`). */
export function defaultModelName(config: ModelConfig): string | undefined {
  return config.provider === "offline" ? OFFLINE_MODEL_NAME : config.model;
}

/** One line for logs and health checks; never includes the API key. */
export function describeModelConfig(config: ModelConfig): string {
  switch (config.provider) {
    case "offline":
      return `offline (${OFFLINE_MODEL_NAME})`;
    case "openai":
      return `openai (${config.api}, ${config.model ?? SDK_DEFAULT_MODEL}, ${config.baseURL ?? "https://api.openai.com/v1"})`;
    default:
      return config satisfies never;
  }
}

/**
 * The SDK's `OpenAIProvider` with our base URL, API choice and default model name, on an OpenAI client that never
 * retries by itself (`maxRetries: 0`): a failed request rejects the run at once with the client's `APIError`.
 * An agent without a model asks for `""`, which gets `config.model`. The SDK picks default model *settings*
 * (e.g. reasoning effort for its GPT-5 default) before asking the provider, so runs should also set
 * `RunConfig.model = defaultModelName(config)` when `config.model` is a non-reasoning model.
 */
class OpenAIModelProvider implements ModelProvider {
  readonly #config: Extract<ModelConfig, { provider: "openai" }>;
  #inner: Promise<OpenAIProvider> | undefined;

  constructor(config: Extract<ModelConfig, { provider: "openai" }>) {
    this.#config = config;
  }

  async getModel(modelName?: string): Promise<Model> {
    return (await this.#provider()).getModel(modelName || this.#config.model);
  }

  async close(): Promise<void> {
    if (this.#inner) await (await this.#inner).close();
  }

  #provider(): Promise<OpenAIProvider> {
    return (this.#inner ??= openAIProvider(this.#config));
  }
}

/**
 * Loaded on first use: the SDK's OpenAI provider and the full OpenAI client are about 12 MB of a server's
 * memory (measured at idle), which a server on the offline model never needs.
 */
async function openAIProvider(config: Extract<ModelConfig, { provider: "openai" }>): Promise<OpenAIProvider> {
  const [{ OpenAIProvider }, { default: OpenAI }] = await Promise.all([import("@openai/agents-openai"), import("openai")]);
  // maxRetries 0: the client would otherwise retry 408/409/429/5xx and connection errors twice, unseen by our
  // runner, which owns retries so that each attempt is counted, recorded and bounded.
  const client = new OpenAI({ apiKey: config.apiKey, maxRetries: 0, ...(config.baseURL ? { baseURL: config.baseURL } : {}) });
  return new OpenAIProvider({ openAIClient: client, useResponses: config.api === "responses" });
}
