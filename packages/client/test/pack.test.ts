/**
 * The published package, as a user outside this repository gets it: `pnpm pack`, then plain
 * `npm install` of the tarball in a temporary project, `tsc` over a small program (wrong calls must
 * fail to type-check), and that program and the `wf` bin run against a live server.
 * Slow (an npm install and two tsc runs): generous timeouts, one server for the file.
 */
import { execFile, type ExecFileOptions } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger, createServer, createServices, type ServerHandle, type Services } from "@workflows/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const pkgDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const dir = mkdtempSync(path.join(tmpdir(), "wf-client-pack-"));
const project = path.join(dir, "consumer");

type Run = { code: number; stdout: string; stderr: string };
function run(file: string, args: string[], opts: ExecFileOptions = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { maxBuffer: 16 * 1024 * 1024, ...opts, encoding: "utf8" }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
const ok = (r: Run, what: string): Run => {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
};

// The user's program. Every @ts-expect-error line must be an error, or tsc fails (TS2578).
const program = `
import { TRPCClientError } from "@trpc/client";
import { closeWorkflowsClient, createWorkflowsClient, type AppRouter, type RunEvent, type RunStatus, type WorkflowsClient } from "@workflows/client";

export async function main(url: string) {
  const out: Record<string, unknown> = {};
  for (const transport of ["sse", "ws"] as const) {
    const client: WorkflowsClient = createWorkflowsClient({ url, transport, apiKey: "k-test" });
    const health = await client.health.query();
    const keys: string[] = (await client.workflows.list.query()).map((w) => w.key);
    const events: RunEvent[] = [];
    for await (const { data } of client.workflows.runStream.subscribe({ key: "analysis_code", input: "mean of 2, 4" })) {
      events.push(data);
      if (data.type === "run.completed" || data.type === "run.failed" || data.type === "run.cancelled") break;
    }
    const last = events.at(-1);
    const finalOutput: string | null = last?.type === "run.completed" ? last.finalOutput : null;
    const { run, steps } = await client.runs.get.query({ workflowRunId: last?.workflowRunId ?? "" });
    const status: RunStatus = run.status;
    let notFound: string | undefined;
    try {
      await client.runs.get.query({ workflowRunId: "no-such-run" });
    } catch (error) {
      if (error instanceof TRPCClientError) notFound = (error as TRPCClientError<AppRouter>).data?.code;
    }
    await closeWorkflowsClient(client);
    out[transport] = { ok: health.ok, keys, types: events.map((e) => e.type), finalOutput, status, steps: steps.length, notFound };
  }
  return out;
}

// Never called: each line is a mistake the types must catch.
export async function mistakes(client: WorkflowsClient) {
  // @ts-expect-error workflows.run needs an input
  await client.workflows.run.mutate({ key: "analysis_code" });
  // @ts-expect-error input is text or a JSON value, never null
  await client.workflows.run.mutate({ key: "analysis_code", input: null });
  // @ts-expect-error key is a string
  await client.workflows.run.mutate({ key: 7, input: "x" });
  // @ts-expect-error no such procedure
  await client.workflows.launch.mutate({ key: "analysis_code", input: "x" });
  // @ts-expect-error runs.get is a query, not a mutation
  await client.runs.get.mutate({ workflowRunId: "x" });
  // @ts-expect-error not a run status
  const status: RunStatus = "sleeping";
  const { run } = await client.runs.get.query({ workflowRunId: "x" });
  // @ts-expect-error usage.totalTokens is a number
  const tokens: string = run.usage.totalTokens;
  // @ts-expect-error transport is "sse" or "ws"
  createWorkflowsClient({ url: "http://127.0.0.1:1/trpc", transport: "grpc" });
  return [status, tokens];
}
`;

let services: Services;
let server: ServerHandle;
beforeAll(async () => {
  services = await createServices({
    logger: createLogger({ level: "silent" }),
    databaseUrl: `file:${path.join(dir, "pack.db")}`,
    model: { provider: "offline" },
    maxInputBytes: 64 * 1024,
    shutdownGraceMs: 1_000,
  });
  server = await createServer(services, { port: 0, host: "127.0.0.1" });
}, 60_000);
afterAll(async () => {
  await server?.close();
  await services?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the packed @workflows/client", () => {
  it("installs outside the workspace with plain npm, types every call, and runs against a live server", async () => {
    // Pack (prepack builds dist/).
    const packed = path.join(dir, "packed");
    mkdirSync(packed);
    ok(await run("pnpm", ["pack", "--pack-destination", packed], { cwd: pkgDir }), "pnpm pack");
    const tarball = readdirSync(packed).find((f) => f.endsWith(".tgz"));
    expect(tarball).toBeDefined();

    // A fresh project that knows nothing of the workspace.
    mkdirSync(project);
    writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    writeFileSync(
      path.join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2023", "DOM", "ESNext.Disposable"], types: [], strict: true, outDir: "out", skipLibCheck: false },
        files: ["program.ts"],
      }),
    );
    writeFileSync(path.join(project, "program.ts"), program);
    writeFileSync(path.join(project, "run.mjs"), `import { main } from "./out/program.js";\nprocess.stdout.write(JSON.stringify(await main(process.argv[2])));\n`);
    ok(
      await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", path.join(packed, tarball ?? "")], { cwd: project }),
      "npm install",
    );

    const installed = JSON.parse(readFileSync(path.join(project, "node_modules/@workflows/client/package.json"), "utf8")) as { dependencies?: object; exports: unknown };
    expect(Object.keys(installed.dependencies ?? {})).not.toContain("@workflows/api");
    // npm installs the peer dependencies.
    expect(readdirSync(path.join(project, "node_modules/@trpc")).sort()).toEqual(["client", "server"]);
    // Nothing from the workspace came along.
    expect(readdirSync(path.join(project, "node_modules/@workflows"))).toEqual(["client"]);

    // Type-check (the client's own .d.ts included: skipLibCheck is off) and compile the program.
    ok(await run(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: project }), "tsc");

    // Run it against the live server, over both transports.
    const result = JSON.parse(ok(await run(process.execPath, ["run.mjs", server.url], { cwd: project, timeout: 120_000 }), "the program").stdout) as Record<
      string,
      { ok: boolean; keys: string[]; types: string[]; finalOutput: string | null; status: string; steps: number; notFound?: string }
    >;
    for (const transport of ["sse", "ws"]) {
      const r = result[transport];
      expect(r?.ok).toBe(true);
      expect(r?.keys).toContain("analysis_code");
      expect(r?.types[0]).toBe("run.started");
      expect(r?.types.at(-1)).toBe("run.completed");
      expect(r?.finalOutput).toBeTruthy();
      expect(r?.status).toBe("succeeded");
      expect(r?.steps).toBe(2);
      expect(r?.notFound).toBe("NOT_FOUND");
    }

    // The `wf` bin of the package runs on the user's Node.
    const list = ok(await run(path.join(project, "node_modules/.bin/wf"), ["list"], { cwd: project, env: { ...process.env, WORKFLOWS_URL: server.url } }), "wf list");
    expect(list.stdout).toContain("analysis_code");
  }, 600_000);

  it("fails to type-check a program with a wrong call, naming the mistake", async () => {
    // Needs the project of the test above; on its own it has nothing to check.
    const bad = path.join(project, "bad.ts");
    writeFileSync(bad, `import { createWorkflowsClient } from "@workflows/client";\nexport const run = () => createWorkflowsClient({ url: "x" }).runs.cancel.mutate({ workflowRunId: 1 });\n`);
    writeFileSync(path.join(project, "tsconfig.bad.json"), JSON.stringify({ extends: "./tsconfig.json", compilerOptions: { noEmit: true }, files: ["bad.ts"] }));
    const r = await run(process.execPath, [tsc, "-p", "tsconfig.bad.json"], { cwd: project });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/bad\.ts\(2,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
  }, 120_000);
});
