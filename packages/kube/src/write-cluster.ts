/**
 * The only code that writes to member clusters. Every write is fenced by the resourceVersion of
 * the object as the plan read it, sends only rrfleet's fields (see {@link assertOwnedFields}),
 * and is retried the way the API server asks: 409 → re-read, retry only when the fields the
 * action depends on are unchanged (else the controller replans); 429 → Retry-After; 5xx and
 * network errors → jittered exponential backoff.
 */
import {
  PatchStrategy,
  type CoreV1Api,
  type CustomObjectsApi,
  type V1Node,
} from "@kubernetes/client-node";
import {
  CLUSTER_ID_ANNOTATION,
  FENCING_EPOCH_ANNOTATION,
  LABEL_PREFIX,
  isOwnedByRrfleet,
  isWriteFenced,
  projectBgpConfiguration,
  projectBgpPeer,
  projectNode,
  type Action,
  type BgpConfigurationInfo,
  type BgpConfigurationObject,
  type BgpConfigurationPatch,
  type BgpPeerInfo,
  type BgpPeerObject,
  type NodeInfo,
  type NodePatch,
  type Projection,
} from "@rrfleet/topology-core";
import { assertOwnedFields } from "./assert-owned-fields.js";
import { createRequestOptions } from "./create-request-options.js";
import type { CalicoApi } from "./detect-calico-api.js";
import { toBgpConfigurationInput } from "./to-bgp-configuration-input.js";
import { KubeError, toKubeError, type KubeRequestContext } from "./kube-error.js";
import type { ObservedObject } from "./observed-object.js";
import { renderDeleteOptions } from "./render-delete-options.js";

/** The projected object each observed kind carries. */
interface ObservedByKind {
  readonly Node: NodeInfo;
  readonly BGPPeer: BgpPeerInfo;
  readonly BGPConfiguration: BgpConfigurationInfo;
}
import { retryWrite, type ConflictResolution, type WriteRetryPolicy } from "./retry-write.js";
import { sleepWithSignal } from "./sleep-with-signal.js";
import { isRecord } from "./is-record.js";

/** What one applied action did. */
export interface WriteResult {
  readonly kind: "Node" | "BGPPeer" | "BGPConfiguration";
  readonly name: string;
  /** resourceVersion the server returned; undefined after a delete. */
  readonly resourceVersion?: string;
  readonly deleted: boolean;
  /** Requests made, retries and conflict re-reads included. */
  readonly attempts: number;
}

/** Applies planner actions to one cluster. */
export interface ClusterWriter {
  /**
   * Applies one planner action with optimistic concurrency. `observed`: the object as the plan
   * saw it (undefined for creates). Throws {@link KubeError}; an abort rejects with `signal.reason`.
   */
  apply(
    action: Action,
    observed: ObservedObject | undefined,
    signal?: AbortSignal,
  ): Promise<WriteResult>;
}

/** Knobs of {@link createClusterWriter}; every field is optional. */
export interface ClusterWriterOptions {
  /** The field manager recorded in managedFields; default `rrfleet`. */
  readonly fieldManager?: string;
  /** Write requests per action at most, the first included; default 5. */
  readonly maxAttempts?: number;
  /** Full-jitter exponential backoff after 5xx/network errors; default 200 → 5,000 ms. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Waits between attempts (injectable for tests); must reject with `signal.reason` on abort. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** [0, 1) for the backoff's jitter; default `Math.random`. */
  readonly random?: () => number;
  /** Extra annotations stamped on every object written. */
  readonly stampAnnotations?: Readonly<Record<string, string>>;
  /** Fleet mode: fence every write with the leader's lease epoch (see {@link WriteFencing}). */
  readonly fencing?: WriteFencing;
}

/**
 * How the fleet applier fences its writes. Remote API servers cannot check a Redis lease, so
 * each object carries the epoch of the leader that last wrote it (`rrfleet.io/fencing-epoch`):
 * - every write stamps `epoch` on the object;
 * - a write is refused (KubeError `Fenced`, never sent) when the object as planned, or as
 *   re-read after a 409, carries a higher epoch: a newer leader owns it;
 * - `assertCurrent` runs right before every request, so a leader whose lease ran out (paused
 *   past it, say) sends nothing more;
 * - the resourceVersion precondition makes the API server refuse a write to an object that
 *   changed since it was read, so a newer leader's write in between is never overwritten blind.
 */
export interface WriteFencing {
  /** The lease epoch of this leader. */
  readonly epoch: number;
  /** Throws when this process may no longer write (its lease is over). */
  assertCurrent(): void;
}

