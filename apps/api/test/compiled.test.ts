// The compiled server (scripts/build.mjs, what `pnpm start` and the main job run): plain JavaScript under plain
// Node, no TypeScript loader. Started as a real process, it runs a workflow for the typed client.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEnv, startFlags } from "../../../scripts/startCommand.mjs";
import { collect, isEnd, sseClient, tempDir, waitFor } from "./harness";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const apiDir = path.join(root, "apps/api");
const tmp = tempDir();
let child: ChildProcess | undefined;
let url: string | undefined;
let output = "";
const modulesFile = path.join(mkdtempSync(path.join(tmpdir(), "wf-compiled-")), "modules.txt");
const onPostgres = process.env.TEST_DATABASE === "postgres";

beforeAll(async () => {
  await promisify(execFile)(process.execPath, ["scripts/build.mjs"], { cwd: root });
  const dbUrl = await tmp.ensure(`${tmp.dbUrl}.compiled`);
  // Exactly `pnpm start`'s command (its variables and flags), without the build; NODE_OPTIONS cleared so no loader
  // comes from the test runner. One addition: a hook that records the modules the server loads.
  child = spawn(process.execPath, [...startFlags(), "--import", "./test/recordModules.mjs", "dist/main.js"], {
    cwd: apiDir,
    env: { ...process.env, ...startEnv(), NODE_OPTIONS: "", HOST: "127.0.0.1", PORT: "0", DATABASE_URL: dbUrl, LOG_LEVEL: "info", RECORD_MODULES_FILE: modulesFile },
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
  rmSync(path.dirname(modulesFile), { recursive: true, force: true });
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

  it("holds no code for what it does not use: PostgreSQL's on SQLite, the OpenAI client's on the offline model, no trace exporter", () => {
    // pnpm's layout: the package is the path after the last node_modules/.
    const packages = new Set(
      readFileSync(modulesFile, "utf8")
        .split("\n")
        .map((url) => /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1])
        .filter((name) => name !== undefined),
    );
    const postgres = ["pg", "pg-boss", "@prisma/adapter-pg"];
    expect([...packages]).toEqual(expect.arrayContaining(["@openai/agents-core", "better-sqlite3", ...(onPostgres ? postgres : [])]));
    const unused = ["@openai/agents", "@openai/agents-openai", "@openai/agents-realtime", "@opentelemetry/sdk-trace-base", "@opentelemetry/exporter-trace-otlp-proto"];
    for (const name of [...unused, ...(onPostgres ? [] : postgres)]) expect(packages.has(name), name).toBe(false);
  });
});
