import { PatchStrategy } from "@kubernetes/client-node";
import {
  CLUSTER_ID_ANNOTATION,
  FENCING_EPOCH_ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  type Action,
  type BgpPeerInfo,
  type BgpPeerObject,
  type NodeInfo,
} from "@rrfleet/topology-core";
import { makeForeignPeer, makeNode, makeOwnedPeer } from "@rrfleet/topology-core/testing";
import { describe, expect, it } from "vitest";
import type { CalicoApi } from "./detect-calico-api.js";
import { KubeError } from "./kube-error.js";
import type { ObservedObject } from "./observed-object.js";
import { makeFakeApiServer, type FakeApiServer } from "./testing/fake-api-server.js";
import { createClusterWriter, type ClusterWriterOptions } from "./write-cluster.js";

const CALICO: CalicoApi = {
  apiVersion: "crd.projectcalico.org/v1",
  group: "crd.projectcalico.org",
  version: "v1",
};
const OWNED = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };

/** Stores `node` as a Node object and returns it as the plan saw it (with its resourceVersion). */
function storeNode(server: FakeApiServer, node: NodeInfo): NodeInfo {
  const stored = server.put("nodes", {
    metadata: {
      name: node.name,
      labels: node.labels,
      annotations: {
        "projectcalico.org/IPv4Address": "10.1.0.1/16",
        ...(node.routeReflectorClusterId === undefined
          ? {}
          : { [CLUSTER_ID_ANNOTATION]: node.routeReflectorClusterId }),
      },
    },
    spec: {},
  });
  return { ...node, resourceVersion: stored.metadata.resourceVersion ?? "" };
}

function storePeer(server: FakeApiServer, peer: BgpPeerInfo): BgpPeerInfo {
  const stored = server.put("bgppeers", {
    apiVersion: CALICO.apiVersion,
    kind: "BGPPeer",
    metadata: { name: peer.name, labels: peer.labels },
    spec: {
      ...(peer.nodeSelector === undefined ? {} : { nodeSelector: peer.nodeSelector }),
      ...(peer.peerSelector === undefined ? {} : { peerSelector: peer.peerSelector }),
    },
  });
  return { ...peer, resourceVersion: stored.metadata.resourceVersion ?? "" };
}

function storeConfiguration(server: FakeApiServer, spec: Record<string, unknown>) {
  const stored = server.put("bgpconfigurations", {
    apiVersion: CALICO.apiVersion,
    kind: "BGPConfiguration",
    metadata: { name: "default" },
    spec,
  });
  return {
    exists: true,
    nodeToNodeMeshEnabled: spec["nodeToNodeMeshEnabled"] !== false,
    specFields: Object.keys(spec).sort(),
    resourceVersion: stored.metadata.resourceVersion ?? "",
  };
}

function makePeerObject(
  name: string,
  spec: { nodeSelector: string; peerSelector: string },
  labels: Record<string, string> = OWNED,
): BgpPeerObject {
  return { apiVersion: CALICO.apiVersion, kind: "BGPPeer", metadata: { name, labels }, spec };
}

/** A writer over the fake whose sleeps are recorded instead of waited. */
function makeWriter(server: FakeApiServer, options: ClusterWriterOptions = {}) {
  const sleeps: number[] = [];
  const writer = createClusterWriter(server, CALICO, {
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    random: () => 0.5,
    ...options,
  });
  return { writer, sleeps };
}

async function catchError(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err: unknown) {
    return err;
  }
  throw new Error("expected a rejection");
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

