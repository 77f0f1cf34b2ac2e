import { tool } from "@openai/agents-core";
import { AgentCatalog } from "@workflows/agents";
import { z } from "zod";
import { WorkflowRegistry, WorkflowRunner, type WorkflowEvent, type WorkflowRunnerOptions, type WorkflowSpec } from "../src";
import { FnModel, fnProvider, hasToolResult, lastUserText, InMemoryRunRecorder, type FnModelOptions, type Responder } from "../src/testing";

export const verdictSchema = z.object({ approved: z.boolean(), reason: z.string() });

const ping = tool({ name: "ping", description: "Answers pong.", parameters: z.object({}), execute: () => "pong" });

/** Small agents for runner tests: text, structured, tool-using, and one that hands off. */
export const testCatalog = new AgentCatalog([
  { key: "echo", displayName: "Echo", description: "Echoes.", instructions: "Echo the input." },
  { key: "backup", displayName: "Backup", description: "Fallback.", instructions: "Backup answers anyway." },
  { key: "judge", displayName: "Judge", description: "Judges.", instructions: "Judge.", outputType: verdictSchema },
  { key: "pinger", displayName: "Pinger", description: "Calls ping.", instructions: "Call ping.", tools: [ping] },
  { key: "router", displayName: "Router", description: "Routes.", instructions: "Route.", handoffs: ["echo"] },
]);

/**
 * Default scripted behaviour: `judge` answers a verdict (rejects when the input says REJECT), `pinger`
 * calls its tool forever, every other agent answers "<agent>: <input>".
 */
export const defaultResponder: Responder = (request) => {
  const text = lastUserText(request);
  const agent = /^(\w+)/.exec(request.systemInstructions ?? "")?.[1] ?? "";
  if (request.outputType !== "text") return { json: { approved: !text.includes("REJECT"), reason: text.includes("REJECT") ? "asked to reject" : "fine" } };
  if (request.tools.some((t) => t.name === "ping")) return { toolCall: { name: "ping" } };
  void hasToolResult;
  return { text: `${agent.toLowerCase()}: ${text}` };
};

type RunnerExtras = Partial<Omit<WorkflowRunnerOptions, "registry" | "catalog" | "modelProvider" | "recorder">> & { recorder?: InMemoryRunRecorder };

/** A runner on the test catalog, a scripted model and an in-memory recorder. Retries wait 0-1 ms unless `runnerOpts.retry` says otherwise. */
export function setup(workflows: WorkflowSpec[], responder: Responder = defaultResponder, modelOpts: FnModelOptions = {}, runnerOpts: RunnerExtras = {}) {
  const model = new FnModel(responder, modelOpts);
  const recorder = runnerOpts.recorder ?? new InMemoryRunRecorder();
  const registry = WorkflowRegistry.create({ workflows, catalog: testCatalog });
  const runner = new WorkflowRunner({ registry, catalog: testCatalog, modelProvider: fnProvider(model), ...runnerOpts, recorder, retry: { initialDelayMs: 1, maxDelayMs: 1, ...runnerOpts.retry } });
  return { model, recorder, registry, runner };
}

/** An error shaped like the openai client's APIError: an HTTP status and the response headers. */
export function httpError(status: number, headers: Record<string, string> = {}): Error {
  return Object.assign(new Error(`${status} status code (no body)`), { status, headers: new Headers(headers) });
}

/** Every event of a stream, in order (Array.fromAsync needs Node 22). */
export async function collect(iter: AsyncIterable<WorkflowEvent>): Promise<WorkflowEvent[]> {
  const events: WorkflowEvent[] = [];
  for await (const e of iter) events.push(e);
  return events;
}
