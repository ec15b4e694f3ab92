import {
  projectBgpConfiguration,
  projectBgpPeer,
  projectNode,
  type BgpConfigurationInfo,
  type BgpPeerInfo,
  type ClusterSnapshot,
  type NodeInfo,
  type ObjectIssue,
  type Projection,
  compareStrings,
} from "@rrfleet/topology-core";
import type { ClusterConnection } from "./connect-cluster.js";
import { createWatchTransport, type WatchTransport } from "./create-watch-transport.js";
import type { Projected } from "./create-watch-store.js";
import type { CalicoApi } from "./detect-calico-api.js";
import { showsWrite } from "./is-resource-version-at-least.js";
import { KubeError } from "./kube-error.js";
import { toBgpConfigurationInput } from "./to-bgp-configuration-input.js";
import {
  realWatchTimers,
  watchResource,
  type ResourceKind,
  type ResourceWatch,
  type ResourceWatchHealth,
  type WatchedResource,
  type WatchEventKind,
  type WatchLogger,
  type WatchTimers,
} from "./watch-resource.js";
import { createReadinessGate } from "./create-readiness-gate.js";
import { readObjectHeader } from "./read-object-header.js";

export type { ResourceWatchHealth, WatchedResource, WatchEventKind, WatchLogger };

/** Options of {@link watchCluster}; everything but `calico` has a default. */
export interface WatchClusterOptions {
  /** How the cluster serves Calico (from `detectCalicoApi`): the group/version watched. */
  readonly calico: CalicoApi;
  /** Default: logs nothing (failures still show in `health()`). */
  readonly logger?: WatchLogger;
  /** Called for every event received and every relist/restart, for metrics (resource, kind). */
  readonly onEvent?: (resource: WatchedResource, kind: WatchEventKind) => void;
  /**
   * No event and no bookmark for this long → the stream is presumed half-open: abort and
   * re-watch from the last resourceVersion. Also bounds the silence of a LIST response.
   * Default 90,000 ms (bookmarks are requested; the API server sends one about every minute).
   */
  readonly quietTimeoutMs?: number;
  /** Reconnect backoff, full jitter, doubling: default 1,000 → 30,000 ms; reset after a healthy stream. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Jitter source in [0, 1); default `Math.random`. */
  readonly random?: () => number;
  /** Server-side watch timeout, randomised in [min, 2×min] like client-go; default 300 s. */
  readonly watchTimeoutSeconds?: number;
  /** LIST page size (`limit`); default 500. */
  readonly pageSize?: number;
}

/** A write to look for in a watch cache: the version it produced, or its deletion. */
export interface ObservedRef {
  readonly kind: "Node" | "BGPPeer" | "BGPConfiguration";
  readonly name: string;
  readonly resourceVersion?: string;
  readonly deleted?: boolean;
}

/** A running set of projected informers over one cluster (see {@link watchCluster}). */
export interface ClusterWatch {
  /** Resolves when every resource has been listed once; rejects with the abort reason if stopped first. */
  waitForSync(signal?: AbortSignal): Promise<void>;
  isSynced(): boolean;
  /**
   * The current projected state, arrays sorted by name so it is deterministic. Before sync it
   * holds what has been listed so far. Cached until the next change: cheap to call often.
   */
  snapshot(): ClusterSnapshot;
  /** `spec.calicoVersion` of ClusterInformation default, if known (before sync: the detected one). */
  calicoVersion(): string | undefined;
  /**
   * `listener` runs after each change that alters `snapshot()` (not for dropped status-only
   * updates), synchronously on the watch's event; a listener that throws is logged and the
   * watch goes on. Returns the unsubscribe function.
   */
  subscribe(listener: () => void): () => void;
  /**
   * True once the cache reflects a write: the object was seen at `resourceVersion` or later
   * (numeric compare when both are decimal integers, as etcd's are; else equality), or, with
   * `deleted: true`, the object is absent. Always false before that resource has synced. Only
   * `BGPConfiguration default` is watched: any other name reads as absent.
   */
  hasObserved(ref: ObservedRef): boolean;
  health(): readonly ResourceWatchHealth[];
  /** Stops every stream; resolves when they are closed. Idempotent. */
  stop(): Promise<void>;
}

/** `BGPConfiguration default` as stored: the planner's view plus the key. */
type NamedBgpConfiguration = BgpConfigurationInfo & { readonly name: string };

/** What is read of `ClusterInformation default`. */
interface ClusterInformationInfo extends Projected {
  readonly calicoVersion?: string;
}

