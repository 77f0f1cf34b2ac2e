import { z } from "zod";
import { sampleJsonSchema } from "../offline/jsonSchemaValue";

/** What the fake knows when it writes its final answer. */
export type FakeAnswerContext = { api: "responses" | "chat_completions"; toolOutputs: string[]; model: string };

/** How the fake answers a request that gets no fault. */
export type FakeReplyOptions = {
  /** The final text answer; a function can echo the tool outputs it received. Default "Hello from the fake server". */
  text?: string | ((ctx: FakeAnswerContext) => string);
  /** Arguments for a tool call, by tool name; otherwise built from the tool's JSON schema (strings "from-fake"). */
  toolArguments?: Record<string, Record<string, unknown>>;
  /** Responses API: answer with the fewest fields the SDK accepts (only `response.output_text.delta` + `response.completed` when streaming). */
  minimal?: boolean;
};

/** One server-sent event. `delta` marks text or tool-argument deltas, `terminal` the event that completes the answer. */
export type SseEvent = { event: string | null; data: unknown; delta?: boolean; terminal?: boolean };

/** A whole answer, before it is written: a JSON body or a list of server-sent events. */
export type FakeReply = { kind: "json"; body: unknown; headers: Record<string, string> } | { kind: "sse"; events: SseEvent[] };

const toolSchema = z.looseObject({
  type: z.string(),
  name: z.string().optional(),
  parameters: z.unknown().optional(),
  function: z.looseObject({ name: z.string(), parameters: z.unknown().optional() }).optional(),
});

export const bodySchema = z.looseObject({
  model: z.string().optional(),
  stream: z.boolean().optional(),
  instructions: z.string().nullish(),
  input: z.union([z.string(), z.array(z.looseObject({ type: z.string().optional(), output: z.unknown().optional() }))]).optional(),
  messages: z.array(z.looseObject({ role: z.string(), content: z.unknown().optional() })).optional(),
  tools: z.array(toolSchema).optional(),
});
export type Body = z.infer<typeof bodySchema>;
type FunctionTool = { name: string; parameters?: unknown };

const chunks = (text: string): string[] => text.match(/[\s\S]{1,5}/g) ?? [];
const asText = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));

/**
 * Builds the fake's answers. When the request offers a function tool and holds no tool result yet, the answer calls
 * the first tool; otherwise it is text. `n` numbers the ids of one fake server's answers.
 */
