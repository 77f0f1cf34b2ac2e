import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Real SQLite files and the wasm schema engine: slower than unit tests, and the machine is shared.
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
