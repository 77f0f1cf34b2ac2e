import { createServices } from "./app";
import { EnvError, loadEnv, type Env } from "./env";
import { createLogger } from "./logger";
import { Redactor } from "./redaction/redactor";
import { startMetricsServer } from "./http/metrics";
import { createServer } from "./server";

// If whoever reads our output goes away (a closed pipe), logging must not stop the service or its shutdown.
process.stdout.on("error", () => undefined);
process.stderr.on("error", () => undefined);

let env: Env;
try {
  env = loadEnv();
} catch (error) {
  if (!(error instanceof EnvError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}

const redactor = new Redactor(env.redactPatterns);
const logger = createLogger({ level: env.logLevel, redactor });
if (env.auth.openToNetwork) {
  logger.warn(
    { host: env.host, authMode: "none" },
    "!!! AUTH_MODE=none on a non-loopback HOST: ANYONE WHO CAN REACH THIS PORT CAN RUN WORKFLOWS, READ EVERY RUN AND MANAGE KEYS. Use AUTH_MODE=keys (docs/security.md). !!!",
  );
}
const services = await createServices({
  redactor,
  auth: { mode: env.auth.mode, rateLimitPerMin: env.auth.rateLimitPerMin },
  logger,
  databaseUrl: env.databaseUrl,
  databasePoolSize: env.databasePoolSize,
  model: env.model,
  maxInputBytes: env.maxInputBytes,
  shutdownGraceMs: env.shutdownGraceMs,
  durability: env.durability,
  otlp: env.otlp,
  retention: env.retention,
}).catch((error: unknown) => {
  logger.fatal({ err: error }, "start-up failed");
  process.exit(1);
});
const server = await createServer(services, {
  port: env.port,
  host: env.host,
  allowedOrigins: env.allowedOrigins,
  allowedHosts: env.allowedHosts,
  ...(env.metricsPort === null ? {} : { metrics: false as const }),
}).catch(async (error: unknown) => {
  logger.fatal({ err: error, host: env.host, port: env.port }, "cannot listen");
  await services.close();
  process.exit(1);
});
const metricsServer =
  env.metricsPort === null
    ? null
    : await startMetricsServer({ metrics: services.telemetry.metrics, logger, authorize: (req) => services.gate.admitsRequest(req, "viewer") }, { port: env.metricsPort, host: env.host }).catch(async (error: unknown) => {
        logger.fatal({ err: error, host: env.host, port: env.metricsPort }, "cannot listen for metrics");
        await server.close();
        await services.close();
        process.exit(1);
      });
if (metricsServer) logger.info({ port: metricsServer.port }, "metrics on their own port");
logger.info({ url: server.url, database: services.info.databaseKind, model: services.info.model, authMode: env.auth.mode, rateLimitPerMin: env.auth.rateLimitPerMin }, "listening");

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) {
    logger.warn({ signal }, "second signal: exiting now");
    process.exit(1);
  }
  stopping = true;
  logger.info({ signal, graceMs: env.shutdownGraceMs }, "shutting down");
  try {
    // New runs are refused from here; open streams keep being served while runs drain.
    await services.drain();
    await server.close();
    // Closing the services flushes the spans still buffered for the OTLP exporter.
    await services.close();
    await metricsServer?.close();
    logger.info("stopped");
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, "shutdown failed");
    process.exit(1);
  }
}
process.on("SIGTERM", (s) => void shutdown(s));
process.on("SIGINT", (s) => void shutdown(s));