const DEFAULTS = {
  quietTimeoutMs: 90_000,
  backoff: { initialMs: 1_000, maxMs: 30_000 },
  watchTimeoutSeconds: 300,
  pageSize: 500,
} as const;

const NO_LOGGER: WatchLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * Starts projected informers for what the planner reads of one cluster and returns at once:
 * a list+watch loop each for all Nodes, all BGPPeers (foreign ones too: the planner avoids
 * their names), `BGPConfiguration default` and `ClusterInformation default`, the Calico ones
 * in the group/version of `options.calico`. Objects are projected on receipt (5,000 Nodes cost
 * about 5,000 `NodeInfo`s); a Node update that changes nothing projected (a kubelet heartbeat)
 * only moves the cached resourceVersion, notifies nobody and counts as `DROPPED`. A loop
 * relists only after 410 Gone; any other failure re-watches from the last resourceVersion
 * after a jittered backoff (429 Retry-After honoured), and only `stop()` ends it. RBAC needed:
 * list and watch on nodes, bgppeers, bgpconfigurations and clusterinformations. Throws
 * {@link KubeError} `Invalid` for out-of-range options.
 */
export function watchCluster(
  connection: ClusterConnection,
  options: WatchClusterOptions,
): ClusterWatch {
  const quietTimeoutMs = options.quietTimeoutMs ?? DEFAULTS.quietTimeoutMs;
  const transport = createWatchTransport(connection.kubeConfig, {
    listIdleTimeoutMs: quietTimeoutMs,
  });
  return startClusterWatch(transport, options);
}

/**
 * {@link watchCluster} on any {@link WatchTransport} and clock: the seam tests use. Same
 * behaviour and errors.
 */
