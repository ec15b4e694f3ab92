import { describe, expect, it } from "vitest";
import { createReadinessGate } from "./create-readiness-gate.js";

const asError = (reason: unknown): Error =>
  reason instanceof Error ? reason : new Error(String(reason));

describe("createReadinessGate", () => {
  it("resolves at once when ready, and releases waiters on the check after it turns ready", async () => {
    let ready = false;
    const gate = createReadinessGate(() => ready, asError);
    const waiting = gate.wait();
    gate.check(); // not ready yet: nobody is released
    ready = true;
    gate.check();
    await expect(waiting).resolves.toBeUndefined();
    await expect(gate.wait()).resolves.toBeUndefined();
  });

  it("rejects waiters, now and later, with the first close reason", async () => {
    const gate = createReadinessGate(() => false, asError);
    const waiting = gate.wait();
    gate.close(new Error("stopped"));
    gate.close(new Error("stopped again"));
    await expect(waiting).rejects.toThrow("stopped");
    await expect(gate.wait()).rejects.toThrow(/^stopped$/);
  });

  it("rejects a waiter whose signal aborts, with the reason made an Error", async () => {
    const gate = createReadinessGate(
      () => false,
      (reason) => new Error(`aborted: ${String(reason)}`),
    );
    const abort = new AbortController();
    const waiting = gate.wait(abort.signal);
    abort.abort("shutdown");
    await expect(waiting).rejects.toThrow("aborted: shutdown");
    await expect(gate.wait(abort.signal)).rejects.toThrow("aborted: shutdown");
  });
});
