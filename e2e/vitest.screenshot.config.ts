import { defineConfig } from "vitest/config";

// The dashboard screenshot in docs/ (`npm run screenshot:dashboard`): a real fleet, a real
// Prometheus, headless Chromium. Writes a file, asserts little. Not part of `npm test`.
export default defineConfig({
  test: {
    include: ["src/screenshot/**/*.screenshot.ts"],
    fileParallelism: false,
    testTimeout: 1_800_000,
    hookTimeout: 1_800_000,
  },
});
