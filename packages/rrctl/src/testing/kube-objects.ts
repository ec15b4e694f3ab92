/**
 * Raw Kubernetes objects as `kubectl get … -o json` prints them, for tests that go through the
 * CLI's file reading and projection (topology-core's `makeNode` builds already-projected nodes).
 */

/** Options of {@link makeNodeObject}; everything defaults to a healthy, schedulable node. */
export interface NodeObjectOptions {
  readonly zone?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Ready condition status; default "True". */
  readonly ready?: "True" | "False" | "Unknown";
  /** Ready condition lastTransitionTime; default 2026-01-01T00:00:00Z. */
  readonly readySince?: string;
  readonly unschedulable?: boolean;
  readonly taints?: readonly { readonly key: string; readonly effect: string }[];
  /** A reflector today: the cluster ID annotation and rrfleet's reflector label with this key. */
  readonly reflector?: { readonly clusterId: string; readonly key: string };
}

/** A Node object with the labels, annotations, spec and status fields the planner reads. */
export function makeNodeObject(name: string, options: NodeObjectOptions = {}): object {
  const reflector = options.reflector;
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      creationTimestamp: "2026-01-01T00:00:00Z",
      resourceVersion: "1000",
      labels: {
        "kubernetes.io/hostname": name,
        ...(options.zone === undefined ? {} : { "topology.kubernetes.io/zone": options.zone }),
        ...(reflector === undefined ? {} : { "rrfleet.io/reflector": reflector.key }),
        ...options.labels,
      },
      annotations: {
        ...(reflector === undefined
          ? {}
          : { "projectcalico.org/RouteReflectorClusterID": reflector.clusterId }),
        ...options.annotations,
      },
    },
    spec: {
      ...(options.unschedulable === true ? { unschedulable: true } : {}),
      ...(options.taints === undefined ? {} : { taints: options.taints }),
    },
    status: {
      conditions: [
        {
          type: "Ready",
          status: options.ready ?? "True",
          lastTransitionTime: options.readySince ?? "2026-01-01T00:00:00Z",
        },
      ],
    },
  };
}

/** `count` healthy nodes `node-0`… spread round-robin over zones a, b and c. */
export function makeNodeObjects(count: number): object[] {
  return Array.from({ length: count }, (_, i) =>
    makeNodeObject(`node-${i}`, { zone: ["a", "b", "c"][i % 3] ?? "a" }),
  );
}

/** A Calico BGPPeer object; `apiVersion` defaults to `crd.projectcalico.org/v1`. */
export function makeBgpPeerObject(
  name: string,
  spec: Readonly<Record<string, unknown>>,
  apiVersion = "crd.projectcalico.org/v1",
): object {
  return { apiVersion, kind: "BGPPeer", metadata: { name, labels: { team: "network" } }, spec };
}

/** `BGPConfiguration default` with the given spec. */
export function makeBgpConfigurationObject(spec: Readonly<Record<string, unknown>>): object {
  return {
    apiVersion: "crd.projectcalico.org/v1",
    kind: "BGPConfiguration",
    metadata: { name: "default", resourceVersion: "7" },
    spec,
  };
}

/** A `kind: List` as kubectl prints it, serialized. */
export function makeListJson(items: readonly object[], kind = "List"): string {
  return JSON.stringify({ apiVersion: "v1", kind, items, metadata: { resourceVersion: "" } });
}

/**
 * The files of a small healthy cluster (12 nodes, one foreign ToR peer, mesh on) and a policy,
 * keyed by the names the tests pass to --nodes, --bgppeers, --bgpconfigurations and --policy.
 */
export function makeSmallClusterFiles() {
  return {
    "nodes.json": makeListJson(makeNodeObjects(12)),
    "bgppeers.json": makeListJson([
      makeBgpPeerObject("tor", { peerIP: "10.0.0.254", asNumber: 65010 }),
    ]),
    "bgpconfigurations.json": makeListJson([
      makeBgpConfigurationObject({ nodeToNodeMeshEnabled: true, asNumber: 64512 }),
    ]),
    "policy.yaml": "topology: multi\nmin: 3\nmax: 6\n",
  };
}

/**
 * The file flags that read {@link makeSmallClusterFiles}' files and its policy at a fixed `now`:
 * what `rrctl plan` and `rrctl explain` take after their command word.
 */
export function clusterFileArgs(now: string): string[] {
  return [
    "--nodes",
    "nodes.json",
    "--bgppeers",
    "bgppeers.json",
    "--bgpconfigurations",
    "bgpconfigurations.json",
    "--policy",
    "policy.yaml",
    "--now",
    now,
  ];
}
