import { KubeError } from "@rrfleet/kube";
import { describe, expect, it } from "vitest";
import { createFakeClock } from "./testing/fake-clock.js";
import { waitForObserved, type ObservingView } from "./wait-for-observed.js";

function createView(): ObservingView & { seen: Set<string>; notify(): void } {
  const listeners = new Set<() => void>();
  return {
    seen: new Set(),
    hasObserved(ref) {
      return this.seen.has(
        `${ref.name}@${ref.deleted === true ? "deleted" : (ref.resourceVersion ?? "")}`,
      );
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    notify() {
      for (const listener of listeners) listener();
    },
  };
}

describe("waitForObserved", () => {
  const writes = [
    { kind: "Node", name: "a", resourceVersion: "5", deleted: false, attempts: 1 },
    { kind: "BGPPeer", name: "p", deleted: true, attempts: 1 },
  ] as const;

  it("returns once the watch has shown every write", async () => {
    const view = createView();
    const clock = createFakeClock();
    const waiting = waitForObserved(view, writes, { clock, timeoutMs: 10_000 });
    view.seen.add("a@5");
    view.seen.add("p@deleted");
    view.notify();
    await expect(waiting).resolves.toBeUndefined();
  });

  it("fails retryably, naming the object, when the watch lags past the timeout", async () => {
    const view = createView();
    view.seen.add("a@5");
    const clock = createFakeClock();
    const error = await waitForObserved(view, writes, { clock, timeoutMs: 1_000 }).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(KubeError);
    expect(error).toMatchObject({ code: "Unavailable", retryable: true });
    expect((error as Error).message).toContain('BGPPeer "p"');
  });
});