export function startClusterWatch(
  transport: WatchTransport,
  options: WatchClusterOptions,
  timers: WatchTimers = realWatchTimers,
): ClusterWatch {
  const settings = resolveSettings(options);
  const logger = options.logger ?? NO_LOGGER;
  const listeners = new Set<() => void>();
  let stopReason: KubeError | undefined;

  const notify = (): void => {
    for (const listener of [...listeners]) {
      try {
        listener();
      } catch (err: unknown) {
        logger.error({ err }, "a cluster watch subscriber threw; the watch goes on");
      }
    }
  };
  const isSynced = (): boolean => watches.every((watch) => watch.isSynced());
  const synced = createReadinessGate(isSynced, toError);
  const onSynced = (): void => {
    synced.check();
  };

  const shared = {
    logger,
    onEvent: options.onEvent ?? (() => undefined),
    onChange: notify,
    onSynced,
    timers,
    ...settings,
  };
  const { group, version } = options.calico;
  const calicoPath = (plural: string): string => `/apis/${group}/${version}/${plural}`;
  const nodes = watchResource<NodeInfo>(
    {
      resource: "nodes",
      kind: "Node",
      path: "/api/v1/nodes",
      resourceName: "nodes",
      project: projectNode,
    },
    transport,
    shared,
  );
  const peers = watchResource<BgpPeerInfo>(
    {
      resource: "bgppeers",
      kind: "BGPPeer",
      path: calicoPath("bgppeers"),
      resourceName: `bgppeers.${group}`,
      project: projectBgpPeer,
    },
    transport,
    shared,
  );
  const configurations = watchResource<NamedBgpConfiguration>(
    {
      resource: "bgpconfigurations",
      kind: "BGPConfiguration",
      path: calicoPath("bgpconfigurations"),
      resourceName: `bgpconfigurations.${group}`,
      fieldSelector: "metadata.name=default",
      project: projectNamedBgpConfiguration,
    },
    transport,
    shared,
  );
  const informations = watchResource<ClusterInformationInfo>(
    {
      resource: "clusterinformations",
      kind: "ClusterInformation",
      path: calicoPath("clusterinformations"),
      resourceName: `clusterinformations.${group}`,
      fieldSelector: "metadata.name=default",
      project: projectClusterInformation,
    } satisfies ResourceKind<ClusterInformationInfo>,
    transport,
    shared,
  );
  const watches: readonly ResourceWatch<Projected>[] = [nodes, peers, configurations, informations];

  let cached: { readonly key: string; readonly snapshot: ClusterSnapshot } | undefined;
  const snapshot = (): ClusterSnapshot => {
    const key = `${nodes.store.generation}/${peers.store.generation}/${configurations.store.generation}`;
    if (cached?.key === key) return cached.snapshot;
    const configuration = configurations.store.get("default");
    const value: ClusterSnapshot = {
      nodes: sortByName([...nodes.store.values()]),
      bgpPeers: sortByName([...peers.store.values()]),
      bgpConfiguration:
        configuration === undefined
          ? projectBgpConfiguration(undefined)
          : withoutName(configuration),
      calicoApiVersion: options.calico.apiVersion,
    };
    cached = { key, snapshot: value };
    return value;
  };

  return {
    waitForSync: (signal) => synced.wait(signal),
    isSynced,
    snapshot,
    calicoVersion: () =>
      informations.isSynced()
        ? informations.store.get("default")?.calicoVersion
        : options.calico.calicoVersion,
    subscribe: (listener) => {
      // A wrapper per call, so subscribing the same function twice needs two unsubscribes.
      const entry = (): void => {
        listener();
      };
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    hasObserved: (ref) => {
      const watch: ResourceWatch<Projected> =
        ref.kind === "Node" ? nodes : ref.kind === "BGPPeer" ? peers : configurations;
      if (!watch.isSynced()) return false;
      return showsWrite(watch.store.get(ref.name), ref);
    },
    health: () => watches.map((watch) => watch.health()),
    stop: async () => {
      if (stopReason === undefined) {
        stopReason = new KubeError("Unavailable", "the cluster watch was stopped before it synced");
        synced.close(stopReason);
        listeners.clear();
      }
      await Promise.all(watches.map((watch) => watch.stop()));
    },
  };
}

function resolveSettings(options: WatchClusterOptions) {
  const settings = {
    quietTimeoutMs: options.quietTimeoutMs ?? DEFAULTS.quietTimeoutMs,
    backoff: options.backoff ?? DEFAULTS.backoff,
    random: options.random ?? Math.random,
    watchTimeoutSeconds: options.watchTimeoutSeconds ?? DEFAULTS.watchTimeoutSeconds,
    pageSize: options.pageSize ?? DEFAULTS.pageSize,
  };
  const problems: string[] = [];
  if (!(settings.quietTimeoutMs > 0 && Number.isFinite(settings.quietTimeoutMs))) {
    problems.push(`quietTimeoutMs must be a positive number (got ${settings.quietTimeoutMs})`);
  }
  const { initialMs, maxMs } = settings.backoff;
  if (!(
    Number.isFinite(initialMs) &&
    Number.isFinite(maxMs) &&
    0 < initialMs &&
    initialMs <= maxMs
  )) {
    problems.push(`backoff needs 0 < initialMs <= maxMs (got ${initialMs} and ${maxMs})`);
  }
  if (!(Number.isInteger(settings.watchTimeoutSeconds) && settings.watchTimeoutSeconds >= 1)) {
    problems.push(
      `watchTimeoutSeconds must be a positive integer (got ${settings.watchTimeoutSeconds})`,
    );
  }
  if (!(Number.isInteger(settings.pageSize) && settings.pageSize >= 1)) {
    problems.push(`pageSize must be a positive integer (got ${settings.pageSize})`);
  }
  if (problems.length > 0) throw new KubeError("Invalid", `watchCluster: ${problems.join("; ")}`);
  return settings;
}

function sortByName<T extends Projected>(values: T[]): T[] {
  // Code-unit order, not locale order: the same bytes everywhere.
  return values.sort((a, b) => compareStrings(a.name, b.name));
}

function withoutName(configuration: NamedBgpConfiguration): BgpConfigurationInfo {
  const { name: _name, ...info } = configuration;
  return info;
}

function projectNamedBgpConfiguration(raw: unknown): Projection<NamedBgpConfiguration> {
  const input = toBgpConfigurationInput(raw);
  if (!input.ok) return input;
  return {
    ok: true,
    value: { name: input.value.name, ...projectBgpConfiguration(input.value.object) },
  };
}

function projectClusterInformation(raw: unknown): Projection<ClusterInformationInfo> {
  const issues: ObjectIssue[] = [];
  const { name, resourceVersion, spec } = readObjectHeader(raw, issues);
  const calicoVersion = spec?.["calicoVersion"];
  if (calicoVersion !== undefined && typeof calicoVersion !== "string") {
    issues.push({ path: "spec.calicoVersion", message: "must be a string" });
  }
  if (issues.length > 0 || name === undefined) return { ok: false, issues };
  return {
    ok: true,
    value: {
      name,
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
      ...(typeof calicoVersion === "string" && calicoVersion !== "" ? { calicoVersion } : {}),
    },
  };
}

/** An abort reason as an Error (AbortSignal's default reason already is one). */
function toError(reason: unknown): Error {
  return reason instanceof Error
    ? reason
    : new KubeError("Unavailable", "waiting for the cluster watch to sync was aborted", {
        cause: reason,
      });
}
