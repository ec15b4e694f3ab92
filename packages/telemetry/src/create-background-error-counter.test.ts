import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createBackgroundErrorCounter } from "./create-background-error-counter.js";

describe("createBackgroundErrorCounter", () => {
  it("gives both services of one process (rrctl run) the same counter", async () => {
    const registry = new Registry();
    const watcher = createBackgroundErrorCounter(registry);
    const applier = createBackgroundErrorCounter(registry);

    watcher.inc({ operation: "leave" });
    applier.inc({ operation: "ackDirty" });

    expect(applier).toBe(watcher);
    const values = (await watcher.get()).values.map((v) => [v.labels["operation"], v.value]);
    expect(values).toEqual([
      ["leave", 1],
      ["ackDirty", 1],
    ]);
  });
});
