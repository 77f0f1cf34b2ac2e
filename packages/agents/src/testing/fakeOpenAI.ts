import http from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { sampleJsonSchema } from "../offline/jsonSchemaValue";

/** What the fake knows when it writes its final answer. */
export type FakeAnswerContext = { api: "responses" | "chat_completions"; toolOutputs: string[]; model: string };

export type FakeOpenAIOptions = {
  /** The final text answer; a function can echo the tool outputs it received. Default "Hello from the fake server". */
  text?: string | ((ctx: FakeAnswerContext) => string);
  /** Arguments for a tool call, by tool name; otherwise built from the tool's JSON schema (strings "from-fake"). */
  toolArguments?: Record<string, Record<string, unknown>>;
  /** Responses API: answer with the fewest fields the SDK accepts (only `response.output_text.delta` + `response.completed` when streaming). */
  minimal?: boolean;
};

export type FakeOpenAIRequest = {
  method: string;
  path: string;
  stream: boolean;
  /** Top-level body keys, sorted. */
  keys: string[];
  headers: { authorization: string | undefined; userAgent: string | undefined };
  body: Record<string, unknown>;
};

export type FakeOpenAI = {
  /** `http://127.0.0.1:<port>/v1`, to pass as `baseURL`. */
  baseURL: string;
  /** Every request received, in order. */
  log: FakeOpenAIRequest[];
  close: () => Promise<void>;
};

const toolSchema = z.looseObject({
  type: z.string(),
  name: z.string().optional(),
  parameters: z.unknown().optional(),
  function: z.looseObject({ name: z.string(), parameters: z.unknown().optional() }).optional(),
});

const bodySchema = z.looseObject({
  model: z.string().optional(),
  stream: z.boolean().optional(),
  instructions: z.string().nullish(),
  input: z.union([z.string(), z.array(z.looseObject({ type: z.string().optional(), output: z.unknown().optional() }))]).optional(),
  messages: z.array(z.looseObject({ role: z.string(), content: z.unknown().optional() })).optional(),
  tools: z.array(toolSchema).optional(),
});
type Body = z.infer<typeof bodySchema>;
type FunctionTool = { name: string; parameters?: unknown };

const chunks = (text: string): string[] => text.match(/[\s\S]{1,5}/g) ?? [];
const asText = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));

/**
 * A local imitation of the OpenAI HTTP API (Responses + Chat Completions, JSON and SSE) on 127.0.0.1, port 0.
 * When the request offers a function tool and holds no tool result yet, it calls the first tool; otherwise it answers text.
 */
export async function startFakeOpenAI(opts: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const log: FakeOpenAIRequest[] = [];
  let n = 0;

  const answer = (ctx: FakeAnswerContext): string => (typeof opts.text === "function" ? opts.text(ctx) : (opts.text ?? "Hello from the fake server"));
  const argumentsFor = (tool: FunctionTool): string =>
    JSON.stringify(opts.toolArguments?.[tool.name] ?? sampleJsonSchema(tool.parameters, { boolean: () => false, string: () => "from-fake" }));

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, error instanceof Error ? error.message : String(error));
      else res.end();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let raw = "";
    for await (const chunk of req) raw += String(chunk);
    const path = (req.url ?? "").split("?")[0] ?? "";
    let json: unknown;
    try {
      json = raw ? JSON.parse(raw) : {};
    } catch {
      return sendError(res, 400, "body is not JSON");
    }
    const parsed = bodySchema.safeParse(json);
    if (!parsed.success) return sendError(res, 400, `unexpected body: ${parsed.error.message}`);
    const body = parsed.data;
    log.push({
      method: req.method ?? "",
      path,
      stream: body.stream === true,
      keys: Object.keys(body).sort(),
      headers: { authorization: req.headers.authorization, userAgent: req.headers["user-agent"] },
      body,
    });
    if (req.method === "POST" && path.endsWith("/responses")) return responses(body, res);
    if (req.method === "POST" && path.endsWith("/chat/completions")) return chat(body, res);
    sendError(res, 404, `no route ${req.method ?? ""} ${path}`);
  }

  function responses(body: Body, res: http.ServerResponse): void {
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

    if (!body.stream) return sendJson(res, full, { "x-request-id": `req_${n}` });
    const send = openSse(res);
    if (opts.minimal) {
      if (item.type === "message") for (const delta of chunks(text)) send(null, { type: "response.output_text.delta", item_id: item.id, output_index: 0, content_index: 0, delta });
      send(null, { type: "response.completed", response: full });
      return void res.end();
    }
    let seq = 0;
    const event = (type: string, data: Record<string, unknown>) => send(type, { type, sequence_number: seq++, ...data });
    event("response.created", { response: { ...base, status: "in_progress", output: [], usage: null } });
    event("response.in_progress", { response: { ...base, status: "in_progress", output: [], usage: null } });
    if (item.type === "message") {
      const at = { item_id: item.id, output_index: 0, content_index: 0 };
      event("response.output_item.added", { output_index: 0, item: { ...item, status: "in_progress", content: [] } });
      event("response.content_part.added", { ...at, part: { type: "output_text", text: "", annotations: [] } });
      for (const delta of chunks(text)) event("response.output_text.delta", { ...at, delta, logprobs: [] });
      event("response.output_text.done", { ...at, text, logprobs: [] });
      event("response.content_part.done", { ...at, part: { type: "output_text", text, annotations: [] } });
    } else {
      event("response.output_item.added", { output_index: 0, item: { ...item, arguments: "", status: "in_progress" } });
      event("response.function_call_arguments.delta", { item_id: item.id, output_index: 0, delta: item.arguments });
      event("response.function_call_arguments.done", { item_id: item.id, output_index: 0, arguments: item.arguments });
    }
    event("response.output_item.done", { output_index: 0, item });
    event("response.completed", { response: full });
    res.end();
  }

  function chat(body: Body, res: http.ServerResponse): void {
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
      return sendJson(res, {
        id, object: "chat.completion", created, model, usage,
        choices: [{ index: 0, finish_reason: toolCall ? "tool_calls" : "stop", logprobs: null, message }],
      });
    }
    const send = openSse(res);
    const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
      send(null, { id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }] });
    chunk({ role: "assistant", content: "" });
    if (toolCall) {
      chunk({ tool_calls: [{ index: 0, id: toolCall.id, type: "function", function: { name: toolCall.function.name, arguments: "" } }] });
      chunk({ tool_calls: [{ index: 0, function: { arguments: toolCall.function.arguments } }] });
      chunk({}, "tool_calls");
    } else {
      for (const d of chunks(text)) chunk({ content: d });
      chunk({}, "stop");
    }
    send(null, { id, object: "chat.completion.chunk", created, model, choices: [], usage });
    send(null, "[DONE]");
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    log,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // The OpenAI client keeps connections alive; without this close() waits for them to time out.
        server.closeAllConnections();
      }),
  };
}

function sendJson(res: http.ServerResponse, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(200, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function sendError(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: { message, type: "invalid_request_error" } }));
}

function openSse(res: http.ServerResponse): (event: string | null, data: unknown) => void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  return (event, data) => {
    res.write(`${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
  };
}
