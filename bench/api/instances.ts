import { appRouter, createLogger, createServer, createServices, mergeRouters, publicProcedure, router, type Services } from "@workflows/api";
import { createWorkflowsClient } from "@workflows/client";

const benchRouter = mergeRouters(appRouter, router({ bench: router({ noop: publicProcedure.mutation(() => null) }) }));
export type BenchClient = ReturnType<typeof createWorkflowsClient<typeof benchRouter>>;

/** One API instance in this process: its services (to see which runs execute here) and a typed client over HTTP. */
export type Instance = { services: Services; client: BenchClient; url: string };

/**
 * Starts `count` instances (createServices + createServer, each on its own port) on one database and
 * runs `body`; closes them all afterwards. On PostgreSQL the instances share the run queue and the
 * live tail, as separate processes would.
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
      instances.push({ services, url: server.url, client: createWorkflowsClient<typeof benchRouter>({ url: server.url, transport: "sse" }) });
    }
    return await body(instances);
  } finally {
    // Servers first, then services, latest first.
    for (const close of closers.reverse()) await close();
  }
}
