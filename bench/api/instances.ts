import { appRouter, createLogger, createServer, createServices, mergeRouters, publicProcedure, router, type Services } from "@workflows/api";
import { createWorkflowsClient } from "@workflows/client";
import { startServer } from "../lib/serverProcess";

const benchRouter = mergeRouters(appRouter, router({ bench: router({ noop: publicProcedure.mutation(() => null) }) }));
export type BenchClient = ReturnType<typeof createWorkflowsClient<typeof appRouter>>;

/**
 * One API instance and a typed client over HTTP. `floor` is the cheapest call the server answers (the scale
 * against which runs/s reads): a no-op mutation in this process, `health` (no database) for a server process.
 * `services` is there when the instance runs in this process (to see which runs execute where); `serverCpuMs`
 * when it is a process of its own (its main thread's CPU time so far).
 */
export type Instance = { client: BenchClient; url: string; floor(): Promise<unknown>; services?: Services; serverCpuMs?: () => number };

/**
 * Starts `count` instances (createServices + createServer, each on its own port) in this process, on one
 * database, and runs `body`; closes them all afterwards. On PostgreSQL the instances share the run queue and
 * the live tail, as separate processes would.
 */
export async function withInstances<T>(opts: { databaseUrl: string; count: number; delayMs?: number }, body: (instances: Instance[]) => Promise<T>): Promise<T> {
  const instances: Instance[] = [];
  const closers: (() => Promise<void>)[] = [];
  try {
    for (let i = 0; i < opts.count; i++) {
      const services = await createServices({
        logger: createLogger({ level: "silent" }),
        databaseUrl: opts.databaseUrl,
        model: { provider: "offline", ...(opts.delayMs ? { delayMs: opts.delayMs } : {}) },
        maxInputBytes: 64 * 1024,
        shutdownGraceMs: 1_000,
      });
      closers.push(() => services.close());
      const server = await createServer(services, { port: 0, host: "127.0.0.1", router: benchRouter });
      closers.push(() => server.close());
      const bench = createWorkflowsClient<typeof benchRouter>({ url: server.url, transport: "sse" });
      instances.push({ services, url: server.url, client: createWorkflowsClient<typeof appRouter>({ url: server.url, transport: "sse" }), floor: () => bench.bench.noop.mutate() });
    }
    return await body(instances);
  } finally {
    // Servers first, then services, latest first.
    for (const close of closers.reverse()) await close();
  }
}

/**
 * The compiled server (`pnpm start`'s process) on its own, the client load in this process: the server has a
 * core of its own, as in production. `nodeArgs` go to the server's node (e.g. `--cpu-prof`).
 */
export async function withServerProcess<T>(opts: { databaseUrl: string; delayMs?: number; nodeArgs?: readonly string[] }, body: (instances: Instance[]) => Promise<T>): Promise<T> {
  const server = await startServer("compiled", { DATABASE_URL: opts.databaseUrl, MODEL_PROVIDER: "offline", OFFLINE_DELAY_MS: String(opts.delayMs ?? 0) }, opts.nodeArgs);
  try {
    const client = createWorkflowsClient<typeof appRouter>({ url: server.url, transport: "sse" });
    return await body([{ url: server.url, client, floor: () => client.health.query(), serverCpuMs: () => server.mainThreadCpuMs() }]);
  } finally {
    await server.stop();
  }
}
