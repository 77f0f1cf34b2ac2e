import { createHash } from "node:crypto";
import { Usage, type Model, type ModelProvider, type ModelRequest, type ModelResponse, type StreamEvent, type StreamEventResponseCompleted } from "@openai/agents-core";
import { OFFLINE_PREFIX, REJECT_MARKER, textAnswer } from "./answers";
import { chooseHandoff } from "./handoffRules";
import { sampleJsonSchema } from "./jsonSchemaValue";
import { countWords, viewRequest } from "./requestView";

export const OFFLINE_MODEL_NAME = "offline-deterministic";

export type OfflineModelOptions = {
  /** Pause between streamed text deltas (and before a non-streamed answer); 0 still yields to the event loop. */
  delayMs?: number;
};

/** What the offline model decided to do with one request. */
export type OfflineReply = { type: "text"; text: string } | { type: "call"; name: string; arguments: string };

/**
 * Decides deterministically: hand off by keyword, else call the first offered function tool that has no result yet
 * (arguments filled from the user's message), else answer (schema-valid JSON when an output type is declared).
 */
export function decideOfflineReply(request: ModelRequest): OfflineReply {
  const view = viewRequest(request);
  const toolNames = new Set(request.tools.flatMap((t) => (t.type === "function" ? [t.name] : [])));
  const answeredTools = view.toolResults.some((r) => toolNames.has(r.name));

  if (request.handoffs.length > 0 && view.toolResults.length === 0) {
    const handoff = chooseHandoff(request.handoffs, view.userText);
    if (handoff) return { type: "call", name: handoff.toolName, arguments: JSON.stringify(sampleArguments(handoff.inputJsonSchema, view.userText)) };
  }
  // Tools with a rule (those that need approval) are called only when the message asks for them.
  const tool = request.tools.find((t) => t.type === "function" && toolAllowed(t.name, view.userText));
  if (tool?.type === "function" && !answeredTools) {
    return { type: "call", name: tool.name, arguments: JSON.stringify(sampleArguments(tool.parameters, view.userText)) };
  }
  if (request.outputType !== "text") {
    const approved = !REJECT_MARKER.test(view.userText);
    const value = sampleJsonSchema(request.outputType.schema, {
      boolean: () => approved,
      string: (path) => `${OFFLINE_PREFIX} ${approved ? "approved" : "rejected"}: ${approved ? "no REJECT marker in the input" : "the input contains REJECT"} (${path.join(".") || "value"})`,
    });
    return { type: "text", text: JSON.stringify(value) };
  }
  // Only results of this agent's own tools: a handoff leaves a transfer_to_* result in the input too.
  const toolResults = view.toolResults.filter((r) => toolNames.has(r.name));
  return { type: "text", text: textAnswer({ instructions: request.systemInstructions, userText: view.userText, toolResults }) };
}

/**
 * Tools the offline model calls only when the user's message matches: a refund leaves the company only on a
 * refund request, so billing questions in chat or triage still get an answer without waiting for approval.
 */
export const toolRules: readonly { tool: string; when: RegExp }[] = [{ tool: "issue_refund", when: /\brefund request\b/i }];

const toolAllowed = (name: string, userText: string): boolean => toolRules.find((r) => r.tool === name)?.when.test(userText) ?? true;

// Tool arguments: every string gets the user's message, so a tool like compute_statistics receives the data as given;
// every number the first number of the message (an amount), when it has one.
const sampleArguments = (schema: unknown, userText: string): unknown => {
  const first = /\d+(?:\.\d+)?/.exec(userText)?.[0];
  return sampleJsonSchema(schema, { boolean: () => false, string: () => userText, number: () => (first === undefined ? undefined : Number(first)) });
};

/** A deterministic in-process `Model`: no network, answers marked "[offline]", real tool calls and handoffs. */
export class OfflineModel implements Model {
  readonly name = OFFLINE_MODEL_NAME;
  readonly #delayMs: number;
  #responses = 0;

  constructor(options: OfflineModelOptions = {}) {
    this.#delayMs = options.delayMs ?? 0;
  }

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    await pause(this.#delayMs, request.signal);
    return this.#respond(request, decideOfflineReply(request));
  }

  async *getStreamedResponse(request: ModelRequest): AsyncIterable<StreamEvent> {
    throwIfAborted(request.signal);
    const reply = decideOfflineReply(request);
    yield { type: "response_started", providerData: { model: this.name } };
    if (reply.type === "text") {
      for (const delta of reply.text.match(/\s*\S+/g) ?? [reply.text]) {
        await pause(this.#delayMs, request.signal);
        yield { type: "output_text_delta", delta };
      }
    }
    await pause(this.#delayMs, request.signal);
    const { id, usage, output } = this.#build(request, reply);
    yield { type: "response_done", response: { id, usage: { requests: 1, ...usage }, output } };
  }

  #respond(request: ModelRequest, reply: OfflineReply): ModelResponse {
    const { id, usage, output } = this.#build(request, reply);
    return { responseId: id, usage: new Usage({ requests: 1, ...usage }), output, providerData: { model: this.name } };
  }

  #build(request: ModelRequest, reply: OfflineReply) {
    const n = ++this.#responses;
    const digest = createHash("sha256").update(JSON.stringify([request.systemInstructions ?? "", request.input])).digest("hex").slice(0, 12);
    const id = `resp_offline_${digest}_${n}`;
    const output: StreamEventResponseCompleted["response"]["output"] =
      reply.type === "text"
        ? [{ type: "message", id: `msg_offline_${digest}_${n}`, role: "assistant", status: "completed", content: [{ type: "output_text", text: reply.text }] }]
        : [{ type: "function_call", id: `fc_offline_${digest}_${n}`, callId: `call_offline_${digest}_${n}`, name: reply.name, arguments: reply.arguments, status: "completed" }];
    const inputTokens = countWords(request.systemInstructions ?? "") + countWords(viewRequest(request).allText);
    const outputTokens = Math.max(1, countWords(reply.type === "text" ? reply.text : reply.arguments));
    return { id, usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens }, output };
  }
}

/** Serves the offline model for every model name (agents' own model names are ignored offline). */
export class OfflineModelProvider implements ModelProvider {
  readonly #model: OfflineModel;

  constructor(options: OfflineModelOptions = {}) {
    this.#model = new OfflineModel(options);
  }

  getModel(_modelName?: string): Model {
    return this.#model;
  }
}

function abortError(signal: AbortSignal): Error {
  return new DOMException("The offline model call was aborted.", { name: "AbortError", cause: signal.reason });
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  throwIfAborted(signal);
  // setTimeout(0) is at least 1 ms in Node: without a delay, do not wait at all.
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      if (signal) reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
