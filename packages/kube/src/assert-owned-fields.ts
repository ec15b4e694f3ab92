import {
  CLUSTER_ID_ANNOTATION,
  LABEL_PREFIX,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  isOwnedByRrfleet,
  isValidClusterId,
  type Action,
  type BgpConfigurationInfo,
  type BgpPeerInfo,
  type CalicoApiVersion,
  type NodeInfo,
} from "@rrfleet/topology-core";
import { KubeError } from "./kube-error.js";
import type { ObservedObject } from "./observed-object.js";
import { isRecord } from "./is-record.js";

/** The projected object each observed kind carries. */
interface ObservedByKind {
  readonly Node: NodeInfo;
  readonly BGPPeer: BgpPeerInfo;
  readonly BGPConfiguration: BgpConfigurationInfo;
}

/** The `spec` fields of `BGPConfiguration default` rrfleet may write (DESIGN.md: the mesh switch). */
export const OWNED_BGP_CONFIGURATION_FIELDS: ReadonlySet<string> = new Set([
  "nodeToNodeMeshEnabled",
  "nodeMeshPassword",
  "nodeMeshMaxRestartTime",
]);

/** What the guard needs to know about the writer. */
export interface OwnedFieldsContext {
  readonly calicoApiVersion: CalicoApiVersion;
  /** Annotations the writer stamps on every object; a Node patch may also set them. */
  readonly stampAnnotationKeys: ReadonlySet<string>;
}

/**
 * Refuses, before anything is sent, a write that would touch what rrfleet does not own (defence
 * in depth: the planner only renders owned fields, but actions also come from JSON): a Node patch
 * of anything but `rrfleet.io/*` labels, the cluster-ID annotation (a valid IPv4 or null) and the
 * stamp annotations; a BGPPeer create or update whose object is not labelled
 * `app.kubernetes.io/managed-by: rrfleet`, or an update/delete whose observed object is not; a
 * BGPConfiguration write of other `spec` fields than {@link OWNED_BGP_CONFIGURATION_FIELDS}.
 * Also refuses writes that cannot be fenced: a patch, update or delete without the observed object
 * of the same kind and name, or without its resourceVersion; and Calico objects of another
 * apiVersion than the cluster serves. Throws {@link KubeError} `Invalid`.
 */
export function assertOwnedFields(
  action: Action,
  observed: ObservedObject | undefined,
  context: OwnedFieldsContext,
): void {
  switch (action.kind) {
    case "Node": {
      const refuse = refuser("patch", "nodes", action.name);
      assertObserved(refuse, observed, "Node", action.name);
      assertNodePatch(refuse, action.patch, context.stampAnnotationKeys);
      return;
    }
    case "BGPPeer": {
      if (action.verb === "delete") {
        const refuse = refuser("delete", "bgppeers", action.name);
        const peer = assertObserved(refuse, observed, "BGPPeer", action.name);
        if (!isOwnedByRrfleet(peer.labels)) refuse(NOT_OWNED);
        return;
      }
      const { object } = action;
      const refuse = refuser(action.verb, "bgppeers", object.metadata.name);
      assertCalicoObject(refuse, object, "BGPPeer", context.calicoApiVersion);
      if (!isOwnedByRrfleet(asRecord(object.metadata.labels))) {
        refuse(`the object must carry the label ${MANAGED_BY_LABEL}: ${MANAGED_BY_VALUE}`);
      }
      if (action.verb === "update") {
        const peer = assertObserved(refuse, observed, "BGPPeer", object.metadata.name);
        if (!isOwnedByRrfleet(peer.labels)) refuse(NOT_OWNED);
      }
      return;
    }
    case "BGPConfiguration": {
      if (action.verb === "create") {
        const refuse = refuser("create", "bgpconfigurations", action.object.metadata.name);
        assertCalicoObject(refuse, action.object, "BGPConfiguration", context.calicoApiVersion);
        const name: string = action.object.metadata.name;
        if (name !== "default") refuse('only "default" is rrfleet\'s');
        assertOnlyKeys(refuse, action.object.spec, OWNED_BGP_CONFIGURATION_FIELDS, "spec");
        return;
      }
      const name: string = action.name;
      const refuse = refuser("patch", "bgpconfigurations", name);
      if (name !== "default") refuse('only "default" is rrfleet\'s');
      assertObserved(refuse, observed, "BGPConfiguration", action.name);
      assertOnlyKeys(refuse, action.patch, new Set(["spec"]), "the patch");
      assertOnlyKeys(refuse, action.patch.spec, OWNED_BGP_CONFIGURATION_FIELDS, "spec");
      return;
    }
  }
}

