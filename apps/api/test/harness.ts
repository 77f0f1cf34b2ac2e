import type { ModelProvider } from "@openai/agents-core";
import { createTRPCClient, createTRPCUntypedClient, createWSClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError, wsLink, type TRPCClient } from "@trpc/client";
import type { ModelConfig } from "@workflows/agents";
import { isTerminalEvent, type WorkflowEvent } from "@workflows/core";
import { testDatabaseFamily } from "@workflows/db/testing";
import { EventSource } from "eventsource";
import WebSocket from "ws";
import { createServices } from "../src/app";
import type { Services } from "../src/context";
import { createLogger } from "../src/logger";
import type { AppRouter } from "../src/router";
import { createServer, type ServerHandle } from "../src/server";

export type Client = TRPCClient<AppRouter>;

export type TestDatabases = {
  /** A database of the suite's kind (SQLite, or PostgreSQL in the postgres project); `${dbUrl}.x` names another. */
  dbUrl: string;
  /** SQLite: the folder of the database files; null on PostgreSQL. */
  dir: string | null;
  /** Creates the database a URL of this family names, if needed: call before handing the URL to another process or to `openDatabase`. */
  ensure(url: string): Promise<string>;
  remove(): Promise<void>;
};

/** Every family `tempDir` made in this test file, so that `startTestServer` can create a URL's database first. */
const families: TestDatabases[] = [];

/** The databases of one test file: files in a temp folder on SQLite, `wf_test_…` databases on PostgreSQL. */
export function tempDir(): TestDatabases {
  const family = testDatabaseFamily();
  const databases: TestDatabases = {
    dbUrl: family.url,
    dir: family.dir,
    ensure: async (url) => {
      await family.ensure(url);
      return url;
    },
    remove: () => family.remove(),
  };
  families.push(databases);
  return databases;
}

async function ensureDatabase(url: string): Promise<void> {
  for (const family of families) if (url.startsWith(family.dbUrl)) await family.ensure(url);
}

export type TestServer = {
  services: Services;
  server: ServerHandle;
  /** Subscriptions over SSE. */
  sse: Client;
  /** Subscriptions over WebSocket. */
  ws: Client;
  close(): Promise<void>;
};

export type TestServerOptions = {
  dbUrl: string;
  model?: ModelConfig;
  modelProvider?: ModelProvider;
  maxInputBytes?: number;
  shutdownGraceMs?: number;
  durability?: Parameters<typeof createServices>[0]["durability"];
  workflows?: Parameters<typeof createServices>[0]["workflows"];
  /** Keys, rate limit: passed to `createServices`. Default: no keys. */
  auth?: Parameters<typeof createServices>[0]["auth"];
  redactor?: Parameters<typeof createServices>[0]["redactor"];
  /** Browser and Host checks, probes, `/metrics`: passed to `createServer`. */
  edge?: Pick<Parameters<typeof createServer>[1], "allowedOrigins" | "allowedHosts" | "readinessTimeoutMs" | "metrics">;
  /** OTLP trace export; default none. */
  otlp?: Parameters<typeof createServices>[0]["otlp"];
  /** RUN_RETENTION_DAYS; default none (runs kept forever). */
  retention?: Parameters<typeof createServices>[0]["retention"];
};

/** A client of a server at `url`, subscriptions over SSE. */
export function sseClient(url: string): Client {
  return createTRPCClient<AppRouter>({
    links: [splitLink({ condition: (op) => op.type === "subscription", true: httpSubscriptionLink({ url, EventSource }), false: httpBatchLink({ url }) })],
  });
}

/**
 * Clients of a server at `url` that present `authorization` (e.g. `Bearer wfk_...`): over HTTP as a header;
 * on subscriptions as the `authorization` connection param (SSE puts it in the query; WebSocket sends it
 * first), or as the header on SSE with `sseAuth: "header"`. Close `wsClient` when done.
 */
