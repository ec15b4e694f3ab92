import { inflateRawSync } from "node:zlib";
import type {
  BgpConfigurationInfo,
  BgpPeerInfo,
  ClusterSnapshot,
  NodeInfo,
  Taint,
} from "@rrfleet/topology-core";
import {
  API_VERSION_CODES,
  OWN_NAME,
  SNAPSHOT_FORMAT,
  TAINT_EFFECT_CODES,
  formatTime,
} from "./encode-snapshot.js";
import { FleetStateError } from "./fleet-state-error.js";

/**
 * Decodes what {@link encodeSnapshot} wrote. Nodes and peers come back sorted by name (the
 * order the encoder stores). Throws a {@link FleetStateError} `Corrupt` on bytes that are not
 * format 1 (another version, or damaged), naming what was wrong.
 */
export function decodeSnapshot(bytes: Uint8Array): ClusterSnapshot {
  let form: unknown;
  try {
    form = JSON.parse(inflateRawSync(bytes).toString("utf8")) as unknown;
  } catch (err: unknown) {
    throw corrupt("not deflated JSON", err);
  }
  if (!Array.isArray(form) || form[0] !== SNAPSHOT_FORMAT) {
    const format: unknown = Array.isArray(form) ? form[0] : undefined;
    throw corrupt(
      `format ${format === undefined ? "missing" : JSON.stringify(format)}, this reader knows ${SNAPSHOT_FORMAT}`,
    );
  }
  const [, api, config, strings, pairs, nodes, peers] = form as unknown[];
  const calicoApiVersion = API_VERSION_CODES[readInt(api, "api")];
  if (calicoApiVersion === undefined) throw corrupt(`api code ${JSON.stringify(api)}`);
  const table = readArray(strings, "strings").map((s) => readString(s, "strings[]"));
  const flatPairs = readArray(pairs, "pairs").map((p) => readInt(p, "pairs[]"));
  const text = (index: number, where: string): string => {
    const value = table[index];
    if (value === undefined) throw corrupt(`${where}: string ${index} out of range`);
    return value;
  };
  return {
    nodes: readArray(nodes, "nodes").map((node, i) =>
      decodeNode(node, `nodes[${i}]`, text, flatPairs),
    ),
    bgpPeers: readArray(peers, "peers").map((peer, i) => decodePeer(peer, `peers[${i}]`)),
    bgpConfiguration: decodeConfig(config),
    calicoApiVersion,
  };
}

function decodeNode(
  value: unknown,
  where: string,
  text: (index: number, where: string) => string,
  pairs: readonly number[],
): NodeInfo {
  const [
    name,
    pairIndexes,
    flags,
    readySince,
    createdAt,
    resourceVersion,
    clusterId,
    taints,
    fencingEpoch,
  ] = readArray(value, where);
  const nodeName = readString(name, `${where}.name`);
  const labels: Record<string, string> = {};
  for (const index of readArray(pairIndexes, `${where}.labels`)) {
    const pair = readInt(index, `${where}.labels[]`);
    const k = pairs[2 * pair];
    const v = pairs[2 * pair + 1];
    if (k === undefined || v === undefined) throw corrupt(`${where}: pair ${pair} out of range`);
    labels[text(k, where)] = v === OWN_NAME ? nodeName : text(v, where);
  }
  const bits = readInt(flags, `${where}.flags`);
  const node: {
    -readonly [K in keyof NodeInfo]: NodeInfo[K];
  } = {
    name: nodeName,
    labels,
    ready: (bits & 1) !== 0,
    unschedulable: (bits & 2) !== 0,
    taints: decodeTaints(taints, `${where}.taints`, text),
  };
  const ready = decodeTime(readySince, `${where}.readySince`);
  if (ready !== undefined) node.readyTransitionTime = ready;
  const created = decodeTime(createdAt, `${where}.createdAt`);
  if (created !== undefined) node.creationTimestamp = created;
  const rv = decodeResourceVersion(resourceVersion, `${where}.resourceVersion`);
  if (rv !== undefined) node.resourceVersion = rv;
  if (clusterId !== undefined && clusterId !== null) {
    node.routeReflectorClusterId = readString(clusterId, `${where}.clusterId`);
  }
  const epoch = decodeEpoch(fencingEpoch, `${where}.fencingEpoch`);
  if (epoch !== undefined) node.fencingEpoch = epoch;
  return node;
}

