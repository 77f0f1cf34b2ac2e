// Benchmarks that compare our code with the SDK's must run our code as the server runs it: the compiled
// packages (`pnpm build`'s dist/, what `pnpm start` loads) under `pnpm start`'s node flags. Through tsx,
// our side would pay for the loader's transforms (and esbuild's keepNames wrappers) that the SDK's plain
// JavaScript does not. Call first thing: builds, then runs this script again with the flags and exits.
import { spawnSync } from "node:child_process";
import { startFlags } from "../../scripts/startCommand.mjs";
import { buildServer } from "./serverProcess";

export function runCompiled(): void {
  const flags = startFlags();
  if (flags.every((flag) => process.execArgv.includes(flag))) return;
  buildServer();
  const { status } = spawnSync(process.execPath, [...flags, ...process.execArgv, ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(status ?? 1);
}