/** The client calls the writer makes (a {@link ClusterConnection} has them all). */
export interface ClusterWriterClients {
  readonly core: Pick<CoreV1Api, "patchNode" | "readNode">;
  readonly custom: Pick<
    CustomObjectsApi,
    | "createClusterCustomObject"
    | "replaceClusterCustomObject"
    | "patchClusterCustomObject"
    | "deleteClusterCustomObject"
    | "getClusterCustomObject"
  >;
}

/** The field manager rrfleet writes as. */
export const DEFAULT_FIELD_MANAGER = "rrfleet";
const DEFAULT_MAX_ATTEMPTS = 5;
const DEFAULT_BACKOFF = { initialMs: 200, maxMs: 5_000 } as const;

type Written = Omit<WriteResult, "attempts">;

/** The result of a write that left the object in place, at `resourceVersion` when known. */
function writtenAt(
  kind: Written["kind"],
  name: string,
  resourceVersion: string | undefined,
): Written {
  return { kind, name, deleted: false, ...opt({ resourceVersion }) };
}
type Send = <T>(call: () => Promise<T>, context: KubeRequestContext) => Promise<T>;

/**
 * Builds the {@link ClusterWriter} of one cluster whose Calico objects live in `calico`'s
 * group/version. Node patches and BGPConfiguration patches are RFC 7386 merge patches carrying
 * `metadata.resourceVersion` (the precondition); BGPPeer updates are PUTs with it, deletes carry
 * `preconditions.resourceVersion`. A delete of a missing object succeeds; a create that finds the
 * object already there succeeds when it is rrfleet's and equal to the planned one. Makes no
 * request until `apply`. RBAC: patch/get nodes; create/update/delete/get bgppeers;
 * create/patch/get bgpconfigurations.
 */
