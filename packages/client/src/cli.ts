#!/usr/bin/env node
import { TRPCClientError } from "@trpc/client";
import { createWorkflowsClient, type RunEvent, type WorkflowsClient } from "./index.js";
import { formatRun, RunPrinter } from "./render.js";

// The CLI is a script: its settings come from the environment.
// eslint-disable-next-line no-restricted-properties
const { WORKFLOWS_URL, WORKFLOWS_API_KEY } = process.env;
const url = WORKFLOWS_URL ?? "http://127.0.0.1:3000/trpc";
const apiKey = WORKFLOWS_API_KEY || undefined;
const usage = `usage: wf <command>
  wf list                      workflows you can run
  wf run <key> <input...>      run a workflow, showing each step live
  wf run "<input>"             run the default workflow (one quoted argument)
  wf watch <workflowRunId>     follow a run (replays what already happened)
  wf runs [workflowKey]        recent runs
  wf get <workflowRunId>       a run: status, steps (status, attempts, tokens), error or output
  wf cancel <workflowRunId>    stop a running or pending run
  wf resume <workflowRunId> [--allow-new-version]
                               continue a failed, interrupted or cancelled run from its first unfinished step
  wf approve <workflowRunId> [--approval <id>] [--reject [--reason <text>]]
                               decide on a tool call the run waits for (the only pending one unless --approval),
                               then follow the run as it continues
env: WORKFLOWS_URL (default http://127.0.0.1:3000/trpc), WORKFLOWS_API_KEY (sent as a Bearer token)
Ctrl-C while following a run stops watching (exit 130); the run goes on. If the server goes away
while following, wf says so and follows the run again when the server is back (it resumes runs
that a crash cut off).`;

const write = (text: string) => process.stdout.write(text);

/** What Ctrl-C does now: exit 130 (128 + SIGINT), as a shell reports a process ended by it. */
let onInterrupt: () => void = () => process.exit(130);
process.on("SIGINT", () => onInterrupt());

type Handlers = {
  onData(v: { id: string; data: RunEvent }): void;
  onError(e: unknown): void;
  onComplete(): void;
  onConnectionStateChange(state: { state: string; error: unknown }): void;
};

/**
 * Follows a subscription of run events until the run ends; resolves with the exit code. The tRPC client
 * reconnects by itself with the last event id; we only say when the connection is lost and back.
 */
function follow(subscribe: (handlers: Handlers) => { unsubscribe(): void }): Promise<number> {
  const printer = new RunPrinter(write);
  let runId: string | undefined;
  return new Promise<number>((resolve, reject) => {
    let code: number | null = null;
    let lost = false;
    const sub = subscribe({
      onData({ data }) {
        runId ??= data.workflowRunId;
        code = printer.print(data);
        if (code !== null) {
          resolve(code);
          sub.unsubscribe();
        }
      },
      onError: reject,
      onComplete: () => resolve(code ?? 1),
      onConnectionStateChange({ state, error }) {
        if (state === "connecting" && error) {
          if (lost) return;
          lost = true;
          printer.note(`(lost the connection to the server: ${error instanceof Error ? rootCause(error) : "connection error"}; following the run again when it is back)`);
        } else if (state === "pending" && lost) {
          lost = false;
          printer.note("(connected again)");
        }
      },
    });
    onInterrupt = () => {
      // Settle before unsubscribing: unsubscribe() completes the subscription at once, and
      // onComplete would settle with 1 first (that was the exit code of Ctrl-C).
      resolve(130);
      sub.unsubscribe();
      write(`\n(stopped watching; the run goes on${runId ? `: wf watch ${runId}` : ""})\n`);
    };
  });
}

