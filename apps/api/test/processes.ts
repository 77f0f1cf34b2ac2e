// Real server processes (src/main.ts) for tests that kill, restart or run several of them.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { waitFor } from "./harness";

const apiDir = fileURLToPath(new URL("..", import.meta.url));
const children: ChildProcess[] = [];

/** Kills every process started here (for `afterEach`). */
export function killChildren(): void {
  for (const c of children.splice(0)) c.kill("SIGKILL");
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export type ServerProcess = ChildProcess & { /** Everything it wrote so far (JSON log lines). */ output(): string };

/** The real server process on the port `env.PORT` names, once it logged "listening". */
export async function startProcess(env: Record<string, string>): Promise<ServerProcess> {
  const proc = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], { cwd: apiDir, env: { ...process.env, HOST: "127.0.0.1", LOG_LEVEL: "info", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(proc);
  let listening = false;
  let output = "";
  proc.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
    if (output.includes('"msg":"listening"')) listening = true;
  });
  proc.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  await waitFor(() => listening || proc.exitCode !== null, 120_000);
  if (!listening) throw new Error(`server did not start:\n${output}`);
  return Object.assign(proc, { output: () => output });
}

export async function kill9(proc: ChildProcess): Promise<void> {
  const exited = once(proc, "exit");
  proc.kill("SIGKILL");
  await exited;
}
