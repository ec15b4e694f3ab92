import type { ClusterSnapshot } from "@rrfleet/topology-core";
import { makeCluster, makeNodes } from "@rrfleet/topology-core/testing";
import type { ClusterWatchHandle } from "../create-watcher.js";

/** An in-memory cluster watch whose state a test changes. */
export interface FakeWatch extends ClusterWatchHandle {
  /** Adds a node and notifies the subscribers, as a watch event would. */
  change(): void;
  /** Whether `stop` was called. */
  readonly stopped: boolean;
}

/** A synced fake watch of `nodes` nodes; `onStop` runs when it is stopped. */
export function makeFakeWatch(nodes = 5, onStop?: () => void): FakeWatch {
  let state: ClusterSnapshot = makeCluster(makeNodes(nodes));
  let stopped = false;
  const listeners = new Set<() => void>();
  return {
    get stopped() {
      return stopped;
    },
    snapshot: () => state,
    isSynced: () => true,
    waitForSync: () => Promise.resolve(),
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: () => {
      stopped = true;
      onStop?.();
      return Promise.resolve();
    },
    change: () => {
      state = makeCluster(makeNodes(state.nodes.length + 1));
      for (const listener of listeners) listener();
    },
  };
}
