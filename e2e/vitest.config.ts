import { defineConfig } from "vitest/config";

// End-to-end tests start real etcd and kube-apiserver processes: one file at a time (2-core CI
// machines) and generous timeouts (a first run may build the binaries in a hook).
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
    teardownTimeout: 60_000,
    reporters: ["default", "json"],
    outputFile: { json: "reports/vitest.json" },
  },
});
