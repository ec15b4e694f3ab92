import { defineConfig } from "vitest/config";

// The fleet benchmark (`npm run bench:fleet`): real API servers, prints numbers, asserts none.
// Not part of `npm test`.
export default defineConfig({
  test: {
    include: ["src/bench/**/*.bench.ts"],
    fileParallelism: false,
    testTimeout: 3_600_000,
    hookTimeout: 1_800_000,
  },
});