export function createClusterWriter(
  clients: ClusterWriterClients,
  calico: CalicoApi,
  options: ClusterWriterOptions = {},
): ClusterWriter {
  const fieldManager = options.fieldManager ?? DEFAULT_FIELD_MANAGER;
  const fencing = options.fencing;
  const stamp: Readonly<Record<string, string>> = {
    ...options.stampAnnotations,
    ...(fencing === undefined ? {} : { [FENCING_EPOCH_ANNOTATION]: String(fencing.epoch) }),
  };
  /** Throws `Fenced` when `object` was last written by a newer leader than this writer's. */
  const assertNotFenced = (
    kind: WriteResult["kind"],
    name: string,
    object: { readonly fencingEpoch?: number } | undefined,
  ): void => {
    if (fencing === undefined || object?.fencingEpoch === undefined) return;
    if (isWriteFenced(fencing.epoch, object.fencingEpoch)) {
      throw new KubeError(
        "Fenced",
        `${kind} "${name}" was last written by fleet leader epoch ${object.fencingEpoch}, newer than this leader's ${fencing.epoch}: not written`,
      );
    }
  };
  const policy: WriteRetryPolicy = {
    maxAttempts: Math.max(1, options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS),
    backoff: options.backoff ?? DEFAULT_BACKOFF,
    sleep: options.sleep ?? sleepWithSignal,
    random: options.random ?? Math.random,
  };
  const guard = {
    calicoApiVersion: calico.apiVersion,
    stampAnnotationKeys: new Set(Object.keys(stamp)),
  };
  const calicoResource = (plural: string): string => `${plural}.${calico.group}`;
  const calicoPath = (plural: string) => ({ group: calico.group, version: calico.version, plural });

  const patchNode = async (
    name: string,
    patch: NodePatch,
    node: NodeInfo,
    send: Send,
    signal: AbortSignal | undefined,
  ): Promise<Written> => {
    const context = { verb: "patch", resource: "nodes", name };
    const planned = describeOwnedNodeFields(node);
    const wanted = describeOwnedNodeFields(applyNodePatch(node, patch));
    let resourceVersion = node.resourceVersion;
    const patchOptions = createRequestOptions({
      contentType: PatchStrategy.MergePatch,
      ...opt({ signal }),
    });
    return retryWrite(
      async () => {
        const body = {
          metadata: {
            resourceVersion,
            ...(patch.metadata.labels === undefined ? {} : { labels: patch.metadata.labels }),
            ...withAnnotations({ ...patch.metadata.annotations, ...stamp }),
          },
        };
        const written = await send(
          () => clients.core.patchNode({ name, body, fieldManager }, patchOptions),
          context,
        );
        return writtenAt("Node", name, written.metadata?.resourceVersion);
      },
      async (conflict) => {
        const fresh = await send(
          () => clients.core.readNode({ name }, createRequestOptions(opt({ signal }))),
          { verb: "get", resource: "nodes", name },
        );
        const current = projectOrThrow("Node", name, projectNode(toNodeMetadata(fresh)));
        assertNotFenced("Node", name, current);
        return resolveByFields(
          describeOwnedNodeFields(current),
          planned,
          wanted,
          current.resourceVersion,
          (rv) => (resourceVersion = rv),
          { kind: "Node", name, deleted: false },
          () =>
            changedSincePlan(
              context,
              `its ${LABEL_PREFIX}* labels or ${CLUSTER_ID_ANNOTATION} annotation`,
              conflict,
            ),
        );
      },
      policy,
      signal,
    );
  };

  const readPeer = async (
    name: string,
    send: Send,
    signal: AbortSignal | undefined,
  ): Promise<BgpPeerInfo | undefined> => {
    try {
      const fresh: unknown = await send(
        () =>
          clients.custom.getClusterCustomObject(
            { ...calicoPath("bgppeers"), name },
            createRequestOptions(opt({ signal })),
          ),
        { verb: "get", resource: calicoResource("bgppeers"), name },
      );
      const peer = projectOrThrow("BGPPeer", name, projectBgpPeer(fresh));
      assertNotFenced("BGPPeer", name, peer);
      return peer;
    } catch (err: unknown) {
      if (err instanceof KubeError && err.code === "NotFound") return undefined;
      throw err;
    }
  };

  const createPeer = async (
    object: BgpPeerObject,
    send: Send,
    signal: AbortSignal | undefined,
  ): Promise<Written> => {
    const name = object.metadata.name;
    const context = { verb: "create", resource: calicoResource("bgppeers"), name };
    const wanted = describePeerFields(projectOrThrow("BGPPeer", name, projectBgpPeer(object)));
    return retryWrite(
      async () => {
        const created: unknown = await send(
          () =>
            clients.custom.createClusterCustomObject(
              {
                ...calicoPath("bgppeers"),
                body: renderPeer(object, undefined, stamp),
                fieldManager,
              },
              createRequestOptions(opt({ signal })),
            ),
          context,
        );
        return writtenAt("BGPPeer", name, readResourceVersion(created));
      },
      async (conflict) => {
        const current = await readPeer(name, send, signal);
        // Deleted between our create and the re-read: create it again.
        if (current === undefined) return { kind: "retry" };
        if (isOwnedByRrfleet(current.labels) && describePeerFields(current) === wanted) {
          return {
            kind: "done",
            value: writtenAt("BGPPeer", name, current.resourceVersion),
          };
        }
        const why = isOwnedByRrfleet(current.labels)
          ? "it already exists with other labels or selectors than planned"
          : "it already exists and is not rrfleet's";
        throw new KubeError("Conflict", `${describe(context)}: ${why}; replan`, {
          cause: conflict,
          retryable: true,
        });
      },
      policy,
      signal,
    );
  };

  const updatePeer = async (
    object: BgpPeerObject,
    peer: BgpPeerInfo,
    send: Send,
    signal: AbortSignal | undefined,
  ): Promise<Written> => {
    const name = object.metadata.name;
    const context = { verb: "update", resource: calicoResource("bgppeers"), name };
    const planned = describePeerFields(peer);
    const wanted = describePeerFields(projectOrThrow("BGPPeer", name, projectBgpPeer(object)));
    let resourceVersion = peer.resourceVersion;
    return retryWrite(
      async () => {
        const replaced: unknown = await send(
          () =>
            clients.custom.replaceClusterCustomObject(
              {
                ...calicoPath("bgppeers"),
                name,
                body: renderPeer(object, resourceVersion, stamp),
                fieldManager,
              },
              createRequestOptions(opt({ signal })),
            ),
          context,
        );
        return writtenAt("BGPPeer", name, readResourceVersion(replaced));
      },
      async (conflict) => {
        const current = await readPeer(name, send, signal);
        if (current === undefined) throw changedSincePlan(context, "it was deleted", conflict);
        return resolveByFields(
          describePeerFields(current),
          planned,
          wanted,
          current.resourceVersion,
          (rv) => (resourceVersion = rv),
          { kind: "BGPPeer", name, deleted: false },
          () => changedSincePlan(context, "its labels or spec", conflict),
        );
      },
      policy,
      signal,
    );
  };

  const deletePeer = async (
    name: string,
    peer: BgpPeerInfo,
    send: Send,
    signal: AbortSignal | undefined,
  ): Promise<Written> => {
    const context = { verb: "delete", resource: calicoResource("bgppeers"), name };
    const deleted: Written = { kind: "BGPPeer", name, deleted: true };
    const planned = describePeerFields(peer);
    let resourceVersion = peer.resourceVersion;
    return retryWrite(
      async () => {
        try {
          await send(
            () =>
              clients.custom.deleteClusterCustomObject(
                {
                  ...calicoPath("bgppeers"),
                  name,
                  body: renderDeleteOptions({ resourceVersion }),
                },
                createRequestOptions(opt({ signal })),
              ),
            context,
          );
        } catch (err: unknown) {
          // Someone (or our own earlier attempt) deleted it already: the goal is reached.
          if (err instanceof KubeError && err.code === "NotFound") return deleted;
          throw err;
        }
        return deleted;
      },
      async (conflict): Promise<ConflictResolution<Written>> => {
        const current = await readPeer(name, send, signal);
        if (current === undefined) return { kind: "done", value: deleted };
        if (describePeerFields(current) !== planned) {
          throw changedSincePlan(context, "its labels or spec", conflict);
        }
        resourceVersion = current.resourceVersion;
        return { kind: "retry" };
      },
      policy,
      signal,
    );
  };

  const readConfiguration = async (
    send: Send,
    signal: AbortSignal | undefined,
  ): Promise<{ info: BgpConfigurationInfo; spec: Readonly<Record<string, unknown>> }> => {
    try {
      const fresh: unknown = await send(
        () =>
          clients.custom.getClusterCustomObject(
            { ...calicoPath("bgpconfigurations"), name: "default" },
            createRequestOptions(opt({ signal })),
          ),
        { verb: "get", resource: calicoResource("bgpconfigurations"), name: "default" },
      );
      const { object } = projectOrThrow(
        "BGPConfiguration",
        "default",
        toBgpConfigurationInput(fresh),
      );
      const info = projectBgpConfiguration(object);
      assertNotFenced("BGPConfiguration", "default", info);
      return { info, spec: object.spec ?? {} };
    } catch (err: unknown) {
      if (err instanceof KubeError && err.code === "NotFound") {
        return { info: projectBgpConfiguration(undefined), spec: {} };
      }
      throw err;
    }
  };

  const patchConfiguration = async (
    patch: BgpConfigurationPatch,
    configuration: BgpConfigurationInfo,
    send: Send,
    signal: AbortSignal | undefined,
  ): Promise<Written> => {
    const name = "default";
    const context = { verb: "patch", resource: calicoResource("bgpconfigurations"), name };
    const planned = describeConfigurationFields(configuration);
    const wanted = describeConfigurationFields(applyConfigurationPatch(configuration, patch));
    let resourceVersion = configuration.resourceVersion;
    const patchOptions = createRequestOptions({
      contentType: PatchStrategy.MergePatch,
      ...opt({ signal }),
    });
    return retryWrite(
      async () => {
        const written: unknown = await send(
          () =>
            clients.custom.patchClusterCustomObject(
              {
                ...calicoPath("bgpconfigurations"),
                name,
                body: {
                  metadata: { resourceVersion, ...withAnnotations(stamp) },
                  spec: patch.spec,
                },
                fieldManager,
              },
              patchOptions,
            ),
          context,
        );
        return writtenAt("BGPConfiguration", name, readResourceVersion(written));
      },
      async (conflict) => {
        const { info: current } = await readConfiguration(send, signal);
        if (!current.exists) throw changedSincePlan(context, "it was deleted", conflict);
        return resolveByFields(
          describeConfigurationFields(current),
          planned,
          wanted,
          current.resourceVersion,
          (rv) => (resourceVersion = rv),
          { kind: "BGPConfiguration", name, deleted: false },
          () =>
            changedSincePlan(context, "nodeToNodeMeshEnabled or the set of spec fields", conflict),
        );
      },
      policy,
      signal,
    );
  };

  const createConfiguration = async (
    object: BgpConfigurationObject,
    send: Send,
    signal: AbortSignal | undefined,
  ): Promise<Written> => {
    const name = object.metadata.name;
    const context = { verb: "create", resource: calicoResource("bgpconfigurations"), name };
    return retryWrite(
      async () => {
        const created: unknown = await send(
          () =>
            clients.custom.createClusterCustomObject(
              {
                ...calicoPath("bgpconfigurations"),
                body: {
                  apiVersion: object.apiVersion,
                  kind: object.kind,
                  metadata: { name, ...withAnnotations(stamp) },
                  spec: { ...object.spec },
                },
                fieldManager,
              },
              createRequestOptions(opt({ signal })),
            ),
          context,
        );
        return writtenAt("BGPConfiguration", name, readResourceVersion(created));
      },
      async (conflict) => {
        const current = await readConfiguration(send, signal);
        if (!current.info.exists) return { kind: "retry" };
        // The API server fills CRD defaults (logSeverityScreen, …) into spec: compare only
        // what the action sets, and the mesh switch as Calico reads it.
        const same =
          current.info.nodeToNodeMeshEnabled === object.spec.nodeToNodeMeshEnabled &&
          Object.entries(object.spec).every(
            ([field, value]) => JSON.stringify(current.spec[field]) === JSON.stringify(value),
          );
        if (same) {
          return {
            kind: "done",
            value: writtenAt("BGPConfiguration", name, current.info.resourceVersion),
          };
        }
        throw new KubeError(
          "Conflict",
          `${describe(context)}: it already exists with other spec values than planned; replan`,
          { cause: conflict, retryable: true },
        );
      },
      policy,
      signal,
    );
  };

  return {
    apply: async (action, observed, signal) => {
      signal?.throwIfAborted();
      assertOwnedFields(action, observed, guard);
      if (observed !== undefined) {
        const name = observed.kind === "BGPConfiguration" ? "default" : observed.object.name;
        assertNotFenced(observed.kind, name, observed.object);
      }
      let requests = 0;
      const send: Send = async (call, context) => {
        fencing?.assertCurrent();
        requests += 1;
        try {
          return await call();
        } catch (err: unknown) {
          // An aborted fetch looks like a network error; the caller's reason is the truth.
          signal?.throwIfAborted();
          throw toKubeError(err, context);
        }
      };
      // assertOwnedFields checked that `observed` is there and of the action's kind.
      let written: Written;
      switch (action.kind) {
        case "Node":
          written = await patchNode(
            action.name,
            action.patch,
            observedAs(observed, "Node"),
            send,
            signal,
          );
          break;
        case "BGPPeer":
          switch (action.verb) {
            case "create":
              written = await createPeer(action.object, send, signal);
              break;
            case "update":
              written = await updatePeer(
                action.object,
                observedAs(observed, "BGPPeer"),
                send,
                signal,
              );
              break;
            case "delete":
              written = await deletePeer(
                action.name,
                observedAs(observed, "BGPPeer"),
                send,
                signal,
              );
              break;
          }
          break;
        case "BGPConfiguration":
          written =
            action.verb === "create"
              ? await createConfiguration(action.object, send, signal)
              : await patchConfiguration(
                  action.patch,
                  observedAs(observed, "BGPConfiguration"),
                  send,
                  signal,
                );
          break;
      }
      return { ...written, attempts: requests };
    },
  };
}

