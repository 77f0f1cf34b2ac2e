// The API server as its own process, compiled (`pnpm start`'s command) or through tsx (`pnpm dev`), for
// benchmarks that look at the process from outside: start-up time, resident memory.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startEnv, startFlags } from "../../scripts/startCommand.mjs";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const apiDir = path.join(repoRoot, "apps/api");

export type ServerMode = "compiled" | "tsx";

export type ServerProcess = {
  url: string;
  pid: number;
  /** ms from spawn to the "listening" log line. */
  startMs: number;
  /** Resident set size of the process now, in bytes (Linux /proc). */
  rss(): number;
  /**
   * CPU time the main thread used so far (Linux /proc), in ms, in 10 ms steps: what bounds the server's
   * throughput. The other threads are V8's (optimising compiles, GC helpers) and libuv's.
   */
  mainThreadCpuMs(): number;
  stop(): Promise<void>;
};

/** `node scripts/build.mjs`, as `pnpm start` does before starting. */
export function buildServer(): void {
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: repoRoot, stdio: ["ignore", "ignore", "inherit"] });
}

/** `nodeArgs` go before the entry point (e.g. `--cpu-prof`); the profile is written when the server exits on `stop()`. */
export async function startServer(mode: ServerMode, env: Record<string, string>, nodeArgs: readonly string[] = []): Promise<ServerProcess> {
  const args = [...nodeArgs, ...(mode === "compiled" ? [...startFlags(), "dist/main.js"] : ["--import", "tsx", "src/main.ts"])];
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: apiDir,
    env: { ...process.env, ...(mode === "compiled" ? startEnv() : {}), NODE_OPTIONS: "", HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // The last few KB of output, for the error when the server dies; the log lines of a long benchmark are not kept.
  let output = "";
  const keep = (chunk: string) => (output = (output + chunk).slice(-8_192));
  let listening = false;
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.setEncoding("utf8").on("data", keep);
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      keep(chunk);
      if (listening) return;
      for (const line of output.split("\n").slice(0, -1)) {
        if (line.includes('"msg":"listening"')) {
          listening = true;
          resolve((JSON.parse(line) as { url: string }).url);
        }
      }
    });
    child.on("exit", (code) => reject(new Error(`server exited (${code}) before listening:\n${output.slice(-2000)}`)));
  });
  const startMs = performance.now() - started;
  const pid = child.pid!;
  return {
    url,
    pid,
    startMs,
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) * 1024,
    // utime + stime of the main thread (its id is the process's), fields 14 and 15 of its stat (after the
    // parenthesised name), in clock ticks of 10 ms.
    mainThreadCpuMs: () => {
      const fields = readFileSync(`/proc/${pid}/task/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      return (Number(fields[11]) + Number(fields[12])) * 10;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    },
  };
}

export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Machine, Node and date, for results files. */
export async function machine(): Promise<{ cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string; date: string; loadAverage: number[] }> {
  const os = await import("node:os");
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    date: new Date().toISOString(),
    loadAverage: os.loadavg().map((n) => Math.round(n * 10) / 10),
  };
}
