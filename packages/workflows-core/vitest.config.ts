import { defineConfig } from "vitest/config";

// Real SDK runs on the offline model and a local fake OpenAI server: quick alone, slow on a shared 2-core machine.
export default defineConfig({ test: { testTimeout: 30_000, hookTimeout: 30_000, reporters: ["default", "../../scripts/vitestFileLog.mjs"] } });
