import { Usage, type Model, type ModelProvider, type ModelRequest, type ModelResponse } from "@openai/agents-core";

type StreamEvent = Model["getStreamedResponse"] extends (r: ModelRequest) => AsyncIterable<infer E> ? E : never;
type Answer = Exclude<ScriptedReply, { error: Error }>;
type OutputItems = Extract<StreamEvent, { type: "response_done" }>["response"]["output"];

/** What a scripted model answers to one request. */
export type ScriptedReply =
  | { text: string }
  | { json: unknown }
  | { toolCall: { name: string; arguments?: Record<string, unknown> } }
  | { error: Error };

export type Responder = (request: ModelRequest, callIndex: number) => ScriptedReply | Promise<ScriptedReply>;

export type FnModelOptions = {
  /** Wait this long before answering (abortable through the request's signal). */
  delayMs?: number;
  /** Split streamed text into deltas of this many characters. */
  chunkSize?: number;
  /** Awaited before each streamed delta after the first (its index): lets a test space the deltas out. */
  beforeDelta?: (index: number) => Promise<void>;
  /**
   * Keep every request in `requests` (default true, for tests that look at them). Benchmarks pass false:
   * a request holds its trace spans, so a long run of calls would grow the heap and tax garbage collection.
   */
  keepRequests?: boolean;
};

/** A model whose every answer comes from a function: for tests and benchmarks, no network. */
export class FnModel implements Model {
  readonly requests: ModelRequest[] = [];
  #calls = 0;
  readonly #respond: Responder;
  readonly #opts: FnModelOptions;

  constructor(respond: Responder, opts: FnModelOptions = {}) {
    this.#respond = respond;
    this.#opts = opts;
  }

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    return toResponse(await this.#reply(request), this.#calls);
  }

  async *getStreamedResponse(request: ModelRequest): AsyncIterable<StreamEvent> {
    const reply = await this.#reply(request);
    const response = toResponse(reply, this.#calls);
    yield { type: "response_started" };
    if ("text" in reply) {
      const size = this.#opts.chunkSize ?? 8;
      for (let i = 0; i < reply.text.length; i += size) {
        if (this.#opts.beforeDelta && i > 0) await this.#opts.beforeDelta(i / size);
        yield { type: "output_text_delta", delta: reply.text.slice(i, i + size) };
      }
    }
    yield {
      type: "response_done",
      response: { id: response.responseId ?? "resp", usage: { inputTokens: response.usage.inputTokens, outputTokens: response.usage.outputTokens, totalTokens: response.usage.totalTokens }, output: response.output },
    };
  }

  async #reply(request: ModelRequest): Promise<Answer> {
    const callIndex = this.#calls++;
    if (this.#opts.keepRequests !== false) this.requests.push(request);
    if (this.#opts.delayMs) await sleep(this.#opts.delayMs, request.signal);
    // A responder that never answers (a hung model) still gives way when the request is aborted.
    const reply = await abortable(this.#respond(request, callIndex), request.signal);
    if ("error" in reply) throw reply.error;
    return reply;
  }
}

/** A provider that serves one model for every name. */
export function fnProvider(model: Model): ModelProvider {
  return { getModel: () => model };
}

/** The text of the last user message of a request (what the agent was asked). */
export function lastUserText(request: ModelRequest): string {
  if (typeof request.input === "string") return request.input;
  for (const item of [...request.input].reverse()) {
    if ("role" in item && item.role === "user") {
      if (typeof item.content === "string") return item.content;
      return item.content.map((c) => ("text" in c && typeof c.text === "string" ? c.text : "")).join("");
    }
  }
  return "";
}

/** Whether the request already carries a tool result (the model has called its tool). */
export function hasToolResult(request: ModelRequest): boolean {
  return typeof request.input !== "string" && request.input.some((i) => i.type === "function_call_result");
}

function toResponse(reply: Answer, n: number): ModelResponse & { output: OutputItems } {
  let output: OutputItems;
  if ("toolCall" in reply) {
    output = [{ type: "function_call", callId: `call_${n}`, name: reply.toolCall.name, arguments: JSON.stringify(reply.toolCall.arguments ?? {}), status: "completed" }];
  } else {
    const text = "text" in reply ? reply.text : JSON.stringify(reply.json);
    output = [{ type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text }] }];
  }
  const outputTokens = "text" in reply ? Math.ceil(reply.text.length / 4) : 5;
  return { responseId: `resp_${n}`, usage: new Usage({ requests: 1, inputTokens: 10, outputTokens, totalTokens: 10 + outputTokens }), output };
}

function abortable<T>(work: T | Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal?.aborted) return Promise.reject(abortError());
  // A synchronous answer is already here: there is nothing left to abort.
  if (!signal || !(work instanceof Promise)) return Promise.resolve(work);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener("abort", onAbort, { once: true });
    Promise.resolve(work).then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(abortError());
    }, { once: true });
  });
}

function abortError(): Error {
  const error = new Error("The model call was aborted.");
  error.name = "AbortError";
  return error;
}
