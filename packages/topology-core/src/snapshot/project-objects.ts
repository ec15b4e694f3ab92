import { z } from "zod";
import type {
  BgpConfigurationInfo,
  BgpPeerInfo,
  CalicoApiVersion,
  NodeInfo,
  Taint,
} from "../model/cluster.js";
import { CLUSTER_ID_ANNOTATION, FENCING_EPOCH_ANNOTATION } from "../model/names.js";

/** One problem found in a Kubernetes object or list, with the path of the field. */
export interface ObjectIssue {
  readonly path: string;
  readonly message: string;
}

/** A projection result: the value, or every problem with its path. */
export type Projection<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: readonly ObjectIssue[] };

const stringMap = z.record(z.string(), z.string());
const metadata = z.looseObject({
  name: z
    .string({ error: "is required and must be a string" })
    .min(1, { error: "must not be empty" }),
  labels: stringMap.optional(),
  annotations: stringMap.optional(),
  creationTimestamp: z.string().optional(),
  resourceVersion: z.string().optional(),
});

const nodeSchema = z.looseObject({
  apiVersion: z.literal("v1", { error: 'must be "v1"' }).optional(),
  kind: z.literal("Node", { error: 'must be "Node"' }).optional(),
  metadata,
  spec: z
    .looseObject({
      unschedulable: z.boolean().optional(),
      taints: z
        .array(
          z.looseObject({
            key: z.string(),
            effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"], {
              error: "must be NoSchedule, PreferNoSchedule or NoExecute",
            }),
          }),
        )
        .optional(),
    })
    .optional(),
  status: z
    .looseObject({
      conditions: z
        .array(
          z.looseObject({
            type: z.string(),
            status: z.string(),
            lastTransitionTime: z.string().optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});

const bgpPeerSchema = z.looseObject({
  apiVersion: z
    .enum(["crd.projectcalico.org/v1", "projectcalico.org/v3"], {
      error: 'must be "crd.projectcalico.org/v1" or "projectcalico.org/v3"',
    })
    .optional(),
  kind: z.literal("BGPPeer", { error: 'must be "BGPPeer"' }).optional(),
  metadata,
  spec: z
    .looseObject({
      node: z.string().optional(),
      nodeSelector: z.string().optional(),
      peerSelector: z.string().optional(),
      peerIP: z.string().optional(),
      asNumber: z.number().optional(),
    })
    .optional(),
});

const bgpConfigurationSchema = z.looseObject({
  apiVersion: z
    .enum(["crd.projectcalico.org/v1", "projectcalico.org/v3"], {
      error: 'must be "crd.projectcalico.org/v1" or "projectcalico.org/v3"',
    })
    .optional(),
  kind: z.literal("BGPConfiguration", { error: 'must be "BGPConfiguration"' }).optional(),
  metadata,
  spec: z
    .looseObject({
      nodeToNodeMeshEnabled: z.boolean({ error: "must be true or false" }).optional(),
    })
    .optional(),
});

/**
 * Projects a Kubernetes List (as `kubectl get nodes -o json` prints it) to the core's nodes.
 * Accepts `List` and `NodeList`; every item must be a Node.
 */
export function projectNodeList(input: unknown): Projection<NodeInfo[]> {
  return projectList(input, "Node", nodeSchema, toNodeInfo);
}

/** Projects one Node (as a watch event or a GET returns it) to what the planner reads. */
export function projectNode(input: unknown): Projection<NodeInfo> {
  return projectObject(input, nodeSchema, toNodeInfo);
}

function toNodeInfo(node: z.infer<typeof nodeSchema>): NodeInfo {
  const ready = node.status?.conditions?.find((c) => c.type === "Ready");
  const clusterId = node.metadata.annotations?.[CLUSTER_ID_ANNOTATION];
  const taints: Taint[] = (node.spec?.taints ?? []).map((t) => ({ key: t.key, effect: t.effect }));
  return {
    name: node.metadata.name,
    labels: node.metadata.labels ?? {},
    ready: ready?.status === "True",
    unschedulable: node.spec?.unschedulable === true,
    taints,
    ...(clusterId === undefined ? {} : { routeReflectorClusterId: clusterId }),
    ...(ready?.lastTransitionTime === undefined
      ? {}
      : { readyTransitionTime: ready.lastTransitionTime }),
    ...(node.metadata.creationTimestamp === undefined
      ? {}
      : { creationTimestamp: node.metadata.creationTimestamp }),
    ...(node.metadata.resourceVersion === undefined
      ? {}
      : { resourceVersion: node.metadata.resourceVersion }),
    ...readFencingEpoch(node.metadata.annotations),
  };
}

/** Projects one Calico BGPPeer (as a watch event or a GET returns it). */
export function projectBgpPeer(input: unknown): Projection<BgpPeerInfo> {
  return projectObject(input, bgpPeerSchema, toBgpPeerInfo);
}

function toBgpPeerInfo(peer: z.infer<typeof bgpPeerSchema>): BgpPeerInfo {
  const spec = peer.spec ?? {};
  return {
    name: peer.metadata.name,
    labels: peer.metadata.labels ?? {},
    ...(spec.node === undefined ? {} : { node: spec.node }),
    ...(spec.nodeSelector === undefined ? {} : { nodeSelector: spec.nodeSelector }),
    ...(spec.peerSelector === undefined ? {} : { peerSelector: spec.peerSelector }),
    ...(spec.peerIP === undefined ? {} : { peerIP: spec.peerIP }),
    ...(spec.asNumber === undefined ? {} : { asNumber: spec.asNumber }),
    ...(peer.metadata.resourceVersion === undefined
      ? {}
      : { resourceVersion: peer.metadata.resourceVersion }),
    ...readFencingEpoch(peer.metadata.annotations),
  };
}

/** Projects a List of Calico BGPPeers; also reports the apiVersion they are served as. */
export function projectBgpPeerList(
  input: unknown,
): Projection<{ peers: BgpPeerInfo[]; apiVersion: CalicoApiVersion | undefined }> {
  let apiVersion: CalicoApiVersion | undefined;
  const result = projectList(input, "BGPPeer", bgpPeerSchema, (peer) => {
    apiVersion ??= peer.apiVersion;
    return toBgpPeerInfo(peer);
  });
  return result.ok ? { ok: true, value: { peers: result.value, apiVersion } } : result;
}

/**
 * Projects a List of Calico BGPConfigurations to what the planner reads of `default` (the only
 * one that holds the mesh switch). No `default` means Calico's defaults: mesh on.
 */
export function projectBgpConfigurationList(
  input: unknown,
): Projection<{ configuration: BgpConfigurationInfo; apiVersion: CalicoApiVersion | undefined }> {
  const result = projectList(input, "BGPConfiguration", bgpConfigurationSchema, (config) => config);
  if (!result.ok) return result;
  const config = result.value.find((c) => c.metadata.name === "default");
  const apiVersion = result.value.find((c) => c.apiVersion !== undefined)?.apiVersion;
  return { ok: true, value: { configuration: projectBgpConfiguration(config), apiVersion } };
}

/** What the planner reads of one `BGPConfiguration default` object (undefined: absent). */
export function projectBgpConfiguration(
  config:
    | {
        metadata: {
          resourceVersion?: string | undefined;
          annotations?: Readonly<Record<string, string>> | undefined;
        };
        spec?: Record<string, unknown> | undefined;
      }
    | undefined,
): BgpConfigurationInfo {
  if (config === undefined) return { exists: false, nodeToNodeMeshEnabled: true, specFields: [] };
  const spec = config.spec ?? {};
  const mesh = spec["nodeToNodeMeshEnabled"];
  return {
    exists: true,
    nodeToNodeMeshEnabled: typeof mesh === "boolean" ? mesh : true,
    specFields: Object.keys(spec).sort(),
    ...(config.metadata.resourceVersion === undefined
      ? {}
      : { resourceVersion: config.metadata.resourceVersion }),
    ...readFencingEpoch(config.metadata.annotations),
  };
}

/**
 * `{ fencingEpoch }` from an object's annotations when {@link FENCING_EPOCH_ANNOTATION} holds a
 * canonical decimal integer that is a safe integer; otherwise nothing. A malformed value is not
 * an epoch any leader wrote, and reading it as "no epoch" lets the next leader overwrite it.
 */
export function readFencingEpoch(annotations: Readonly<Record<string, string>> | undefined): {
  fencingEpoch?: number;
} {
  const raw = annotations?.[FENCING_EPOCH_ANNOTATION];
  if (raw === undefined || !/^(0|[1-9][0-9]{0,15})$/.test(raw)) return {};
  const epoch = Number(raw);
  return Number.isSafeInteger(epoch) ? { fencingEpoch: epoch } : {};
}

const listSchema = z.looseObject({
  kind: z.string({ error: "is required" }),
  items: z.array(z.unknown(), { error: "must be an array" }),
});

function projectList<S extends z.ZodType, T>(
  input: unknown,
  itemKind: string,
  schema: S,
  project: (item: z.infer<S>) => T,
): Projection<T[]> {
  const list = listSchema.safeParse(input);
  if (!list.success) return { ok: false, issues: toIssues(list.error, "") };
  if (list.data.kind !== "List" && list.data.kind !== `${itemKind}List`) {
    return {
      ok: false,
      issues: [
        { path: "kind", message: `must be "List" or "${itemKind}List" (got "${list.data.kind}")` },
      ],
    };
  }
  const values: T[] = [];
  const issues: ObjectIssue[] = [];
  const names = new Set<string>();
  const typed = list.data.kind === `${itemKind}List`;
  list.data.items.forEach((item, index) => {
    if (
      !typed &&
      (typeof item !== "object" || item === null || (item as { kind?: unknown }).kind !== itemKind)
    ) {
      const kind =
        typeof item === "object" && item !== null ? (item as { kind?: unknown }).kind : undefined;
      issues.push({
        path: `items[${index}].kind`,
        message: `must be "${itemKind}" (got ${kind === undefined ? "nothing" : JSON.stringify(kind)})`,
      });
      return;
    }
    const parsed = schema.safeParse(item);
    if (!parsed.success) {
      issues.push(...toIssues(parsed.error, `items[${index}]`));
      return;
    }
    const value = project(parsed.data);
    const name = (parsed.data as { metadata: { name: string } }).metadata.name;
    if (names.has(name)) {
      issues.push({ path: `items[${index}].metadata.name`, message: `duplicate name "${name}"` });
      return;
    }
    names.add(name);
    values.push(value);
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: values };
}

function projectObject<S extends z.ZodType, T>(
  input: unknown,
  schema: S,
  project: (item: z.infer<S>) => T,
): Projection<T> {
  const parsed = schema.safeParse(input);
  return parsed.success
    ? { ok: true, value: project(parsed.data) }
    : { ok: false, issues: toIssues(parsed.error, "") };
}

function toIssues(error: z.ZodError, prefix: string): ObjectIssue[] {
  return error.issues.map((issue) => {
    let path = prefix;
    for (const segment of issue.path) {
      path +=
        typeof segment === "number"
          ? `[${segment}]`
          : `${path === "" ? "" : "."}${String(segment)}`;
    }
    return { path: path === "" ? "(document)" : path, message: issue.message };
  });
}
