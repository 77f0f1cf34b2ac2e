// Builds dist/ (ESM JavaScript and declaration files) and checks that the declarations name no
// module a user of the published package would not have: only @trpc/* (peer dependencies) and dist itself.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const pkgDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.join(pkgDir, "dist");
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", path.join(pkgDir, "tsconfig.build.json")], { stdio: "inherit" });

const allowed = (specifier) => specifier.startsWith("./") || specifier.startsWith("@trpc/client") || specifier.startsWith("@trpc/server");
const problems = [];
for (const file of readdirSync(dist).filter((f) => f.endsWith(".d.ts"))) {
  const text = readFileSync(path.join(dist, file), "utf8");
  for (const [, specifier] of text.matchAll(/(?:from\s+|import\()"([^"]+)"/g)) {
    if (!allowed(specifier)) problems.push(`${file}: ${specifier}`);
  }
}
if (problems.length > 0) {
  console.error(`dist declarations name modules the published package does not provide:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
