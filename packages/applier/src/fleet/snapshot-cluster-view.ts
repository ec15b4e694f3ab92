import type { ObservedRef } from "@rrfleet/kube";
import type { Clock, SnapshotStore, StoredSnapshot } from "@rrfleet/fleet-state";
import type { ClusterSnapshot } from "@rrfleet/topology-core";
import { KubeError, showsWrite } from "@rrfleet/kube";
import type { ClusterView } from "../reconcile-cluster.js";

/** A cluster as the fleet leader sees it: the snapshot its watcher last published. */
export interface SnapshotClusterView extends ClusterView {
  /** Reads the stored snapshot again; resolves whether it changed. Throws KubeError `Unavailable` when none is stored. */
  refresh(): Promise<boolean>;
  /** The stored snapshot's metadata as last read (traceparent, watcher, observedAt). */
  stored(): StoredSnapshot;
}

/** Options of {@link createSnapshotClusterView}. */
export interface SnapshotClusterViewOptions {
  readonly store: Pick<SnapshotStore, "readSnapshot">;
  readonly cluster: string;
  readonly clock: Clock;
  /** How often the stored snapshot is re-read while someone is subscribed; default 100 ms. */
  readonly pollMs?: number;
  /** Told of each failed re-read while polling (the caller logs and counts it); polling goes on. */
  readonly onPollError: (err: unknown) => void;
}

/**
 * A {@link ClusterView} over the shared snapshot store, so the fleet leader plans from exactly
 * what the cluster's watcher published, and waits for its own writes the same way the embedded
 * controller waits on its watch: `hasObserved` compares resourceVersions in the stored snapshot.
 * While anyone is subscribed the view re-reads the store every `pollMs` and notifies on change.
 * Resolves undefined when no snapshot is stored yet: its watcher's first publish marks the
 * cluster dirty again.
 */
export async function createSnapshotClusterView(
  options: SnapshotClusterViewOptions,
): Promise<SnapshotClusterView | undefined> {
  const { store, cluster, clock } = options;
  const pollMs = options.pollMs ?? 100;
  const read = async (): Promise<StoredSnapshot> => {
    const stored = await store.readSnapshot(cluster);
    if (stored === undefined) {
      throw new KubeError(
        "Unavailable",
        `cluster ${cluster}: no snapshot in the shared state yet (its watcher has not published one)`,
        { retryable: true },
      );
    }
    return stored;
  };
  const first = await store.readSnapshot(cluster);
  if (first === undefined) return undefined;
  let current = first;
  let index = indexSnapshot(current.snapshot);
  const listeners = new Set<() => void>();
  let polling: AbortController | undefined;

  const refresh = async (): Promise<boolean> => {
    const next = await read();
    if (next.hash === current.hash) {
      current = next;
      return false;
    }
    current = next;
    index = indexSnapshot(next.snapshot);
    for (const listener of [...listeners]) listener();
    return true;
  };

  const poll = async (signal: AbortSignal): Promise<void> => {
    // A function, not `signal.aborted` inline: TypeScript narrows the property after the loop
    // test and cannot see the abort that happens during an await.
    const stopped = (): boolean => signal.aborted;
    while (!stopped()) {
      try {
        await clock.sleep(pollMs, signal);
        await refresh();
      } catch (err: unknown) {
        // An abort ends the loop; a store error is reported and retried on the next tick (the
        // waiter times out if it lasts).
        if (!stopped()) options.onPollError(err);
      }
    }
  };

  return {
    refresh,
    stored: () => current,
    snapshot: () => current.snapshot,
    hasObserved: (ref: ObservedRef) => showsWrite(index.get(`${ref.kind}/${ref.name}`), ref),
    subscribe: (listener) => {
      listeners.add(listener);
      if (polling === undefined) {
        polling = new AbortController();
        void poll(polling.signal);
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          polling?.abort();
          polling = undefined;
        }
      };
    },
  };
}

function indexSnapshot(
  snapshot: ClusterSnapshot,
): Map<string, { readonly resourceVersion?: string }> {
  const index = new Map<string, { readonly resourceVersion?: string }>();
  for (const node of snapshot.nodes) index.set(`Node/${node.name}`, node);
  for (const peer of snapshot.bgpPeers) index.set(`BGPPeer/${peer.name}`, peer);
  if (snapshot.bgpConfiguration.exists) {
    index.set("BGPConfiguration/default", snapshot.bgpConfiguration);
  }
  return index;
}
