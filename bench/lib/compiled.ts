// Benchmarks that compare our code with the SDK's must run our code as the server runs it: the compiled
// packages (`pnpm build`'s dist/, what `pnpm start` loads) under `pnpm start`'s node flags. Through tsx,
// our side would pay for the loader's transforms (and esbuild's keepNames wrappers) that the SDK's plain
// JavaScript does not.
import { spawnSync } from "node:child_process";
import { startEnv, startFlags } from "../../scripts/startCommand.mjs";
import { buildServer } from "./serverProcess";

/**
 * Unless this process already runs with every one of `flags` and with `pnpm start`'s environment variables:
 * `prepare()`, then this script again with both (and this process's own flags), and exit with its status.
 * Call first thing.
 */
export function rerunWith(flags: readonly string[], prepare?: () => void): void {
  const env = startEnv();
  if (flags.every((flag) => process.execArgv.includes(flag)) && Object.entries(env).every(([name, value]) => process.env[name] === value)) return;
  prepare?.();
  const { status } = spawnSync(process.execPath, [...flags, ...process.execArgv, ...process.argv.slice(1)], { stdio: "inherit", env: { ...process.env, ...env } });
  process.exit(status ?? 1);
}

/** Builds, then runs this script again under `pnpm start`'s node flags (our packages compiled). Call first thing. */
export function runCompiled(): void {
  rerunWith(startFlags(), buildServer);
}
