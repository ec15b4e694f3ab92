import { access, readdir } from "node:fs/promises";
import { join } from "node:path";
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  VersionApi,
  type V1Node,
} from "@kubernetes/client-node";
import {
  DEFAULT_POLICY,
  planCluster,
  projectBgpConfigurationList,
  projectBgpPeerList,
  projectNodeList,
} from "@rrfleet/topology-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CALICO_IPV4_ANNOTATION,
  CALICO_VERSION,
  createNodeFactory,
  E2E_DIR,
  isApiStatus,
  isErrnoException,
  startTestCluster,
  startTestFleet,
  toWireJson,
  ZONE_LABEL,
  type NodeFactory,
  type TestCluster,
  type TestFleet,
} from "./harness/index.js";

const GROUP_LABEL = "e2e.rrfleet.io/group";

const taintsOf = (node: V1Node): string[] =>
  (node.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`);
const CALICO = { group: "crd.projectcalico.org", version: "v1" } as const;

describe("e2e harness (real etcd + kube-apiserver)", () => {
  let cluster: TestCluster;
  let factory: NodeFactory;
  let core: CoreV1Api;
  let customObjects: CustomObjectsApi;
  const printed: string[] = [];

  beforeAll(async () => {
    cluster = await startTestCluster({
      name: "harness",
      users: [{ name: "no-rbac", token: "no-rbac-token-0f3a" }],
      log: (line) => {
        printed.push(line);
        console.log(line);
      },
    });
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    customObjects = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    factory = createNodeFactory(cluster.kubeConfig, {
      kubeletVersion: cluster.kubeApiserverVersion,
    });
    await factory.createNodes(60, {
      prefix: "plan",
      zones: ["zone-a", "zone-b", "zone-c"],
      labels: { [GROUP_LABEL]: "plan" },
    });
  });

  afterAll(async () => {
    // beforeAll may have failed before the cluster existed.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    await cluster?.stop();
  });

  const listGroup = async (group: string): Promise<V1Node[]> =>
    (await core.listNode({ labelSelector: `${GROUP_LABEL}=${group}` })).items;

  it("starts kube-apiserver and etcd and prints their versions in one line", async () => {
    expect(printed).toEqual([
      `e2e: kube-apiserver ${cluster.kubeApiserverVersion}, etcd ${cluster.etcdVersion}`,
    ]);
    expect(printed[0]).toMatch(/^e2e: kube-apiserver v\d+\.\d+\.\d+, etcd v\d+\.\d+\.\d+$/);
    const served = await cluster.kubeConfig.makeApiClient(VersionApi).getCode();
    expect(served.gitVersion).toBe(cluster.kubeApiserverVersion);
    expect(cluster.apiUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it("serves every vendored crd.projectcalico.org CRD as Established, with ClusterInformation", async () => {
    const files = (await readdir(join(E2E_DIR, "calico-crds"))).filter((f) => f.endsWith(".yaml"));
    expect(files).toHaveLength(22);
    const crds = await cluster.kubeConfig
      .makeApiClient(ApiextensionsV1Api)
      .listCustomResourceDefinition();
    const established = crds.items
      .filter((crd) =>
        crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True"),
      )
      .map((crd) => `crd.projectcalico.org_${crd.spec.names.plural}.yaml`)
      .sort();
    expect(established).toEqual(files.sort());

    const info = (await customObjects.getClusterCustomObject({
      ...CALICO,
      plural: "clusterinformations",
      name: "default",
    })) as { spec?: { calicoVersion?: string; datastoreReady?: boolean } };
    expect(info.spec).toMatchObject({ calicoVersion: CALICO_VERSION, datastoreReady: true });
  });

  it("creates 60 nodes over 3 zones whose Ready status reads back", async () => {
    const nodes = await listGroup("plan");
    expect(nodes).toHaveLength(60);
    const perZone = new Map<string, number>();
    for (const node of nodes) {
      const zone = node.metadata?.labels?.[ZONE_LABEL] ?? "(none)";
      perZone.set(zone, (perZone.get(zone) ?? 0) + 1);
      const ready = node.status?.conditions?.find((c) => c.type === "Ready");
      expect(ready).toMatchObject({ status: "True", reason: "KubeletReady" });
      expect(ready?.lastTransitionTime).toBeInstanceOf(Date);
      expect(node.status?.conditions?.map((c) => c.type).sort()).toEqual([
        "DiskPressure",
        "MemoryPressure",
        "NetworkUnavailable",
        "PIDPressure",
        "Ready",
      ]);
      const internalIp = node.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
      expect(internalIp).toMatch(/^10\.\d+\.\d+\.\d+$/);
      expect(node.metadata?.annotations?.[CALICO_IPV4_ANNOTATION]).toBe(`${internalIp ?? ""}/16`);
      expect(node.status?.nodeInfo?.kubeletVersion).toBe(cluster.kubeApiserverVersion);
      expect(node.status?.allocatable?.["pods"]).toBe("110");
    }
    expect(Object.fromEntries(perZone)).toEqual({ "zone-a": 20, "zone-b": 20, "zone-c": 20 });
  });

  it("makes readiness, cordon and taint changes visible to readers", async () => {
    const [created] = await factory.createNodes(1, {
      prefix: "mutable",
      labels: { [GROUP_LABEL]: "mutable" },
    });
    const name = created?.metadata?.name ?? "";
    const readyOf = async () =>
      (await core.readNode({ name })).status?.conditions?.find((c) => c.type === "Ready");
    const readyBefore = await readyOf();

    expect((await core.readNode({ name })).spec?.taints).toBeUndefined();

    const since = new Date(Date.now() - 10 * 60_000);
    await factory.setReady(name, false, { since });
    expect(taintsOf(await core.readNode({ name }))).toEqual([
      "node.kubernetes.io/not-ready:NoSchedule",
      "node.kubernetes.io/not-ready:NoExecute",
    ]);
    const notReady = await readyOf();
    expect(notReady).toMatchObject({ status: "False", reason: "KubeletNotReady" });
    expect(notReady?.lastTransitionTime?.getTime()).toBe(Math.floor(since.getTime() / 1000) * 1000);
    await factory.setReady(name, false);
    expect((await readyOf())?.lastTransitionTime).toEqual(notReady?.lastTransitionTime);
    await factory.setReady(name, true);
    const readyAgain = await readyOf();
    expect(readyAgain?.status).toBe("True");
    expect(readyAgain?.lastTransitionTime?.getTime()).toBeGreaterThan(since.getTime());
    expect(readyAgain?.lastTransitionTime?.getTime()).toBeGreaterThanOrEqual(
      readyBefore?.lastTransitionTime?.getTime() ?? Infinity,
    );

    await factory.cordon(name, true);
    await factory.taint(name, "example.com/maintenance", "NoSchedule", "true");
    await factory.taint(name, "example.com/drain", "NoExecute");
    let node = await core.readNode({ name });
    expect(node.spec?.unschedulable).toBe(true);
    expect(taintsOf(node)).toEqual([
      "node.kubernetes.io/unschedulable:NoSchedule",
      "example.com/maintenance:NoSchedule",
      "example.com/drain:NoExecute",
    ]);
    const projected = projectNodeList({ kind: "NodeList", items: [toWireJson(node)] });
    expect(projected).toMatchObject({
      ok: true,
      value: [{ name, ready: true, unschedulable: true }],
    });

    await factory.cordon(name, false);
    await factory.untaint(name, "example.com/drain");
    node = await core.readNode({ name });
    expect(node.spec?.unschedulable).toBeUndefined();
    expect(taintsOf(node)).toEqual(["example.com/maintenance:NoSchedule"]);

    await factory.deleteNode(name);
    const gone = await core.readNode({ name }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isApiStatus(gone, 404)).toBe(true);
  });

  it("stores a selector BGPPeer and rejects one that breaks the CRD's validation rules", async () => {
    const peer = {
      apiVersion: "crd.projectcalico.org/v1",
      kind: "BGPPeer",
      metadata: { name: "e2e-clients-to-reflectors" },
      spec: {
        nodeSelector: "!has(rrfleet.io/reflector)",
        peerSelector: "has(rrfleet.io/reflector)",
      },
    };
    await customObjects.createClusterCustomObject({ ...CALICO, plural: "bgppeers", body: peer });
    const stored = (await customObjects.getClusterCustomObject({
      ...CALICO,
      plural: "bgppeers",
      name: peer.metadata.name,
    })) as { spec?: unknown };
    expect(stored.spec).toEqual(peer.spec);

    const invalid = {
      ...peer,
      metadata: { name: "e2e-invalid" },
      spec: { node: "plan-0000", nodeSelector: "all()", peerSelector: "all()" },
    };
    const refused = await customObjects
      .createClusterCustomObject({ ...CALICO, plural: "bgppeers", body: invalid })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(isApiStatus(refused, 422)).toBe(true);
    expect(refused instanceof Error ? refused.message : "").toContain(
      "node and nodeSelector cannot both be set",
    );

    await customObjects.deleteClusterCustomObject({
      ...CALICO,
      plural: "bgppeers",
      name: peer.metadata.name,
    });
  });

  it("plans the nodes it reads back: 3 reflectors in 3 zones, verdict Safe", async () => {
    const nodes = projectNodeList({ kind: "NodeList", items: toWireJson(await listGroup("plan")) });
    const peers = projectBgpPeerList(
      toWireJson(await customObjects.listClusterCustomObject({ ...CALICO, plural: "bgppeers" })),
    );
    const configurations = projectBgpConfigurationList(
      toWireJson(
        await customObjects.listClusterCustomObject({ ...CALICO, plural: "bgpconfigurations" }),
      ),
    );
    if (!nodes.ok || !peers.ok || !configurations.ok) {
      throw new Error(`projection failed: ${JSON.stringify([nodes, peers, configurations])}`);
    }
    expect(nodes.value).toHaveLength(60);
    expect(nodes.value.every((node) => node.ready)).toBe(true);

    const plan = planCluster(
      {
        nodes: nodes.value,
        bgpPeers: peers.value.peers,
        bgpConfiguration: configurations.value.configuration,
        calicoApiVersion: "crd.projectcalico.org/v1",
      },
      DEFAULT_POLICY,
      new Date(),
    );
    expect(plan.routeReflectors).toHaveLength(3);
    expect(new Set(plan.routeReflectors.map((r) => r.zone))).toEqual(
      new Set(["zone-a", "zone-b", "zone-c"]),
    );
    expect(plan.summary.analysis.verdict).toBe("Safe");
  });

  it("serves the same objects after kube-apiserver restarts (etcd kept them)", async () => {
    const before = await listGroup("plan");
    const versionsBefore = new Map(
      before.map((n) => [n.metadata?.name, n.metadata?.resourceVersion]),
    );

    await cluster.restartApiServer();

    const after = await listGroup("plan");
    expect(new Map(after.map((n) => [n.metadata?.name, n.metadata?.resourceVersion]))).toEqual(
      versionsBefore,
    );
    const info = (await customObjects.getClusterCustomObject({
      ...CALICO,
      plural: "clusterinformations",
      name: "default",
    })) as { spec?: { calicoVersion?: string } };
    expect(info.spec?.calicoVersion).toBe(CALICO_VERSION);
  });

  it("answers 403 to a token user without RBAC bindings listing nodes", async () => {
    const forbidden = await cluster
      .kubeConfigFor("no-rbac")
      .makeApiClient(CoreV1Api)
      .listNode()
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(isApiStatus(forbidden, 403)).toBe(true);
    expect(forbidden instanceof Error ? forbidden.message : "").toMatch(
      /User \W*no-rbac\W* cannot list resource \W*nodes/,
    );
  });
});

describe("a fleet of test clusters sharing one etcd", () => {
  let fleet: TestFleet;

  beforeAll(async () => {
    fleet = await startTestFleet(["east", "west", "north"]);
  });

  afterAll(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    await fleet?.stop();
  });

  it("keeps each cluster's objects apart under its own etcd prefix", async () => {
    const [east, west, north] = fleet.clusters;
    expect(new Set(fleet.clusters.map((c) => c.apiUrl)).size).toBe(3);
    await createNodeFactory(east!.kubeConfig).createNodes(2, { prefix: "east-only" });

    const names = async (cluster: TestCluster) =>
      (await cluster.kubeConfig.makeApiClient(CoreV1Api).listNode()).items.map(
        (n) => n.metadata?.name,
      );
    expect(await names(east!)).toEqual(["east-only-0000", "east-only-0001"]);
    expect(await names(west!)).toEqual([]);
    expect(await names(north!)).toEqual([]);
    for (const cluster of fleet.clusters) {
      const info = (await cluster.kubeConfig
        .makeApiClient(CustomObjectsApi)
        .getClusterCustomObject({ ...CALICO, plural: "clusterinformations", name: "default" })) as {
        spec?: { calicoVersion?: string };
      };
      expect(info.spec?.calicoVersion).toBe(CALICO_VERSION);
    }
  });

  it("leaves no process and no temp dir behind once stopped", async () => {
    const pids = [...fleet.clusters.flatMap((c) => c.processIds()), fleet.etcd.process.process.pid];
    const dirs = fleet.clusters.map((c) => c.dir);
    expect(pids).toHaveLength(4);
    expect(pids.every(isRunning)).toBe(true);

    await fleet.stop();

    expect(pids.filter(isRunning)).toEqual([]);
    for (const dir of dirs) await expect(access(dir)).rejects.toThrow(/ENOENT/);
  });
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: unknown) {
    if (isErrnoException(err) && err.code === "ESRCH") return false;
    throw err;
  }
}
