import { createTRPCClient, createWSClient, httpBatchLink, httpSubscriptionLink, splitLink, wsLink, type TRPCClient } from "@trpc/client";
import type { AnyRouter, inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@workflows/api/router";
import { EventSource } from "eventsource";
import WebSocket from "ws";

export type { AppRouter };
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
/** One event of a run, as `workflows.runStream` and `runs.events` deliver it (inside `{ id, data }`). */
export type RunEvent = YieldOf<RouterOutputs["workflows"]["runStream"]>["data"];
/** One event of `chat.stream`. */
export type ChatEvent = YieldOf<RouterOutputs["chat"]["stream"]>;
type YieldOf<T> = T extends AsyncIterable<infer Y> ? Y : never;

export type WorkflowsClientOptions = {
  /** e.g. `http://127.0.0.1:3000/trpc` */
  url: string;
  /** How subscriptions travel: Server-Sent Events over HTTP (default) or a WebSocket. */
  transport?: "sse" | "ws";
};

export type WorkflowsClient = TRPCClient<AppRouter>;

const sockets = new WeakMap<object, ReturnType<typeof createWSClient>>();

/** Closes the client's WebSocket, if it opened one (transport `ws`); lets the process exit. */
export async function closeWorkflowsClient(client: object): Promise<void> {
  await sockets.get(client)?.close();
}

/**
 * A typed client for the Workflows API. Queries and mutations are batched over HTTP.
 * `TRouter` can name a router that extends the API's (e.g. benchmarks adding procedures).
 */
export function createWorkflowsClient<TRouter extends AnyRouter = AppRouter>(options: WorkflowsClientOptions): TRPCClient<TRouter> {
  const url = options.url.replace(/\/+$/, "");
  let wsClient: ReturnType<typeof createWSClient> | undefined;
  const subscriptionLink =
    options.transport === "ws"
      ? wsLink({
          client: (wsClient = createWSClient({
            url: url.replace(/^http/, "ws"),
            WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
            retryDelayMs: (attempt) => Math.min(100 * 2 ** attempt, 2_000),
          })),
        })
      : httpSubscriptionLink({ url, EventSource });
  const client = createTRPCClient<TRouter>({
    links: [splitLink({ condition: (op) => op.type === "subscription", true: subscriptionLink, false: httpBatchLink({ url }) })],
  });
  if (wsClient) sockets.set(client, wsClient);
  return client;
}