/**
 * After a 409: retry (with the fresh resourceVersion) when the fields the action depends on are
 * as planned; finish when they already are what the action makes of them (an earlier attempt
 * whose answer was lost, or another writer, did it); else the plan is stale.
 */
function resolveByFields(
  current: string,
  planned: string,
  wanted: string,
  freshResourceVersion: string | undefined,
  useResourceVersion: (resourceVersion: string | undefined) => void,
  written: Omit<Written, "resourceVersion">,
  stale: () => KubeError,
): ConflictResolution<Written> {
  if (current === planned) {
    useResourceVersion(freshResourceVersion);
    return { kind: "retry" };
  }
  if (current === wanted) {
    return {
      kind: "done",
      value: { ...written, ...opt({ resourceVersion: freshResourceVersion }) },
    };
  }
  throw stale();
}

function changedSincePlan(context: KubeRequestContext, what: string, cause: KubeError): KubeError {
  return new KubeError(
    "Conflict",
    `${describe(context)}: the object changed since the plan read it (${what}); replan`,
    { cause, retryable: true },
  );
}

function describe(context: KubeRequestContext): string {
  return `${context.verb} ${context.resource}${context.name === undefined ? "" : ` "${context.name}"`}`;
}

function observedAs<K extends keyof ObservedByKind>(
  observed: ObservedObject | undefined,
  kind: K,
): ObservedByKind[K] {
  if (observed?.kind !== kind) {
    throw new Error(`invariant: assertOwnedFields let a ${kind} write through without its object`);
  }
  return observed.object as ObservedByKind[K];
}

