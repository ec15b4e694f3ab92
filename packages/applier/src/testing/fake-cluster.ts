import type {
  ObservedObject,
  RouteHandoverGap,
  SessionCheckResult,
  SessionPair,
  WriteResult,
} from "@rrfleet/kube";
import {
  applyActions,
  type Action,
  type ClusterSnapshot,
  type NodeInfo,
} from "@rrfleet/topology-core";
import type { ActionWriter } from "../execute-step.js";
import type { SessionWaiter } from "../reconcile-cluster.js";
import type { ClusterView } from "../reconcile-cluster.js";

/**
 * An in-memory cluster for the applier's unit tests: the core's `applyActions` is the API server,
 * the view is always synced and sees every write at once. `beforeWrite` can fail a write.
 */
export interface FakeCluster {
  readonly view: ClusterView & { waitForSync(): Promise<void>; isSynced(): boolean };
  readonly writer: ActionWriter;
  readonly sessions: SessionWaiter;
  state(): ClusterSnapshot;
  /** Every state the cluster went through, one per write, starting with the initial one. */
  readonly history: ClusterSnapshot[];
  readonly writes: Action[];
  /** Called before each write; throw to fail it. */
  beforeWrite?: (action: Action, observed: ObservedObject | undefined) => void;
  /** Pairs the session check reports missing on its next calls (one entry per call). */
  missingSessions: SessionPair[][];
  /** Nodes the route check reports not handed over on its next calls (one entry per call). */
  missingRoutes: RouteHandoverGap[][];
  /** Changes the cluster as someone else would (a node goes away), notifying the view. */
  mutate(change: (state: ClusterSnapshot) => ClusterSnapshot): void;
}

/** A fake cluster starting at `initial`. */
export function createFakeCluster(initial: ClusterSnapshot): FakeCluster {
  let state = initial;
  let revision = 1;
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const listener of listeners) listener();
  };
  const versions = new Map<string, string>();
  const cluster: FakeCluster = {
    history: [initial],
    writes: [],
    missingSessions: [],
    missingRoutes: [],
    state: () => state,
    mutate(change) {
      state = change(state);
      cluster.history.push(state);
      notify();
    },
    view: {
      snapshot: () => state,
      subscribe(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      hasObserved: (ref) =>
        ref.deleted === true
          ? !state.bgpPeers.some((peer) => peer.name === ref.name)
          : versions.get(`${ref.kind}/${ref.name}`) === ref.resourceVersion,
      waitForSync: () => Promise.resolve(),
      isSynced: () => true,
    },
    writer: {
      apply(action, observed) {
        cluster.beforeWrite?.(action, observed);
        state = applyActions(state, [action]);
        cluster.writes.push(action);
        cluster.history.push(state);
        revision += 1;
        const { kind, name } = describe(action);
        const deleted = action.verb === "delete";
        const result: WriteResult = deleted
          ? { kind, name, deleted, attempts: 1 }
          : { kind, name, deleted, resourceVersion: String(revision), attempts: 1 };
        if (!deleted) versions.set(`${kind}/${name}`, String(revision));
        notify();
        return Promise.resolve(result);
      },
    },
    sessions: {
      waitForSessions(pairs) {
        const missing = cluster.missingSessions.shift() ?? [];
        const result: SessionCheckResult = {
          established: pairs.length - missing.length,
          missing,
          unverifiable: [],
        };
        return Promise.resolve(result);
      },
      waitForRoutes(request) {
        const missing = cluster.missingRoutes.shift() ?? [];
        return Promise.resolve({
          confirmed: request.handovers.length - missing.length,
          missing,
          unchecked: 0,
        });
      },
    },
  };
  return cluster;
}

function describe(action: Action): { kind: WriteResult["kind"]; name: string } {
  switch (action.kind) {
    case "Node":
      return { kind: "Node", name: action.name };
    case "BGPConfiguration":
      return { kind: "BGPConfiguration", name: "default" };
    case "BGPPeer":
      return {
        kind: "BGPPeer",
        name: action.verb === "delete" ? action.name : action.object.metadata.name,
      };
  }
}

/** Removes node `name` from a snapshot (someone deleted it). */
export function withoutNode(name: string): (state: ClusterSnapshot) => ClusterSnapshot {
  return (state) => ({
    ...state,
    nodes: state.nodes.filter((node: NodeInfo) => node.name !== name),
  });
}
