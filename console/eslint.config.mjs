// ESLint (flat config) over the console's own TypeScript: `npm run lint`, run with the type check by
// tests/e2e/test_console_browser.py::test_the_console_type_checks_and_lints.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["src/**/*.ts"],
    rules: {
      eqeqeq: ["error", "always"],
      "no-console": "error",
      "prefer-const": "error",
      "@typescript-eslint/no-explicit-any": "error",
    },
  },
  {
    files: ["*.mjs"],
    languageOptions: { globals: { console: "readonly" } },
  },
);
