import { Agent, type AgentOutputType } from "@openai/agents-core";

/** Any catalog agent: text or structured output. */
export type CatalogAgent = Agent<unknown, AgentOutputType>;
import type { AgentDescriptor, AgentSpec } from "./spec";

/** An agent catalog that does not hold together (duplicate keys, unknown handoff targets). */
export class InvalidAgentCatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

const keyPattern = /^[a-z][a-z0-9_]*$/;

/** The validated set of agents, building real SDK `Agent`s with their handoffs wired. */
export class AgentCatalog {
  readonly #specs = new Map<string, AgentSpec>();
  readonly #agents = new Map<string, CatalogAgent>();
  readonly #defaultModel: string | undefined;

  /**
   * @param options.defaultModel model name for agents that do not name one. Naming the model on the agent
   * (rather than leaving it to the provider) keeps the SDK from applying its own default model's settings.
   */
  constructor(specs: readonly AgentSpec[], options: { defaultModel?: string | undefined } = {}) {
    const defaultModel = options.defaultModel;
    this.#defaultModel = defaultModel;
    for (const spec of specs) {
      if (!keyPattern.test(spec.key)) throw new InvalidAgentCatalogError(`Agent key "${spec.key}" must be snake_case (${keyPattern.source}).`);
      if (this.#specs.has(spec.key)) throw new InvalidAgentCatalogError(`Duplicate agent key "${spec.key}".`);
      this.#specs.set(spec.key, spec);
    }
    for (const spec of specs) {
      for (const target of spec.handoffs ?? []) {
        if (!this.#specs.has(target)) throw new InvalidAgentCatalogError(`Agent "${spec.key}" hands off to unknown agent "${target}".`);
        if (target === spec.key) throw new InvalidAgentCatalogError(`Agent "${spec.key}" hands off to itself.`);
      }
    }
    // Build every agent first, then wire handoffs, so that cycles (specialist -> triage) work.
    for (const spec of specs) {
      this.#agents.set(
        spec.key,
        new Agent<unknown, AgentOutputType>({
          name: spec.key,
          handoffDescription: spec.description,
          instructions: spec.instructions,
          tools: spec.tools ?? [],
          ...(spec.outputType ? { outputType: spec.outputType } : {}),
          ...(spec.model || defaultModel ? { model: spec.model ?? defaultModel } : {}),
        }),
      );
    }
    for (const spec of specs) this.agent(spec.key).handoffs = (spec.handoffs ?? []).map((k) => this.agent(k));
  }

  has(key: string): boolean {
    return this.#specs.has(key);
  }

  get(key: string): AgentSpec | undefined {
    return this.#specs.get(key);
  }

  keys(): string[] {
    return [...this.#specs.keys()];
  }

  /** The SDK agent for a key; throws for an unknown key (check with `has` first). */
  agent(key: string): CatalogAgent {
    const agent = this.#agents.get(key);
    if (!agent) throw new InvalidAgentCatalogError(`Unknown agent "${key}".`);
    return agent;
  }

  handoffsOf(key: string): string[] {
    return this.#specs.get(key)?.handoffs ?? [];
  }

  list(): AgentDescriptor[] {
    return [...this.#specs.values()].map((spec) => describeAgent(spec, this.#defaultModel));
  }
}

/** The listing of an agent; `model` is the one it runs with (its own, else the catalog's default). */
export function describeAgent(spec: AgentSpec, defaultModel?: string): AgentDescriptor {
  return {
    key: spec.key,
    displayName: spec.displayName,
    description: spec.description,
    tools: (spec.tools ?? []).map((t) => t.name),
    handoffs: spec.handoffs ?? [],
    model: spec.model ?? defaultModel ?? null,
    structuredOutput: spec.outputType !== undefined,
  };
}
