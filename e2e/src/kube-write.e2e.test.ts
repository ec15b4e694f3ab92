/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node's RBAC
   models are data-only classes its API accepts as plain objects. */
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1ManagedFieldsEntry,
} from "@kubernetes/client-node";
import {
  connectCluster,
  createClusterWriter,
  detectCalicoApi,
  KubeError,
  type CalicoApi,
  type ClusterConnection,
  type ClusterWriter,
} from "@rrfleet/kube";
import {
  CLUSTER_ID_ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  projectBgpConfiguration,
  projectBgpPeer,
  projectNode,
  type Action,
  type BgpPeerObject,
  type NodeInfo,
  type Projection,
} from "@rrfleet/topology-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createNodeFactory,
  isApiStatus,
  startTestCluster,
  toWireJson,
  userContextName,
  waitFor,
  type NodeFactory,
  type TestCluster,
} from "./harness/index.js";

const LIMITED = { name: "limited", token: "limited-token-5d0c" } as const;
const OWNED = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
const SPEC = {
  nodeSelector: "has(rrfleet.io/peer-1)",
  peerSelector: "rrfleet.io/reflector == '1'",
};

function orThrow<T>(projection: Projection<T>): T {
  if (!projection.ok) throw new Error(JSON.stringify(projection.issues));
  return projection.value;
}

const promote = (name: string, key: string, clusterId: string): Action => ({
  verb: "patch",
  kind: "Node",
  name,
  patch: {
    metadata: {
      labels: { "rrfleet.io/reflector": key },
      annotations: { [CLUSTER_ID_ANNOTATION]: clusterId },
    },
  },
});

