import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../logger";
import type { Metrics } from "../telemetry/metrics";

export const METRICS_PATH = "/metrics";

/**
 * Decides whether a request may read `/metrics`. Open when absent. With API keys (`AUTH_MODE=keys`),
 * pass the check a viewer procedure makes; or serve metrics on their own `METRICS_PORT`, reachable only
 * from inside the cluster.
 */
export type MetricsAuthorizer = (req: IncomingMessage) => Promise<boolean>;

export type MetricsEndpoint = { metrics: Metrics; logger: Logger; authorize?: MetricsAuthorizer | undefined };

/**
 * Answers `GET /metrics` in the Prometheus text format and returns true; false for any other path. Like
 * the probes it skips the browser and Host checks (Prometheus scrapes by pod IP), and reads nothing.
 */
export function handleMetrics(req: IncomingMessage, res: ServerResponse, endpoint: MetricsEndpoint): boolean {
  if ((req.url ?? "").split("?")[0] !== METRICS_PATH) return false;
  if (req.method !== "GET" && req.method !== "HEAD") {
    sendJson(res, 405, { status: "method_not_allowed", message: "/metrics answers GET and HEAD." }, { allow: "GET, HEAD" });
    return true;
  }
  void (async () => {
    if (endpoint.authorize && !(await endpoint.authorize(req))) {
      sendJson(res, 401, { status: "unauthorized", message: "Reading metrics needs credentials." });
      return;
    }
    const text = await endpoint.metrics.registry.metrics();
    if (res.headersSent || res.destroyed) return;
    res.writeHead(200, { "content-type": endpoint.metrics.registry.contentType, "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
    res.end(req.method === "HEAD" ? undefined : text);
  })().catch((error: unknown) => {
    endpoint.logger.error({ err: error }, "metrics failed");
    sendJson(res, 500, { status: "error", message: "Collecting metrics failed." });
  });
  return true;
}

/** `/metrics` alone on its own port (`METRICS_PORT`); any other path is 404. */
export async function startMetricsServer(endpoint: MetricsEndpoint, opts: { port: number; host: string }): Promise<{ port: number; close(): Promise<void> }> {
  const server = createHttpServer((req, res) => {
    if (!handleMetrics(req, res, endpoint)) sendJson(res, 404, { status: "not_found", message: `Only ${METRICS_PATH} is served here.` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "cache-control": "no-store", ...headers });
  res.end(text);
}
