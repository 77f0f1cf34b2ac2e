import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger, createServer, createServices, type ServerHandle, type Services } from "@workflows/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeWorkflowsClient, createWorkflowsClient, type RunEvent } from "../src/index";

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
    const runs = await cli(["runs"]);
    expect(runs.stdout).toContain(id);
  });

  it("exits non-zero with a clear message on errors", async () => {
    const unknown = await cli(["run", "nope", "x"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("NOT_FOUND");
    const usage = await cli(["run"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("usage: wf");
    for (const args of [["list"], ["run", "analysis_code", "x"], ["watch", "some-run"]]) {
      const down = await cli(args, "http://127.0.0.1:9/trpc");
      expect(down.code).toBe(1);
      expect(down.stderr).toContain("cannot reach the Workflows API at http://127.0.0.1:9/trpc");
    }
  });
});
