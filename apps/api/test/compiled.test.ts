// The compiled server (scripts/build.mjs, what `pnpm start` and the main job run): plain JavaScript under plain
// Node, no TypeScript loader. Started as a real process, it runs a workflow for the typed client.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFlags } from "../../../scripts/startCommand.mjs";
import { collect, isEnd, sseClient, tempDir, waitFor } from "./harness";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const apiDir = path.join(root, "apps/api");
const tmp = tempDir();
let child: ChildProcess | undefined;
let url: string | undefined;
let output = "";

beforeAll(async () => {
  await promisify(execFile)(process.execPath, ["scripts/build.mjs"], { cwd: root });
  const dbUrl = await tmp.ensure(`${tmp.dbUrl}.compiled`);
  // Exactly `pnpm start`'s command, without the build; NODE_OPTIONS cleared so no loader comes from the test runner.
  child = spawn(process.execPath, [...startFlags(), "dist/main.js"], {
    cwd: apiDir,
    env: { ...process.env, NODE_OPTIONS: "", HOST: "127.0.0.1", PORT: "0", DATABASE_URL: dbUrl, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
    // Complete lines only: a chunk may end mid-line.
    for (const line of output.split("\n").slice(0, -1)) {
      if (url !== undefined || !line.includes('"msg":"listening"')) continue;
      url ??= (JSON.parse(line) as { url?: string }).url;
    }
  });
  await waitFor(() => url !== undefined || child?.exitCode !== null, 120_000);
  if (!url) throw new Error(`the compiled server did not start:\n${output}`);
}, 180_000);
afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
  }
  await tmp.remove();
});

describe("the compiled server", { timeout: 60_000 }, () => {
  it("imports only JavaScript: no TypeScript source is named by the built files", () => {
    for (const dir of ["apps/api/dist", "packages/db/dist", "packages/workflows-core/dist", "packages/agents/dist"]) {
      const files = readdirSync(path.join(root, dir), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js"));
      expect(files.length, dir).toBeGreaterThan(0);
      for (const file of files) {
        const text = readFileSync(path.join(root, dir, file), "utf8");
        expect([...text.matchAll(/(?:from\s*|import\()\s*"([^"]+\.ts)"/g)].map((m) => m[1]), `${dir}/${file}`).toEqual([]);
      }
    }
  });

  it("lists the sample workflows and runs analysis_code to the end for the typed client, live events included", async () => {
    const client = sseClient(url!);
    expect((await client.health.query()).ok).toBe(true);
    expect((await client.workflows.list.query()).map((w) => w.key)).toEqual(expect.arrayContaining(["analysis_code", "gated_writing", "triage_reply"]));
    const events = await collect(client.workflows.runStream.subscribe({ key: "analysis_code", input: "mean of 3, 5, 8, 13" }), { until: isEnd, timeoutMs: 60_000 });
    expect(events.at(-1)?.data.type).toBe("run.completed");
    const id = events[0]!.data.workflowRunId;
    const { run, steps } = await client.runs.get.query({ workflowRunId: id });
    expect(run.status).toBe("succeeded");
    expect(steps.map((s) => [s.name, s.status])).toEqual([
      ["analyse", "succeeded"],
      ["write_code", "succeeded"],
    ]);
  });
});