/** The Node fields a Node action depends on, as a comparable string. */
function describeOwnedNodeFields(node: NodeInfo): string {
  const labels = Object.entries(node.labels)
    .filter(([key]) => key.startsWith(LABEL_PREFIX))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([labels, node.routeReflectorClusterId ?? null]);
}

/** What `node` looks like to {@link describeOwnedNodeFields} once `patch` is merged in. */
function applyNodePatch(node: NodeInfo, patch: NodePatch): NodeInfo {
  const changes = patch.metadata.labels ?? {};
  const labels = Object.fromEntries([
    ...Object.entries(node.labels).filter(([key]) => !(key in changes)),
    ...Object.entries(changes).filter((entry): entry is [string, string] => entry[1] !== null),
  ]);
  const clusterId = patch.metadata.annotations?.[CLUSTER_ID_ANNOTATION];
  const { routeReflectorClusterId: _dropped, ...rest } = node;
  const routeReflectorClusterId =
    clusterId === undefined ? node.routeReflectorClusterId : clusterId;
  return {
    ...rest,
    labels,
    ...(routeReflectorClusterId === null || routeReflectorClusterId === undefined
      ? {}
      : { routeReflectorClusterId }),
  };
}

/** A BGPPeer's labels and spec as a comparable string (everything but the resourceVersion). */
function describePeerFields(peer: BgpPeerInfo): string {
  const labels = Object.entries(peer.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([
    labels,
    peer.node ?? null,
    peer.nodeSelector ?? null,
    peer.peerSelector ?? null,
    peer.peerIP ?? null,
    peer.asNumber ?? null,
  ]);
}

function describeConfigurationFields(configuration: BgpConfigurationInfo): string {
  return JSON.stringify([
    configuration.nodeToNodeMeshEnabled,
    [...configuration.specFields].sort(),
  ]);
}

function applyConfigurationPatch(
  configuration: BgpConfigurationInfo,
  patch: BgpConfigurationPatch,
): BgpConfigurationInfo {
  const fields = new Set(configuration.specFields);
  let mesh = configuration.nodeToNodeMeshEnabled;
  for (const [key, value] of Object.entries(patch.spec)) {
    if (value === null) fields.delete(key);
    else fields.add(key);
    // Calico's default when the field is absent is "on".
    if (key === "nodeToNodeMeshEnabled") mesh = value ?? true;
  }
  return { ...configuration, nodeToNodeMeshEnabled: mesh, specFields: [...fields].sort() };
}

/** A BGPPeer body as rrfleet sends it: its own object, the stamp, the precondition. */
function renderPeer(
  object: BgpPeerObject,
  resourceVersion: string | undefined,
  stamp: Readonly<Record<string, string>>,
): object {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: {
      name: object.metadata.name,
      labels: { ...object.metadata.labels },
      ...withAnnotations(stamp),
      ...opt({ resourceVersion }),
    },
    spec: { ...object.spec },
  };
}

