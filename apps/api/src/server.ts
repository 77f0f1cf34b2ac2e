import type { AddressInfo } from "node:net";
import type { AnyRouter } from "@trpc/server";
import { createHTTPServer } from "@trpc/server/adapters/standalone";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { WebSocketServer } from "ws";
import { createContextFactory, type Services } from "./context";
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

/** tRPC over HTTP (queries, mutations, SSE subscriptions) and WebSocket, on one port. Port 0 picks a free one. */
export async function createServer(
  services: Services,
  opts: {
    port: number;
    host: string;
    /** Serve this router instead of `appRouter` (benchmarks add procedures with `mergeRouters`). */
    router?: AnyRouter;
  },
): Promise<ServerHandle> {
  const router = opts.router ?? appRouter;
  const createContext = createContextFactory(services);
  const onError = ({ error, path }: { error: { code: string; cause?: unknown }; path?: string | undefined }) => {
    if (error.code === "INTERNAL_SERVER_ERROR") services.logger.error({ err: error.cause ?? error, path }, "procedure failed");
    else services.logger.debug({ code: error.code, path }, "procedure rejected");
  };
  const server = createHTTPServer({
    router,
    basePath: `${TRPC_PATH}/`,
    createContext,
    onError,
    // Bodies much larger than any accepted input are cut before parsing; the precise check is per field.
    maxBodySize: services.info.maxInputBytes * 4 + 64 * 1024,
  });
  // Any path: clients may connect to ws://host:port or ws://host:port/trpc.
  const wss = new WebSocketServer({ server, maxPayload: services.info.maxInputBytes * 4 + 64 * 1024 });
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
