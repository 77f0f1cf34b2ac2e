import { RunContext, type RunItem, type Runner, type RunState, type RunToolApprovalItem } from "@openai/agents-core";
import type { CatalogAgent } from "@workflows/agents";
import type { StepItem } from "./events";
import { usageOf, type Usage } from "./usage";

export type AttemptOptions = {
  runner: Runner;
  agent: CatalogAgent;
  /** The step's input, or the SDK state of an attempt that paused for approvals (decisions applied). */
  input: string | RunState<undefined, CatalogAgent>;
  maxTurns: number;
  signal?: AbortSignal | undefined;
  /** Stream from the model (deltas and items live) or ask for whole responses (items at the end). */
  streamed: boolean;
  onDelta: (delta: string) => void;
  onItem: (item: StepItem) => void;
};

/** A tool call the SDK holds for approval. */
export type PendingToolCall = { agentKey: string; toolName: string; callId: string; arguments: string };

export type AttemptOutcome =
  | { ok: true; finalOutput: unknown; usage: Usage; responseId: string | null }
  | { ok: false; error: unknown; usage: Usage }
  /** The SDK stopped at tool calls that need approval; `state` is its serialised run state. */
  | { ok: "paused"; state: string; calls: PendingToolCall[]; usage: Usage };

/** One agent invocation through the SDK runner; never throws, reports usage either way. */
export async function runAttempt(opts: AttemptOptions): Promise<AttemptOutcome> {
  const fromState = typeof opts.input !== "string";
  // A resumed state brings its own context, whose usage already counts the attempt's first part.
  const context: RunContext<undefined> = typeof opts.input === "string" ? new RunContext<undefined>(undefined) : opts.input._context;
  const baseline = usageOf(context.usage);
  const usage = () => subtractUsage(usageOf(context.usage), baseline);
  const base = { maxTurns: opts.maxTurns, ...(fromState ? {} : { context }) };
  const shared = opts.signal ? { ...base, signal: opts.signal } : base;
  const paused = (result: { interruptions?: RunToolApprovalItem[]; state: RunState<undefined, CatalogAgent> }): AttemptOutcome | null => {
    const items = result.interruptions ?? [];
    if (items.length === 0) return null;
    return { ok: "paused", state: result.state.toString(), calls: items.map(pendingCallOf), usage: usage() };
  };
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
      if (error !== undefined && error !== null) return { ok: false, error, usage: usage() };
      // An aborted stream ends without a final output; reading it would only make the SDK warn.
      if (opts.signal?.aborted) return { ok: false, error: opts.signal.reason, usage: usage() };
      return paused(result) ?? { ok: true, finalOutput: result.finalOutput, usage: usage(), responseId: result.lastResponseId ?? null };
    }
    const result = await opts.runner.run(opts.agent, opts.input, shared);
    for (const runItem of result.newItems) {
      const item = toStepItem(runItem);
      if (item) opts.onItem(item);
    }
    return paused(result) ?? { ok: true, finalOutput: result.finalOutput, usage: usage(), responseId: result.lastResponseId ?? null };
  } catch (error) {
    return { ok: false, error, usage: usage() };
  }
}

function pendingCallOf(item: RunToolApprovalItem): PendingToolCall {
  const raw = item.rawItem;
  const callId = "callId" in raw && typeof raw.callId === "string" ? raw.callId : (raw.id ?? "");
  const args = "arguments" in raw && typeof raw.arguments === "string" ? raw.arguments : "";
  return { agentKey: item.agent.name, toolName: item.name ?? ("name" in raw && typeof raw.name === "string" ? raw.name : raw.type), callId, arguments: args };
}

function subtractUsage(a: Usage, b: Usage): Usage {
  return {
    requests: Math.max(0, a.requests - b.requests),
    inputTokens: Math.max(0, a.inputTokens - b.inputTokens),
    outputTokens: Math.max(0, a.outputTokens - b.outputTokens),
    totalTokens: Math.max(0, a.totalTokens - b.totalTokens),
  };
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
