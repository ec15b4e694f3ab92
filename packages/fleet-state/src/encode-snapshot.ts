/**
 * The compact snapshot form stored in the shared state (format 1). A 5,000-node snapshot as JSON
 * objects is ~2 MB; this form is a deterministic JSON array of tuples with interned strings,
 * then deflated (see README.md for bytes per node):
 *
 *   [1, api, config, strings, pairs, nodes, peers]
 *   api     0 = crd.projectcalico.org/v1, 1 = projectcalico.org/v3
 *   config  [exists 0|1, mesh 0|1, specFields, resourceVersion|null]
 *   strings label keys and values, taint keys (first-use order)
 *   pairs   flat [keyIndex, valueIndex, …]; valueIndex -1 means "the node's own name", so
 *           `kubernetes.io/hostname=<name>` is one shared pair instead of one per node
 *   config  … then fencingEpoch|null (added later; absent in older data)
 *   nodes   [name, pairIndexes, flags, readySince, createdAt, resourceVersion, clusterId, taints,
 *           fencingEpoch]
 *           sorted by name; flags bit 0 = Ready, bit 1 = unschedulable; times are epoch seconds
 *           when they are canonical RFC 3339 (`2026-01-02T03:04:05Z`), else the raw string;
 *           resourceVersion a number when it is a canonical decimal, else the string; absent =
 *           null, trailing nulls dropped; taints flat [keyIndex, effect 0|1|2, …]
 *   peers   [name, labels flat [k, v, …] sorted, node, nodeSelector, peerSelector, peerIP,
 *           asNumber, resourceVersion, fencingEpoch], sorted by name, absent = null
 * fencingEpoch (`rrfleet.io/fencing-epoch`) was appended after format 1 shipped: a reader that
 * does not know it ignores it, and older data decodes with none.
 *
 * Equal content gives equal bytes whatever the order of nodes, peers or label keys, so the
 * content hash tells an unchanged publish from a change.
 */
import { createHash } from "node:crypto";
import { deflateRawSync } from "node:zlib";
import type { BgpPeerInfo, CalicoApiVersion, ClusterSnapshot, Taint } from "@rrfleet/topology-core";

/** The format number written first in every encoded snapshot. */
export const SNAPSHOT_FORMAT = 1;

/** An encoded snapshot: what is stored, and the hash publishes compare. */
export interface EncodedSnapshot {
  /** Hex SHA-256 of the uncompressed text: equal content, equal hash. */
  readonly hash: string;
  /**
   * Raw-deflated JSON text of the compact form, compressed on first access: an unchanged
   * publish only needs the hash, and compression is a third of the encoding time.
   */
  readonly bytes: Buffer;
}

/** Calico API versions by their code in the compact form (index = code). */
export const API_VERSION_CODES: readonly CalicoApiVersion[] = [
  "crd.projectcalico.org/v1",
  "projectcalico.org/v3",
];

/** Taint effects by their code in the compact form (index = code). */
export const TAINT_EFFECT_CODES: readonly Taint["effect"][] = [
  "NoSchedule",
  "PreferNoSchedule",
  "NoExecute",
];

/** Pair value index meaning "the node's own name". */
export const OWN_NAME = -1;

/**
 * Encodes `snapshot` in the compact form; deterministic (same content, same bytes and hash).
 * Throws RangeError on a Calico API version or taint effect the format has no code for.
 */
export function encodeSnapshot(snapshot: ClusterSnapshot): EncodedSnapshot {
  const text = JSON.stringify(toCompactForm(snapshot));
  let bytes: Buffer | undefined;
  return {
    hash: createHash("sha256").update(text).digest("hex"),
    get bytes() {
      return (bytes ??= deflateRawSync(text, { level: 6 }));
    },
  };
}

type Compact = readonly unknown[];

