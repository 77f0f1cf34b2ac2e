import { defineConfig } from "vitest/config";

// One file at a time: the pack test runs npm and tsc, and the CLI tests spawn processes; on 2 cores
// running them side by side only makes timings noisier.
export default defineConfig({ test: { include: ["src/**/*.test.ts", "test/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 60_000, fileParallelism: false, reporters: ["default", "../../scripts/vitestFileLog.mjs"] } });
