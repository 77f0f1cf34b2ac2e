import { configDefaults, defineConfig } from "vitest/config";

// Every suite runs on SQLite, and again on PostgreSQL when TEST_PG_URL names a server (scripts/postgres.sh
// starts one; .ci/run does). Test files share the machine's two cores with real servers: one file at a time.
const project = (name: "sqlite" | "postgres") => ({
  extends: true as const,
  test: { name, env: { TEST_DATABASE: name }, exclude: [...configDefaults.exclude, name === "sqlite" ? "**/*.postgres.test.ts" : "**/*.sqlite.test.ts"] },
});

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    fileParallelism: false,
    reporters: ["default", "../../scripts/vitestFileLog.mjs"],
    projects: [project("sqlite"), ...(process.env.TEST_PG_URL ? [project("postgres")] : [])],
  },
});