async function main(client: WorkflowsClient, argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case "list": {
      for (const w of await client.workflows.list.query()) {
        write(`${w.key}${w.default ? " (default)" : ""} — ${w.displayName}\n  ${w.description}\n  steps: ${w.steps.map((s) => `${s.name}(${s.agentKey})`).join(" → ")}\n`);
      }
      return 0;
    }
    case "run": {
      if (args.length === 0) throw new UsageError("wf run [key] <input...>");
      await reachable(client);
      // One argument is the input of the default workflow (quote it); with more, the first is the workflow's key.
      const named = args.length > 1;
      const [first = "", ...rest] = args;
      const input = named ? rest.join(" ") : first;
      return follow((h) => client.workflows.runStream.subscribe(named ? { key: first, input } : { input }, h));
    }
    case "watch": {
      const [workflowRunId] = args;
      if (!workflowRunId) throw new UsageError("wf watch <workflowRunId>");
      await reachable(client);
      return follow((h) => client.runs.events.subscribe({ workflowRunId }, h));
    }
    case "runs": {
      const [workflowKey] = args;
      const { items } = await client.runs.list.query({ limit: 20, ...(workflowKey ? { workflowKey } : {}) });
      if (items.length === 0) write("no runs yet\n");
      for (const r of items) write(`${r.createdAt}  ${r.status.padEnd(11)} ${r.workflowKey.padEnd(18)} ${r.id}  ${r.usage.totalTokens} tokens\n`);
      return 0;
    }
    case "get": {
      const [workflowRunId] = args;
      if (!workflowRunId) throw new UsageError("wf get <workflowRunId>");
      write(formatRun(await client.runs.get.query({ workflowRunId })));
      return 0;
    }
    case "cancel": {
      const [workflowRunId] = args;
      if (!workflowRunId) throw new UsageError("wf cancel <workflowRunId>");
      const { status } = await client.runs.cancel.mutate({ workflowRunId });
      write(`run ${workflowRunId}: ${status}\n`);
      return 0;
    }
    case "resume": {
      const [workflowRunId, ...flags] = args;
      if (!workflowRunId) throw new UsageError("wf resume <workflowRunId> [--allow-new-version]");
      const unknown = flags.filter((f) => f !== "--allow-new-version");
      if (unknown.length > 0) throw new UsageError(`unknown option ${unknown.join(" ")}`);
      const before = await client.runs.get.query({ workflowRunId });
      const resumed = await client.runs.resume.mutate({ workflowRunId, ...(flags.length > 0 ? { allowNewVersion: true } : {}) });
      write(`run ${workflowRunId} (${before.run.status}) resumed from step ${resumed.fromStepIndex + 1}\n`);
      return follow((h) => client.runs.events.subscribe({ workflowRunId, lastEventId: `${workflowRunId}:${before.run.lastSeq}` }, h));
    }
    case "approve": {
      const [workflowRunId, ...flags] = args;
      if (!workflowRunId) throw new UsageError("wf approve <workflowRunId> [--approval <id>] [--reject [--reason <text>]]");
      const options = parseApproveFlags(flags);
      const before = await client.runs.get.query({ workflowRunId });
      const pending = before.approvals.filter((a) => a.status === "pending");
      let approvalId = options.approvalId;
      if (!approvalId) {
        if (pending.length === 0) throw new UsageError(`run ${workflowRunId} (${before.run.status}) has no pending approval`);
        if (pending.length > 1) throw new UsageError(`run ${workflowRunId} waits for ${pending.length} approvals; name one with --approval: ${pending.map((a) => `${a.approvalId} (${a.toolName})`).join(", ")}`);
        approvalId = pending[0]!.approvalId;
      }
      const decided = await client.runs.approve.mutate({ workflowRunId, approvalId, approved: !options.reject, ...(options.reason ? { reason: options.reason } : {}) });
      write(`approval ${approvalId} ${decided.approved ? "approved" : "rejected"} by ${decided.decidedBy}; run ${workflowRunId} ${decided.resumed ? "continues" : "still waits for other approvals"}\n`);
      if (!decided.resumed) return 0;
      return follow((h) => client.runs.events.subscribe({ workflowRunId, lastEventId: `${workflowRunId}:${before.run.lastSeq}` }, h));
    }
    case undefined:
    case "help":
    case "--help":
      write(`${usage}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

class UsageError extends Error {}

/** `--approval <id>`, `--reject`, `--reason <text...>` (the reason may be several words). */
function parseApproveFlags(flags: string[]): { approvalId?: string; reject: boolean; reason?: string } {
  const out: { approvalId?: string; reject: boolean; reason?: string } = { reject: false };
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i];
    if (flag === "--approval") {
      const id = flags[++i];
      if (!id) throw new UsageError("--approval needs an approval id");
      out.approvalId = id;
    } else if (flag === "--reject") out.reject = true;
    else if (flag === "--reason") {
      const words: string[] = [];
      while (i + 1 < flags.length && !flags[i + 1]!.startsWith("--")) words.push(flags[++i]!);
      if (words.length === 0) throw new UsageError("--reason needs a text");
      out.reason = words.join(" ");
    } else throw new UsageError(`unknown option ${flag}`);
  }
  if (out.reason !== undefined && !out.reject) throw new UsageError("--reason goes with --reject");
  return out;
}

/** The innermost cause's message (e.g. "connect ECONNREFUSED 127.0.0.1:3000" under "fetch failed"). */
function rootCause(error: Error): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

/** Subscriptions retry an unreachable server forever; one query first fails fast with a clear message. */
async function reachable(client: WorkflowsClient): Promise<void> {
  await client.health.query();
}

/** Exits once everything written so far has reached stdout and stderr (process.exit alone may cut a piped tail). */
function exitAfterFlush(code: number): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write("", done);
  process.stderr.write("", done);
}

const client = createWorkflowsClient({ url, ...(apiKey ? { apiKey } : {}) });
main(client, process.argv.slice(2)).then(
  (code) => exitAfterFlush(code),
  (error: unknown) => {
    if (error instanceof UsageError) process.stderr.write(`${error.message}\n\n${usage}\n`);
    else if (error instanceof TRPCClientError) {
      const code = (error.data as { code?: string } | undefined)?.code;
      process.stderr.write(code ? `error ${code}: ${error.message}\n` : `cannot reach the Workflows API at ${url}: ${rootCause(error)}\n`);
    } else process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    exitAfterFlush(error instanceof UsageError ? 2 : 1);
  },
);
