import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // Some tests start rrctl as a process (Node start-up, a full plan): on a loaded 2-core CI
    // machine that alone has taken over 5 s. The timeout guards against hangs, it measures nothing.
    testTimeout: 30_000,
    reporters: ["default", "json"],
    outputFile: { json: "reports/vitest.json" },
  },
});
