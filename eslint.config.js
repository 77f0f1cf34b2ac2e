import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/generated/**", "**/dist/**", "**/*.js", "**/*.mjs", "**/*.d.mts"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "Read configuration in apps/api/src/env.ts." }],
    },
  },
  {
    files: ["**/env.ts", "**/*.test.ts", "**/vitest.config.ts", "bench/**", "**/scripts/**", "**/prisma.config.ts", "**/test/**"],
    rules: { "no-restricted-properties": "off" },
  },
);
