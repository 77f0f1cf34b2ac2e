// Compiles the server to plain JavaScript (`pnpm build`; `pnpm start` and the main job run it first), so that
// no TypeScript loader runs in production. Each workspace package the server loads is bundled on its own into
// its `dist/` (its relative imports inlined, every bare import left to Node), so that file-relative paths keep
// working: db's migrations and schema engine (and `dist/applyWorker.js`, the process that applies migrations),
// core's sample workflows (`dist/workflows/*.js`, extra entry points sharing one copy of core through code
// splitting, and `testing` for the benchmarks). The packages'
// `exports` name `dist/` under the condition `workflows-dist`, which only `node --conditions=workflows-dist`
// asks for: tests, tsx and tsc keep reading `src/`. Needs the Prisma clients generated (db's postinstall).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
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

/**
 * Prisma's generated clients import their WebAssembly query compiler as a base64 string module. Imported, the
 * module keeps that string and its source (8.8 MB) in the heap for the process's lifetime. In dist/ the
 * compiler is instead a .wasm file beside the bundle (decoded here), read when the client first needs it.
 */
const wasmBase64Import = /const \{ wasm \} = await import\("(@prisma\/client\/runtime\/(query_compiler_\w+_bg\.\w+)\.wasm-base64\.mjs)"\)\s*return await decodeBase64AsWasm\(wasm\)/;
const prismaWasmFromFile = {
  name: "prisma-wasm-from-file",
  setup(b) {
    b.onLoad({ filter: /[\\/]generated[\\/]\w+[\\/]internal[\\/]class\.ts$/ }, async (args) => {
      const source = readFileSync(args.path, "utf8");
      const found = wasmBase64Import.exec(source);
      if (!found) throw new Error(`${args.path}: Prisma's generated client no longer imports its query compiler as wasm-base64; update prismaWasmFromFile in scripts/build.mjs`);
      const [, specifier, name] = found;
      const requireHere = createRequire(args.path);
      const { wasm } = await import(pathToFileURL(requireHere.resolve(specifier)).href);
      const outdir = path.join(b.initialOptions.absWorkingDir, "dist");
      mkdirSync(outdir, { recursive: true });
      writeFileSync(path.join(outdir, `${name}.wasm`), Buffer.from(wasm, "base64"));
      const read = `const { readFile } = await import("node:fs/promises")\n    return new WebAssembly.Module(await readFile(new URL("./${name}.wasm", import.meta.url)))`;
      return { contents: source.replace(found[0], read), loader: "ts" };
    });
  },
};

/**
 * esbuild gives one of two same-named top-level symbols of a bundle a numbered name (`UsageError2`). A class's
 * `name` would follow, and with it the `name` of an error built from it: fail the build instead.
 */
function refuseRenamedClasses(absWorkingDir, metafile) {
  const sources = Object.keys(metafile.inputs)
    .filter((input) => !input.includes("node_modules") && !input.startsWith("<"))
    .map((input) => readFileSync(path.join(absWorkingDir, input), "utf8"));
  for (const output of Object.keys(metafile.outputs).filter((o) => o.endsWith(".js"))) {
    const text = readFileSync(path.join(absWorkingDir, output), "utf8");
    for (const [, renamed, name] of text.matchAll(/\b(?:(?:var|let|const) |class )(([A-Za-z_$][\w$]*?)\d+)(?= = class\b| (?:extends\b|\{))/g)) {
      if (sources.some((source) => new RegExp(`\\bclass ${name.replace(/\$/g, "\\$")}\\b`).test(source))) {
        throw new Error(`${output}: esbuild renamed class ${name} to ${renamed} (two classes named ${name} in one bundle), so its instances' name would be "${renamed}"; rename one of them`);
      }
    }
  }
}

const started = Date.now();
for (const target of targets) {
  const absWorkingDir = path.join(root, target.dir);
  // A workflow module deleted from src must not stay discoverable in dist.
  rmSync(path.join(absWorkingDir, "dist"), { recursive: true, force: true });
  const { metafile } = await build({
    absWorkingDir,
    entryPoints: target.entryPoints,
    outdir: "dist",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    // Not keepNames: its `__name` wrapper runs each time a closure is made, on the hot path. Errors name
    // themselves with `new.target.name`, so a class that bundling renames is refused below instead.
    metafile: true,
    sourcemap: "linked",
    logLevel: "warning",
    plugins: [prismaWasmFromFile],
  });
  refuseRenamedClasses(absWorkingDir, metafile);
}
console.log(`built the server into dist/ of ${targets.map((t) => t.dir).join(", ")} in ${Date.now() - started} ms`);
