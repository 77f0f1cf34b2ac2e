import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import { fileURLToPath } from "node:url";
import type { WorkflowEvent } from "@workflows/core";
import { afterEach, describe, expect, it } from "vitest";
import { sseClient, tempDir, waitFor } from "./harness";

const apiDir = fileURLToPath(new URL("..", import.meta.url));
const tmp = tempDir();
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The real server process (src/main.ts) on a fixed port, so that clients reconnect to the restarted one. */
async function startProcess(env: Record<string, string>): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], { cwd: apiDir, env: { ...process.env, HOST: "127.0.0.1", LOG_LEVEL: "info", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(proc);
  let listening = false;
  let output = "";
  proc.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
    if (output.includes('"msg":"listening"')) listening = true;
  });
  proc.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  await waitFor(() => listening || proc.exitCode !== null, 60_000);
  if (!listening) throw new Error(`server did not start:\n${output}`);
  return proc;
}

async function kill9(proc: ChildProcess): Promise<void> {
  const exited = once(proc, "exit");
  proc.kill("SIGKILL");
  await exited;
}

/**
 * kill -9 of a real server mid-run, then a restart on the same database and port. The client that was
 * streaming the run is the tRPC client's own reconnect (SSE, with its last event id).
 */
describe.each([
  ["after step 1 succeeded", (e: WorkflowEvent) => e.type === "step.completed" && e.stepIndex === 0, 1],
  ["during step 1", (e: WorkflowEvent) => e.type === "step.delta" && e.stepIndex === 0, 0],
] as const)("kill -9 %s", (_name, killWhen, fromStepIndex) => {
  it("the restarted server resumes the run; the reconnecting client sees every later event once, up to run.completed", { timeout: 180_000 }, async () => {
    const port = await freePort();
    const env = { PORT: String(port), DATABASE_URL: await tmp.ensure(`${tmp.dbUrl}.kill-${fromStepIndex}`), OFFLINE_DELAY_MS: "40" };
    const first = await startProcess(env);
    const client = sseClient(`http://127.0.0.1:${port}/trpc`);
    const events: WorkflowEvent[] = [];
    let killed: Promise<void> | undefined;
    let ended = false;
    const sub = client.workflows.runStream.subscribe(
      { key: "analysis_code", input: "Analyse 3, 5, 8, 13 and write a function that prints their mean." },
      {
        onData: ({ data }) => {
          events.push(data as WorkflowEvent);
          if (!killed && killWhen(data as WorkflowEvent)) killed = kill9(first);
          if (data.type === "run.completed") ended = true;
        },
        onError: () => undefined,
      },
    );
    try {
      await waitFor(() => killed !== undefined, 60_000);
      await killed;
      const seenBeforeCrash = events.length;
      await startProcess(env);
      await waitFor(() => ended, 120_000);
      expect(events.length).toBeGreaterThan(seenBeforeCrash);
      // Nothing twice, nothing missing: seq runs 1, 2, 3... across the crash.
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      const at = events.findIndex((e) => e.type === "run.resumed");
      expect(events[at]).toMatchObject({ fromStepIndex, resumedBy: "start-up", previousStatus: "running" });
      const started = (list: WorkflowEvent[]) => list.flatMap((e) => (e.type === "step.started" ? [{ index: e.stepIndex, attempt: e.attempt }] : []));
      const before = started(events.slice(0, at));
      const restarted = started(events.slice(at));
      // The step in flight runs again from its start, its attempts counted on; a succeeded step never runs again.
      expect(restarted[0]).toEqual({ index: fromStepIndex, attempt: before.filter((s) => s.index === fromStepIndex).length + 1 });
      expect(restarted.some((s) => s.index < fromStepIndex)).toBe(false);
      const completed = events.at(-1);
      expect(completed?.type).toBe("run.completed");
      const { run, steps } = await client.runs.get.query({ workflowRunId: events[0]!.workflowRunId });
      expect(run.status).toBe("succeeded");
      expect(steps.map((s) => s.status)).toEqual(["succeeded", "succeeded"]);
    } finally {
      sub.unsubscribe();
    }
  });
});