function toCompactForm(snapshot: ClusterSnapshot): Compact {
  const strings: string[] = [];
  const stringIndex = new Map<string, number>();
  const intern = (value: string): number => {
    let index = stringIndex.get(value);
    if (index === undefined) {
      index = strings.length;
      strings.push(value);
      stringIndex.set(value, index);
    }
    return index;
  };
  const pairs: number[] = [];
  const pairIndex = new Map<string, number>();
  const internPair = (key: string, value: string, nodeName: string): number => {
    const k = intern(key);
    const v = value === nodeName ? OWN_NAME : intern(value);
    const id = `${k},${v}`;
    let index = pairIndex.get(id);
    if (index === undefined) {
      index = pairs.length / 2;
      pairs.push(k, v);
      pairIndex.set(id, index);
    }
    return index;
  };

  const nodes = [...snapshot.nodes].sort((a, b) => compareText(a.name, b.name));
  const compactNodes = nodes.map((node) => {
    const labelPairs = Object.keys(node.labels)
      .sort(compareText)
      .map((key) => internPair(key, node.labels[key] as string, node.name));
    return trimNulls([
      node.name,
      labelPairs,
      (node.ready ? 1 : 0) | (node.unschedulable ? 2 : 0),
      encodeTime(node.readyTransitionTime),
      encodeTime(node.creationTimestamp),
      encodeResourceVersion(node.resourceVersion),
      node.routeReflectorClusterId ?? null,
      node.taints.length === 0
        ? null
        : node.taints.flatMap((taint) => [intern(taint.key), encodeTaintEffect(taint.effect)]),
      node.fencingEpoch ?? null,
    ]);
  });

  const config = snapshot.bgpConfiguration;
  return [
    SNAPSHOT_FORMAT,
    encodeApiVersion(snapshot.calicoApiVersion),
    [
      config.exists ? 1 : 0,
      config.nodeToNodeMeshEnabled ? 1 : 0,
      config.specFields,
      config.resourceVersion ?? null,
      ...(config.fencingEpoch === undefined ? [] : [config.fencingEpoch]),
    ],
    strings,
    pairs,
    compactNodes,
    [...snapshot.bgpPeers].sort((a, b) => compareText(a.name, b.name)).map(encodePeer),
  ];
}

function encodePeer(peer: BgpPeerInfo): Compact {
  return trimNulls([
    peer.name,
    Object.keys(peer.labels)
      .sort(compareText)
      .flatMap((key) => [key, peer.labels[key]]),
    peer.node ?? null,
    peer.nodeSelector ?? null,
    peer.peerSelector ?? null,
    peer.peerIP ?? null,
    peer.asNumber ?? null,
    peer.resourceVersion ?? null,
    peer.fencingEpoch ?? null,
  ]);
}

/** Canonical RFC 3339 seconds (what the API server writes) become epoch seconds; the rest stays. */
function encodeTime(value: string | undefined): number | string | null {
  if (value === undefined) return null;
  // Shape first (cheap, and it rules out offsets and fractions), then the parse.
  if (
    value.length !== 20 ||
    value[4] !== "-" ||
    value[7] !== "-" ||
    value[10] !== "T" ||
    value[13] !== ":" ||
    value[16] !== ":" ||
    value[19] !== "Z"
  ) {
    return value;
  }
  const ms = Date.parse(value);
  if (!(ms > 0)) return value;
  // V8 rolls 2026-02-30 and 24:00:00 over to the next day: canonical only if the day survived.
  const day = (value.charCodeAt(8) - 48) * 10 + (value.charCodeAt(9) - 48);
  return new Date(ms).getUTCDate() === day ? ms / 1000 : value;
}

/** The inverse of {@link encodeTime} for numbers. */
export function formatTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}

function encodeResourceVersion(value: string | undefined): number | string | null {
  if (value === undefined) return null;
  return /^[1-9][0-9]{0,14}$/.test(value) ? Number(value) : value;
}

function encodeApiVersion(version: CalicoApiVersion): number {
  const code = API_VERSION_CODES.indexOf(version);
  if (code < 0)
    throw new RangeError(`snapshot: unknown calicoApiVersion ${JSON.stringify(version)}`);
  return code;
}

function encodeTaintEffect(effect: Taint["effect"]): number {
  const code = TAINT_EFFECT_CODES.indexOf(effect);
  if (code < 0) throw new RangeError(`snapshot: unknown taint effect ${JSON.stringify(effect)}`);
  return code;
}

function trimNulls(values: unknown[]): unknown[] {
  let end = values.length;
  while (end > 0 && values[end - 1] === null) end--;
  return values.slice(0, end);
}

/** Code-unit order: locale-independent, so every process sorts alike. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
