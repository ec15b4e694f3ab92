/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node's models
   (V1Node, V1Taint, …) are data-only classes its API accepts as plain objects; constructing each
   through `new` would add nothing. */
import { createHash } from "node:crypto";
import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Node,
  type V1NodeCondition,
  type V1NodeStatus,
  type V1Taint,
} from "@kubernetes/client-node";
import { isApiStatus } from "./is-api-status.js";
import { mapWithConcurrency } from "./map-with-concurrency.js";

/** The zone label the planner reads by default. */
export const ZONE_LABEL = "topology.kubernetes.io/zone";
/** Calico's (KDD) annotation holding a node's BGP IPv4 address and prefix length. */
export const CALICO_IPV4_ANNOTATION = "projectcalico.org/IPv4Address";

/** One node to create. */
export interface NodeInput {
  readonly name: string;
  /** Default `zone-a`. */
  readonly zone?: string;
  /** Extra labels, merged over the kubelet-style defaults. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Ready condition; default true. */
  readonly ready?: boolean;
  readonly unschedulable?: boolean;
  readonly taints?: readonly V1Taint[];
}

/** Options of {@link NodeFactory.createNodes}. */
export interface CreateNodesOptions {
  /** Zones assigned round-robin; default `["zone-a", "zone-b", "zone-c"]`. */
  readonly zones?: readonly string[];
  /** Name prefix; nodes are `<prefix>-0000`, `<prefix>-0001`, … (numbering continues per prefix). */
  readonly prefix?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly ready?: boolean;
}

/** Options of {@link NodeFactory.setReady}. */
export interface SetReadyOptions {
  /** lastTransitionTime when the status changes; default now. Set it in the past to age a NotReady node. */
  readonly since?: Date;
}

/** Creates and changes Node objects the way kubelets and `kubectl` would (there are no kubelets). */
export interface NodeFactory {
  /**
   * Creates the Node with its status, as a kubelet registers it, then clears the not-ready taint
   * the API server adds to every new Node (when emulating lifecycle taints); returns the stored node.
   */
  createNode(input: NodeInput): Promise<V1Node>;
  /** Creates `count` nodes over zones round-robin, at most `concurrency` requests in flight. */
  createNodes(count: number, options?: CreateNodesOptions): Promise<V1Node[]>;
  /**
   * Sets the Ready condition (lastTransitionTime moves only when the status changes) and the
   * not-ready taints with it (see {@link NodeFactoryOptions.emulateLifecycleTaints}).
   */
  setReady(name: string, ready: boolean, options?: SetReadyOptions): Promise<V1Node>;
  /** `kubectl cordon` (on) / `uncordon` (off): sets or clears `spec.unschedulable` (and its taint). */
  cordon(name: string, on?: boolean): Promise<V1Node>;
  /** Adds a taint (replacing one with the same key and effect). */
  taint(name: string, key: string, effect: V1Taint["effect"], value?: string): Promise<V1Node>;
  /** Removes every taint with this key. */
  untaint(name: string, key: string): Promise<V1Node>;
  /** Deletes the Node; throws 404 when it does not exist. */
  deleteNode(name: string): Promise<void>;
}

/** Knobs of {@link createNodeFactory}. */
export interface NodeFactoryOptions {
  /** Reported in `status.nodeInfo`; default `v1.36.3`. */
  readonly kubeletVersion?: string;
  /** `topology.kubernetes.io/region` label; default `e2e-1`. */
  readonly region?: string;
  /** Requests in flight in {@link NodeFactory.createNodes}; default 16. */
  readonly concurrency?: number;
  /** Clock for heartbeats and transition times; default the wall clock. */
  readonly now?: () => Date;
  /**
   * Keep the node lifecycle controller's taints in step with Ready and `spec.unschedulable`, as
   * kube-controller-manager would (it does not run here): `node.kubernetes.io/not-ready`
   * NoSchedule + NoExecute while not Ready, `node.kubernetes.io/unschedulable` NoSchedule while
   * cordoned. This also removes the not-ready taint the API server's TaintNodesByCondition
   * admission puts on every new Node. Default true.
   */
  readonly emulateLifecycleTaints?: boolean;
}

const INSTANCE_TYPE = "m6i.2xlarge";
const NOT_READY_TAINT = "node.kubernetes.io/not-ready";
const UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable";
const CONFLICT_RETRIES = 5;

/**
 * Returns a {@link NodeFactory} writing through `kubeConfig`'s current context. Node `n` (counted
 * per factory from 1) gets InternalIP and Calico address `10.1.0.0/16 + n` and pod CIDR
 * `172.16.0.0/12`'s n-th /24, so addresses never collide within one factory.
 */
