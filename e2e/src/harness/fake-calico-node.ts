import { setTimeout as sleep } from "node:timers/promises";
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from "@kubernetes/client-node";
import type { CalicoApi } from "@rrfleet/kube";
import {
  buildSessionGraph,
  projectBgpConfiguration,
  projectBgpPeer,
  projectNode,
  type BgpConfigurationInfo,
  type BgpPeerInfo,
  type ClusterSnapshot,
  type NodeInfo,
  type Projection,
} from "@rrfleet/topology-core";
import { isApiStatus } from "./is-api-status.js";
import { CALICO_IPV4_ANNOTATION } from "./node-factory.js";
import { toWireJson } from "./to-wire-json.js";

/** Options of {@link startFakeCalicoNode}. */
export interface FakeCalicoNodeOptions {
  /** Where Calico's resources are served (`detectCalicoApi`). */
  readonly calico: Pick<CalicoApi, "group" | "version">;
  /** How often every status object is rewritten, in milliseconds. */
  readonly intervalMs: number;
  /**
   * How long a session new to the reporter (first seen for a status object) shows `Connect`
   * before it shows `Established`, in milliseconds; default 0 (at once).
   */
  readonly establishAfterMs?: number;
}

/** A running fake status reporter. */
export interface FakeCalicoNode {
  /** Status objects written so far. */
  reports(): number;
  /** Stops the loop after the current round; rejects with every error a round hit. */
  stop(): Promise<void>;
}

/** One `status.bgp.peersV4` entry as calico-node writes it. */
interface PeerStatus {
  readonly peerIP: string;
  readonly type: "NodeMesh" | "NodePeer";
  readonly state: "Connect" | "Established";
  readonly since: string;
}

/**
 * Stands in for calico-node's status reporter (the harness runs no calico-node pods): every
 * `intervalMs` it lists the CalicoNodeStatus objects, reads the cluster (Nodes, BGPPeers,
 * `BGPConfiguration default`), computes each status node's BGP sessions with topology-core's
 * session model ({@link buildSessionGraph}: the mesh while on, every pair a BGPPeer selects, in
 * both directions, NotReady nodes down) and merge-patches `status.bgp.peersV4` (peerIP from the
 * peer Node's `projectcalico.org/IPv4Address`) and `status.lastUpdated`. It never reports a
 * session the model does not have; peers without an address are left out, as calico-node has no
 * session to them. Objects for nodes that do not exist or are NotReady get no report.
 */
