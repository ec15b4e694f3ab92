import { trace } from "@opentelemetry/api";
import { systemClock, type FleetState } from "@rrfleet/fleet-state";
import type { WriteFencing } from "@rrfleet/kube";
import {
  DEFAULT_POLICY,
  planCluster,
  type Action,
  type ClusterSnapshot,
} from "@rrfleet/topology-core";
import { makeCluster, makeNodes } from "@rrfleet/topology-core/testing";
import { Registry } from "prom-client";
import { createFleetApplierMetrics } from "../fleet/fleet-metrics.js";
import type { FleetLeaderDeps } from "../fleet/fleet-leader-deps.js";
import { createApplierMetrics } from "../metrics.js";
import { createFakeCluster, type FakeCluster } from "./fake-cluster.js";

/** A member cluster of a fake fleet, and every write it received with its fencing epoch. */
export interface FakeMember {
  readonly name: string;
  readonly fake: FakeCluster;
  readonly writes: { readonly action: Action; readonly epoch: number; readonly applier: string }[];
  /** The fencing epoch of every session check the leader built for this member. */
  readonly sessionEpochs: number[];
}

/** A member of `nodes` nodes in zones a, b, c. */
export function makeFakeMember(name: string, nodes = 12): FakeMember {
  return {
    name,
    fake: createFakeCluster(makeCluster(makeNodes(nodes))),
    writes: [],
    sessionEpochs: [],
  };
}

/** A logger that drops everything, with `child`. */
export const silentLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/**
 * Publishes every member's state as its watcher would, now and after each change, with every
 * object at the cluster's latest revision (so the leader's writes read as observed). Returns
 * the stop function.
 */
export function startFakeWatchers(state: FleetState, members: readonly FakeMember[]): () => void {
  const unsubscribes = members.map((member) => {
    const publish = (): void => {
      const version = String(member.fake.history.length + 1);
      const s = member.fake.state();
      void state.publishSnapshot(
        member.name,
        {
          ...s,
          nodes: s.nodes.map((n) => ({ ...n, resourceVersion: version })),
          bgpPeers: s.bgpPeers.map((p) => ({ ...p, resourceVersion: version })),
          bgpConfiguration: { ...s.bgpConfiguration, resourceVersion: version },
        },
        { watcher: "w1", observedAt: Date.now() },
      );
    };
    publish();
    return member.fake.view.subscribe(publish);
  });
  return () => {
    for (const unsubscribe of unsubscribes) unsubscribe();
  };
}

/** Options of {@link makeFakeLeaderDeps}. */
export interface FakeLeaderOptions {
  /** Recorded with each write. */
  readonly applier?: string;
  /** Each write waits this long first (a slow API server); default 0. */
  readonly writeDelayMs?: number;
}

/**
 * Leader dependencies over `state` and fake members: real clock, fast periods, budgets that
 * never wait; writers that ask the fencing before each write, as `@rrfleet/kube`'s do.
 */
export function makeFakeLeaderDeps(
  state: FleetState,
  members: readonly FakeMember[],
  options: FakeLeaderOptions = {},
): FleetLeaderDeps {
  const registry = new Registry();
  const clusters = members.map((m) => ({
    name: m.name,
    fingerprint: "f1",
    policy: DEFAULT_POLICY,
    connect: () => {
      throw new Error("not used: openCluster is faked");
    },
  }));
  return {
    state,
    clusters: () => clusters,
    openCluster: (cluster) => {
      const member = members.find((m) => m.name === cluster.name);
      if (member === undefined) throw new Error(`unknown cluster ${cluster.name}`);
      return Promise.resolve({
        sessions: (fencing: WriteFencing) => {
          member.sessionEpochs.push(fencing.epoch);
          return member.fake.sessions;
        },
        writer: (fencing: WriteFencing) => ({
          apply: async (action, observed, signal) => {
            if (options.writeDelayMs !== undefined) {
              await new Promise((resolve) => setTimeout(resolve, options.writeDelayMs));
            }
            fencing.assertCurrent();
            member.writes.push({ action, epoch: fencing.epoch, applier: options.applier ?? "" });
            return member.fake.writer.apply(action, observed, signal);
          },
        }),
      });
    },
    clock: systemClock,
    logger: silentLogger,
    metrics: createApplierMetrics(registry),
    fleetMetrics: createFleetApplierMetrics(registry),
    tracer: trace.getTracer("test"),
    settings: {
      heartbeatMs: 50,
      clusterBucket: { ratePerSecond: 10_000, burst: 10_000 },
      globalBucket: { ratePerSecond: 10_000, burst: 10_000 },
      maxParallelClusters: 2,
      resyncMs: 60_000,
      dryRun: false,
      observeTimeoutMs: 5_000,
    },
  };
}

/** Whether the default policy has nothing left to do for `snapshot`. */
export function isConverged(snapshot: ClusterSnapshot): boolean {
  return planCluster(snapshot, DEFAULT_POLICY, new Date()).steps.length === 0;
}

/** Polls `condition` every 10 ms; throws after 30 s (a hang guard, not a measurement). */
export async function waitUntil(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 3_000; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("condition not reached in 30 s");
}

/** Resolves when every member's status in `state` is Converged. */
export function waitForConverged(state: FleetState, members: readonly FakeMember[]): Promise<void> {
  return waitUntil(async () => {
    const statuses = await state.readStatuses();
    return members.every((m) => statuses[m.name]?.phase === "Converged");
  });
}
