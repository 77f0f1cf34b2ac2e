import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "../logger";
import { checkRequest, type EdgeDecision, type EdgePolicy, type RefusalReason } from "./requestGuard";

type Refusal = Extract<EdgeDecision, { allowed: false }>;

const refusalBody = (refusal: Refusal) => JSON.stringify({ error: { code: "FORBIDDEN", reason: refusal.reason, message: refusal.message } });

/** What a refusal log line says of the request: headers a browser sets, never the query (it holds inputs). */
function describe(req: IncomingMessage, transport: "http" | "websocket", reason: RefusalReason) {
  const short = (v: string | string[] | undefined) => (typeof v === "string" ? v.slice(0, 200) : v);
  return {
    reason,
    transport,
    method: req.method,
    path: (req.url ?? "").split("?")[0]?.slice(0, 200),
    host: short(req.headers.host),
    origin: short(req.headers.origin),
    secFetchSite: short(req.headers["sec-fetch-site"]),
  };
}

/**
 * Applies the policy to an HTTP request. Answers refusals (403) and CORS preflights itself and returns
 * false; otherwise adds CORS headers for an allowed origin and returns true: pass the request on.
 */
export function guardHttpRequest(req: IncomingMessage, res: ServerResponse, policy: EdgePolicy, logger: Logger): boolean {
  const decision = checkRequest(req, policy);
  if (!decision.allowed) {
    logger.warn(describe(req, "http", decision.reason), "request refused");
    const body = refusalBody(decision);
    res.writeHead(403, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
    res.end(body);
    return false;
  }
  if (decision.corsOrigin !== null) {
    res.setHeader("access-control-allow-origin", decision.corsOrigin);
    res.setHeader("vary", "Origin");
  }
  if (decision.preflight) {
    const requested = req.headers["access-control-request-headers"];
    res.writeHead(204, {
      "access-control-allow-methods": "GET, POST, OPTIONS",
      ...(typeof requested === "string" ? { "access-control-allow-headers": requested } : {}),
      "access-control-max-age": "600",
    });
    res.end();
    return false;
  }
  return true;
}

/** Applies the policy to a WebSocket upgrade. On refusal answers 403 on the raw socket, closes it and returns false. */
export function guardUpgrade(req: IncomingMessage, socket: Duplex, policy: EdgePolicy, logger: Logger): boolean {
  const decision = checkRequest(req, policy);
  if (decision.allowed) return true;
  logger.warn(describe(req, "websocket", decision.reason), "WebSocket upgrade refused");
  socket.on("error", () => socket.destroy());
  const body = refusalBody(decision);
  socket.once("finish", () => socket.destroy());
  socket.end(
    `HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\n\r\n${body}`,
  );
  return false;
}

/** Node's own answers to requests its parser refused (node:_http_server), for the cases `answerClientError` leaves to it. */
const nodeAnswers: Record<string, string> = {
  HPE_CHUNK_EXTENSIONS_OVERFLOW: "413 Payload Too Large",
  ERR_HTTP_REQUEST_TIMEOUT: "408 Request Timeout",
};

/**
 * Answers a request Node's HTTP parser refused before any handler saw it, as Node does, except that headers and
 * URL over `maxHeaderSize` (a query's or an SSE subscription's input too large for a URL) get a 431 whose body
 * is a tRPC error, so that tRPC clients report PAYLOAD_TOO_LARGE with what to do instead. Nothing is written on
 * a connection whose previous response is still being sent.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex & { _httpMessage?: unknown }, maxHeaderSize: number): void {
  const idle = socket.writable && (socket._httpMessage === undefined || socket._httpMessage === null);
  if (idle && error.code === "HPE_HEADER_OVERFLOW") {
    const body = JSON.stringify({
      error: {
        message: `The request's URL and headers exceed ${maxHeaderSize} bytes: send an input this large in a mutation's body (POST), or subscribe over WebSocket.`,
        code: -32413,
        data: { code: "PAYLOAD_TOO_LARGE", httpStatus: 431 },
      },
    });
    socket.end(`HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\n\r\n${body}`);
    return;
  }
  if (idle && error.code !== "ECONNRESET") socket.write(`HTTP/1.1 ${nodeAnswers[error.code ?? ""] ?? "400 Bad Request"}\r\nConnection: close\r\n\r\n`);
  socket.destroy(error);
}
