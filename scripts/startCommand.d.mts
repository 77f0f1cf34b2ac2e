/** The node flags of `pnpm start` (apps/api's start script, between `node` and the entry point). */
export function startFlags(): string[];
/** The environment variables apps/api's start script sets before `node`. */
export function startEnv(): Record<string, string>;
