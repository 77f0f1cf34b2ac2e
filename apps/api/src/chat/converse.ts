import { randomUUID } from "node:crypto";
import type { Runner, RunItem, RunStreamEvent } from "@openai/agents-core";
import { NotFoundError, toStepItem, usageOf, usageSchema } from "@workflows/core";
import { z } from "zod";
import type { Services } from "../context";
import { assertInputSize } from "../errors";
import { agentText, idString } from "../limits";

export const DEFAULT_CHAT_AGENT = "triage";

export const chatInput = z.object({
  message: agentText("message"),
  agentKey: idString("agentKey").nullish(),
  conversationId: idString("conversationId").nullish(),
});
export type ChatInput = z.infer<typeof chatInput>;

export const handoffSchema = z.object({ fromAgentKey: z.string(), toAgentKey: z.string() });

export const chatAnswerSchema = z.object({
  conversationId: z.string(),
  /** The agent the message was sent to. */
  agentKey: z.string(),
  /** The agent that produced the answer, after any handoffs. */
  lastAgent: z.string(),
  handoffs: z.array(handoffSchema),
  output: z.string(),
  usage: usageSchema,
});
export type ChatAnswer = z.infer<typeof chatAnswerSchema>;

export const chatEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("started"), conversationId: z.string(), agentKey: z.string() }),
  z.object({ type: z.literal("delta"), agentKey: z.string(), text: z.string() }),
  z.object({ type: z.literal("handoff"), fromAgentKey: z.string(), toAgentKey: z.string() }),
  z.object({ type: z.literal("tool_called"), agentKey: z.string(), toolName: z.string() }),
  z.object({ type: z.literal("completed"), answer: chatAnswerSchema }),
]);
export type ChatEvent = z.infer<typeof chatEventSchema>;

type Prepared = { conversationId: string; agentKey: string; runner: Runner };

function prepare(services: Services, input: ChatInput): Prepared {
  assertInputSize("message", input.message, services.info.maxInputBytes);
  const agentKey = input.agentKey ?? DEFAULT_CHAT_AGENT;
  if (!services.catalog.has(agentKey)) throw new NotFoundError("agent", agentKey);
  return { conversationId: input.conversationId ?? randomUUID(), agentKey, runner: services.chatRunner };
}

const textOf = (output: unknown): string => (output == null ? "" : typeof output === "string" ? output : JSON.stringify(output));

/**
 * The answer text; a chat run stopped at a tool that needs approval says so instead of answering nothing
 * (chat has no one to approve: runs of a workflow wait for `runs.approve`).
 */
function answerOf(result: { finalOutput?: unknown; interruptions?: { name?: string | undefined }[] }): string {
  const waiting = result.interruptions ?? [];
  if (waiting.length === 0) return textOf(result.finalOutput);
  const tools = [...new Set(waiting.map((i) => i.name ?? "a tool"))].join(", ");
  return `The agent wanted to call ${tools}, which needs a person's approval; chat cannot wait for one. Run a workflow for that (e.g. refund_approval) and approve it with runs.approve.`;
}

/** The handoffs among the SDK's run items, mapped as workflow steps map them. */
const handoffsOf = (items: readonly RunItem[]) =>
  items.flatMap((i) => {
    const item = toStepItem(i);
    return item?.kind === "handoff_occurred" ? [{ fromAgentKey: item.fromAgentKey, toAgentKey: item.toAgentKey }] : [];
  });

/** One message to an agent, with the SDK's handoffs; history lives in the conversation's session. */
export async function chatOnce(services: Services, input: ChatInput, signal?: AbortSignal): Promise<ChatAnswer> {
  const { conversationId, agentKey, runner } = prepare(services, input);
  const result = await runner.run(services.catalog.agent(agentKey), input.message, {
    session: services.openSession(conversationId),
    ...(signal ? { signal } : {}),
  });
  return {
    conversationId,
    agentKey,
    lastAgent: result.lastAgent?.name ?? agentKey,
    handoffs: handoffsOf(result.newItems),
    output: answerOf(result),
    usage: usageOf(result.state.usage),
  };
}

/** The same as `chatOnce`, as events: text deltas, handoffs and tool calls as they happen, then the answer. */
export async function* chatStream(services: Services, input: ChatInput, signal?: AbortSignal): AsyncGenerator<ChatEvent, void, undefined> {
  const { conversationId, agentKey, runner } = prepare(services, input);
  yield { type: "started", conversationId, agentKey };
  const result = await runner.run(services.catalog.agent(agentKey), input.message, {
    stream: true,
    session: services.openSession(conversationId),
    ...(signal ? { signal } : {}),
  });
  let current = agentKey;
  for await (const event of result as AsyncIterable<RunStreamEvent>) {
    if (event.type === "agent_updated_stream_event") current = event.agent.name;
    else if (event.type === "raw_model_stream_event" && event.data.type === "output_text_delta") yield { type: "delta", agentKey: current, text: event.data.delta };
    else if (event.type === "run_item_stream_event") {
      const item = toStepItem(event.item);
      if (item?.kind === "handoff_occurred") yield { type: "handoff", fromAgentKey: item.fromAgentKey, toAgentKey: item.toAgentKey };
      else if (item?.kind === "tool_called") yield { type: "tool_called", agentKey: current, toolName: item.toolName };
    }
  }
  await result.completed;
  if (result.error) throw result.error instanceof Error ? result.error : new Error("chat run failed", { cause: result.error });
  yield {
    type: "completed",
    answer: {
      conversationId,
      agentKey,
      lastAgent: result.lastAgent?.name ?? current,
      handoffs: handoffsOf(result.newItems),
      output: answerOf(result),
      usage: usageOf(result.state.usage),
    },
  };
}
