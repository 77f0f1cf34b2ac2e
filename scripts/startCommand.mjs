// The command of `pnpm start`: the last command of apps/api's start script, `[NAME=value …] node [flags…]
// dist/main.js`. Whatever runs the compiled server (the main job, the benchmarks, the compiled-server test)
// runs it with exactly these variables and flags.
import { readFileSync } from "node:fs";

const packageJson = new URL("../apps/api/package.json", import.meta.url);
const entry = "dist/main.js";

function startWords() {
  const script = JSON.parse(readFileSync(packageJson, "utf8")).scripts.start;
  const words = script.split("&&").at(-1).trim().split(/\s+/);
  const node = words.findIndex((word) => !/^[A-Z_][A-Z0-9_]*=/.test(word));
  if (words[node] !== "node" || words.at(-1) !== entry) throw new Error(`apps/api's start script does not end with "[NAME=value …] node … ${entry}": ${script}`);
  return { assignments: words.slice(0, node), flags: words.slice(node + 1, -1) };
}

/** @returns {string[]} e.g. ["--max-semi-space-size=64", "--conditions=workflows-dist"] */
export function startFlags() {
  return startWords().flags;
}

/** @returns {Record<string, string>} the environment variables the start script sets, e.g. { MALLOC_TRIM_THRESHOLD_: "4194304" } */
export function startEnv() {
  return Object.fromEntries(startWords().assignments.map((word) => [word.slice(0, word.indexOf("=")), word.slice(word.indexOf("=") + 1)]));
}
