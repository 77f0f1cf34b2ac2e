import http from "node:http";
import WebSocket from "ws";

export type RawResponse = { status: number; headers: http.IncomingHttpHeaders; body: string };

/**
 * One HTTP request with exactly the headers given (`host` included), as a browser or an attacker
 * would send it. With `until`, reads the body only until it matches, then cuts the connection
 * (for event streams that do not end).
 */
export function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; until?: (bodySoFar: string) => boolean } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? "GET", headers: opts.headers ?? {}, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      res.on("data", (chunk: string) => {
        body += chunk;
        if (opts.until?.(body)) {
          done();
          req.destroy();
        }
      });
      res.on("end", done);
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

export type SocketOutcome = { opened: true; socket: WebSocket } | { opened: false; status: number; body: string };

/** Opens a WebSocket with the given `Origin` and headers; tells whether the server took the upgrade. */
export function openSocket(url: string, opts: { origin?: string; headers?: Record<string, string> } = {}): Promise<SocketOutcome> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { ...(opts.origin ? { origin: opts.origin } : {}), headers: opts.headers ?? {} });
    socket.once("open", () => resolve({ opened: true, socket }));
    socket.once("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ opened: false, status: res.statusCode ?? 0, body }));
    });
    socket.once("error", reject);
  });
}

/** Sends a tRPC subscription over an open socket and resolves with the first data message's payload. */
export function firstSubscriptionData(socket: WebSocket, path: string, input: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    socket.on("message", (raw: WebSocket.RawData) => {
      const text = Array.isArray(raw) ? Buffer.concat(raw).toString("utf8") : Buffer.from(raw as ArrayBuffer).toString("utf8");
      const msg = JSON.parse(text) as { id?: number; result?: { type: string; data?: unknown }; error?: unknown };
      if (msg.error) reject(new Error(JSON.stringify(msg.error)));
      if (msg.result?.type === "data") resolve(msg.result.data);
    });
    socket.send(JSON.stringify({ id: 1, jsonrpc: "2.0", method: "subscription", params: { path, input } }));
  });
}