async function catchError(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err: unknown) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("createClusterWriter against a real kube-apiserver", () => {
  let cluster: TestCluster;
  let connection: ClusterConnection;
  let calico: CalicoApi;
  let writer: ClusterWriter;
  let factory: NodeFactory;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

  beforeAll(async () => {
    cluster = await startTestCluster({ name: "kube-write", users: [LIMITED] });
    connection = connectCluster({ kubeconfigPath: cluster.kubeconfigPath });
    calico = await detectCalicoApi(connection);
    writer = createClusterWriter(connection, calico);
    factory = createNodeFactory(cluster.kubeConfig, {
      kubeletVersion: cluster.kubeApiserverVersion,
    });
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  });

  afterAll(async () => {
    // beforeAll may have failed before the cluster existed.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    await cluster?.stop();
  });

  const observeNode = async (name: string): Promise<NodeInfo> =>
    orThrow(projectNode(toWireJson(await core.readNode({ name }))));
  const readPeer = async (name: string): Promise<Record<string, unknown>> =>
    (await custom.getClusterCustomObject({
      group: calico.group,
      version: calico.version,
      plural: "bgppeers",
      name,
    })) as Record<string, unknown>;
  const managers = (object: object) =>
    (
      (object as { metadata?: { managedFields?: V1ManagedFieldsEntry[] } }).metadata
        ?.managedFields ?? []
    ).map((entry) => ({
      manager: entry.manager,
      operation: entry.operation,
      fields: JSON.stringify(entry.fieldsV1),
    }));
  const peerObject = (name: string, spec = SPEC): BgpPeerObject => ({
    apiVersion: calico.apiVersion,
    kind: "BGPPeer",
    metadata: { name, labels: OWNED },
    spec,
  });

  it("merge-patches a Node's owned label and annotation, recorded under field manager rrfleet", async () => {
    await factory.createNode({ name: "promote-me", labels: { team: "a" } });
    const observed = await observeNode("promote-me");

    const result = await writer.apply(promote("promote-me", "1", "10.255.0.1"), {
      kind: "Node",
      object: observed,
    });

    const node = await core.readNode({ name: "promote-me" });
    expect(result).toEqual({
      kind: "Node",
      name: "promote-me",
      resourceVersion: node.metadata?.resourceVersion,
      deleted: false,
      attempts: 1,
    });
    expect(node.metadata?.labels).toMatchObject({ team: "a", "rrfleet.io/reflector": "1" });
    expect(node.metadata?.annotations?.[CLUSTER_ID_ANNOTATION]).toBe("10.255.0.1");
    const rrfleet = managers(node).filter((m) => m.manager === "rrfleet");
    expect(rrfleet).toHaveLength(1);
    expect(rrfleet[0]?.operation).toBe("Update");
    expect(rrfleet[0]?.fields).toContain('"f:rrfleet.io/reflector"');
    expect(rrfleet[0]?.fields).toContain(`"f:${CLUSTER_ID_ANNOTATION}"`);
    expect(rrfleet[0]?.fields).not.toContain('"f:team"');
  });

  it("creates, updates and deletes a BGPPeer in the Calico group, as rrfleet", async () => {
    const name = "rrfleet-reflector-1";
    const created = await writer.apply(
      { verb: "create", kind: "BGPPeer", object: peerObject(name) },
      undefined,
    );
    const stored = await readPeer(name);
    expect(stored).toMatchObject({
      apiVersion: "crd.projectcalico.org/v1",
      metadata: { name, labels: OWNED, resourceVersion: created.resourceVersion },
      spec: SPEC,
    });
    expect(managers(stored)).toEqual([expect.objectContaining({ manager: "rrfleet" })]);

    const wider = { ...SPEC, nodeSelector: "has(rrfleet.io/peer-1) || has(rrfleet.io/peer-2)" };
    const updated = await writer.apply(
      { verb: "update", kind: "BGPPeer", object: peerObject(name, wider) },
      { kind: "BGPPeer", object: orThrow(projectBgpPeer(stored)) },
    );
    const after = await readPeer(name);
    expect(after["spec"]).toEqual(wider);
    expect(updated).toMatchObject({
      resourceVersion: (after["metadata"] as { resourceVersion: string }).resourceVersion,
      attempts: 1,
    });

    const deleted = await writer.apply(
      { verb: "delete", kind: "BGPPeer", name },
      { kind: "BGPPeer", object: orThrow(projectBgpPeer(after)) },
    );
    expect(deleted).toEqual({ kind: "BGPPeer", name, deleted: true, attempts: 1 });
    expect(await readPeer(name).catch((err: unknown) => isApiStatus(err, 404))).toBe(true);
  });

  it("accepts a create that finds an equal BGPPeer of its own already there", async () => {
    const name = "rrfleet-reflector-2";
    const first = await writer.apply(
      { verb: "create", kind: "BGPPeer", object: peerObject(name) },
      undefined,
    );
    const second = await writer.apply(
      { verb: "create", kind: "BGPPeer", object: peerObject(name) },
      undefined,
    );
    expect(second).toEqual({ ...first, attempts: 2 });
  });

  it("creates BGPConfiguration default (again: accepted), then merge-patches the mesh off", async () => {
    const create: Action = {
      verb: "create",
      kind: "BGPConfiguration",
      object: {
        apiVersion: calico.apiVersion,
        kind: "BGPConfiguration",
        metadata: { name: "default" },
        spec: { nodeToNodeMeshEnabled: true },
      },
    };
    const created = await writer.apply(create, undefined);
    // The stored object has CRD defaults besides the planned field: still "the same".
    expect(await writer.apply(create, undefined)).toEqual({ ...created, attempts: 2 });
    const read = async () =>
      (await custom.getClusterCustomObject({
        group: calico.group,
        version: calico.version,
        plural: "bgpconfigurations",
        name: "default",
      })) as { metadata: { resourceVersion: string }; spec: Record<string, unknown> };
    const before = await read();
    expect(before.metadata.resourceVersion).toBe(created.resourceVersion);

    const patched = await writer.apply(
      {
        verb: "patch",
        kind: "BGPConfiguration",
        name: "default",
        patch: { spec: { nodeToNodeMeshEnabled: false } },
      },
      { kind: "BGPConfiguration", object: projectBgpConfiguration(before) },
    );

    const after = await read();
    // The CRD's defaults (logSeverityScreen, …) stay as the API server filled them in.
    expect(after.spec).toEqual({ ...before.spec, nodeToNodeMeshEnabled: false });
    expect(patched.resourceVersion).toBe(after.metadata.resourceVersion);
    expect(managers(after).map((m) => m.manager)).toEqual(["rrfleet"]);
  });

  it("retries with the fresh resourceVersion when only fields it does not own changed since the plan", async () => {
    await factory.createNode({ name: "stale-unowned" });
    const observed = await observeNode("stale-unowned");
    await core.patchNode(
      { name: "stale-unowned", body: { metadata: { labels: { team: "b" } } } },
      mergePatch,
    );

    const result = await writer.apply(promote("stale-unowned", "2", "10.255.0.2"), {
      kind: "Node",
      object: observed,
    });

    const node = await core.readNode({ name: "stale-unowned" });
    expect(result.attempts).toBe(3); // patch (409), get, patch
    expect(result.resourceVersion).toBe(node.metadata?.resourceVersion);
    expect(node.metadata?.labels).toMatchObject({ team: "b", "rrfleet.io/reflector": "2" });
  });

  it("throws Conflict and writes nothing when an owned label changed since the plan", async () => {
    await factory.createNode({ name: "stale-owned" });
    const observed = await observeNode("stale-owned");
    const changed = await core.patchNode(
      { name: "stale-owned", body: { metadata: { labels: { "rrfleet.io/peer-7": "" } } } },
      mergePatch,
    );

    const err = await catchError(
      writer.apply(promote("stale-owned", "3", "10.255.0.3"), { kind: "Node", object: observed }),
    );

    expect(err).toBeInstanceOf(KubeError);
    expect(err).toMatchObject({ code: "Conflict" });
    expect((err as Error).message).toMatch(
      /^patch nodes "stale-owned": the object changed since the plan read it/,
    );
    const node = await core.readNode({ name: "stale-owned" });
    expect(node.metadata?.resourceVersion).toBe(changed.metadata?.resourceVersion);
    expect(node.metadata?.labels).not.toHaveProperty("rrfleet.io/reflector");
    expect(node.metadata?.annotations).not.toHaveProperty(CLUSTER_ID_ANNOTATION);
  });

  it("throws Forbidden naming patch and nodes for a user without that right, writing nothing", async () => {
    await factory.createNode({ name: "forbidden" });
    const rbac = cluster.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({
      body: {
        metadata: { name: "e2e-node-reader" },
        rules: [{ apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] }],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: "e2e-node-reader-limited" },
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "ClusterRole",
          name: "e2e-node-reader",
        },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: LIMITED.name }],
      },
    });
    const limited = connectCluster({
      kubeconfigPath: cluster.kubeconfigPath,
      context: userContextName(cluster.name, LIMITED.name),
    });
    // RBAC reaches the authorizer through an informer: wait until the user may read.
    await waitFor(async () => (await limited.core.readNode({ name: "forbidden" })).metadata, {
      description: "the limited user may read nodes",
      timeoutMs: 30_000,
    });
    const observed = await observeNode("forbidden");

    const err = await catchError(
      createClusterWriter(limited, calico).apply(promote("forbidden", "4", "10.255.0.4"), {
        kind: "Node",
        object: observed,
      }),
    );

    expect(err).toBeInstanceOf(KubeError);
    expect(err).toMatchObject({ code: "Forbidden", retryable: false });
    expect((err as Error).message).toMatch(/^forbidden: rrfleet needs "patch" on "nodes" /);
    expect((err as Error).message).toContain('cannot patch resource "nodes"');
    expect((await observeNode("forbidden")).resourceVersion).toBe(observed.resourceVersion);
  });

  it("refuses to update or delete a BGPPeer that is not rrfleet's, leaving it untouched", async () => {
    const foreign = (await custom.createClusterCustomObject({
      group: calico.group,
      version: calico.version,
      plural: "bgppeers",
      body: {
        apiVersion: calico.apiVersion,
        kind: "BGPPeer",
        metadata: { name: "tor-uplink", labels: { team: "network" } },
        spec: { nodeSelector: "all()", peerIP: "10.0.0.254", asNumber: 65010 },
      },
    })) as Record<string, unknown>;
    const observed = { kind: "BGPPeer" as const, object: orThrow(projectBgpPeer(foreign)) };

    const update = await catchError(
      writer.apply({ verb: "update", kind: "BGPPeer", object: peerObject("tor-uplink") }, observed),
    );
    const remove = await catchError(
      writer.apply({ verb: "delete", kind: "BGPPeer", name: "tor-uplink" }, observed),
    );

    for (const err of [update, remove]) {
      expect(err).toMatchObject({ code: "Invalid" });
      expect((err as Error).message).toMatch(
        /refused, nothing sent: the observed object is not labelled/,
      );
    }
    expect(await readPeer("tor-uplink")).toEqual(foreign);
  });

  it("treats a delete of a BGPPeer that is already gone as done", async () => {
    const result = await writer.apply(
      { verb: "delete", kind: "BGPPeer", name: "rrfleet-reflector-404" },
      {
        kind: "BGPPeer",
        object: { name: "rrfleet-reflector-404", labels: OWNED, ...SPEC, resourceVersion: "1" },
      },
    );
    expect(result).toEqual({
      kind: "BGPPeer",
      name: "rrfleet-reflector-404",
      deleted: true,
      attempts: 1,
    });
  });
});
