// The node flags of `pnpm start`: the last command of apps/api's start script, between `node` and the entry
// point. Whatever runs the compiled server (the main job, the benchmarks) runs it with exactly these.
import { readFileSync } from "node:fs";

const packageJson = new URL("../apps/api/package.json", import.meta.url);
const entry = "dist/main.js";

/** @returns {string[]} e.g. ["--max-semi-space-size=64", "--conditions=workflows-dist"] */
export function startFlags() {
  const script = JSON.parse(readFileSync(packageJson, "utf8")).scripts.start;
  const words = script.split("&&").at(-1).trim().split(/\s+/);
  if (words[0] !== "node" || words.at(-1) !== entry) throw new Error(`apps/api's start script does not end with "node … ${entry}": ${script}`);
  return words.slice(1, -1);
}