function decodeTaints(
  value: unknown,
  where: string,
  text: (index: number, where: string) => string,
): Taint[] {
  if (value === undefined || value === null) return [];
  const flat = readArray(value, where);
  const taints: Taint[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const effect = TAINT_EFFECT_CODES[readInt(flat[i + 1], where)];
    if (effect === undefined) throw corrupt(`${where}: effect code ${JSON.stringify(flat[i + 1])}`);
    taints.push({ key: text(readInt(flat[i], where), where), effect });
  }
  return taints;
}

function decodePeer(value: unknown, where: string): BgpPeerInfo {
  const [
    name,
    labels,
    node,
    nodeSelector,
    peerSelector,
    peerIP,
    asNumber,
    resourceVersion,
    fencingEpoch,
  ] = readArray(value, where);
  const flat = readArray(labels, `${where}.labels`).map((s) => readString(s, `${where}.labels`));
  const labelMap: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) labelMap[flat[i] as string] = flat[i + 1] as string;
  const peer: { -readonly [K in keyof BgpPeerInfo]: BgpPeerInfo[K] } = {
    name: readString(name, `${where}.name`),
    labels: labelMap,
  };
  if (node !== null && node !== undefined) peer.node = readString(node, `${where}.node`);
  if (nodeSelector !== null && nodeSelector !== undefined) {
    peer.nodeSelector = readString(nodeSelector, `${where}.nodeSelector`);
  }
  if (peerSelector !== null && peerSelector !== undefined) {
    peer.peerSelector = readString(peerSelector, `${where}.peerSelector`);
  }
  if (peerIP !== null && peerIP !== undefined) peer.peerIP = readString(peerIP, `${where}.peerIP`);
  if (asNumber !== null && asNumber !== undefined) {
    peer.asNumber = readNumber(asNumber, `${where}.asNumber`);
  }
  if (resourceVersion !== null && resourceVersion !== undefined) {
    peer.resourceVersion = readString(resourceVersion, `${where}.resourceVersion`);
  }
  const epoch = decodeEpoch(fencingEpoch, `${where}.fencingEpoch`);
  if (epoch !== undefined) peer.fencingEpoch = epoch;
  return peer;
}

function decodeConfig(value: unknown): BgpConfigurationInfo {
  const [exists, mesh, specFields, resourceVersion, fencingEpoch] = readArray(value, "config");
  const config: { -readonly [K in keyof BgpConfigurationInfo]: BgpConfigurationInfo[K] } = {
    exists: readInt(exists, "config.exists") === 1,
    nodeToNodeMeshEnabled: readInt(mesh, "config.mesh") === 1,
    specFields: readArray(specFields, "config.specFields").map((s) =>
      readString(s, "config.specFields[]"),
    ),
  };
  if (resourceVersion !== null && resourceVersion !== undefined) {
    config.resourceVersion = readString(resourceVersion, "config.resourceVersion");
  }
  const epoch = decodeEpoch(fencingEpoch, "config.fencingEpoch");
  if (epoch !== undefined) config.fencingEpoch = epoch;
  return config;
}

function decodeTime(value: unknown, where: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === "number" ? formatTime(value) : readString(value, where);
}

function decodeResourceVersion(value: unknown, where: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === "number" ? String(value) : readString(value, where);
}

function decodeEpoch(value: unknown, where: string): number | undefined {
  if (value === null || value === undefined) return undefined;
  return readInt(value, where);
}

function readArray(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw corrupt(`${where} is not an array`);
  return value;
}

function readString(value: unknown, where: string): string {
  if (typeof value !== "string") throw corrupt(`${where} is not a string`);
  return value;
}

function readNumber(value: unknown, where: string): number {
  if (typeof value !== "number") throw corrupt(`${where} is not a number`);
  return value;
}

function readInt(value: unknown, where: string): number {
  if (!Number.isInteger(value)) throw corrupt(`${where} is not an integer`);
  return value as number;
}

function corrupt(detail: string, cause?: unknown): FleetStateError {
  return new FleetStateError("Corrupt", `snapshot: cannot decode: ${detail}`, {
    ...(cause === undefined ? {} : { cause }),
  });
}