export function clientsWith(url: string, authorization: string | null, opts: { sseAuth?: "header" | "connectionParams" } = {}) {
  const headers: Record<string, string> = authorization === null ? {} : { authorization };
  const connectionParams = authorization === null ? null : { authorization };
  const eventSourceOptions = { fetch: (input: string | URL, init: RequestInit) => fetch(input, { ...init, headers: { ...(init.headers as Record<string, string>), ...headers } }) };
  const sseLink =
    opts.sseAuth === "header"
      ? httpSubscriptionLink({ url, EventSource, eventSourceOptions })
      : httpSubscriptionLink({ url, EventSource, ...(connectionParams ? { connectionParams } : {}) });
  const wsClient = createWSClient({
    url: url.replace(/^http/, "ws"),
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    retryDelayMs: () => 50,
    ...(connectionParams ? { connectionParams } : {}),
  });
  const http = httpBatchLink({ url, headers });
  return {
    http: createTRPCUntypedClient<AppRouter>({ links: [splitLink({ condition: (op) => op.type === "subscription", true: sseLink, false: http })] }),
    ws: createTRPCUntypedClient<AppRouter>({ links: [wsLink({ client: wsClient })] }),
    typedSse: createTRPCClient<AppRouter>({ links: [splitLink({ condition: (op) => op.type === "subscription", true: sseLink, false: http })] }),
    typedWs: createTRPCClient<AppRouter>({ links: [splitLink({ condition: (op) => op.type === "subscription", true: wsLink({ client: wsClient }), false: http })] }),
    wsClient,
  };
}

/** The real server on port 0 over a real database (SQLite file, or PostgreSQL), with both transports' clients. */
export async function startTestServer(opts: TestServerOptions): Promise<TestServer> {
  await ensureDatabase(opts.dbUrl);
  const services = await createServices({
    logger: createLogger({ level: "silent" }),
    databaseUrl: opts.dbUrl,
    model: opts.model ?? { provider: "offline" },
    ...(opts.modelProvider ? { modelProvider: opts.modelProvider } : {}),
    maxInputBytes: opts.maxInputBytes ?? 64 * 1024,
    shutdownGraceMs: opts.shutdownGraceMs ?? 2_000,
    ...(opts.durability ? { durability: opts.durability } : {}),
    ...(opts.workflows ? { workflows: opts.workflows } : {}),
    ...(opts.auth ? { auth: opts.auth } : {}),
    ...(opts.redactor ? { redactor: opts.redactor } : {}),
    ...(opts.otlp ? { otlp: opts.otlp } : {}),
    ...(opts.retention ? { retention: opts.retention } : {}),
  });
  const server = await createServer(services, { port: 0, host: "127.0.0.1", ...opts.edge });
  const wsClient = createWSClient({ url: server.url.replace(/^http/, "ws"), WebSocket: WebSocket as unknown as typeof globalThis.WebSocket, retryDelayMs: () => 50 });
  const http = httpBatchLink({ url: server.url });
  const sse = sseClient(server.url);
  const ws = createTRPCClient<AppRouter>({
    links: [splitLink({ condition: (op) => op.type === "subscription", true: wsLink({ client: wsClient }), false: http })],
  });
  return {
    services,
    server,
    sse,
    ws,
    async close() {
      await wsClient.close();
      await server.close();
      await services.close();
    },
  };
}

/**
 * Reads a subscription (the client's async-iterator form) until `until` says stop, or the server ends it.
 * Leaving the loop unsubscribes.
 */
export async function collect<T>(
  subscription: AsyncIterable<T>,
  opts: { until?: (value: NoInfer<T>, all: NoInfer<T>[]) => boolean; onValue?: (value: NoInfer<T>, all: NoInfer<T>[]) => void; timeoutMs?: number } = {},
): Promise<T[]> {
  const values: T[] = [];
  const iterator = subscription[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`subscription timed out after ${values.length} values`)), opts.timeoutMs ?? 20_000);
  });
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), timeout]);
      if (next.done) return values;
      values.push(next.value);
      opts.onValue?.(next.value, values);
      if (opts.until?.(next.value, values)) return values;
    }
  } finally {
    clearTimeout(timer);
    void iterator.return?.();
  }
}

export const isEnd = (e: { data: Pick<WorkflowEvent, "type"> }): boolean => isTerminalEvent(e.data);

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The TRPCClientError `promise` rejects with; throws when it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof TRPCClientError)) throw new Error(`expected a TRPCClientError, got ${String(error)}`);
  return error as TRPCClientError<AppRouter>;
}
