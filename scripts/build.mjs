// Compiles the server to plain JavaScript (`pnpm build`; `pnpm start` and the main job run it first), so that
// no TypeScript loader runs in production. Each workspace package the server loads is bundled on its own into
// its `dist/` (its relative imports inlined, every bare import left to Node), so that file-relative paths keep
// working: db's migrations and schema engine (and `dist/applyWorker.js`, the thread that applies migrations),
// core's sample workflows (`dist/workflows/*.js`, extra entry points sharing one copy of core through code
// splitting, and `testing` for the benchmarks). The packages'
// `exports` name `dist/` under the condition `workflows-dist`, which only `node --conditions=workflows-dist`
// asks for: tests, tsx and tsc keep reading `src/`. Needs the Prisma clients generated (db's postinstall).
import { readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const workflowsDir = path.join(root, "packages/workflows-core/src/workflows");
const sampleWorkflows = Object.fromEntries(
  readdirSync(workflowsDir)
    .filter((f) => f.endsWith(".ts") && !/\.(test|spec)\.ts$|\.d\.ts$|^index\./.test(f))
    .map((f) => [`workflows/${f.slice(0, -3)}`, `src/workflows/${f}`]),
);

/** Dependencies first is not required (imports between packages resolve at run time), only tidy. */
const targets = [
  { dir: "packages/agents", entryPoints: { index: "src/index.ts" } },
  { dir: "packages/workflows-core", entryPoints: { index: "src/index.ts", "testing/index": "src/testing/index.ts", ...sampleWorkflows } },
  { dir: "packages/db", entryPoints: { index: "src/index.ts", applyWorker: "src/migrate/applyWorker.ts" } },
  { dir: "apps/api", entryPoints: { main: "src/main.ts" } },
];

const started = Date.now();
for (const target of targets) {
  const absWorkingDir = path.join(root, target.dir);
  // A workflow module deleted from src must not stay discoverable in dist.
  rmSync(path.join(absWorkingDir, "dist"), { recursive: true, force: true });
  await build({
    absWorkingDir,
    entryPoints: target.entryPoints,
    outdir: "dist",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    // Errors name themselves with `new.target.name`: bundling must not rename classes.
    keepNames: true,
    sourcemap: "linked",
    logLevel: "warning",
  });
}
console.log(`built the server into dist/ of ${targets.map((t) => t.dir).join(", ")} in ${Date.now() - started} ms`);
