import type { appRouter } from "./routers";

/** The API's type, for typed clients: `import type { AppRouter } from "@workflows/api/router"`. */
export type AppRouter = typeof appRouter;
