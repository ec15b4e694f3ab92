import { createMemoryFleetState, systemClock } from "@rrfleet/fleet-state";
import { makeCluster, makeNodes } from "@rrfleet/topology-core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { createSnapshotClusterView } from "./snapshot-cluster-view.js";

const meta = { watcher: "w1", observedAt: 1 };
const pollErrors: unknown[] = [];
/** These tests' stores do not fail: a poll error fails the test in afterEach. */
const unexpected = (err: unknown): void => {
  pollErrors.push(err);
};
afterEach(() => {
  expect(pollErrors.splice(0)).toEqual([]);
});

async function viewOf(options: Parameters<typeof createSnapshotClusterView>[0]) {
  const view = await createSnapshotClusterView(options);
  if (view === undefined) throw new Error("no snapshot");
  return view;
}

describe("createSnapshotClusterView", () => {
  it("is undefined until a snapshot was published", async () => {
    const state = createMemoryFleetState({ clock: systemClock });
    expect(
      await createSnapshotClusterView({
        store: state,
        cluster: "east",
        clock: systemClock,
        onPollError: unexpected,
      }),
    ).toBeUndefined();
  });

  it("reports a write observed once the published snapshot shows its resourceVersion or a later one", async () => {
    const state = createMemoryFleetState({ clock: systemClock });
    const cluster = makeCluster(makeNodes(3));
    const at = (rv: string) => ({
      ...cluster,
      nodes: cluster.nodes.map((n) => ({ ...n, resourceVersion: rv })),
    });
    await state.publishSnapshot("east", at("10"), meta);
    const view = await viewOf({
      store: state,
      cluster: "east",
      clock: systemClock,
      onPollError: unexpected,
    });
    const ref = { kind: "Node" as const, name: "node-00000", resourceVersion: "12" };
    expect(view.hasObserved(ref)).toBe(false);

    await state.publishSnapshot("east", at("13"), meta);
    expect(await view.refresh()).toBe(true);

    expect(view.hasObserved(ref)).toBe(true);
    expect(view.hasObserved({ kind: "BGPPeer", name: "gone", deleted: true })).toBe(true);
    expect(view.hasObserved({ kind: "Node", name: "node-00001", deleted: true })).toBe(false);
    expect(await view.refresh()).toBe(false);
  });

  it("polls the store while subscribed and notifies on a change, and stops polling after the last unsubscribe", async () => {
    const state = createMemoryFleetState({ clock: systemClock });
    const cluster = makeCluster(makeNodes(3));
    await state.publishSnapshot("east", cluster, meta);
    let reads = 0;
    const store = {
      readSnapshot: (name: string) => {
        reads += 1;
        return state.readSnapshot(name);
      },
    };
    const view = await viewOf({
      store,
      cluster: "east",
      clock: systemClock,
      pollMs: 5,
      onPollError: unexpected,
    });
    const notified = new Promise<void>((resolve) => {
      const unsubscribe = view.subscribe(() => {
        unsubscribe();
        resolve();
      });
    });

    await state.publishSnapshot("east", makeCluster(makeNodes(4)), meta);
    await notified;
    expect(view.snapshot().nodes).toHaveLength(4);
    const readsAfter = reads;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reads).toBeLessThanOrEqual(readsAfter + 1);
  });

  it("reports every failed re-read while polling to onPollError, and keeps polling", async () => {
    const state = createMemoryFleetState({ clock: systemClock });
    await state.publishSnapshot("east", makeCluster(makeNodes(3)), meta);
    let failing = false;
    const store = {
      readSnapshot: (name: string) =>
        failing ? Promise.reject(new Error("redis: connection lost")) : state.readSnapshot(name),
    };
    const errors: unknown[] = [];
    const view = await viewOf({
      store,
      cluster: "east",
      clock: systemClock,
      pollMs: 5,
      onPollError: (err: unknown) => errors.push(err),
    });
    const notified = new Promise<void>((resolve) => {
      const unsubscribe = view.subscribe(() => {
        unsubscribe();
        resolve();
      });
    });

    failing = true;
    for (let i = 0; i < 500 && errors.length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    failing = false;
    await state.publishSnapshot("east", makeCluster(makeNodes(4)), meta);
    await notified;

    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(String(errors[0])).toMatch(/connection lost/);
    expect(view.snapshot().nodes).toHaveLength(4);
  });
});
