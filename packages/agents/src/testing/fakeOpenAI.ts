import http from "node:http";
import type { AddressInfo } from "node:net";
import { bodySchema, fakeReplies, type FakeReply, type FakeReplyOptions, type SseEvent } from "./fakeReplies";

export type { FakeAnswerContext } from "./fakeReplies";

/**
 * A failure the fake plays instead of (or before) its normal answer to one model request.
 *
 * - `status`: answers `status` with an OpenAI-shaped JSON error `{ error: { message, type, param: null, code } }` and
 *   the given extra `headers` (e.g. `{ "retry-after": "2" }`, an HTTP date, or `{ "retry-after-ms": "150" }`).
 *   Defaults: `type` "server_error" for 5xx, "requests" for 429 (code "rate_limit_exceeded"), else "invalid_request_error";
 *   `code` null; `message` "fake fault: HTTP <status>".
 * - `hang`: reads the request and never answers, until the client closes the connection or `close()` is called.
 * - `cut`: starts the normal answer, then destroys the socket before it is complete. Streamed: sends the events up
 *   to and including the `afterDeltas`-th text or tool-argument delta (default 1), never the completing event
 *   (`response.completed`; for Chat Completions the `finish_reason` chunk, usage and `[DONE]`). Not streamed: sends
 *   the status line, headers and half of the JSON body.
 * - `reset`: reads the request, then resets the TCP connection (RST) before any byte of answer.
 * - `wait`: answers normally once `until` settles; lets a test hold requests in flight and release them.
 */
export type FakeFault =
  | { type: "status"; status: number; headers?: Record<string, string>; message?: string; errorType?: string; code?: string | null }
  | { type: "hang" }
  | { type: "cut"; afterDeltas?: number }
  | { type: "reset" }
  | { type: "wait"; until: Promise<unknown> };

/**
 * Which fault each model request (a POST to `/responses` or `/chat/completions`) gets; `null` answers normally.
 * An array is the initial fault queue: each model request takes the next entry, and once the queue is empty requests
 * are answered normally. A function is asked whenever the queue is empty, with the request's 0-based index among
 * model requests and the logged request.
 */
export type FakeFaultScript = readonly (FakeFault | null)[] | ((index: number, request: FakeOpenAIRequest) => FakeFault | null | undefined);

export type FakeOpenAIOptions = FakeReplyOptions & {
  /** Faults to inject, one per model request; see `FakeFaultScript`. */
  faults?: FakeFaultScript;
};

export type FakeOpenAIRequest = {
  method: string;
  path: string;
  stream: boolean;
  /** Top-level body keys, sorted. */
  keys: string[];
  headers: { authorization: string | undefined; userAgent: string | undefined };
  body: Record<string, unknown>;
  /** The fault played for this request, `null` when answered normally. */
  fault: FakeFault | null;
  /** True once the client closed the connection before the fake had finished answering (e.g. an abort during a hang). */
  clientClosed: boolean;
};

export type FakeOpenAI = {
  /** `http://127.0.0.1:<port>/v1`, to pass as `baseURL`. */
  baseURL: string;
  /** Every request whose body was read, in order (requests that hang or fail are logged too). */
  log: FakeOpenAIRequest[];
  /** HTTP requests received so far, counted on arrival. */
  readonly received: number;
  /** Requests received and not yet finished: answered completely, destroyed by a fault, or closed by the client. */
  readonly inFlight: number;
  /** The largest `inFlight` seen since the server started. */
  readonly peakInFlight: number;
  /** Resolves once `count` requests have been read and logged (their fault, if any, is chosen and under way). */
  whenLogged: (count: number) => Promise<void>;
  /** Resolves once nothing is in flight (at once if nothing is). */
  whenIdle: () => Promise<void>;
  /** Appends faults to the queue (see `FakeFaultScript`); `null` answers one request normally. */
  enqueueFaults: (...faults: (FakeFault | null)[]) => void;
  close: () => Promise<void>;
};

/**
 * A local imitation of the OpenAI HTTP API (Responses + Chat Completions, JSON and SSE) on 127.0.0.1, port 0,
 * which can fail on demand (`options.faults`, `enqueueFaults`) and counts requests in flight.
 * When the request offers a function tool and holds no tool result yet, it calls the first tool; otherwise it answers text.
 */
