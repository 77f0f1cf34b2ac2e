import { configDefaults, defineConfig } from "vitest/config";

// Real SQLite files, real PostgreSQL databases and the wasm schema engine: slower than unit tests, and the
// machine is shared. Every suite runs on SQLite, and again on PostgreSQL when TEST_PG_URL names a server
// (scripts/postgres.sh starts one; .ci/run does). `*.sqlite.test.ts` and `*.postgres.test.ts` run on their
// kind only.
const project = (name: "sqlite" | "postgres") => ({
  extends: true as const,
  test: { name, env: { TEST_DATABASE: name }, exclude: [...configDefaults.exclude, name === "sqlite" ? "**/*.postgres.test.ts" : "**/*.sqlite.test.ts"] },
});

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default", "../../scripts/vitestFileLog.mjs"],
    projects: [project("sqlite"), ...(process.env.TEST_PG_URL ? [project("postgres")] : [])],
  },
});
