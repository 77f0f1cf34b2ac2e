// Generates the Prisma clients of both schemas: SQLite (prisma/schema.prisma) into src/generated/sqlite and
// PostgreSQL (prisma/postgres/schema.prisma) into src/generated/postgres.
// `prisma generate` never runs the schema engine, but the CLI still tries to download it first
// (no network here). Pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file skips the download.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: "1",
  CHECKPOINT_DISABLE: "1",
};
for (const schema of ["prisma/schema.prisma", "prisma/postgres/schema.prisma"]) {
  const r = spawnSync("pnpm", ["exec", "prisma", "generate", "--schema", schema], { cwd: root, env, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
