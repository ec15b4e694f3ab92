import { describe, expect, it } from "vitest";
import { sleepWithSignal } from "./sleep-with-signal.js";

describe("sleepWithSignal", () => {
  it("resolves after the delay", async () => {
    await expect(sleepWithSignal(1)).resolves.toBeUndefined();
  });

  it("rejects with the reason of a signal that aborts while waiting", async () => {
    const controller = new AbortController();
    const reason = new Error("bye");
    const waiting = sleepWithSignal(60_000, controller.signal);
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it("rejects at once for a signal already aborted", async () => {
    const reason = new Error("already");
    await expect(sleepWithSignal(60_000, AbortSignal.abort(reason))).rejects.toBe(reason);
  });
});
