// No relative imports here: the benchmark loads this file directly with Node's type stripping.
import {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  PEER_KEY_LABEL,
  PEER_ROLE_LABEL,
  REFLECTOR_LABEL,
  REFLECTOR_MESH_PEER_NAME,
  ROLE_REFLECTOR_CLIENTS,
  ROLE_REFLECTOR_MESH,
  peerLabel,
  reflectorPeerName,
  type BgpPeerInfo,
  type ClusterSnapshot,
  type NodeInfo,
} from "@rrfleet/topology-core";
import { makeNode } from "@rrfleet/topology-core/testing";

/** Options of {@link makeRealisticSnapshot}. */
export interface RealisticSnapshotOptions {
  /** Node count; default 5,000. */
  readonly nodes?: number;
  /** Reflector count; default 30 (10 per zone). */
  readonly reflectors?: number;
  /** Seed of the deterministic pseudo-random choices; default 1. */
  readonly seed?: number;
}

const REGION = "eu-west-1";
const ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
const INSTANCE_TYPES = ["m6i.2xlarge", "m6i.4xlarge", "c6i.4xlarge", "r6i.2xlarge"];
const POOLS = ["general", "compute", "memory", "batch", "ingress", "system", "gpu", "spot"];

/**
 * A cluster as a watcher would project it in production: AWS-style node names, three zones, ten
 * labels per node (hostname, os, arch, instance type, region, zone, role, node pool and two
 * `rrfleet.io/peer-<key>` client labels; reflectors carry `rrfleet.io/reflector` and an
 * exclude-from-load-balancers label instead), Ready
 * transition and creation times, numeric resourceVersions, a few cordoned, NotReady and tainted
 * nodes, one BGPPeer per reflector plus the reflector mesh, and the mesh switched off.
 * Deterministic for a given seed.
 */
export function makeRealisticSnapshot(options: RealisticSnapshotOptions = {}): ClusterSnapshot {
  const count = options.nodes ?? 5000;
  const reflectorCount = Math.min(options.reflectors ?? 30, count);
  const random = createRandom(options.seed ?? 1);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const created = Date.parse("2026-01-01T00:00:00Z");

  const nodes: NodeInfo[] = [];
  for (let i = 0; i < count; i++) {
    const zoneIndex = i % ZONES.length;
    const zone = ZONES[zoneIndex] as string;
    const ip = `10.${20 + zoneIndex}.${Math.floor(i / 250) % 256}.${(i % 250) + 4}`;
    const name = `ip-${ip.replaceAll(".", "-")}.${REGION}.compute.internal`;
    const isReflector = i < reflectorCount;
    const roleLabels: Record<string, string> = isReflector
      ? {
          [REFLECTOR_LABEL]: String(i + 1),
          "node.kubernetes.io/exclude-from-external-load-balancers": "true",
        }
      : clientLabels(i, reflectorCount, random);
    const createdAt = new Date(created + Math.floor(random() * 86_400 * 120) * 1000);
    const readySince = new Date(createdAt.getTime() + Math.floor(random() * 600) * 1000);
    let builder = makeNode(name)
      .withLabels({
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": pick(INSTANCE_TYPES),
        "topology.kubernetes.io/region": REGION,
        "node-role.kubernetes.io/worker": "",
        "karpenter.sh/nodepool": pick(POOLS),
        ...roleLabels,
      })
      .inZone(zone)
      .createdAt(toIsoSeconds(createdAt));
    const roll = random();
    if (roll < 0.01) builder = builder.notReady(toIsoSeconds(readySince));
    else builder = builder.ready(toIsoSeconds(readySince));
    if (roll > 0.99) builder = builder.cordoned().tainted("node.kubernetes.io/unschedulable");
    else if (roll > 0.97) builder = builder.tainted("dedicated", "NoSchedule");
    if (isReflector) builder = builder.reflector(`244.0.${zoneIndex}.${i + 1}`);
    nodes.push({
      ...builder.build(),
      resourceVersion: String(180_000_000 + Math.floor(random() * 20_000_000)),
      // rrfleet wrote the reflectors' labels last under leader epoch 7.
      ...(isReflector ? { fencingEpoch: 7 } : {}),
    });
  }

  const owned = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
  const bgpPeers: BgpPeerInfo[] = [
    {
      name: REFLECTOR_MESH_PEER_NAME,
      labels: { ...owned, [PEER_ROLE_LABEL]: ROLE_REFLECTOR_MESH },
      nodeSelector: `has(${REFLECTOR_LABEL})`,
      peerSelector: `has(${REFLECTOR_LABEL})`,
      resourceVersion: "170000001",
      fencingEpoch: 6,
    },
  ];
  for (let key = 1; key <= reflectorCount; key++) {
    bgpPeers.push({
      name: reflectorPeerName(String(key)),
      labels: {
        ...owned,
        [PEER_ROLE_LABEL]: ROLE_REFLECTOR_CLIENTS,
        [PEER_KEY_LABEL]: String(key),
      },
      nodeSelector: `has(${peerLabel(String(key))})`,
      peerSelector: `${REFLECTOR_LABEL} == '${key}'`,
      resourceVersion: String(170_000_001 + key),
    });
  }
  return {
    nodes,
    bgpPeers,
    bgpConfiguration: {
      exists: true,
      nodeToNodeMeshEnabled: false,
      specFields: ["nodeToNodeMeshEnabled", "asNumber", "logSeverityScreen"],
      resourceVersion: "170000000",
      fencingEpoch: 7,
    },
    calicoApiVersion: "crd.projectcalico.org/v1",
  };
}

/** Two reflectors, the first in the node's own zone (as `multi` assigns them). */
function clientLabels(
  index: number,
  reflectorCount: number,
  random: () => number,
): Record<string, string> {
  if (reflectorCount === 0) return {};
  const own = (index % 3) + 3 * Math.floor(random() * Math.max(1, Math.floor(reflectorCount / 3)));
  const other = (own + 1 + Math.floor(random() * (reflectorCount - 1))) % reflectorCount;
  const first = Math.min(own, reflectorCount - 1) + 1;
  const second = other + 1 === first ? (other + 1) % reflectorCount : other;
  return { [peerLabel(String(first))]: "", [peerLabel(String(second + 1))]: "" };
}

function toIsoSeconds(date: Date): string {
  return date.toISOString().replace(".000Z", "Z");
}

/** mulberry32: small, fast and good enough for fixtures. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