describe("createClusterWriter: Node patches", () => {
  it("sends an RFC 7386 merge patch fenced by the observed resourceVersion, as field manager rrfleet", async () => {
    const server = makeFakeApiServer();
    const node = storeNode(server, makeNode("n1").withLabels({ team: "a" }).build());
    const { writer } = makeWriter(server);

    const result = await writer.apply(promote("n1", "1", "10.255.0.1"), {
      kind: "Node",
      object: node,
    });

    const stored = server.read("nodes", "n1");
    expect(result).toEqual({
      kind: "Node",
      name: "n1",
      resourceVersion: stored?.metadata.resourceVersion,
      deleted: false,
      attempts: 1,
    });
    expect(server.requests).toMatchObject([
      {
        verb: "patch",
        plural: "nodes",
        name: "n1",
        contentType: PatchStrategy.MergePatch,
        fieldManager: "rrfleet",
        body: {
          metadata: {
            resourceVersion: node.resourceVersion,
            labels: { "rrfleet.io/reflector": "1" },
            annotations: { [CLUSTER_ID_ANNOTATION]: "10.255.0.1" },
          },
        },
      },
    ]);
    expect(stored?.metadata.labels).toMatchObject({ team: "a", "rrfleet.io/reflector": "1" });
    expect(stored?.metadata.annotations).toMatchObject({
      [CLUSTER_ID_ANNOTATION]: "10.255.0.1",
      "projectcalico.org/IPv4Address": "10.1.0.1/16",
    });
  });

  it("stamps the configured annotations on the patch and passes the caller's signal", async () => {
    const server = makeFakeApiServer();
    const node = storeNode(server, makeNode("n1").build());
    const { writer } = makeWriter(server, {
      stampAnnotations: { "rrfleet.io/epoch": "7" },
      fieldManager: "rrfleet-applier",
    });
    const controller = new AbortController();

    await writer.apply(
      promote("n1", "1", "10.255.0.1"),
      { kind: "Node", object: node },
      controller.signal,
    );

    expect(server.requests[0]).toMatchObject({
      fieldManager: "rrfleet-applier",
      signal: controller.signal,
      body: {
        metadata: {
          annotations: { [CLUSTER_ID_ANNOTATION]: "10.255.0.1", "rrfleet.io/epoch": "7" },
        },
      },
    });
  });

  it("re-reads after a 409 and retries with the fresh resourceVersion when the owned fields are unchanged", async () => {
    const server = makeFakeApiServer();
    const node = storeNode(server, makeNode("n1").build());
    // A kubelet heartbeat-like change between the plan and the write: not an owned field.
    server.interfere({
      before: () => {
        const current = server.read("nodes", "n1");
        if (current === undefined) throw new Error("n1 vanished");
        server.put("nodes", {
          ...current,
          metadata: { ...current.metadata, labels: { ...current.metadata.labels, team: "b" } },
        });
      },
    });
    const { writer } = makeWriter(server);

    const result = await writer.apply(promote("n1", "1", "10.255.0.1"), {
      kind: "Node",
      object: node,
    });

    expect(server.log()).toEqual(["patch nodes/n1", "get nodes/n1", "patch nodes/n1"]);
    expect(result.attempts).toBe(3);
    const stored = server.read("nodes", "n1");
    expect(result.resourceVersion).toBe(stored?.metadata.resourceVersion);
    expect(stored?.metadata.labels).toMatchObject({ team: "b", "rrfleet.io/reflector": "1" });
    const last = server.requests[2]?.body as { metadata: { resourceVersion: string } };
    expect(last.metadata.resourceVersion).not.toBe(node.resourceVersion);
  });

  const staleCases = [
    {
      name: "someone else set an rrfleet.io label",
      change: { labels: { "rrfleet.io/peer-2": "" } },
    },
    {
      name: "someone else set the cluster-ID annotation",
      change: { annotations: { [CLUSTER_ID_ANNOTATION]: "10.255.0.9" } },
    },
  ];
  it.each(staleCases)(
    "throws Conflict and writes nothing when $name since the plan",
    async ({ change }) => {
      const server = makeFakeApiServer();
      const node = storeNode(server, makeNode("n1").build());
      const current = server.read("nodes", "n1");
      if (current === undefined) throw new Error("n1 missing");
      server.put("nodes", {
        ...current,
        metadata: {
          ...current.metadata,
          labels: { ...current.metadata.labels, ...change.labels },
          annotations: { ...current.metadata.annotations, ...change.annotations },
        },
      });
      const before = server.read("nodes", "n1");
      const { writer } = makeWriter(server);

      const err = await catchError(
        writer.apply(promote("n1", "1", "10.255.0.1"), { kind: "Node", object: node }),
      );

      expect(err).toBeInstanceOf(KubeError);
      expect(err).toMatchObject({ code: "Conflict" });
      expect((err as Error).message).toMatch(
        /^patch nodes "n1": the object changed since the plan read it .*; replan$/,
      );
      expect(server.log()).toEqual(["patch nodes/n1", "get nodes/n1"]);
      expect(server.read("nodes", "n1")).toEqual(before);
    },
  );

  it("finishes without writing again when the fresh node already shows the patch (an earlier answer was lost)", async () => {
    const server = makeFakeApiServer();
    const node = storeNode(server, makeNode("n1").build());
    const { writer } = makeWriter(server);
    // The first attempt lands but its answer is lost; the retry then meets a 409.
    server.interfere({
      before: () => {
        const current = server.read("nodes", "n1");
        if (current === undefined) throw new Error("n1 missing");
        server.put("nodes", {
          ...current,
          metadata: {
            ...current.metadata,
            labels: { ...current.metadata.labels, "rrfleet.io/reflector": "1" },
            annotations: { ...current.metadata.annotations, [CLUSTER_ID_ANNOTATION]: "10.255.0.1" },
          },
        });
      },
    });

    const result = await writer.apply(promote("n1", "1", "10.255.0.1"), {
      kind: "Node",
      object: node,
    });

    expect(server.log()).toEqual(["patch nodes/n1", "get nodes/n1"]);
    expect(result).toMatchObject({
      deleted: false,
      attempts: 2,
      resourceVersion: server.read("nodes", "n1")?.metadata.resourceVersion,
    });
  });
});

