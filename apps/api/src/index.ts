export { createServices, type ServicesOptions } from "./app";
export { createServer, TRPC_PATH, type ServerHandle } from "./server";
export { parseEnv, loadEnv, EnvError, type Env } from "./env";
export { createLogger, type Logger } from "./logger";
export type { Services } from "./context";
export type { AppRouter } from "./router";
export { appRouter } from "./routers";
export { mergeRouters, publicProcedure, router } from "./trpc";
