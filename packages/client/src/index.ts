import { createTRPCClient, createWSClient, httpBatchLink, httpBatchStreamLink, httpSubscriptionLink, splitLink, wsLink, type TRPCClient } from "@trpc/client";
import type { AnyRouter, inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { EventSource, type EventSourceInit } from "eventsource";
import WebSocket from "ws";
import type { AppRouter } from "./router.js";

export type { AppRouter, ErrorShape, ValidationIssue } from "./router.js";
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
type YieldOf<T> = T extends AsyncIterable<infer Y> ? Y : never;

/** One event of a run, as `workflows.runStream` and `runs.events` deliver it (inside `{ id, data }`). */
export type RunEvent = YieldOf<RouterOutputs["workflows"]["runStream"]>["data"];
export type RunEventType = RunEvent["type"];
/** One event of `chat.stream`. */
export type ChatEvent = YieldOf<RouterOutputs["chat"]["stream"]>;
/** `workflows.run`: the finished run. */
export type WorkflowRunResult = RouterOutputs["workflows"]["run"];
/** `workflows.list` / `workflows.get`: a workflow and its steps. */
export type WorkflowDescriptor = RouterOutputs["workflows"]["get"];
/** `runs.get`: a run, its steps and trace spans. */
export type RunDetails = RouterOutputs["runs"]["get"];
/** One run of `runs.list`. */
export type RunSummary = RouterOutputs["runs"]["list"]["items"][number];
export type RunStatus = RunSummary["status"];
export type StepRecord = RunDetails["steps"][number];
/** `runs.cancel`: the run's status once the cancellation is recorded. */
export type CancelResult = RouterOutputs["runs"]["cancel"];
/** `chat.send`: the agent's answer. */
export type ChatReply = RouterOutputs["chat"]["send"];
export type HealthInfo = RouterOutputs["health"];

export type WorkflowsClientOptions = {
  /** e.g. `http://127.0.0.1:3000/trpc` */
  url: string;
  /**
   * Sent as `Authorization: Bearer <apiKey>` on every HTTP request, SSE subscriptions included, and
   * as `connectionParams: { authorization: "Bearer <apiKey>" }` on the WebSocket. Never in a URL:
   * the SSE link would put connection params in the query string, where logs and proxies keep them.
   */
  apiKey?: string;
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
 * A typed client for the Workflows API. Queries and mutations are batched over HTTP (each mutation answered
 * as it ends); subscriptions use SSE or a WebSocket and reconnect by themselves, resuming after the last
 * event received.
 * `TRouter` can name a router that extends the API's (e.g. benchmarks adding procedures).
 */
export function createWorkflowsClient<TRouter extends AnyRouter = AppRouter>(options: WorkflowsClientOptions): TRPCClient<TRouter> {
  const url = options.url.replace(/\/+$/, "");
  const authorization = options.apiKey === undefined ? undefined : `Bearer ${options.apiKey}`;
  const headers: Record<string, string> = authorization ? { authorization } : {};
  const connectionParams = authorization ? { authorization } : undefined;
  let wsClient: ReturnType<typeof createWSClient> | undefined;
  const subscriptionLink =
    options.transport === "ws"
      ? wsLink({
          client: (wsClient = createWSClient({
            url: url.replace(/^http/, "ws"),
            WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
            retryDelayMs: (attempt) => Math.min(100 * 2 ** attempt, 2_000),
            ...(connectionParams ? { connectionParams } : {}),
          })),
        })
      : httpSubscriptionLink({
          url,
          EventSource,
          ...(authorization ? { eventSourceOptions: { fetch: withHeaders(headers) } satisfies EventSourceInit } : {}),
        });
  // Calls made in the same tick travel as one request. A mutation may last as long as a run: mutations are
  // streamed back, each answered as it ends, never held back by a run batched with it. Queries are quick
  // reads, answered together (at twice the rate a streamed batch allows). Batched queries travel in one
  // URL: split batches before they outgrow what proxies commonly pass (8 KiB).
  const queryLink = httpBatchLink({ url, headers, maxURLLength: 8 * 1024 });
  const mutationLink = httpBatchStreamLink({ url, headers });
  const client = createTRPCClient<TRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: subscriptionLink,
        false: splitLink({ condition: (op) => op.type === "mutation", true: mutationLink, false: queryLink }),
      }),
    ],
  });
  if (wsClient) sockets.set(client, wsClient);
  return client;
}

/** A fetch for the EventSource that adds `extra` to each request's headers. */
function withHeaders(extra: Record<string, string>): NonNullable<EventSourceInit["fetch"]> {
  return (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...extra } });
}
