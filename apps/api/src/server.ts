import { createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { AnyRouter } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { WebSocketServer } from "ws";
import { RateLimitedError } from "./auth/gate";
import { createContextFactory, type Services } from "./context";
import { answerClientError, guardHttpRequest, guardUpgrade } from "./http/edge";
import { handleMetrics, type MetricsAuthorizer } from "./http/metrics";
import { handleProbe } from "./http/probes";
import { edgePolicy } from "./http/requestGuard";
import { appRouter } from "./routers";

export type ServerHandle = {
  /** e.g. `http://127.0.0.1:3000/trpc` */
  url: string;
  port: number;
  host: string;
  /** Cuts every open HTTP and WebSocket connection (clients reconnect); for tests of resumption. */
  dropAllConnections(): void;
  /** Stops listening and closes every connection. Does not touch the services. */
  close(): Promise<void>;
};

export const TRPC_PATH = "/trpc";

/**
 * tRPC over HTTP (queries, mutations, SSE subscriptions) and WebSocket, on one port, behind the browser
 * and Host checks of `http/requestGuard.ts`; the probes `/healthz` and `/readyz` and Prometheus `/metrics`
 * on the same port.
 * Port 0 picks a free one.
 */
export async function createServer(
  services: Services,
  opts: {
    port: number;
    host: string;
    /** Serve this router instead of `appRouter` (benchmarks add procedures with `mergeRouters`). */
    router?: AnyRouter;
    /** Origins of web pages allowed to call the API (`ALLOWED_ORIGINS`). Default: none. */
    allowedOrigins?: readonly string[];
    /** Host names answered besides the loopback names (`ALLOWED_HOSTS`). Default: none. */
    allowedHosts?: readonly string[];
    /** How long `/readyz` waits for the database. Default 2000 ms. */
    readinessTimeoutMs?: number;
    /**
     * `/metrics` on this port: served (default), guarded by `authorize` (default: the gate, so a viewer key
     * under AUTH_MODE=keys), or `false` when it has its own `METRICS_PORT`.
     */
    metrics?: false | { authorize?: MetricsAuthorizer };
  },
): Promise<ServerHandle> {
  const router = opts.router ?? appRouter;
  const createContext = createContextFactory(services);
  const onError = ({ error, path }: { error: { code: string; cause?: unknown }; path?: string | undefined }) => {
    if (error.code === "INTERNAL_SERVER_ERROR") services.logger.error({ err: error.cause ?? error, path }, "procedure failed");
    else services.logger.debug({ code: error.code, path }, "procedure rejected");
  };
  const policy = edgePolicy({ bindHost: opts.host, allowedOrigins: opts.allowedOrigins ?? [], allowedHosts: opts.allowedHosts ?? [] });
  if (policy.hosts.kind === "any") services.logger.info("any Host header is accepted; set ALLOWED_HOSTS to the names clients use");
  const readinessTimeoutMs = opts.readinessTimeoutMs ?? 2_000;
  const metrics = opts.metrics === false ? null : { metrics: services.telemetry.metrics, logger: services.logger, authorize: opts.metrics?.authorize ?? ((req) => services.gate.admitsRequest(req, "viewer")) };
  const trpcHandler = createHTTPHandler({
    router,
    basePath: `${TRPC_PATH}/`,
    createContext,
    onError,
    // A rate-limited call says when to come back, as HTTP clients and proxies expect.
    responseMeta({ errors }) {
      const waits = errors.map((e) => (e.cause instanceof RateLimitedError ? e.cause.retryAfterMs : 0));
      const wait = Math.max(0, ...waits);
      return wait > 0 ? { headers: { "retry-after": String(Math.ceil(wait / 1000)) } } : {};
    },
    // Bodies much larger than any accepted input are cut before parsing; the precise check is per field.
    maxBodySize: services.info.maxInputBytes * 4 + 64 * 1024,
  });
  // Queries and SSE subscriptions carry their input in the URL: room for one input of the largest accepted size,
  // every byte percent-encoded, instead of Node's 16 KiB (beyond it, `answerClientError` answers a typed 431).
  const maxHeaderSize = services.info.maxInputBytes * 3 + 16 * 1024;
  const server = createHttpServer({ maxHeaderSize }, (req, res) => {
    if (handleProbe(req, res, services, { readinessTimeoutMs })) return;
    if (metrics && handleMetrics(req, res, metrics)) return;
    if (guardHttpRequest(req, res, policy, services.logger)) trpcHandler(req, res);
  });
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket, maxHeaderSize));
  // Any path: clients may connect to ws://host:port or ws://host:port/trpc.
  const wss = new WebSocketServer({ noServer: true, maxPayload: services.info.maxInputBytes * 4 + 64 * 1024 });
  server.on("upgrade", (req, socket, head) => {
    if (!guardUpgrade(req, socket, policy, services.logger)) return;
    wss.handleUpgrade(req, socket, head, (client) => wss.emit("connection", client, req));
  });
  const handler = applyWSSHandler({ wss, router, createContext, onError });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const hostForUrl = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostForUrl}:${port}${TRPC_PATH}`,
    port,
    host: opts.host,
    dropAllConnections() {
      server.closeAllConnections();
      for (const client of wss.clients) client.terminate();
    },
    close() {
      closing ??= (async () => {
        handler.broadcastReconnectNotification();
        for (const client of wss.clients) client.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
}