export function fakeReplies(opts: FakeReplyOptions): { responses: (body: Body) => FakeReply; chat: (body: Body) => FakeReply } {
  let n = 0;
  const answer = (ctx: FakeAnswerContext): string => (typeof opts.text === "function" ? opts.text(ctx) : (opts.text ?? "Hello from the fake server"));
  const argumentsFor = (tool: FunctionTool): string =>
    JSON.stringify(opts.toolArguments?.[tool.name] ?? sampleJsonSchema(tool.parameters, { boolean: () => false, string: () => "from-fake" }));

  function responses(body: Body): FakeReply {
    const input = Array.isArray(body.input) ? body.input : [];
    const toolOutputs = input.filter((i) => i.type === "function_call_output").map((i) => asText(i.output));
    const tool = (body.tools ?? []).find((t) => t.type === "function" && t.name !== undefined);
    const id = `resp_${++n}`;
    const model = body.model ?? "fake";
    const text = answer({ api: "responses", toolOutputs, model });
    const item =
      tool?.name !== undefined && toolOutputs.length === 0
        ? { type: "function_call" as const, id: `fc_${n}`, call_id: `call_${n}`, name: tool.name, arguments: argumentsFor({ name: tool.name, parameters: tool.parameters }), status: "completed" }
        : { type: "message" as const, id: `msg_${n}`, role: "assistant", status: "completed", content: [{ type: "output_text", text, annotations: [] }] };
    const usage = { input_tokens: 11, input_tokens_details: { cached_tokens: 0 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 18 };
    const base = {
      id, object: "response", created_at: Math.floor(Date.now() / 1000), model, parallel_tool_calls: true, tool_choice: "auto", tools: body.tools ?? [],
      error: null, incomplete_details: null, instructions: body.instructions ?? null, metadata: {}, temperature: 1, top_p: 1, text: { format: { type: "text" } },
    };
    const full = opts.minimal ? { id, output: [item], usage } : { ...base, status: "completed", output: [item], usage };

    if (!body.stream) return { kind: "json", body: full, headers: { "x-request-id": `req_${n}` } };
    const events: SseEvent[] = [];
    if (opts.minimal) {
      if (item.type === "message") for (const delta of chunks(text)) events.push({ event: null, data: { type: "response.output_text.delta", item_id: item.id, output_index: 0, content_index: 0, delta }, delta: true });
      events.push({ event: null, data: { type: "response.completed", response: full }, terminal: true });
      return { kind: "sse", events };
    }
    let seq = 0;
    const event = (type: string, data: Record<string, unknown>, mark: Pick<SseEvent, "delta" | "terminal"> = {}) =>
      events.push({ event: type, data: { type, sequence_number: seq++, ...data }, ...mark });
    event("response.created", { response: { ...base, status: "in_progress", output: [], usage: null } });
    event("response.in_progress", { response: { ...base, status: "in_progress", output: [], usage: null } });
    if (item.type === "message") {
      const at = { item_id: item.id, output_index: 0, content_index: 0 };
      event("response.output_item.added", { output_index: 0, item: { ...item, status: "in_progress", content: [] } });
      event("response.content_part.added", { ...at, part: { type: "output_text", text: "", annotations: [] } });
      for (const delta of chunks(text)) event("response.output_text.delta", { ...at, delta, logprobs: [] }, { delta: true });
      event("response.output_text.done", { ...at, text, logprobs: [] });
      event("response.content_part.done", { ...at, part: { type: "output_text", text, annotations: [] } });
    } else {
      event("response.output_item.added", { output_index: 0, item: { ...item, arguments: "", status: "in_progress" } });
      event("response.function_call_arguments.delta", { item_id: item.id, output_index: 0, delta: item.arguments }, { delta: true });
      event("response.function_call_arguments.done", { item_id: item.id, output_index: 0, arguments: item.arguments });
    }
    event("response.output_item.done", { output_index: 0, item });
    event("response.completed", { response: full }, { terminal: true });
    return { kind: "sse", events };
  }

  function chat(body: Body): FakeReply {
    const messages = body.messages ?? [];
    const toolOutputs = messages.filter((m) => m.role === "tool").map((m) => asText(m.content));
    const tool = (body.tools ?? []).find((t) => t.type === "function" && t.function !== undefined)?.function;
    const id = `chatcmpl_${++n}`;
    const created = Math.floor(Date.now() / 1000);
    const model = body.model ?? "fake";
    const usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
    const text = answer({ api: "chat_completions", toolOutputs, model });
    const toolCall = tool && toolOutputs.length === 0 ? { id: `call_${n}`, type: "function", function: { name: tool.name, arguments: argumentsFor(tool) } } : null;

    if (!body.stream) {
      const message = toolCall ? { role: "assistant", content: null, tool_calls: [toolCall], refusal: null } : { role: "assistant", content: text, refusal: null };
      return {
        kind: "json",
        headers: {},
        body: { id, object: "chat.completion", created, model, usage, choices: [{ index: 0, finish_reason: toolCall ? "tool_calls" : "stop", logprobs: null, message }] },
      };
    }
    const events: SseEvent[] = [];
    const chunk = (delta: Record<string, unknown>, mark: Pick<SseEvent, "delta" | "terminal"> = {}, finishReason: string | null = null) =>
      events.push({ event: null, data: { id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }] }, ...mark });
    chunk({ role: "assistant", content: "" });
    if (toolCall) {
      chunk({ tool_calls: [{ index: 0, id: toolCall.id, type: "function", function: { name: toolCall.function.name, arguments: "" } }] });
      chunk({ tool_calls: [{ index: 0, function: { arguments: toolCall.function.arguments } }] }, { delta: true });
      chunk({}, { terminal: true }, "tool_calls");
    } else {
      for (const d of chunks(text)) chunk({ content: d }, { delta: true });
      chunk({}, { terminal: true }, "stop");
    }
    events.push({ event: null, data: { id, object: "chat.completion.chunk", created, model, choices: [], usage } });
    events.push({ event: null, data: "[DONE]" });
    return { kind: "sse", events };
  }

  return { responses, chat };
}
