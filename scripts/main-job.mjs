// The main job, end to end on the embedded defaults: start the API server (SQLite in prisma/, offline model
// unless OPENAI_API_KEY is set), run the default workflow through the CLI with live progress, stop the server.
import { spawn, spawnSync } from "node:child_process";
import { startEnv, startFlags } from "./startCommand.mjs";
import { fileURLToPath } from "node:url";

process.chdir(fileURLToPath(new URL("..", import.meta.url)));
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

const input = process.argv[2] ?? "Analyse these monthly sales figures and write a function that flags outliers: 120, 135, 128, 410, 131, 125, 119";
const workflow = process.argv[3] ?? "analysis_code";

const port = await freePort();
const logs = [];
const url = `http://127.0.0.1:${port}/trpc`;
// The compiled server (plain JavaScript, built here: scripts/build.mjs), as `pnpm start` runs it. Node itself,
// not a pnpm wrapper, so that our SIGTERM reaches the server and its graceful shutdown.
const built = spawnSync(process.execPath, ["scripts/build.mjs"], { stdio: ["ignore", "ignore", "inherit"] });
if (built.status !== 0) {
  console.error("main job failed: the server did not build (node scripts/build.mjs)");
  process.exit(1);
}
const tsx = (file, args, opts) => spawn(process.execPath, ["--import", "tsx", file, ...args], opts);
const server = spawn(process.execPath, [...startFlags(), "apps/api/dist/main.js"], { env: { ...process.env, ...startEnv(), PORT: String(port), HOST: "127.0.0.1" }, stdio: ["ignore", "pipe", "pipe"] });
server.stderr.on("data", (chunk) => logs.push(chunk));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.kill("SIGTERM"));
server.stdout.on("data", (chunk) => logs.push(chunk));
const serverExit = new Promise((resolve) => server.on("exit", (code) => resolve(code)));

let code = 1;
try {
  await waitForHealth(url, serverExit);
  console.log(`server up at ${url}\n`);
  code = await new Promise((resolve) => {
    const cli = tsx("packages/client/src/cli.ts", ["run", workflow, input], { env: { ...process.env, WORKFLOWS_URL: url }, stdio: "inherit" });
    cli.on("exit", (c) => resolve(c ?? 1));
  });
} catch (error) {
  console.error(`main job failed: ${error instanceof Error ? error.message : String(error)}`);
  process.stderr.write(Buffer.concat(logs).toString().slice(-4000));
} finally {
  server.kill("SIGTERM");
  await Promise.race([serverExit, sleep(10_000)]);
}
process.exit(code);

async function waitForHealth(base, exited) {
  const deadline = Date.now() + 60_000;
  let done = false;
  void exited.then((c) => (done = c));
  while (Date.now() < deadline) {
    if (done !== false) throw new Error(`the server exited (code ${done}) before it was ready`);
    try {
      const res = await fetch(`${base}/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error("the server did not become healthy within 60 s");
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}