export function createNodeFactory(
  kubeConfig: KubeConfig,
  options: NodeFactoryOptions = {},
): NodeFactory {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const now = options.now ?? (() => new Date());
  const kubeletVersion = options.kubeletVersion ?? "v1.36.3";
  const region = options.region ?? "e2e-1";
  const concurrency = options.concurrency ?? 16;
  const emulateLifecycleTaints = options.emulateLifecycleTaints ?? true;
  const nextIndexByPrefix = new Map<string, number>();
  let ordinal = 0;

  const strategicMerge = setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch);
  const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

  const createNode = async (input: NodeInput): Promise<V1Node> => {
    ordinal += 1;
    const ip = nodeAddress(ordinal);
    const zone = input.zone ?? "zone-a";
    const created = await core.createNode({
      body: {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name: input.name,
          labels: {
            "kubernetes.io/hostname": input.name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "node.kubernetes.io/instance-type": INSTANCE_TYPE,
            "topology.kubernetes.io/region": region,
            [ZONE_LABEL]: zone,
            ...input.labels,
          },
          annotations: {
            "node.alpha.kubernetes.io/ttl": "0",
            "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            [CALICO_IPV4_ANNOTATION]: `${ip}/16`,
            ...input.annotations,
          },
        },
        spec: {
          podCIDR: podCidr(ordinal),
          podCIDRs: [podCidr(ordinal)],
          providerID: `e2e:///${zone}/${input.name}`,
          ...(input.unschedulable === true ? { unschedulable: true } : {}),
          ...(input.taints === undefined ? {} : { taints: [...input.taints] }),
        },
        // Nodes, unlike most kinds, keep the status sent on create: kubelets register that way.
        status: nodeStatus(input.name, ip, input.ready ?? true, now(), kubeletVersion),
      },
    });
    return syncLifecycleTaints(created);
  };

  const patchNode = (name: string, body: object): Promise<V1Node> =>
    core.patchNode({ name, body }, mergePatch);

  /**
   * Writes `change(node)` as the node's taints when they differ, fenced by the resourceVersion of
   * `node` (a fresh read when omitted); on a conflict re-reads and retries.
   */
  const updateTaints = async (
    name: string,
    change: (node: V1Node) => V1Taint[],
    node?: V1Node,
  ): Promise<V1Node> => {
    let current = node ?? (await core.readNode({ name }));
    for (let attempt = 1; ; attempt++) {
      const taints = change(current);
      if (sameTaints(taints, current.spec?.taints ?? [])) return current;
      try {
        return await patchNode(name, {
          metadata: { resourceVersion: current.metadata?.resourceVersion },
          spec: { taints },
        });
      } catch (err: unknown) {
        if (attempt >= CONFLICT_RETRIES || !isApiStatus(err, 409)) throw err;
      }
      current = await core.readNode({ name });
    }
  };

  /** What the node lifecycle controller would do to this node's taints (see the option). */
  const syncLifecycleTaints = (node: V1Node): Promise<V1Node> => {
    if (!emulateLifecycleTaints) return Promise.resolve(node);
    return updateTaints(
      node.metadata?.name ?? "",
      (current) => {
        const ready = current.status?.conditions?.some(
          (c) => c.type === "Ready" && c.status === "True",
        );
        const wanted: V1Taint[] = [
          ...(ready === true
            ? []
            : [
                { key: NOT_READY_TAINT, effect: "NoSchedule" },
                { key: NOT_READY_TAINT, effect: "NoExecute", timeAdded: now() },
              ]),
          ...(current.spec?.unschedulable === true
            ? [{ key: UNSCHEDULABLE_TAINT, effect: "NoSchedule" }]
            : []),
        ];
        const taints = current.spec?.taints ?? [];
        const kept = taints.filter(
          (t) =>
            (t.key !== NOT_READY_TAINT && t.key !== UNSCHEDULABLE_TAINT) ||
            wanted.some((w) => w.key === t.key && w.effect === t.effect),
        );
        const added = wanted.filter(
          (w) => !kept.some((t) => t.key === w.key && t.effect === w.effect),
        );
        return [...kept, ...added];
      },
      node,
    );
  };

  return {
    createNode,
    createNodes: async (count, createOptions = {}) => {
      const zones = createOptions.zones ?? ["zone-a", "zone-b", "zone-c"];
      if (zones.length === 0) throw new Error("createNodes needs at least one zone");
      const prefix = createOptions.prefix ?? "node";
      const first = nextIndexByPrefix.get(prefix) ?? 0;
      nextIndexByPrefix.set(prefix, first + count);
      const inputs = Array.from({ length: count }, (_, i): NodeInput => ({
        name: `${prefix}-${String(first + i).padStart(4, "0")}`,
        zone: zones[(first + i) % zones.length] ?? "zone-a",
        ...(createOptions.labels === undefined ? {} : { labels: createOptions.labels }),
        ...(createOptions.ready === undefined ? {} : { ready: createOptions.ready }),
      }));
      return await mapWithConcurrency(inputs, concurrency, createNode);
    },
    setReady: async (name, ready, readyOptions = {}) => {
      const node = await core.readNode({ name });
      const current = node.status?.conditions?.find((c) => c.type === "Ready");
      const status = ready ? "True" : "False";
      const heartbeat = now();
      const transition =
        current?.status === status && current.lastTransitionTime !== undefined
          ? current.lastTransitionTime
          : (readyOptions.since ?? heartbeat);
      // Node conditions merge by `type` under a strategic merge patch: only Ready changes.
      const patched = await core.patchNodeStatus(
        {
          name,
          body: {
            status: {
              conditions: [readyCondition(ready, heartbeat, transition)],
            },
          },
        },
        strategicMerge,
      );
      return syncLifecycleTaints(patched);
    },
    cordon: async (name, on = true) =>
      syncLifecycleTaints(await patchNode(name, { spec: { unschedulable: on ? true : null } })),
    taint: (name, key, effect, value) =>
      updateTaints(name, (node) => [
        ...(node.spec?.taints ?? []).filter((t) => !(t.key === key && t.effect === effect)),
        {
          key,
          effect,
          ...(value === undefined ? {} : { value }),
          ...(effect === "NoExecute" ? { timeAdded: now() } : {}),
        },
      ]),
    untaint: (name, key) =>
      updateTaints(name, (node) => (node.spec?.taints ?? []).filter((t) => t.key !== key)),
    deleteNode: async (name) => {
      await core.deleteNode({ name });
    },
  };
}

