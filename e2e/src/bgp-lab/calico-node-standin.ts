/**
 * A stand-in for calico-node on every simulated node of the lab: like confd, it follows Nodes,
 * BGPPeers and `BGPConfiguration default` on the API server, renders each node's BIRD
 * configuration (render-bird-config.ts), checks it with `bird -p` and reconfigures that node's
 * BIRD within a poll period of a change (300 ms by default; confd reacts within about a second).
 * Like calico-node's status reporter, it fills every `CalicoNodeStatus` asking for the BGP class
 * with what `birdc show protocols` says on that node (the real session states), and one asking
 * for Routes with every path `birdc show route` lists (the real routing table).
 *
 * A Node with a `projectcalico.org/IPv4Address` gets a namespace and a BIRD when the stand-in
 * first sees it (calico-node starting on a joining node); a Node that goes away is marked down in
 * the route judge, then its BIRD is killed and its namespace removed. Scenarios crash nodes
 * ({@link CalicoNodeStandIn.failNode}) and restart calico-node ({@link CalicoNodeStandIn.restartNode}).
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Node,
} from "@kubernetes/client-node";
import { isApiStatus } from "../harness/is-api-status.js";
import {
  createBirdDaemon,
  type BirdDaemon,
  type BirdProtocolState,
  type BirdRoute,
} from "./bird-daemon.js";
import type { LabNetwork } from "./lab-network.js";
import {
  LAB_POOL,
  renderBirdConfig,
  type LabBgpPeer,
  type LabClusterState,
  type LabNode,
} from "./render-bird-config.js";
import type { RouteJudge } from "./route-judge.js";

/** Options of {@link startCalicoNodeStandIn}. */
export interface CalicoNodeStandInOptions {
  readonly kubeConfig: KubeConfig;
  /** Where Calico's resources are served. */
  readonly calico: { readonly group: string; readonly version: string };
  readonly network: LabNetwork;
  readonly judge: RouteJudge;
  /** Between two reads of the cluster, in milliseconds; default 300. */
  readonly pollMs?: number;
  /** The cluster's AS number; default 64512 (Calico's). */
  readonly asNumber?: string;
}

/** The running stand-in. */
export interface CalicoNodeStandIn {
  /** Nodes whose BIRD runs now. */
  nodes(): readonly string[];
  /** Each running node's BGP protocols as BIRD shows them now. */
  protocols(): Promise<Map<string, BirdProtocolState[]>>;
  /** How many routes (paths) a node's BIRD holds per pod block. */
  routesPerBlock(node: string): Promise<Map<string, number>>;
  /** A node's pod block (`192.168.x.y/26`). */
  blockOf(node: string): string | undefined;
  /** Kills the node's BIRD (SIGKILL: a crash) and keeps it down; marks the node down in the judge. */
  failNode(node: string): Promise<void>;
  /** calico-node restarted: SIGKILL its BIRD, then start it again with `-R` and the current configuration. */
  restartNode(node: string): Promise<void>;
  /** Resolves once a full round (read, render, reconfigure) started after this call has completed. */
  settled(): Promise<void>;
  /** How many times each node's BIRD was reconfigured. */
  reconfigurations(): number;
  /** Problems seen so far (failed rounds, refused configurations, invalid selectors). */
  problems(): readonly string[];
  /** Stops the loop (BIRDs keep running until the network is destroyed). */
  stop(): Promise<void>;
}

const CALICO_IPV4_ANNOTATION = "projectcalico.org/IPv4Address";
const CLUSTER_ID_ANNOTATION = "projectcalico.org/RouteReflectorClusterID";
const CONCURRENCY = 16;
/** The BGP states calico-node's status reporter maps (node/pkg/status/populators/peers.go). */
const REPORTED_STATES = new Set([
  "Idle",
  "Connect",
  "Active",
  "OpenSent",
  "OpenConfirm",
  "Established",
  "Close",
]);