type Refuse = (why: string) => never;

const NOT_OWNED = `the observed object is not labelled ${MANAGED_BY_LABEL}: ${MANAGED_BY_VALUE}, so it is not rrfleet's`;

function refuser(verb: string, resource: string, name: string): Refuse {
  return (why) => {
    throw new KubeError("Invalid", `${verb} ${resource} "${name}": refused, nothing sent: ${why}`);
  };
}

function assertObserved<K extends keyof ObservedByKind>(
  refuse: Refuse,
  observed: ObservedObject | undefined,
  kind: K,
  name: string,
): ObservedByKind[K] {
  if (observed === undefined) {
    refuse("the object as the plan read it is needed for the resourceVersion precondition");
  }
  if (observed.kind !== kind) refuse(`the observed object is a ${observed.kind}, not a ${kind}`);
  const object = observed.object as ObservedByKind[K];
  if ("name" in object && object.name !== name) {
    refuse(`the observed object is "${object.name}"`);
  }
  if (object.resourceVersion === undefined || object.resourceVersion === "") {
    refuse("the observed object has no resourceVersion, so the write cannot be fenced");
  }
  return object;
}

function assertNodePatch(refuse: Refuse, patch: unknown, stampKeys: ReadonlySet<string>): void {
  if (!isRecord(patch)) refuse("the patch must be an object");
  assertOnlyKeys(refuse, patch, new Set(["metadata"]), "the patch");
  const metadata = patch["metadata"];
  if (!isRecord(metadata)) refuse("the patch must have metadata");
  assertOnlyKeys(refuse, metadata, new Set(["labels", "annotations"]), "metadata");
  const labels = metadata["labels"];
  if (labels !== undefined) {
    if (!isRecord(labels)) refuse("metadata.labels must be an object");
    for (const [key, value] of Object.entries(labels)) {
      if (!key.startsWith(LABEL_PREFIX) || key.length === LABEL_PREFIX.length) {
        refuse(`label "${key}" is not rrfleet's (only ${LABEL_PREFIX}* labels are)`);
      }
      assertStringOrNull(refuse, value, `label "${key}"`);
    }
  }
  const annotations = metadata["annotations"];
  if (annotations !== undefined) {
    if (!isRecord(annotations)) refuse("metadata.annotations must be an object");
    for (const [key, value] of Object.entries(annotations)) {
      if (key !== CLUSTER_ID_ANNOTATION && !stampKeys.has(key)) {
        refuse(`annotation "${key}" is not rrfleet's (only ${CLUSTER_ID_ANNOTATION} is)`);
      }
      assertStringOrNull(refuse, value, `annotation "${key}"`);
      // Calico silently ignores an invalid cluster ID: the node would quietly stay a client.
      if (key === CLUSTER_ID_ANNOTATION && typeof value === "string" && !isValidClusterId(value)) {
        refuse(
          `annotation "${key}" must be a non-zero IPv4 address (got ${JSON.stringify(value)})`,
        );
      }
    }
  }
}

function assertCalicoObject(
  refuse: Refuse,
  object: { readonly apiVersion: string; readonly kind: string },
  kind: string,
  apiVersion: CalicoApiVersion,
): void {
  if (object.kind !== kind) refuse(`the object's kind is "${object.kind}", not "${kind}"`);
  if (object.apiVersion !== apiVersion) {
    refuse(`the object is ${object.apiVersion} but the cluster serves Calico as ${apiVersion}`);
  }
}

function assertOnlyKeys(
  refuse: Refuse,
  value: unknown,
  allowed: ReadonlySet<string>,
  what: string,
): void {
  if (!isRecord(value)) refuse(`${what} must be an object`);
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) {
      refuse(`${what} sets "${key}", which is not rrfleet's (only ${[...allowed].join(", ")})`);
    }
  }
}

function assertStringOrNull(refuse: Refuse, value: unknown, what: string): void {
  if (value !== null && typeof value !== "string") refuse(`${what} must be a string or null`);
}

function asRecord(value: unknown): Readonly<Record<string, string>> {
  return isRecord(value) ? (value as Record<string, string>) : {};
}
