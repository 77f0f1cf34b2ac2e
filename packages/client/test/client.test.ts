import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger, createServer, createServices, type ServerHandle, type Services } from "@workflows/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { closeWorkflowsClient, createWorkflowsClient, type RunEvent } from "../src/index.js";

const pkgDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dir = mkdtempSync(path.join(tmpdir(), "wf-client-test-"));
let services: Services;
let server: ServerHandle;
beforeAll(async () => {
  services = await createServices({
    logger: createLogger({ level: "silent" }),
    databaseUrl: `file:${path.join(dir, "client.db")}`,
    model: { provider: "offline" },
    maxInputBytes: 64 * 1024,
    shutdownGraceMs: 1_000,
  });
  server = await createServer(services, { port: 0, host: "127.0.0.1" });
});
afterAll(async () => {
  await server.close();
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(["sse", "ws"] as const)("createWorkflowsClient over %s", (transport) => {
  it("queries, mutates and streams a run to its end", async () => {
    const client = createWorkflowsClient({ url: server.url, transport });
    try {
      expect((await client.health.query()).ok).toBe(true);
      const events: RunEvent[] = [];
      for await (const { id, data } of client.workflows.runStream.subscribe({ key: "analysis_code", input: "mean of 2, 4, 6" })) {
        expect(id).toBe(`${data.workflowRunId}:${data.seq}`);
        events.push(data);
        if (data.type === "run.completed" || data.type === "run.failed") break;
      }
      expect(events.at(-1)?.type).toBe("run.completed");
      const { run } = await client.runs.get.query({ workflowRunId: events[0]?.workflowRunId ?? "" });
      expect(run.status).toBe("succeeded");
    } finally {
      await closeWorkflowsClient(client);
    }
  });
});

type CliResult = { code: number; stdout: string; stderr: string };
function cli(args: string[], url = server.url): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], { cwd: pkgDir, env: { ...process.env, WORKFLOWS_URL: url } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe("wf CLI", () => {
  it("runs a workflow with live steps and ends with the run id and output", async () => {
    const r = await cli(["run", "analysis_code", "mean", "of", "1,", "2,", "3"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/● \[1\/2\] analyse \(data_analyst\)/);
    expect(r.stdout).toMatch(/✓ analyse done in \d+\.\ds, \d+ tokens/);
    const id = /✓ run (\S+) succeeded/.exec(r.stdout)?.[1];
    expect(id).toBeTruthy();
    const watched = await cli(["watch", id ?? ""]);
    expect(watched.code).toBe(0);
    expect(watched.stdout).toContain(`✓ run ${id} succeeded`);
    // Regression: the final output was printed twice, streamed and again after the success line.
    const firstOutputLine = "[offline] Deterministic code for";
    expect(r.stdout.split(firstOutputLine)).toHaveLength(2);
    const runs = await cli(["runs"]);
    expect(runs.stdout).toContain(id);
  });

  // Six CLI processes, one after the other: on a loaded 2-core machine each start can take seconds.
  it("exits non-zero with a clear message on errors", { timeout: 240_000 }, async () => {
    const unknown = await cli(["run", "nope", "x"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("NOT_FOUND");
    const usage = await cli(["run"]);
    expect((await cli(["run", "nope x y"])).code).toBe(0);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("usage: wf");
    for (const args of [["list"], ["run", "analysis_code", "x"], ["watch", "some-run"]]) {
      const down = await cli(args, "http://127.0.0.1:9/trpc");
      expect(down.code).toBe(1);
      expect(down.stderr).toContain("cannot reach the Workflows API at http://127.0.0.1:9/trpc");
    }
  });
});

describe("createWorkflowsClient with an apiKey", () => {
  it("sends it as a Bearer header over HTTP and SSE, as connectionParams on the WebSocket, and never in a URL", async () => {
    // A server that only records what arrives; every call fails, which is fine here.
    const seen: { headers: IncomingHttpHeaders; url: string }[] = [];
    const wsMessages: string[] = [];
    const http = createHttpServer((req, res) => {
      seen.push({ headers: req.headers, url: req.url ?? "" });
      res.writeHead(500).end();
    });
    const wss = new WebSocketServer({ server: http });
    wss.on("connection", (socket) => socket.on("message", (data: Buffer) => wsMessages.push(data.toString())));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/trpc`;
    const subscribeOnce = (transport: "sse" | "ws") => {
      const client = createWorkflowsClient({ url, transport, apiKey: "k-123" });
      const sub = client.runs.events.subscribe({ workflowRunId: "r1" }, { onError: () => undefined });
      return { client, sub };
    };
    try {
      await expect(createWorkflowsClient({ url, apiKey: "k-123" }).health.query()).rejects.toThrow();
      const sse = subscribeOnce("sse");
      const ws = subscribeOnce("ws");
      await waitFor(() => seen.some((s) => s.url.includes("runs.events")) && wsMessages.some((m) => m.includes("connectionParams")));
      sse.sub.unsubscribe();
      ws.sub.unsubscribe();
      await closeWorkflowsClient(ws.client);

      const query = seen.find((s) => s.url.includes("health"));
      expect(query?.headers.authorization).toBe("Bearer k-123");
      const stream = seen.find((s) => s.url.includes("runs.events"));
      expect(stream?.headers.authorization).toBe("Bearer k-123");
      for (const request of seen) expect(request.url).not.toContain("k-123");
      expect(new URL(stream?.url ?? "", url).searchParams.has("connectionParams")).toBe(false);
      const first = JSON.parse(wsMessages[0] ?? "null") as { method?: string; data?: unknown };
      expect(first).toEqual({ method: "connectionParams", data: { authorization: "Bearer k-123" } });
    } finally {
      for (const socket of wss.clients) socket.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });

  it("splits a large batch of queries into URLs of at most 8 KiB", async () => {
    const urls: string[] = [];
    const http = createHttpServer((req, res) => {
      urls.push(req.url ?? "");
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    try {
      const client = createWorkflowsClient({ url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/trpc` });
      await Promise.allSettled(Array.from({ length: 300 }, (_, i) => client.runs.get.query({ workflowRunId: `run-${"x".repeat(40)}-${i}` })));
      expect(urls.length).toBeGreaterThan(1);
      for (const url of urls) expect(url.length).toBeLessThanOrEqual(8 * 1024);
      expect(urls.reduce((n, url) => n + decodeURIComponent(url).split("workflowRunId").length - 1, 0)).toBe(300);
    } finally {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });

  it("sends no Authorization header without one", async () => {
    const seen: IncomingHttpHeaders[] = [];
    const http = createHttpServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/trpc`;
      await expect(createWorkflowsClient({ url }).health.query()).rejects.toThrow();
      expect(seen[0]?.authorization).toBeUndefined();
    } finally {
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });
});

describe("wf CLI on a slow run", () => {
  // The offline model pausing between streamed words: a run lasts long enough to interrupt and cancel.
  let slowServices: Services;
  let slow: ServerHandle;
  beforeAll(async () => {
    slowServices = await createServices({
      logger: createLogger({ level: "silent" }),
      databaseUrl: `file:${path.join(dir, "slow.db")}`,
      // 1 s between words: a step lasts minutes, far longer than any CLI start under load.
      model: { provider: "offline", delayMs: 1_000 },
      maxInputBytes: 64 * 1024,
      shutdownGraceMs: 1_000,
    });
    slow = await createServer(slowServices, { port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await slow?.close();
    await slowServices?.close();
  });

  it("exits 130 on Ctrl-C while following a run, which goes on and can then be fetched and cancelled", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "run", "analysis_code", "mean of 1, 2, 3"], {
      cwd: pkgDir,
      env: { ...process.env, WORKFLOWS_URL: slow.url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    await waitFor(() => stdout.includes("● [1/2] analyse"), 60_000);
    child.kill("SIGINT");
    const { code, signal } = await exited;
    expect({ code, signal }).toEqual({ code: 130, signal: null });
    const id = /▶ analysis_code run (\S+)/.exec(stdout)?.[1] ?? "";
    expect(stdout).toContain(`(stopped watching; the run goes on: wf watch ${id})`);

    const running = await cli(["get", id], slow.url);
    expect(running.code).toBe(0);
    expect(running.stdout).toContain(`run ${id} (analysis_code): running`);
    expect(running.stdout).toMatch(/1\. analyse \(data_analyst\) (running|succeeded), 1 attempt, \d+ tokens/);

    const cancelled = await cli(["cancel", id], slow.url);
    expect(cancelled).toMatchObject({ code: 0, stdout: `run ${id}: cancelled\n` });
    const after = await cli(["get", id], slow.url);
    expect(after.stdout).toContain(`run ${id} (analysis_code): cancelled`);
    expect(after.stdout).toMatch(/error \[CANCELLED\]|cancelled/);

    const again = await cli(["cancel", id], slow.url);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("error CONFLICT");
  }, 180_000);

  it("answers each call of a batch as it ends: a quick mutation is not held back by a run batched with it", async () => {
    const client = createWorkflowsClient({ url: slow.url });
    const input = "mean of 1, 2 (batched with a quick mutation)";
    // Called in the same tick, the two mutations travel in one request. The run lasts minutes.
    let runSettled = false;
    const run = client.workflows.run.mutate({ key: "analysis_code", input }).finally(() => (runSettled = true));
    const quick = client.workflows.run.mutate({ key: "no_such_workflow", input: "x" });
    await expect(quick).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
    expect(runSettled).toBe(false);
    // The run may not be recorded yet when the quick answer comes.
    let runId: string | undefined;
    while (!(runId = (await client.runs.list.query({ workflowKey: "analysis_code", limit: 100 })).items.find((r) => r.input === input)?.workflowRunId)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await client.runs.cancel.mutate({ workflowRunId: runId });
    expect(await run).toMatchObject({ workflowRunId: runId, status: "cancelled" });
  }, 120_000);

  it("wf get and wf cancel explain an unknown run and a missing id", async () => {
    const unknown = await cli(["get", "no-such-run"], slow.url);
    expect(unknown).toMatchObject({ code: 1 });
    expect(unknown.stderr).toContain("error NOT_FOUND");
    expect((await cli(["cancel", "no-such-run"], slow.url)).stderr).toContain("error NOT_FOUND");
    const usage = await cli(["get"], slow.url);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("wf get <workflowRunId>");
  }, 120_000);
});

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