describe("createClusterWriter: retries", () => {
  const cases = [
    {
      name: "a 429 waits the server's Retry-After",
      interferences: [{ status: 429, retryAfter: "3" }],
      wantSleeps: [3_000],
    },
    {
      name: "a 429 without Retry-After waits 1 s",
      interferences: [{ status: 429 }],
      wantSleeps: [1_000],
    },
    {
      name: "5xx answers back off exponentially with full jitter (random 0.5)",
      interferences: [{ status: 500 }, { status: 503 }, { status: 504 }],
      wantSleeps: [100, 200, 400],
    },
    {
      name: "a 503 with Retry-After waits what the server asked",
      interferences: [{ status: 503, retryAfter: "2" }],
      wantSleeps: [2_000],
    },
    {
      name: "a refused connection is retried",
      interferences: [{ network: true as const }],
      wantSleeps: [100],
    },
  ];
  it.each(cases)("$name", async ({ interferences, wantSleeps }) => {
    const server = makeFakeApiServer();
    const node = storeNode(server, makeNode("n1").build());
    server.interfere(...interferences);
    const { writer, sleeps } = makeWriter(server);

    const result = await writer.apply(promote("n1", "1", "10.255.0.1"), {
      kind: "Node",
      object: node,
    });

    expect(sleeps).toEqual(wantSleeps);
    expect(result.attempts).toBe(interferences.length + 1);
    expect(server.read("nodes", "n1")?.metadata.labels).toMatchObject({
      "rrfleet.io/reflector": "1",
    });
  });

  it("caps the backoff at maxMs", async () => {
    const server = makeFakeApiServer();
    const node = storeNode(server, makeNode("n1").build());
    server.interfere({ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 });
    const { writer, sleeps } = makeWriter(server, {
      backoff: { initialMs: 1_000, maxMs: 2_500 },
      random: () => 0.999,
    });

    await writer.apply(promote("n1", "1", "10.255.0.1"), { kind: "Node", object: node });

    expect(sleeps).toEqual([999, 1_998, 2_497, 2_497]);
  });

  it("throws the last error after maxAttempts requests", async () => {
    const server = makeFakeApiServer();
    const node = storeNode(server, makeNode("n1").build());
    server.interfere(
      { status: 500, message: "etcd down" },
      { status: 502 },
      { status: 503, message: "still down" },
    );
    const { writer, sleeps } = makeWriter(server, { maxAttempts: 3 });

    const err = await catchError(
      writer.apply(promote("n1", "1", "10.255.0.1"), { kind: "Node", object: node }),
    );

    expect(err).toMatchObject({ code: "ServerError", retryable: true });
    expect((err as Error).message).toBe('patch nodes "n1": server error 503 (still down)');
    expect(server.log()).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  const immediate = [
    {
      name: "403, naming the verb and resource",
      status: 403,
      message: 'nodes "n1" is forbidden: User "limited" cannot patch resource "nodes"',
      wantCode: "Forbidden",
      wantMessage: /^forbidden: rrfleet needs "patch" on "nodes" \(cluster-scoped\)/,
    },
    {
      name: "401",
      status: 401,
      message: "Unauthorized",
      wantCode: "Unauthorized",
      wantMessage: /unauthorized/,
    },
    {
      name: "422",
      status: 422,
      message: "metadata.labels: Invalid value",
      wantCode: "Invalid",
      wantMessage: /^patch nodes "n1": invalid \(metadata.labels: Invalid value\)$/,
    },
    {
      name: "404",
      status: 404,
      message: 'nodes "n1" not found',
      wantCode: "NotFound",
      wantMessage: /not found/,
    },
  ];
  it.each(immediate)("throws $name at once", async ({ status, message, wantCode, wantMessage }) => {
    const server = makeFakeApiServer();
    const node = storeNode(server, makeNode("n1").build());
    server.interfere({ status, message });
    const { writer, sleeps } = makeWriter(server);

    const err = await catchError(
      writer.apply(promote("n1", "1", "10.255.0.1"), { kind: "Node", object: node }),
    );

    expect(err).toMatchObject({ code: wantCode });
    expect((err as Error).message).toMatch(wantMessage);
    expect(server.log()).toEqual(["patch nodes/n1"]);
    expect(sleeps).toEqual([]);
    expect(server.read("nodes", "n1")?.metadata.labels).not.toHaveProperty("rrfleet.io/reflector");
  });

  it("rejects with the abort reason while waiting, and sends nothing more", async () => {
    const server = makeFakeApiServer();
    const node = storeNode(server, makeNode("n1").build());
    server.interfere({ status: 429, retryAfter: "30" });
    const controller = new AbortController();
    const reason = new Error("shutting down");
    const { writer } = makeWriter(server, {
      sleep: (_ms, signal) => {
        controller.abort(reason);
        return Promise.reject(signal?.reason as Error);
      },
    });

    const err = await catchError(
      writer.apply(
        promote("n1", "1", "10.255.0.1"),
        { kind: "Node", object: node },
        controller.signal,
      ),
    );

    expect(err).toBe(reason);
    expect(server.log()).toEqual(["patch nodes/n1"]);
  });

  it("rejects with the abort reason when the signal is already aborted, sending nothing", async () => {
    const server = makeFakeApiServer();
    const node = storeNode(server, makeNode("n1").build());
    const { writer } = makeWriter(server);
    const reason = new Error("stop");

    const err = await catchError(
      writer.apply(
        promote("n1", "1", "10.255.0.1"),
        { kind: "Node", object: node },
        AbortSignal.abort(reason),
      ),
    );

    expect(err).toBe(reason);
    expect(server.requests).toEqual([]);
  });
});

describe("createClusterWriter: owned fields only", () => {
  const node = makeNode("n1").build();
  const observedNode: ObservedObject = { kind: "Node", object: { ...node, resourceVersion: "5" } };
  const foreign: ObservedObject = {
    kind: "BGPPeer",
    object: {
      ...makeForeignPeer("tor", { nodeSelector: "all()", peerSelector: "has(tor)" }),
      resourceVersion: "5",
    },
  };
  const spec = {
    nodeSelector: "has(rrfleet.io/peer-1)",
    peerSelector: "rrfleet.io/reflector == '1'",
  };
  const cases: { name: string; action: Action; observed?: ObservedObject; wantMessage: RegExp }[] =
    [
      {
        name: "a Node label outside rrfleet.io/",
        action: {
          verb: "patch",
          kind: "Node",
          name: "n1",
          patch: { metadata: { labels: { "topology.kubernetes.io/zone": "b" } } },
        },
        observed: observedNode,
        wantMessage:
          /^patch nodes "n1": refused, nothing sent: label "topology.kubernetes.io\/zone" is not rrfleet's/,
      },
      {
        name: "a Node annotation other than the cluster ID",
        action: {
          verb: "patch",
          kind: "Node",
          name: "n1",
          patch: { metadata: { annotations: { "projectcalico.org/IPv4Address": null } } },
        },
        observed: observedNode,
        wantMessage: /annotation "projectcalico.org\/IPv4Address" is not rrfleet's/,
      },
      {
        name: "an invalid cluster ID (Calico would ignore it silently)",
        action: promote("n1", "1", "10.255.0"),
        observed: observedNode,
        wantMessage: /must be a non-zero IPv4 address \(got "10.255.0"\)/,
      },
      {
        name: "a Node patch of a field outside metadata",
        action: {
          verb: "patch",
          kind: "Node",
          name: "n1",
          patch: { metadata: {}, spec: { unschedulable: true } } as unknown as {
            metadata: Record<string, never>;
          },
        },
        observed: observedNode,
        wantMessage: /the patch sets "spec", which is not rrfleet's/,
      },
      {
        name: "a Node patch without the observed node",
        action: promote("n1", "1", "10.255.0.1"),
        wantMessage: /needed for the resourceVersion precondition/,
      },
      {
        name: "a Node patch whose observed node has no resourceVersion",
        action: promote("n1", "1", "10.255.0.1"),
        observed: { kind: "Node", object: node },
        wantMessage: /has no resourceVersion, so the write cannot be fenced/,
      },
      {
        name: "a Node patch observed under another name",
        action: promote("n2", "1", "10.255.0.1"),
        observed: observedNode,
        wantMessage: /the observed object is "n1"/,
      },
      {
        name: "a BGPPeer create without the managed-by label",
        action: { verb: "create", kind: "BGPPeer", object: makePeerObject("p", spec, {}) },
        wantMessage:
          /^create bgppeers "p": refused, nothing sent: the object must carry the label app.kubernetes.io\/managed-by: rrfleet$/,
      },
      {
        name: "a BGPPeer of another Calico apiVersion than the cluster serves",
        action: {
          verb: "create",
          kind: "BGPPeer",
          object: { ...makePeerObject("p", spec), apiVersion: "projectcalico.org/v3" },
        },
        wantMessage: /the cluster serves Calico as crd.projectcalico.org\/v1/,
      },
      {
        name: "an update of a BGPPeer that is not rrfleet's",
        action: { verb: "update", kind: "BGPPeer", object: makePeerObject("tor", spec) },
        observed: foreign,
        wantMessage:
          /^update bgppeers "tor": refused, nothing sent: the observed object is not labelled/,
      },
      {
        name: "a delete of a BGPPeer that is not rrfleet's",
        action: { verb: "delete", kind: "BGPPeer", name: "tor" },
        observed: foreign,
        wantMessage:
          /^delete bgppeers "tor": refused, nothing sent: the observed object is not labelled/,
      },
      {
        name: "a delete observed as a Node",
        action: { verb: "delete", kind: "BGPPeer", name: "n1" },
        observed: observedNode,
        wantMessage: /the observed object is a Node, not a BGPPeer/,
      },
      {
        name: "a BGPConfiguration patch of a field that is not the mesh's",
        action: {
          verb: "patch",
          kind: "BGPConfiguration",
          name: "default",
          patch: { spec: { nodeToNodeMeshEnabled: false, logSeverityScreen: null } },
        },
        observed: {
          kind: "BGPConfiguration",
          object: {
            exists: true,
            nodeToNodeMeshEnabled: true,
            specFields: [],
            resourceVersion: "5",
          },
        },
        wantMessage:
          /spec sets "logSeverityScreen", which is not rrfleet's \(only nodeToNodeMeshEnabled, nodeMeshPassword, nodeMeshMaxRestartTime\)/,
      },
    ];
  it.each(cases)(
    "refuses $name without sending anything",
    async ({ action, observed, wantMessage }) => {
      const server = makeFakeApiServer();
      const { writer } = makeWriter(server);

      const err = await catchError(writer.apply(action, observed));

      expect(err).toBeInstanceOf(KubeError);
      expect(err).toMatchObject({ code: "Invalid", retryable: false });
      expect((err as Error).message).toMatch(wantMessage);
      expect(server.requests).toEqual([]);
    },
  );

  it("accepts stamp annotations in a Node patch", async () => {
    const server = makeFakeApiServer();
    const stored = storeNode(server, makeNode("n1").build());
    const { writer } = makeWriter(server, { stampAnnotations: { "rrfleet.io/epoch": "3" } });

    await writer.apply(
      {
        verb: "patch",
        kind: "Node",
        name: "n1",
        patch: { metadata: { annotations: { "rrfleet.io/epoch": "3" } } },
      },
      { kind: "Node", object: stored },
    );

    expect(server.read("nodes", "n1")?.metadata.annotations).toMatchObject({
      "rrfleet.io/epoch": "3",
    });
  });
});

describe("createClusterWriter: BGPPeers", () => {
  const spec = {
    nodeSelector: "has(rrfleet.io/peer-1)",
    peerSelector: "rrfleet.io/reflector == '1'",
  };

  it("creates with POST in the Calico group, with the stamp", async () => {
    const server = makeFakeApiServer();
    const { writer } = makeWriter(server, { stampAnnotations: { "rrfleet.io/epoch": "2" } });

    const result = await writer.apply(
      { verb: "create", kind: "BGPPeer", object: makePeerObject("rrfleet-reflector-1", spec) },
      undefined,
    );

    expect(server.requests).toMatchObject([
      {
        verb: "create",
        group: "crd.projectcalico.org",
        version: "v1",
        plural: "bgppeers",
        fieldManager: "rrfleet",
        body: {
          apiVersion: "crd.projectcalico.org/v1",
          kind: "BGPPeer",
          metadata: {
            name: "rrfleet-reflector-1",
            labels: OWNED,
            annotations: { "rrfleet.io/epoch": "2" },
          },
          spec,
        },
      },
    ]);
    expect(result).toEqual({
      kind: "BGPPeer",
      name: "rrfleet-reflector-1",
      resourceVersion: server.read("bgppeers", "rrfleet-reflector-1")?.metadata.resourceVersion,
      deleted: false,
      attempts: 1,
    });
  });

  const existing = [
    {
      name: "rrfleet's and equal: success",
      labels: OWNED,
      spec,
      wantCode: undefined,
    },
    {
      name: "rrfleet's with other selectors: Conflict",
      labels: OWNED,
      spec: { ...spec, peerSelector: "rrfleet.io/reflector == '2'" },
      wantCode: "Conflict",
      wantMessage:
        /^create bgppeers.crd.projectcalico.org "rrfleet-reflector-1": it already exists with other labels or selectors than planned; replan$/,
    },
    {
      name: "not rrfleet's: Conflict",
      labels: { team: "network" },
      spec,
      wantCode: "Conflict",
      wantMessage: /it already exists and is not rrfleet's; replan$/,
    },
  ];
  it.each(existing)(
    "handles a create that finds the object there, $name",
    async ({ labels, spec: existingSpec, wantCode, wantMessage }) => {
      const server = makeFakeApiServer();
      const before = server.put("bgppeers", {
        apiVersion: CALICO.apiVersion,
        kind: "BGPPeer",
        metadata: { name: "rrfleet-reflector-1", labels },
        spec: existingSpec,
      });
      const { writer } = makeWriter(server);
      const apply = writer.apply(
        { verb: "create", kind: "BGPPeer", object: makePeerObject("rrfleet-reflector-1", spec) },
        undefined,
      );

      if (wantCode === undefined) {
        await expect(apply).resolves.toEqual({
          kind: "BGPPeer",
          name: "rrfleet-reflector-1",
          resourceVersion: before.metadata.resourceVersion,
          deleted: false,
          attempts: 2,
        });
      } else {
        const err = await catchError(apply);
        expect(err).toMatchObject({ code: wantCode });
        expect((err as Error).message).toMatch(wantMessage);
      }
      expect(server.log()).toEqual([
        "create bgppeers/rrfleet-reflector-1",
        "get bgppeers/rrfleet-reflector-1",
      ]);
      expect(server.read("bgppeers", "rrfleet-reflector-1")).toEqual(before);
    },
  );

  it("updates with PUT fenced by the observed resourceVersion, retrying after an unrelated change", async () => {
    const server = makeFakeApiServer();
    const peer = storePeer(server, makeOwnedPeer("rrfleet-reflector-1", spec));
    server.interfere({
      before: () => {
        const current = server.read("bgppeers", "rrfleet-reflector-1");
        if (current === undefined) throw new Error("peer missing");
        // An annotation someone else added: not what the action depends on.
        server.put("bgppeers", {
          ...current,
          metadata: { ...current.metadata, annotations: { note: "x" } },
        });
      },
    });
    const { writer } = makeWriter(server);
    const wanted = { ...spec, nodeSelector: "has(rrfleet.io/peer-1) || has(rrfleet.io/peer-3)" };

    const result = await writer.apply(
      { verb: "update", kind: "BGPPeer", object: makePeerObject("rrfleet-reflector-1", wanted) },
      { kind: "BGPPeer", object: peer },
    );

    expect(server.log()).toEqual([
      "update bgppeers/rrfleet-reflector-1",
      "get bgppeers/rrfleet-reflector-1",
      "update bgppeers/rrfleet-reflector-1",
    ]);
    expect(server.requests[0]?.body).toMatchObject({
      metadata: { resourceVersion: peer.resourceVersion },
    });
    expect(server.read("bgppeers", "rrfleet-reflector-1")?.["spec"]).toEqual(wanted);
    expect(result.attempts).toBe(3);
  });

  it("refuses an update when the peer's selectors changed since the plan", async () => {
    const server = makeFakeApiServer();
    const peer = storePeer(server, makeOwnedPeer("rrfleet-reflector-1", spec));
    storePeer(server, makeOwnedPeer("rrfleet-reflector-1", { ...spec, nodeSelector: "all()" }));
    const { writer } = makeWriter(server);

    const err = await catchError(
      writer.apply(
        { verb: "update", kind: "BGPPeer", object: makePeerObject("rrfleet-reflector-1", spec) },
        { kind: "BGPPeer", object: peer },
      ),
    );

    expect(err).toMatchObject({ code: "Conflict" });
    expect((err as Error).message).toMatch(/changed since the plan read it \(its labels or spec\)/);
    expect(server.read("bgppeers", "rrfleet-reflector-1")?.["spec"]).toMatchObject({
      nodeSelector: "all()",
    });
  });

  it("deletes with a resourceVersion precondition", async () => {
    const server = makeFakeApiServer();
    const peer = storePeer(server, makeOwnedPeer("rrfleet-reflector-1", spec));
    const { writer } = makeWriter(server);

    const result = await writer.apply(
      { verb: "delete", kind: "BGPPeer", name: "rrfleet-reflector-1" },
      { kind: "BGPPeer", object: peer },
    );

    expect(result).toEqual({
      kind: "BGPPeer",
      name: "rrfleet-reflector-1",
      deleted: true,
      attempts: 1,
    });
    expect(server.requests[0]?.body).toMatchObject({
      preconditions: { resourceVersion: peer.resourceVersion },
    });
    expect(server.names("bgppeers")).toEqual([]);
  });

  it("treats a delete of a missing peer as done", async () => {
    const server = makeFakeApiServer();
    const { writer } = makeWriter(server);

    const result = await writer.apply(
      { verb: "delete", kind: "BGPPeer", name: "rrfleet-reflector-9" },
      {
        kind: "BGPPeer",
        object: { ...makeOwnedPeer("rrfleet-reflector-9", spec), resourceVersion: "42" },
      },
    );

    expect(result).toEqual({
      kind: "BGPPeer",
      name: "rrfleet-reflector-9",
      deleted: true,
      attempts: 1,
    });
  });

  it("refuses a delete when the peer changed since the plan, keeping it", async () => {
    const server = makeFakeApiServer();
    const peer = storePeer(server, makeOwnedPeer("rrfleet-reflector-1", spec));
    storePeer(server, {
      ...makeOwnedPeer("rrfleet-reflector-1", spec),
      labels: { ...OWNED, keep: "me" },
    });
    const { writer } = makeWriter(server);

    const err = await catchError(
      writer.apply(
        { verb: "delete", kind: "BGPPeer", name: "rrfleet-reflector-1" },
        { kind: "BGPPeer", object: peer },
      ),
    );

    expect(err).toMatchObject({ code: "Conflict" });
    expect(server.names("bgppeers")).toEqual(["rrfleet-reflector-1"]);
  });
});

describe("createClusterWriter: BGPConfiguration", () => {
  it("merge-patches the mesh switch fenced by the resourceVersion, dropping the fields Calico rejects", async () => {
    const server = makeFakeApiServer();
    const observed = storeConfiguration(server, {
      nodeToNodeMeshEnabled: true,
      nodeMeshMaxRestartTime: "120s",
      asNumber: 64512,
    });
    const { writer } = makeWriter(server);

    const result = await writer.apply(
      {
        verb: "patch",
        kind: "BGPConfiguration",
        name: "default",
        patch: { spec: { nodeToNodeMeshEnabled: false, nodeMeshMaxRestartTime: null } },
      },
      { kind: "BGPConfiguration", object: observed },
    );

    expect(server.requests).toMatchObject([
      {
        verb: "patch",
        plural: "bgpconfigurations",
        contentType: PatchStrategy.MergePatch,
        fieldManager: "rrfleet",
        body: { metadata: { resourceVersion: observed.resourceVersion } },
      },
    ]);
    expect(server.read("bgpconfigurations", "default")?.["spec"]).toEqual({
      nodeToNodeMeshEnabled: false,
      asNumber: 64512,
    });
    expect(result.resourceVersion).toBe(
      server.read("bgpconfigurations", "default")?.metadata.resourceVersion,
    );
  });

  it("retries a patch after a change to other fields' values, replans when spec fields came or went", async () => {
    const server = makeFakeApiServer();
    const observed = storeConfiguration(server, { nodeToNodeMeshEnabled: true, asNumber: 64512 });
    storeConfiguration(server, { nodeToNodeMeshEnabled: true, asNumber: 64513 });
    const { writer } = makeWriter(server);
    const meshOff: Action = {
      verb: "patch",
      kind: "BGPConfiguration",
      name: "default",
      patch: { spec: { nodeToNodeMeshEnabled: false } },
    };

    const result = await writer.apply(meshOff, { kind: "BGPConfiguration", object: observed });
    expect(result.attempts).toBe(3);
    expect(server.read("bgpconfigurations", "default")?.["spec"]).toEqual({
      nodeToNodeMeshEnabled: false,
      asNumber: 64513,
    });

    storeConfiguration(server, {
      nodeToNodeMeshEnabled: true,
      asNumber: 64513,
      nodeMeshMaxRestartTime: "120s",
    });
    const err = await catchError(
      writer.apply(meshOff, { kind: "BGPConfiguration", object: observed }),
    );
    expect(err).toMatchObject({ code: "Conflict" });
    expect((err as Error).message).toMatch(
      /^patch bgpconfigurations.crd.projectcalico.org "default": the object changed since the plan read it/,
    );
    expect(server.read("bgpconfigurations", "default")?.["spec"]).toMatchObject({
      nodeToNodeMeshEnabled: true,
    });
  });

  const existing = [
    {
      name: "accepts one whose spec has the planned values plus CRD defaults",
      spec: { nodeToNodeMeshEnabled: false, logSeverityScreen: "Info" },
      wantCode: undefined,
    },
    {
      name: "refuses one with the mesh the other way",
      spec: { nodeToNodeMeshEnabled: true, logSeverityScreen: "Info" },
      wantCode: "Conflict",
    },
    {
      name: "refuses one without the field (Calico's default: mesh on)",
      spec: { logSeverityScreen: "Info" },
      wantCode: "Conflict",
    },
  ];
  it.each(existing)("creates default with POST, and $name", async ({ spec, wantCode }) => {
    const server = makeFakeApiServer();
    const { writer } = makeWriter(server);
    const create: Action = {
      verb: "create",
      kind: "BGPConfiguration",
      object: {
        apiVersion: CALICO.apiVersion,
        kind: "BGPConfiguration",
        metadata: { name: "default" },
        spec: { nodeToNodeMeshEnabled: false },
      },
    };
    const first = await writer.apply(create, undefined);
    expect(first).toMatchObject({ attempts: 1, deleted: false });
    expect(server.requests[0]).toMatchObject({
      verb: "create",
      plural: "bgpconfigurations",
      fieldManager: "rrfleet",
      body: { metadata: { name: "default" }, spec: { nodeToNodeMeshEnabled: false } },
    });
    const stored = storeConfiguration(server, spec);

    const second = writer.apply(create, undefined);

    if (wantCode === undefined) {
      await expect(second).resolves.toMatchObject({
        attempts: 2,
        resourceVersion: stored.resourceVersion,
      });
    } else {
      const err = await catchError(second);
      expect(err).toMatchObject({ code: wantCode });
      expect((err as Error).message).toBe(
        'create bgpconfigurations.crd.projectcalico.org "default": it already exists with other spec values than planned; replan',
      );
    }
    expect(server.read("bgpconfigurations", "default")?.["spec"]).toEqual(spec);
  });
});

describe("createClusterWriter: fencing (fleet mode)", () => {
  const fenced = (epoch: number, current: () => boolean = () => true) => ({
    fencing: {
      epoch,
      assertCurrent: () => {
        if (!current()) throw new KubeError("Fenced", "the lease is over");
      },
    },
  });

  it("stamps the leader's epoch on every object it writes", async () => {
    const server = makeFakeApiServer();
    const node = storeNode(server, makeNode("n1").build());
    const { writer } = makeWriter(server, fenced(7));

    await writer.apply(promote("n1", "1", "10.255.0.1"), { kind: "Node", object: node });
    await writer.apply(
      {
        verb: "create",
        kind: "BGPPeer",
        object: makePeerObject("rrfleet-p", { nodeSelector: "all()", peerSelector: "all()" }),
      },
      undefined,
    );

    expect(server.read("nodes", "n1")?.metadata.annotations).toMatchObject({
      [FENCING_EPOCH_ANNOTATION]: "7",
    });
    expect(server.read("bgppeers", "rrfleet-p")?.metadata.annotations).toMatchObject({
      [FENCING_EPOCH_ANNOTATION]: "7",
    });
  });

  it("refuses, sending nothing, an object the plan saw written by a newer leader", async () => {
    const server = makeFakeApiServer();
    const node = { ...storeNode(server, makeNode("n1").build()), fencingEpoch: 8 };
    const { writer } = makeWriter(server, fenced(7));

    const err = await catchError(
      writer.apply(promote("n1", "1", "10.255.0.1"), { kind: "Node", object: node }),
    );

    expect(err).toMatchObject({ code: "Fenced" });
    expect((err as Error).message).toMatch(/epoch 8, newer than this leader's 7/);
    expect(server.log()).toEqual([]);
  });

  it("writes an object last written by an older or the same leader", async () => {
    const server = makeFakeApiServer();
    const older = { ...storeNode(server, makeNode("n1").build()), fencingEpoch: 6 };
    const same = { ...storeNode(server, makeNode("n2").build()), fencingEpoch: 7 };
    const { writer } = makeWriter(server, fenced(7));

    await writer.apply(promote("n1", "1", "10.255.0.1"), { kind: "Node", object: older });
    await writer.apply(promote("n2", "2", "10.255.0.2"), { kind: "Node", object: same });

    expect(server.log()).toEqual(["patch nodes/n1", "patch nodes/n2"]);
  });

  it("stops after a 409 when the re-read object shows a newer leader's write, even with owned fields unchanged", async () => {
    const server = makeFakeApiServer();
    const node = storeNode(server, makeNode("n1").build());
    server.interfere({
      before: () => {
        const current = server.read("nodes", "n1");
        if (current === undefined) throw new Error("n1 vanished");
        server.put("nodes", {
          ...current,
          metadata: {
            ...current.metadata,
            annotations: { ...current.metadata.annotations, [FENCING_EPOCH_ANNOTATION]: "9" },
          },
        });
      },
    });
    const { writer } = makeWriter(server, fenced(7));

    const err = await catchError(
      writer.apply(promote("n1", "1", "10.255.0.1"), { kind: "Node", object: node }),
    );

    expect(err).toMatchObject({ code: "Fenced" });
    expect(server.log()).toEqual(["patch nodes/n1", "get nodes/n1"]);
    expect(server.read("nodes", "n1")?.metadata.labels?.["rrfleet.io/reflector"]).toBeUndefined();
  });

  it("refuses, sending nothing, a delete of a peer the plan saw written by a newer leader", async () => {
    const server = makeFakeApiServer();
    const peer = {
      ...storePeer(server, makeOwnedPeer("rrfleet-reflector-1", {})),
      fencingEpoch: 8,
    };
    const { writer } = makeWriter(server, fenced(7));

    const err = await catchError(
      writer.apply(
        { verb: "delete", kind: "BGPPeer", name: "rrfleet-reflector-1" },
        { kind: "BGPPeer", object: peer },
      ),
    );

    expect(err).toMatchObject({ code: "Fenced" });
    expect(server.log()).toEqual([]);
    expect(server.names("bgppeers")).toEqual(["rrfleet-reflector-1"]);
  });

  it("stops a delete after a 409 when the re-read peer shows a newer leader's write", async () => {
    const server = makeFakeApiServer();
    const peer = storePeer(server, makeOwnedPeer("rrfleet-reflector-1", {}));
    server.interfere({
      before: () => {
        const current = server.read("bgppeers", "rrfleet-reflector-1");
        if (current === undefined) throw new Error("the peer vanished");
        server.put("bgppeers", {
          ...current,
          metadata: {
            ...current.metadata,
            annotations: { ...current.metadata.annotations, [FENCING_EPOCH_ANNOTATION]: "9" },
          },
        });
      },
    });
    const { writer } = makeWriter(server, fenced(7));

    const err = await catchError(
      writer.apply(
        { verb: "delete", kind: "BGPPeer", name: "rrfleet-reflector-1" },
        { kind: "BGPPeer", object: peer },
      ),
    );

    expect(err).toMatchObject({ code: "Fenced" });
    expect(server.log()).toEqual([
      "delete bgppeers/rrfleet-reflector-1",
      "get bgppeers/rrfleet-reflector-1",
    ]);
    expect(server.names("bgppeers")).toEqual(["rrfleet-reflector-1"]);
  });

  it("sends no delete once the lease is over", async () => {
    const server = makeFakeApiServer();
    const peer = storePeer(server, makeOwnedPeer("rrfleet-reflector-1", {}));
    const { writer } = makeWriter(
      server,
      fenced(7, () => false),
    );

    const err = await catchError(
      writer.apply(
        { verb: "delete", kind: "BGPPeer", name: "rrfleet-reflector-1" },
        { kind: "BGPPeer", object: peer },
      ),
    );

    expect(err).toMatchObject({ code: "Fenced" });
    expect(server.log()).toEqual([]);
  });

  it("asks whether the lease is still current before every request, and sends nothing once it is not", async () => {
    const server = makeFakeApiServer();
    const n1 = storeNode(server, makeNode("n1").build());
    const n2 = storeNode(server, makeNode("n2").build());
    let leaseCurrent = true;
    const { writer } = makeWriter(
      server,
      fenced(7, () => leaseCurrent),
    );

    await writer.apply(promote("n1", "1", "10.255.0.1"), { kind: "Node", object: n1 });
    leaseCurrent = false;
    const err = await catchError(
      writer.apply(promote("n2", "2", "10.255.0.2"), { kind: "Node", object: n2 }),
    );

    expect(err).toMatchObject({ code: "Fenced" });
    expect(server.log()).toEqual(["patch nodes/n1"]);
  });
});
