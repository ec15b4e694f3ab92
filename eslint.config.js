// One flat config for the whole monorepo. Typed rules need the TypeScript project service, which
// finds the nearest tsconfig.json for every file.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import { importX } from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

/** Rules that keep packages/topology-core free of I/O, clocks and randomness (DESIGN.md). */
const purityRules = {
  "no-restricted-imports": [
    "error",
    {
      patterns: [
        { group: ["node:*"], message: "topology-core is pure: no Node.js built-ins." },
        {
          group: [
            "ioredis",
            "@kubernetes/*",
            "@opentelemetry/*",
            "pino",
            "pino-*",
            "prom-client",
            "fs",
            "path",
            "os",
            "http",
            "https",
            "net",
            "child_process",
            "crypto",
          ],
          message: "topology-core is pure: adapters belong in kube, fleet-state or telemetry.",
        },
      ],
    },
  ],
  "no-restricted-globals": [
    "error",
    ...[
      "process",
      "setTimeout",
      "setInterval",
      "setImmediate",
      "queueMicrotask",
      "fetch",
      "console",
    ].map((name) => ({ name, message: "topology-core is pure: pass time, I/O and logging in." })),
  ],
  "no-restricted-syntax": [
    "error",
    {
      selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
      message: "topology-core is pure: take `now: Date` as a parameter.",
    },
    {
      selector: "NewExpression[callee.name='Date'][arguments.length=0]",
      message: "topology-core is pure: take `now: Date` as a parameter.",
    },
    {
      selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
      message: "topology-core is pure: randomness must come in as a parameter.",
    },
    {
      selector: "CallExpression[callee.object.name='performance']",
      message: "topology-core is pure: no clocks.",
    },
    { selector: "TSEnumDeclaration", message: "Use string literal unions, not enums." },
  ],
};

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/reports/**", "**/.turbo/**", "e2e/.bin/**"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "import-x": importX },
    settings: {
      "import-x/resolver-next": [createTypeScriptImportResolver({ alwaysTryTypes: true })],
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": [
        "error",
        { considerDefaultExhaustiveForUnions: true },
      ],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "import-x/no-cycle": "error",
      "no-restricted-syntax": [
        "error",
        { selector: "TSEnumDeclaration", message: "Use string literal unions, not enums." },
      ],
    },
  },
  {
    files: ["packages/topology-core/src/**/*.ts"],
    ignores: ["packages/topology-core/src/**/*.test.ts", "packages/topology-core/src/bench/**"],
    rules: purityRules,
  },
  {
    files: ["**/*.test.ts"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.config.ts"],
    ...tseslint.configs.disableTypeChecked,
  },
  prettier,
);
