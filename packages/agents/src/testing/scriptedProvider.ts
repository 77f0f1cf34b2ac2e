import type { Model, ModelProvider } from "@openai/agents-core";

/** A `ModelProvider` that serves one model (e.g. the SDK's `ScriptedModel`) for every model name, recording the names asked for. */
export function scriptedProvider(model: Model): ModelProvider & { requestedModelNames: (string | undefined)[] } {
  const requestedModelNames: (string | undefined)[] = [];
  return {
    requestedModelNames,
    getModel(modelName?: string): Model {
      requestedModelNames.push(modelName);
      return model;
    },
  };
}