/** Starts the stand-in; its first round has run when this resolves. */
export async function startCalicoNodeStandIn(
  options: CalicoNodeStandInOptions,
): Promise<CalicoNodeStandIn> {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
  const { group, version } = options.calico;
  const pollMs = options.pollMs ?? 300;
  const asNumber = options.asNumber ?? "64512";
  const { network, judge } = options;
  const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

  const daemons = new Map<string, BirdDaemon>();
  const failed = new Set<string>();
  const blocks = new Map<string, string>();
  const renderedClusterIds = new Map<string, string | undefined>();
  const lastReport = new Map<string, number>();
  /** Nodes in a role-change window whose sessions are all Established: since when, continuously. */
  const establishedSince = new Map<string, number>();
  const problems: string[] = [];
  let nextBlock = 0;
  let reconfigurations = 0;
  let rounds = 0;

  const listItems = async (plural: string): Promise<Record<string, unknown>[]> => {
    const list: unknown = await custom.listClusterCustomObject({ group, version, plural });
    const items = isRecord(list) ? list["items"] : undefined;
    if (!Array.isArray(items)) throw new Error(`list ${plural}: the response has no items`);
    return items.filter(isRecord);
  };

  const readState = async (): Promise<LabClusterState> => {
    const [nodeList, peers, configurations] = await Promise.all([
      core.listNode(),
      listItems("bgppeers"),
      listItems("bgpconfigurations"),
    ]);
    const defaultConfig = configurations.find(
      (c) => readString(c, "metadata", "name") === "default",
    );
    const mesh = isRecord(defaultConfig?.["spec"])
      ? defaultConfig["spec"]["nodeToNodeMeshEnabled"]
      : undefined;
    return {
      nodes: nodeList.items.map(readNode),
      bgpPeers: peers.map(readPeer),
      meshEnabled: mesh !== false,
      asNumber,
    };
  };

  const blockFor = (node: string): string => {
    let block = blocks.get(node);
    if (block === undefined) {
      const k = nextBlock++;
      block = `192.168.${k >> 2}.${(k & 3) * 64}/26`;
      blocks.set(node, block);
      judge.setOwner(block, node);
    }
    return block;
  };

  const forEachLimited = async <T>(items: readonly T[], work: (item: T) => Promise<void>) => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const item = items[next++] as T;
        try {
          await work(item);
        } catch (err: unknown) {
          problems.push(err instanceof Error ? err.message : String(err));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  };

  const runRound = async (): Promise<void> => {
    const state = await readState();
    const present = new Map(
      state.nodes.filter((n) => n.address !== undefined).map((n) => [n.name, n]),
    );

    // Nodes that left: down first (their withdrawals are not gaps), then gone.
    for (const name of [...daemons.keys()]) {
      if (present.has(name)) continue;
      judge.markDown(name);
      await judge.unwatch(name);
      await daemons.get(name)?.kill();
      daemons.delete(name);
      await network.removeHost(name);
      failed.delete(name);
      renderedClusterIds.delete(name);
    }

    // Nodes that joined: a namespace, the judge on its table, then BIRD (calico-node starting).
    const joining = [...present.values()].filter((n) => !daemons.has(n.name));
    if (joining.length > 0) {
      const hosts = await network.addHosts(
        joining.map((n) => ({ name: n.name, address: n.address ?? "", prefixLength: 16 })),
      );
      for (const host of hosts) {
        const problemsOfNode: string[] = [];
        const daemon = createBirdDaemon({
          node: host.name,
          namespace: host.namespace,
          dir: network.dir,
          initialConfig: renderBirdConfig(state, host.name, [blockFor(host.name)], problemsOfNode),
        });
        problems.push(...problemsOfNode);
        daemons.set(host.name, daemon);
        renderedClusterIds.set(host.name, present.get(host.name)?.clusterId);
        await judge.watch(host.name, host.namespace, daemon.logFile);
      }
      await forEachLimited(hosts, async (host) => {
        await daemons.get(host.name)?.start();
        // A joining node's first sessions come up (both ends dial; collisions drop and redo
        // them): its own routes may flicker meanwhile, like a node changing role.
        judge.openRoleChange(host.name);
      });
    }

    // Reconfigure what changed, like confd: render, check, `birdc configure`.
    const changed: { daemon: BirdDaemon; config: string }[] = [];
    const roleChanged: string[] = [];
    for (const [name, daemon] of daemons) {
      if (failed.has(name)) continue;
      const config = renderBirdConfig(state, name, [blockFor(name)], problems);
      if (config === daemon.config()) continue;
      changed.push({ daemon, config });
      const clusterId = present.get(name)?.clusterId;
      if (renderedClusterIds.get(name) !== clusterId) {
        roleChanged.push(name);
        renderedClusterIds.set(name, clusterId);
      }
    }
    for (const name of roleChanged) judge.openRoleChange(name);
    await forEachLimited(changed, async ({ daemon, config }) => {
      await daemon.configure(config);
      reconfigurations++;
    });

    // A role change ends when every BGP session of the node to a running node has been Established
    // for SESSIONS_STABLE_MS without a break: right after the first Established, a collision (both
    // ends dial a `Node_` peer) can still drop one and flush its routes, as the lab has seen on
    // joining nodes 2 s after their sessions first came up.
    const changing = [...daemons.keys()].filter((n) => judge.isChangingRole(n) && !failed.has(n));
    const running = new Set(
      network
        .hosts()
        .filter((h) => daemons.get(h.name)?.running() === true)
        .map((h) => h.address),
    );
    await forEachLimited(changing, async (name) => {
      const protocols = await daemons.get(name)?.protocols();
      const settled = protocols?.every(
        (p) => p.bgpState === "Established" || !running.has(neighborOf(p.name)),
      );
      if (settled !== true) {
        establishedSince.delete(name);
        return;
      }
      const since = establishedSince.get(name) ?? Date.now();
      establishedSince.set(name, since);
      if (Date.now() - since >= SESSIONS_STABLE_MS) {
        judge.closeRoleChange(name);
        establishedSince.delete(name);
      }
    });

    await reportStatuses();
  };

  /**
   * calico-node's status reporter: CalicoNodeStatus objects asking for BGP (sessions) or Routes
   * (every path BIRD holds), every updatePeriodSeconds.
   */
  const reportStatuses = async (): Promise<void> => {
    const statuses = await listItems("caliconodestatuses");
    const now = Date.now();
    const due = statuses.flatMap((status) => {
      const name = readString(status, "metadata", "name") ?? "";
      const spec = isRecord(status["spec"]) ? status["spec"] : {};
      const classes = (Array.isArray(spec["classes"]) ? spec["classes"] : []).filter(
        (c): c is string => typeof c === "string",
      );
      const period =
        typeof spec["updatePeriodSeconds"] === "number" ? spec["updatePeriodSeconds"] : 10;
      const reported = classes.includes("BGP") || classes.includes("Routes");
      return reported && now - (lastReport.get(name) ?? 0) >= period * 1000
        ? [{ name, node: readString(status, "spec", "node") ?? "", classes }]
        : [];
    });
    await forEachLimited(due, async ({ name, node, classes }) => {
      const daemon = daemons.get(node);
      if (daemon === undefined || !daemon.running()) return; // no calico-node there to report
      lastReport.set(name, now);
      const status: Record<string, unknown> = {
        lastUpdated: new Date().toISOString(),
        agent: { birdV4: { state: "Ready" } },
      };
      if (classes.includes("BGP")) status["bgp"] = reportSessions(await daemon.protocols());
      if (classes.includes("Routes"))
        status["routes"] = { routesV4: reportRoutes(await daemon.routes()) };
      try {
        await custom.patchClusterCustomObject(
          { group, version, plural: "caliconodestatuses", name, body: { status } },
          mergePatch,
        );
      } catch (err: unknown) {
        if (!isApiStatus(err, 404)) throw err; // deleted since the list: nothing to report to
      }
    });
    for (const name of lastReport.keys())
      if (!statuses.some((s) => readString(s, "metadata", "name") === name))
        lastReport.delete(name);
  };

  await runRound();
  const controller = new AbortController();
  const isStopped = (): boolean => controller.signal.aborted;
  const loop = (async () => {
    while (!isStopped()) {
      try {
        await runRound();
        rounds++;
      } catch (err: unknown) {
        problems.push(`round failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      try {
        await sleep(pollMs, undefined, { signal: controller.signal });
      } catch (err: unknown) {
        if (!isStopped()) throw err;
      }
    }
  })();

  return {
    nodes: () => [...daemons.keys()].filter((n) => daemons.get(n)?.running() === true),
    async protocols() {
      const result = new Map<string, BirdProtocolState[]>();
      await forEachLimited([...daemons], async ([name, daemon]) => {
        if (daemon.running()) result.set(name, await daemon.protocols());
      });
      return result;
    },
    blockOf: (node) => blocks.get(node),
    async routesPerBlock(node) {
      const daemon = daemons.get(node);
      if (daemon === undefined) throw new Error(`no BIRD for ${node}`);
      return daemon.routesPerPrefix();
    },
    async failNode(node) {
      const daemon = daemons.get(node);
      if (daemon === undefined) throw new Error(`no BIRD for ${node}`);
      failed.add(node);
      judge.markDown(node);
      await daemon.kill();
    },
    async restartNode(node) {
      const daemon = daemons.get(node);
      if (daemon === undefined) throw new Error(`no BIRD for ${node}`);
      await daemon.kill();
      await daemon.start();
    },
    async settled() {
      const target = rounds + 2;
      while (rounds < target && !isStopped()) await sleep(Math.min(pollMs, 50));
    },
    reconfigurations: () => reconfigurations,
    problems: () => problems,
    async stop() {
      controller.abort();
      await loop;
    },
  };
}

/** `status.bgp` of a CalicoNodeStatus, from `birdc show protocols` (node/pkg/status/populators/peers.go). */
function reportSessions(protocols: readonly BirdProtocolState[]): Record<string, unknown> {
  const peersV4 = protocols.flatMap((p) => {
    const match = /^(Mesh|Node|Global)_(\d+_\d+_\d+_\d+)$/.exec(p.name);
    if (match === null) return [];
    const type = match[1] === "Mesh" ? "NodeMesh" : match[1] === "Node" ? "NodePeer" : "GlobalPeer";
    return [
      {
        peerIP: (match[2] ?? "").replaceAll("_", "."),
        type,
        // Calico's reporter maps these states only; others (BIRD's "Passive") it leaves out.
        ...(REPORTED_STATES.has(p.bgpState) ? { state: p.bgpState } : {}),
        since: p.since,
      },
    ];
  });
  const established = peersV4.filter((p) => p.state === "Established").length;
  return {
    numberEstablishedV4: established,
    numberEstablishedV6: 0,
    numberNotEstablishedV4: peersV4.length - established,
    numberNotEstablishedV6: 0,
    peersV4,
  };
}

/**
 * `status.routes.routesV4` of a CalicoNodeStatus, from `birdc show route`
 * (node/pkg/status/populators/routes.go): the best path FIB, the others RIB; a `Mesh_` protocol's
 * path NodeMesh, a `Node_`/`Global_` one's BGPPeer, with the peer address from its name.
 */
function reportRoutes(routes: readonly BirdRoute[]): Record<string, unknown>[] {
  return routes.map((route) => {
    const session = /^(Mesh|Node|Global)_(\d+_\d+_\d+_\d+)$/.exec(route.protocol);
    const source = /^(kernel|static|direct)/.exec(route.protocol)?.[1];
    const learnedFrom =
      session !== null
        ? {
            sourceType: session[1] === "Mesh" ? "NodeMesh" : "BGPPeer",
            peerIP: (session[2] ?? "").replaceAll("_", "."),
          }
        : { sourceType: source === undefined ? "Kernel" : capitalize(source) };
    return {
      type: route.primary ? "FIB" : "RIB",
      destination: route.destination,
      gateway: route.gateway,
      interface: "eth0",
      learnedFrom,
    };
  });
}

function capitalize(word: string): string {
  return `${word.slice(0, 1).toUpperCase()}${word.slice(1)}`;
}

/** How long a changing node's sessions must stay Established before its window closes. */
const SESSIONS_STABLE_MS = 5_000;

/** `Node_10_1_0_2` → `10.1.0.2`. */
export function neighborOf(protocol: string): string {
  return protocol.replace(/^[A-Za-z]+_/, "").replaceAll("_", ".");
}

function readNode(node: V1Node): LabNode {
  const annotations = node.metadata?.annotations ?? {};
  const address = annotations[CALICO_IPV4_ANNOTATION]?.split("/")[0]?.trim();
  const clusterId = annotations[CLUSTER_ID_ANNOTATION]?.trim();
  return {
    name: node.metadata?.name ?? "",
    labels: node.metadata?.labels ?? {},
    ...(address !== undefined && isIpv4(address) ? { address } : {}),
    ...(clusterId !== undefined && isIpv4(clusterId) ? { clusterId } : {}),
  };
}

function readPeer(item: Record<string, unknown>): LabBgpPeer {
  const spec = isRecord(item["spec"]) ? item["spec"] : {};
  const text = (key: string): string | undefined =>
    typeof spec[key] === "string" && spec[key] !== "" ? spec[key] : undefined;
  const as = spec["asNumber"];
  const node = text("node");
  const nodeSelector = text("nodeSelector");
  const peerSelector = text("peerSelector");
  const peerIP = text("peerIP");
  return {
    name: readString(item, "metadata", "name") ?? "",
    ...(node === undefined ? {} : { node }),
    ...(nodeSelector === undefined ? {} : { nodeSelector }),
    ...(peerSelector === undefined ? {} : { peerSelector }),
    ...(peerIP === undefined ? {} : { peerIP }),
    ...(typeof as === "number" || typeof as === "string" ? { asNumber: String(as) } : {}),
    ...(spec["reversePeering"] === "Manual" ? { manualReverse: true } : {}),
  };
}

function isIpv4(value: string): boolean {
  const parts = value.split(".");
  return (
    parts.length === 4 &&
    parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255) &&
    value !== "0.0.0.0"
  );
}

function readString(object: Record<string, unknown>, ...path: string[]): string | undefined {
  let value: unknown = object;
  for (const key of path) value = isRecord(value) ? value[key] : undefined;
  return typeof value === "string" ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export { LAB_POOL };
