import { RunContext, type RunItem, type Runner } from "@openai/agents";
import type { CatalogAgent } from "@workflows/agents";
import type { StepItem } from "./events";
import { usageOf, type Usage } from "./usage";

export type AttemptOptions = {
  runner: Runner;
  agent: CatalogAgent;
  input: string;
  maxTurns: number;
  signal?: AbortSignal | undefined;
  /** Stream from the model (deltas and items live) or ask for whole responses (items at the end). */
  streamed: boolean;
  onDelta: (delta: string) => void;
  onItem: (item: StepItem) => void;
};

export type AttemptOutcome =
  | { ok: true; finalOutput: unknown; usage: Usage; responseId: string | null }
  | { ok: false; error: unknown; usage: Usage };

/** One agent invocation through the SDK runner; never throws, reports usage either way. */
export async function runAttempt(opts: AttemptOptions): Promise<AttemptOutcome> {
  const context = new RunContext<undefined>(undefined);
  const shared = opts.signal ? { context, maxTurns: opts.maxTurns, signal: opts.signal } : { context, maxTurns: opts.maxTurns };
  try {
    if (opts.streamed) {
      const result = await opts.runner.run(opts.agent, opts.input, { ...shared, stream: true });
      for await (const event of result) {
        if (event.type === "raw_model_stream_event") {
          if (event.data.type === "output_text_delta") opts.onDelta(event.data.delta);
        } else if (event.type === "run_item_stream_event") {
          const item = toStepItem(event.item);
          if (item) opts.onItem(item);
        }
      }
      await result.completed;
      const error: unknown = result.error;
      if (error !== undefined && error !== null) return { ok: false, error, usage: usageOf(context.usage) };
      // An aborted stream ends without a final output; reading it would only make the SDK warn.
      if (opts.signal?.aborted) return { ok: false, error: opts.signal.reason, usage: usageOf(context.usage) };
      return { ok: true, finalOutput: result.finalOutput, usage: usageOf(context.usage), responseId: result.lastResponseId ?? null };
    }
    const result = await opts.runner.run(opts.agent, opts.input, shared);
    for (const runItem of result.newItems) {
      const item = toStepItem(runItem);
      if (item) opts.onItem(item);
    }
    return { ok: true, finalOutput: result.finalOutput, usage: usageOf(context.usage), responseId: result.lastResponseId ?? null };
  } catch (error) {
    return { ok: false, error, usage: usageOf(context.usage) };
  }
}

/** The SDK's run items, as our step items; reasoning and other internals are not surfaced. */
export function toStepItem(item: RunItem): StepItem | null {
  switch (item.type) {
    case "tool_call_item": {
      const raw = item.rawItem;
      if (raw.type !== "function_call") return { kind: "tool_called", agentKey: item.agent.name, toolName: raw.type, callId: null, arguments: "" };
      return { kind: "tool_called", agentKey: item.agent.name, toolName: raw.name, callId: raw.callId, arguments: raw.arguments };
    }
    case "tool_call_output_item": {
      const raw = item.rawItem;
      const callId = "callId" in raw && typeof raw.callId === "string" ? raw.callId : null;
      const toolName = "name" in raw && typeof raw.name === "string" ? raw.name : null;
      return { kind: "tool_output", agentKey: item.agent.name, toolName, callId, output: typeof item.output === "string" ? item.output : JSON.stringify(item.output) };
    }
    case "handoff_call_item":
      return { kind: "handoff_requested", agentKey: item.agent.name, toolName: item.rawItem.name };
    case "handoff_output_item":
      return { kind: "handoff_occurred", fromAgentKey: item.sourceAgent.name, toAgentKey: item.targetAgent.name };
    case "message_output_item":
      return { kind: "message", agentKey: item.agent.name, text: item.content };
    default:
      return null;
  }
}