function withAnnotations(annotations: Readonly<Record<string, string | null>>): {
  annotations?: Record<string, string | null>;
} {
  return Object.keys(annotations).length === 0 ? {} : { annotations: { ...annotations } };
}

/** The metadata the Node projection needs (client-node's `Date`s are left out). */
function toNodeMetadata(node: V1Node): unknown {
  const metadata = node.metadata;
  return {
    metadata: {
      name: metadata?.name,
      ...opt({ labels: metadata?.labels, annotations: metadata?.annotations }),
      ...opt({ resourceVersion: metadata?.resourceVersion }),
    },
  };
}

function readResourceVersion(object: unknown): string | undefined {
  const metadata = isRecord(object) ? object["metadata"] : undefined;
  const resourceVersion = isRecord(metadata) ? metadata["resourceVersion"] : undefined;
  return typeof resourceVersion === "string" && resourceVersion !== ""
    ? resourceVersion
    : undefined;
}

function projectOrThrow<T>(kind: string, name: string, projection: Projection<T>): T {
  if (projection.ok) return projection.value;
  const issues = projection.issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ");
  throw new KubeError(
    "Invalid",
    `${kind} "${name}" as the API server returned it cannot be read: ${issues}`,
  );
}

/** Drops undefined properties (exactOptionalPropertyTypes). */
function opt<T extends Record<string, unknown>>(
  values: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) if (value !== undefined) result[key] = value;
  return result as { [K in keyof T]?: Exclude<T[K], undefined> };
}