function sameTaints(a: readonly V1Taint[], b: readonly V1Taint[]): boolean {
  const render = (taints: readonly V1Taint[]) =>
    taints.map((t) => `${t.key}=${t.value ?? ""}:${t.effect}`).join(",");
  return render(a) === render(b);
}

function readyCondition(ready: boolean, heartbeat: Date, transition: Date): V1NodeCondition {
  return ready
    ? {
        type: "Ready",
        status: "True",
        reason: "KubeletReady",
        message: "kubelet is posting ready status",
        lastHeartbeatTime: heartbeat,
        lastTransitionTime: transition,
      }
    : {
        type: "Ready",
        status: "False",
        reason: "KubeletNotReady",
        message: "container runtime network not ready: NetworkReady=false",
        lastHeartbeatTime: heartbeat,
        lastTransitionTime: transition,
      };
}

function nodeStatus(
  name: string,
  ip: string,
  ready: boolean,
  now: Date,
  kubeletVersion: string,
): V1NodeStatus {
  const condition = (type: string, reason: string, message: string): V1NodeCondition => ({
    type,
    status: "False",
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  const id = createHash("sha256").update(name).digest("hex");
  return {
    conditions: [
      condition("NetworkUnavailable", "CalicoIsUp", "Calico is running on this node"),
      condition(
        "MemoryPressure",
        "KubeletHasSufficientMemory",
        "kubelet has sufficient memory available",
      ),
      condition("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
      condition("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
      readyCondition(ready, now, now),
    ],
    addresses: [
      { type: "InternalIP", address: ip },
      { type: "InternalDNS", address: `ip-${ip.replaceAll(".", "-")}.e2e.internal` },
      { type: "Hostname", address: name },
    ],
    capacity: {
      cpu: "8",
      memory: "32386520Ki",
      pods: "110",
      "ephemeral-storage": "104845292Ki",
      "hugepages-1Gi": "0",
      "hugepages-2Mi": "0",
    },
    allocatable: {
      cpu: "7910m",
      memory: "31235544Ki",
      pods: "110",
      "ephemeral-storage": "95551679124",
      "hugepages-1Gi": "0",
      "hugepages-2Mi": "0",
    },
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: id.slice(0, 32),
      systemUUID: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`,
      bootID: id.slice(32, 64),
      kernelVersion: "6.8.0-1021-aws",
      osImage: "Ubuntu 24.04.2 LTS",
      containerRuntimeVersion: "containerd://2.1.4",
      kubeletVersion,
      // Deprecated; kubelets since 1.31 leave it empty.
      kubeProxyVersion: "",
      operatingSystem: "linux",
      architecture: "amd64",
    },
  };
}

/** 10.1.0.0 + n: inside 10.0.0.0/8 and distinct for every n below 15 million. */
function nodeAddress(n: number): string {
  const value = (0x0a010000 + n) >>> 0;
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

/** The n-th /24 of 172.16.0.0/12 (4,096 of them; wraps beyond). */
function podCidr(n: number): string {
  const block = n % 4096;
  return `172.${String(16 + (block >>> 8))}.${String(block & 255)}.0/24`;
}