export async function startFakeOpenAI(opts: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const log: FakeOpenAIRequest[] = [];
  const queued: (FakeFault | null)[] = typeof opts.faults === "function" ? [] : [...(opts.faults ?? [])];
  const replies = fakeReplies(opts);
  let modelRequests = 0;
  let received = 0;
  let inFlight = 0;
  let peakInFlight = 0;
  let closing = false;
  let waiters: { ready: () => boolean; resolve: () => void }[] = [];
  const wake = () => {
    waiters = waiters.filter((w) => (w.ready() ? (w.resolve(), false) : true));
  };
  const waitUntil = (ready: () => boolean) =>
    new Promise<void>((resolve) => {
      if (ready()) resolve();
      else waiters.push({ ready, resolve });
    });

  const nextFault = (request: FakeOpenAIRequest): FakeFault | null => {
    const index = modelRequests++;
    if (queued.length > 0) return queued.shift() ?? null;
    return typeof opts.faults === "function" ? (opts.faults(index, request) ?? null) : null;
  };

  const server = http.createServer((req, res) => {
    received++;
    peakInFlight = Math.max(peakInFlight, ++inFlight);
    const seen = { entry: undefined as FakeOpenAIRequest | undefined, destroyedByFake: false };
    res.on("close", () => {
      if (seen.entry && !res.writableFinished && !seen.destroyedByFake && !closing) seen.entry.clientClosed = true;
      inFlight--;
      wake();
    });
    void handle(req, res, seen).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, error instanceof Error ? error.message : String(error));
      else res.end();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, seen: { entry: FakeOpenAIRequest | undefined; destroyedByFake: boolean }): Promise<void> {
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
    const entry: FakeOpenAIRequest = {
      method: req.method ?? "",
      path,
      stream: body.stream === true,
      keys: Object.keys(body).sort(),
      headers: { authorization: req.headers.authorization, userAgent: req.headers["user-agent"] },
      body,
      fault: null,
      clientClosed: false,
    };
    seen.entry = entry;
    log.push(entry);
    wake();
    const route = req.method !== "POST" ? null : path.endsWith("/responses") ? replies.responses : path.endsWith("/chat/completions") ? replies.chat : null;
    if (!route) return sendError(res, 404, `no route ${req.method ?? ""} ${path}`);
    const fault = nextFault(entry);
    entry.fault = fault;
    if (fault?.type === "wait") await fault.until.catch(() => undefined);
    const destroy = (how: "destroy" | "reset") => {
      seen.destroyedByFake = true;
      if (how === "reset") res.socket?.resetAndDestroy();
      else res.destroy();
    };
    switch (fault?.type) {
      case undefined:
      case "wait":
        return write(res, route(body));
      case "status":
        return sendError(res, fault.status, fault.message ?? `fake fault: HTTP ${fault.status}`, fault);
      case "hang":
        return;
      case "reset":
        return destroy("reset");
      case "cut":
        return cut(res, route(body), fault.afterDeltas ?? 1, () => destroy("destroy"));
      default:
        return fault satisfies never;
    }
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    log,
    get received() {
      return received;
    },
    get inFlight() {
      return inFlight;
    },
    get peakInFlight() {
      return peakInFlight;
    },
    whenLogged: (count) => waitUntil(() => log.length >= count),
    whenIdle: () => waitUntil(() => inFlight === 0),
    enqueueFaults: (...faults) => void queued.push(...faults),
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing = true;
        server.close((error) => (error ? reject(error) : resolve()));
        // The OpenAI client keeps connections alive, and hanging requests never end: without this close() waits for them.
        server.closeAllConnections();
      }),
  };
}

function write(res: http.ServerResponse, reply: FakeReply): void {
  if (reply.kind === "json") {
    res.writeHead(200, { "content-type": "application/json", ...reply.headers });
    return void res.end(JSON.stringify(reply.body));
  }
  openSse(res);
  res.end(reply.events.map(sse).join(""));
}

/** Writes the start of `reply`, then calls `destroy` once that start has been handed to the socket. */
function cut(res: http.ServerResponse, reply: FakeReply, afterDeltas: number, destroy: () => void): void {
  if (reply.kind === "json") {
    const text = JSON.stringify(reply.body);
    res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...reply.headers });
    return void res.write(text.slice(0, Math.floor(text.length / 2)), destroy);
  }
  const sent: SseEvent[] = [];
  let deltas = 0;
  for (const event of reply.events) {
    if (event.terminal || (event.delta && deltas >= afterDeltas)) break;
    sent.push(event);
    if (event.delta && ++deltas >= afterDeltas) break;
  }
  openSse(res);
  res.write(sent.map(sse).join(""), destroy);
}

function sendError(res: http.ServerResponse, status: number, message: string, fault?: Extract<FakeFault, { type: "status" }>): void {
  const type = fault?.errorType ?? (status >= 500 ? "server_error" : status === 429 ? "requests" : "invalid_request_error");
  const code = fault?.code !== undefined ? fault.code : status === 429 ? "rate_limit_exceeded" : null;
  res.writeHead(status, { "content-type": "application/json", ...fault?.headers });
  res.end(JSON.stringify({ error: fault ? { message, type, param: null, code } : { message, type } }));
}

function openSse(res: http.ServerResponse): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
}

const sse = ({ event, data }: SseEvent): string => `${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