export function startFakeCalicoNode(
  kubeConfig: KubeConfig,
  options: FakeCalicoNodeOptions,
): FakeCalicoNode {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const { group, version } = options.calico;
  const establishAfterMs = options.establishAfterMs ?? 0;
  const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
  /** `<status object>\0<peerIP>` → when the reporter first saw that session. */
  const firstSeen = new Map<string, number>();
  let reports = 0;

  const listItems = async (plural: string): Promise<unknown[]> => {
    const list: unknown = await custom.listClusterCustomObject({ group, version, plural });
    const items = isRecord(list) ? list["items"] : undefined;
    if (!Array.isArray(items)) throw new Error(`list ${plural}: the response has no items`);
    return items as unknown[];
  };

  const readCluster = async () => {
    const nodes = (await core.listNode()).items;
    const addresses = new Map<string, string>();
    const infos: NodeInfo[] = nodes.map((node) => {
      const wire = toWireJson(node);
      const info = orThrow("Node", projectNode(wire));
      const address = node.metadata?.annotations?.[CALICO_IPV4_ANNOTATION]?.split("/")[0];
      if (address !== undefined && address !== "") addresses.set(info.name, address);
      return info;
    });
    const peers: BgpPeerInfo[] = (await listItems("bgppeers")).map((item) =>
      orThrow("BGPPeer", projectBgpPeer(item)),
    );
    const configurations = await listItems("bgpconfigurations");
    const configuration = configurations.find((item) => readName(item) === "default");
    const bgpConfiguration: BgpConfigurationInfo = projectBgpConfiguration(
      configuration === undefined
        ? undefined
        : {
            metadata: {},
            ...(isRecord(configuration) && isRecord(configuration["spec"])
              ? { spec: configuration["spec"] }
              : {}),
          },
    );
    const snapshot: ClusterSnapshot = {
      nodes: infos,
      bgpPeers: peers,
      bgpConfiguration,
      calicoApiVersion:
        group === "projectcalico.org" ? "projectcalico.org/v3" : "crd.projectcalico.org/v1",
    };
    return { snapshot, addresses };
  };

  const runRound = async (): Promise<void> => {
    const statuses = await listItems("caliconodestatuses");
    const seenKeys = new Set<string>();
    if (statuses.length > 0) {
      const { snapshot, addresses } = await readCluster();
      const sessionsOf = createSessionLookup(snapshot);
      const now = Date.now();
      for (const status of statuses) {
        const name = readName(status);
        const spec = isRecord(status) ? status["spec"] : undefined;
        const node = isRecord(spec) ? spec["node"] : undefined;
        const classes = isRecord(spec) ? spec["classes"] : undefined;
        if (name === undefined || typeof node !== "string") continue;
        if (!Array.isArray(classes) || !classes.includes("BGP")) continue;
        const sessions = sessionsOf(node);
        if (sessions === undefined) continue;
        const peersV4: PeerStatus[] = [];
        for (const session of sessions) {
          const peerIP = addresses.get(session.peer);
          if (peerIP === undefined) continue;
          const key = `${name}\u0000${peerIP}`;
          seenKeys.add(key);
          const first = firstSeen.get(key) ?? now;
          firstSeen.set(key, first);
          const established = now - first >= establishAfterMs;
          peersV4.push({
            peerIP,
            type: session.type,
            state: established ? "Established" : "Connect",
            since: new Date(established ? first + establishAfterMs : first).toISOString(),
          });
        }
        const establishedCount = peersV4.filter((p) => p.state === "Established").length;
        try {
          await custom.patchClusterCustomObject(
            {
              group,
              version,
              plural: "caliconodestatuses",
              name,
              body: {
                status: {
                  lastUpdated: new Date(now).toISOString(),
                  bgp: {
                    numberEstablishedV4: establishedCount,
                    numberEstablishedV6: 0,
                    numberNotEstablishedV4: peersV4.length - establishedCount,
                    numberNotEstablishedV6: 0,
                    peersV4,
                  },
                },
              },
            },
            mergePatch,
          );
          reports += 1;
        } catch (err: unknown) {
          // Deleted since the list (a session check cleaning up): nothing left to report to.
          if (!isApiStatus(err, 404)) throw err;
        }
      }
    }
    // A session disappears with its status object or from the model: if it comes back, it is new.
    for (const key of firstSeen.keys()) if (!seenKeys.has(key)) firstSeen.delete(key);
  };

  const controller = new AbortController();
  const errors: unknown[] = [];
  // A call, not a property read: TypeScript would narrow `aborted` across the awaits.
  const isStopped = (): boolean => controller.signal.aborted;
  const loop = (async () => {
    while (!isStopped()) {
      try {
        await runRound();
      } catch (err: unknown) {
        errors.push(err);
      }
      try {
        await sleep(options.intervalMs, undefined, { signal: controller.signal });
      } catch (err: unknown) {
        if (!isStopped()) throw err;
      }
    }
  })();

  return {
    reports: () => reports,
    stop: async () => {
      controller.abort();
      await loop;
      if (errors.length > 0) {
        throw new AggregateError(errors, `fake calico-node: ${errors.length} rounds failed`);
      }
    },
  };
}

/** A node's BGP sessions in the model: undefined when the node is absent or NotReady (down). */
function createSessionLookup(
  snapshot: ClusterSnapshot,
): (node: string) => { peer: string; type: PeerStatus["type"] }[] | undefined {
  const graph = buildSessionGraph(snapshot);
  const n = graph.entities.length;
  const indexOf = new Map(snapshot.nodes.map((node, index) => [node.name, index]));
  const meshOn = snapshot.bgpConfiguration.nodeToNodeMeshEnabled;
  return (node) => {
    const index = indexOf.get(node);
    const entity = index === undefined ? -1 : (graph.entityOfIndex[index] ?? -1);
    if (entity < 0) return undefined;
    const sessions: { peer: string; type: PeerStatus["type"] }[] = [];
    snapshot.nodes.forEach((other, j) => {
      const peerEntity = graph.entityOfIndex[j] ?? -1;
      if (j === index || peerEntity < 0) return;
      // A class's diagonal entry says its distinct members peer each other.
      if (graph.adjacency[entity * n + peerEntity] !== 1) return;
      const bothMeshed =
        meshOn &&
        graph.entities[entity]?.kind === "class" &&
        graph.entities[peerEntity]?.kind === "class";
      sessions.push({ peer: other.name, type: bothMeshed ? "NodeMesh" : "NodePeer" });
    });
    return sessions;
  };
}

function orThrow<T>(kind: string, projection: Projection<T>): T {
  if (projection.ok) return projection.value;
  throw new Error(
    `fake calico-node: a ${kind} cannot be read: ${projection.issues
      .map((issue) => `${issue.path}: ${issue.message}`)
      .join("; ")}`,
  );
}

function readName(object: unknown): string | undefined {
  const metadata = isRecord(object) ? object["metadata"] : undefined;
  const name = isRecord(metadata) ? metadata["name"] : undefined;
  return typeof name === "string" ? name : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
