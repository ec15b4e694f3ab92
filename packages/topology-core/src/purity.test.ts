import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

// The core must stay pure (DESIGN.md): the repository's ESLint config enforces it. Lint code that
// breaks the rule as if it were a file of this package, and code that keeps it.
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const asCoreFile = fileURLToPath(new URL("./model/order.ts", import.meta.url));

// One linter for the file: its first typed lint starts a TypeScript project service (seconds).
const eslint = new ESLint({ cwd: repoRoot });

async function lintAsCore(code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: asCoreFile });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? "fatal"}: ${m.message}`);
}

describe("topology-core purity", { timeout: 120_000 }, () => {
  const impure = [
    {
      name: "a Node.js built-in",
      code: 'import { readFileSync } from "node:fs";\nexport const x = readFileSync;\n',
      wantRule: "no-restricted-imports",
    },
    {
      name: "an I/O library",
      code: 'import pino from "pino";\nexport const x = pino;\n',
      wantRule: "no-restricted-imports",
    },
    {
      name: "the wall clock",
      code: "export const now = Date.now();\n",
      wantRule: "no-restricted-syntax",
    },
    {
      name: "a date without arguments",
      code: "export const now = new Date();\n",
      wantRule: "no-restricted-syntax",
    },
    {
      name: "randomness",
      code: "export const r = Math.random();\n",
      wantRule: "no-restricted-syntax",
    },
    {
      name: "process",
      code: 'export const e = process.env["X"];\n',
      wantRule: "no-restricted-globals",
    },
    { name: "a timer", code: "export const t = setTimeout;\n", wantRule: "no-restricted-globals" },
  ];
  for (const row of impure) {
    it(`rejects ${row.name}`, async () => {
      const messages = await lintAsCore(row.code);
      expect(
        messages.some((m) => m.startsWith(`${row.wantRule}:`)),
        messages.join("\n"),
      ).toBe(true);
    });
  }

  it("accepts time passed in as a parameter", async () => {
    const messages = await lintAsCore(
      "export function age(now: Date, iso: string): number {\n  return now.getTime() - new Date(iso).getTime();\n}\n",
    );
    expect(messages).toEqual([]);
  });
});
