import type { Model, ModelProvider, ModelRequest } from "@openai/agents";
import { OfflineModel } from "@workflows/agents";

/**
 * The offline model behind a gate: every model call waits until `open()`, so runs can be started and
 * followed before any of their model output exists, then all released at once.
 */
export function gatedOfflineProvider(delayMs: number): { provider: ModelProvider; open(): void } {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const inner = new OfflineModel({ delayMs });
  const model: Model = {
    async getResponse(request: ModelRequest) {
      await gate;
      return inner.getResponse(request);
    },
    async *getStreamedResponse(request: ModelRequest) {
      await gate;
      yield* inner.getStreamedResponse(request);
    },
  };
  return { provider: { getModel: () => model }, open };
}
