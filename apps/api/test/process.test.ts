import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { getRun, openDatabase } from "@workflows/db";
import { afterEach, describe, expect, it } from "vitest";
import { sseClient, tempDir, waitFor } from "./harness";
import { startOtlpReceiver } from "./otlpReceiver";
import { parseMetrics, valueOf } from "./prometheus";
import { rawRequest } from "./raw";

const apiDir = fileURLToPath(new URL("..", import.meta.url));
const tmp = tempDir();
let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill("SIGKILL");
  child = undefined;
});

/** The real server process from its sources (src/main.ts), as `pnpm dev` runs it, on a free port. */
async function startProcess(env: Record<string, string>): Promise<{ url: string; logs: () => string[] }> {
  const proc = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], { cwd: apiDir, env: { ...process.env, HOST: "127.0.0.1", PORT: "0", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  child = proc;
  const lines: string[] = [];
  let url: string | undefined;
  proc.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    for (const line of chunk.split("\n").filter(Boolean)) {
      lines.push(line);
      const parsed = JSON.parse(line) as { msg?: string; url?: string };
      if (parsed.msg === "listening") url = parsed.url;
    }
  });
  await waitFor(() => url !== undefined || proc.exitCode !== null, 80_000);
  if (!url) throw new Error(`server did not start: ${lines.join("\n")}`);
  return { url, logs: () => lines };
}

describe("the server process", { timeout: 90_000 }, () => {
  it("on SIGTERM with a run in flight: refuses new runs, interrupts the run after the grace period, records it, exits 0", async () => {
    const dbUrl = await tmp.ensure(`${tmp.dbUrl}.sigterm`);
    const { url, logs } = await startProcess({ DATABASE_URL: dbUrl, OFFLINE_DELAY_MS: "40", SHUTDOWN_GRACE_MS: "300", LOG_LEVEL: "info" });
    const client = sseClient(url);
    const seen: string[] = [];
    let runId = "";
    const sub = client.workflows.runStream.subscribe(
      { key: "analysis_code", input: "mean of 4, 8, 15" },
      { onData: ({ data }) => ((runId ||= data.workflowRunId), seen.push(data.type)), onError: () => undefined },
    );
    await waitFor(() => seen.includes("step.delta"), 20_000);
    const exited = once(child!, "exit");
    child!.kill("SIGTERM");
    const [code] = (await exited) as [number | null];
    sub.unsubscribe();

    expect(code).toBe(0);
    const messages = logs().map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(messages).toEqual(expect.arrayContaining(["shutting down", "stopped"]));
    const db = await openDatabase({ url: dbUrl });
    try {
      const recorded = await getRun(db.prisma, runId);
      expect(recorded?.run).toMatchObject({ status: "interrupted", error: { code: "INTERRUPTED" } });
      expect(recorded?.steps.some((s) => s.status === "running")).toBe(false);
    } finally {
      await db.close();
    }
  });

  it("with OTEL_* set exports the run's spans, flushed on SIGTERM; with METRICS_PORT serves /metrics there", async () => {
    const receiver = await startOtlpReceiver();
    try {
      const { url, logs } = await startProcess({
        DATABASE_URL: await tmp.ensure(`${tmp.dbUrl}.otel`),
        LOG_LEVEL: "info",
        OTEL_EXPORTER_OTLP_ENDPOINT: new URL(receiver.url).origin,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_SERVICE_NAME: "wf-process",
        // Longer than the test: only the shutdown flush can deliver the spans.
        OTEL_BSP_SCHEDULE_DELAY: "600000",
        METRICS_PORT: "0",
      });
      const result = await sseClient(url).workflows.run.mutate({ key: "analysis_code", input: "numbers 3 4" });
      const metricsPort = logs().map((l) => JSON.parse(l) as { msg: string; port?: number }).find((l) => l.msg === "metrics on their own port")?.port;
      const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(valueOf(parseMetrics(await scraped.text()), "workflows_runs_finished_total", { workflow: "analysis_code", status: "succeeded" })).toBe(1);
      expect(receiver.spans).toHaveLength(0);
      const exited = once(child!, "exit");
      child!.kill("SIGTERM");
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
      const runSpan = receiver.spans.find((s) => s.name === "workflow analysis_code");
      expect(runSpan?.attributes["workflow.run_id"]).toBe(result.workflowRunId);
      expect(runSpan?.resource["service.name"]).toBe("wf-process");
      expect(receiver.requests[0]?.path).toBe("/v1/traces");
    } finally {
      await receiver.close();
    }
  });

  it("refuses to start on a bad configuration value, naming it", async () => {
    const proc = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], { cwd: apiDir, env: { ...process.env, PORT: "not-a-port" }, stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    let stderr = "";
    proc.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const [code] = (await once(proc, "exit")) as [number | null];
    expect(code).toBe(1);
    expect(stderr).toContain("PORT");
  });

  it("on SIGTERM /readyz answers 503 draining while runs finish, /healthz stays 200, then the process exits 0", async () => {
    // A long grace period: draining lasts until the test cancels the run, so nothing here races the clock.
    const { url } = await startProcess({ DATABASE_URL: await tmp.ensure(`${tmp.dbUrl}.readyz`), OFFLINE_DELAY_MS: "40", SHUTDOWN_GRACE_MS: "600000", LOG_LEVEL: "info" });
    const origin = new URL(url).origin;
    expect((await rawRequest(`${origin}/readyz`)).status).toBe(200);
    const client = sseClient(url);
    let runId = "";
    const sub = client.workflows.runStream.subscribe({ key: "analysis_code", input: "mean of 4, 8, 15" }, { onData: ({ data }) => (runId ||= data.workflowRunId), onError: () => undefined });
    await waitFor(() => runId !== "", 20_000);
    const exited = once(child!, "exit");
    child!.kill("SIGTERM");
    await waitFor(async () => (await rawRequest(`${origin}/readyz`)).status === 503, 20_000);
    expect(JSON.parse((await rawRequest(`${origin}/readyz`)).body)).toMatchObject({ status: "not_ready", reason: "draining" });
    expect((await rawRequest(`${origin}/healthz`)).status).toBe(200);
    // The last run ending lets shutdown close every connection, this request's own included: its answer may be cut.
    await client.runs.cancel.mutate({ workflowRunId: runId }).catch(() => undefined);
    const [code] = (await exited) as [number | null];
    sub.unsubscribe();
    expect(code).toBe(0);
    const db = await openDatabase({ url: `${tmp.dbUrl}.readyz` });
    try {
      expect((await getRun(db.prisma, runId))?.run.status).toBe("cancelled");
    } finally {
      await db.close();
    }
  });
});
