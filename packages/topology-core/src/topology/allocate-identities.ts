import type { BgpPeerInfo, NodeInfo } from "../model/cluster.js";
import { formatIpv4, isValidClusterId, parseIpv4 } from "../model/ipv4.js";
import {
  isOwnedByRrfleet,
  isReflectorKey,
  readPeerKeys,
  PEER_KEY_LABEL,
  REFLECTOR_LABEL,
  reflectorPeerName,
} from "../model/names.js";
import { compareStrings, pushTo } from "../model/order.js";
import type { Topology } from "../policy/policy.js";
import type { ChosenReflector } from "./select-reflectors.js";

/** A reflector of the designed topology with its stable identities. */
export interface ReflectorIdentity {
  readonly node: string;
  readonly zone: string;
  /** Ready now; a reflector within its NotReady grace is kept but cannot serve. */
  readonly ready: boolean;
  /** Reflector key: value of the reflector label and suffix of its clients' labels. */
  readonly key: string;
  /** Calico RouteReflectorClusterID. */
  readonly clusterId: string;
}

/**
 * Gives every chosen reflector a key and a cluster ID, reusing what the cluster already stores:
 * a reflector keeps its key and its cluster ID while they stay valid and unique where they must be.
 * New keys are the smallest integers no node label or rrfleet BGPPeer mentions (so stale client
 * labels can never attach to a new reflector); new cluster IDs are the smallest addresses above
 * `clusterIdBase` that no node carries. `single` shares one ID, `zoned` one per zone, `multi` one
 * per reflector. Returns reflectors sorted by key (numerically). `peerKeysOfNode` (each node's
 * readPeerKeys, by index) saves reading the labels again when the caller has them.
 */
export function allocateIdentities(
  chosen: readonly ChosenReflector[],
  nodes: readonly NodeInfo[],
  bgpPeers: readonly BgpPeerInfo[],
  topology: Topology,
  clusterIdBase: string,
  peerKeysOfNode?: readonly (readonly string[])[],
): ReflectorIdentity[] {
  const keys = allocateKeys(chosen, nodes, bgpPeers, peerKeysOfNode);
  const ids = allocateClusterIds(chosen, nodes, topology, clusterIdBase);
  return chosen
    .map(({ node, zone }) => ({
      node: node.name,
      zone,
      ready: node.ready,
      key: keys.get(node.name) ?? "",
      clusterId: ids.get(node.name) ?? "",
    }))
    .sort((a, b) => Number(a.key) - Number(b.key));
}

function allocateKeys(
  chosen: readonly ChosenReflector[],
  nodes: readonly NodeInfo[],
  bgpPeers: readonly BgpPeerInfo[],
  peerKeysOfNode: readonly (readonly string[])[] | undefined,
): Map<string, string> {
  const used = new Set<string>();
  const foreignNames = new Set<string>();
  const seen = new Set<readonly string[]>(); // key lists are often shared: read each once
  nodes.forEach((node, i) => {
    const own = node.labels[REFLECTOR_LABEL];
    if (own !== undefined) used.add(own);
    const keys = peerKeysOfNode?.[i] ?? readPeerKeys(node.labels);
    if (keys.length === 0 || seen.has(keys)) return;
    seen.add(keys);
    for (const key of keys) used.add(key);
  });
  for (const peer of bgpPeers) {
    if (!isOwnedByRrfleet(peer.labels)) {
      foreignNames.add(peer.name);
      continue;
    }
    const key = peer.labels[PEER_KEY_LABEL];
    if (key !== undefined) used.add(key);
  }
  const usable = (key: string) => isReflectorKey(key) && !foreignNames.has(reflectorPeerName(key));

  const keys = new Map<string, string>();
  const claimed = new Set<string>();
  for (const { node } of chosen) {
    const current = node.labels[REFLECTOR_LABEL];
    if (current !== undefined && usable(current) && !claimed.has(current)) {
      keys.set(node.name, current);
      claimed.add(current);
    }
  }
  let next = 1;
  for (const { node } of chosen) {
    if (keys.has(node.name)) continue;
    while (used.has(String(next)) || claimed.has(String(next)) || !usable(String(next))) next++;
    keys.set(node.name, String(next));
    claimed.add(String(next));
  }
  return keys;
}

function allocateClusterIds(
  chosen: readonly ChosenReflector[],
  nodes: readonly NodeInfo[],
  topology: Topology,
  clusterIdBase: string,
): Map<string, string> {
  // Addresses any node carries are off limits for new IDs, so a reflector being demoted never
  // shares an ID with a new one by accident.
  const onNodes = new Set<number>();
  for (const node of nodes) {
    if (isValidClusterId(node.routeReflectorClusterId)) {
      onNodes.add(parseIpv4(node.routeReflectorClusterId) ?? 0);
    }
  }
  const claimed = new Set<number>();
  let cursor = parseIpv4(clusterIdBase) ?? 0;
  const fresh = (): string => {
    do cursor = (cursor + 1) >>> 0;
    while (cursor === 0 || onNodes.has(cursor) || claimed.has(cursor));
    claimed.add(cursor);
    return formatIpv4(cursor);
  };
  const claim = (id: string): string => {
    claimed.add(parseIpv4(id) ?? 0);
    return id;
  };

  const ids = new Map<string, string>();
  switch (topology) {
    case "multi":
      for (const { node } of chosen) {
        const current = node.routeReflectorClusterId;
        if (isValidClusterId(current) && !claimed.has(parseIpv4(current) ?? 0)) {
          ids.set(node.name, claim(current));
        }
      }
      for (const { node } of chosen) if (!ids.has(node.name)) ids.set(node.name, fresh());
      return ids;
    case "single": {
      const id = mostCommonId(chosen, claimed) ?? fresh();
      claim(id);
      for (const { node } of chosen) ids.set(node.name, id);
      return ids;
    }
    case "zoned": {
      const byZone = new Map<string, ChosenReflector[]>();
      for (const reflector of chosen) pushTo(byZone, reflector.zone, reflector);
      const zones = [...byZone.keys()].sort(compareStrings);
      const zoneIds = new Map<string, string>();
      for (const zone of zones) {
        const id = mostCommonId(byZone.get(zone) ?? [], claimed);
        if (id !== undefined) zoneIds.set(zone, claim(id));
      }
      for (const zone of zones) {
        const id = zoneIds.get(zone) ?? fresh();
        for (const { node } of byZone.get(zone) ?? []) ids.set(node.name, id);
      }
      return ids;
    }
  }
}

/** The valid, unclaimed cluster ID most of `reflectors` carry (ties: numerically smallest). */
function mostCommonId(
  reflectors: readonly ChosenReflector[],
  claimed: ReadonlySet<number>,
): string | undefined {
  const counts = new Map<number, number>();
  for (const { node } of reflectors) {
    if (!isValidClusterId(node.routeReflectorClusterId)) continue;
    const value = parseIpv4(node.routeReflectorClusterId) ?? 0;
    if (claimed.has(value)) continue;
    counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  let best: number | undefined;
  for (const [value, count] of counts) {
    const bestCount = best === undefined ? 0 : (counts.get(best) ?? 0);
    if (best === undefined || count > bestCount || (count === bestCount && value < best))
      best = value;
  }
  return best === undefined ? undefined : formatIpv4(best);
}
