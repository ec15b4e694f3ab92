import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from "@kubernetes/client-node";
import {
  connectCluster,
  detectCalicoApi,
  readClusterSnapshot,
  watchCluster,
  type ClusterConnection,
  type ClusterWatch,
  type ResourceWatchHealth,
  type WatchClusterOptions,
  type WatchedResource,
  type WatchEventKind,
} from "@rrfleet/kube";
import type { ClusterSnapshot } from "@rrfleet/topology-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compactEtcd,
  createNodeFactory,
  ensureBinaries,
  readEtcdRevision,
  startTcpProxy,
  startTestCluster,
  startTestEtcd,
  waitFor,
  type NodeFactory,
  type TcpProxy,
  type TestCluster,
  type TestEtcd,
} from "./harness/index.js";

const CALICO = { group: "crd.projectcalico.org", version: "v1" } as const;
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const strategicMerge = setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch);
/** The resources a cluster watch follows (the registry's "secrets" is not one of them). */
type ClusterResource = Exclude<WatchedResource, "secrets">;
const RESOURCES: readonly ClusterResource[] = [
  "nodes",
  "bgppeers",
  "bgpconfigurations",
  "clusterinformations",
];

/** A watch with everything it reported recorded: events per resource and kind, log lines. */
function startRecordedWatch(
  connection: ClusterConnection,
  options: Omit<WatchClusterOptions, "logger" | "onEvent">,
) {
  const counts = new Map<string, number>();
  const lines: { level: string; fields: Record<string, unknown>; message: string; at: number }[] =
    [];
  const at =
    (level: string) =>
    (fields: object, message: string): void => {
      lines.push({ level, fields: fields as Record<string, unknown>, message, at: Date.now() });
    };
  const watch = watchCluster(connection, {
    ...options,
    logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") },
    onEvent: (resource, kind) => {
      const key = `${resource}/${kind}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    },
  });
  let notified = 0;
  watch.subscribe(() => {
    notified += 1;
  });
  return {
    watch,
    lines,
    count: (resource: WatchedResource, kind: WatchEventKind) =>
      counts.get(`${resource}/${kind}`) ?? 0,
    notified: () => notified,
  };
}

function healthOf(watch: ClusterWatch, resource: WatchedResource): ResourceWatchHealth {
  const health = watch.health().find((h) => h.resource === resource);
  if (health === undefined) throw new Error(`no health for ${resource}`);
  return health;
}

function perResource<T>(watch: ClusterWatch, read: (h: ResourceWatchHealth) => T) {
  return Object.fromEntries(RESOURCES.map((r) => [r, read(healthOf(watch, r))]));
}

/** What readClusterSnapshot reads, in the watch's (name) order. */
async function readSorted(connection: ClusterConnection): Promise<ClusterSnapshot> {
  const snapshot = await readClusterSnapshot(connection);
  const byName = (a: { name: string }, b: { name: string }) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  return {
    ...snapshot,
    nodes: [...snapshot.nodes].sort(byName),
    bgpPeers: [...snapshot.bgpPeers].sort(byName),
  };
}

function resourceVersionOf(object: unknown): string {
  const metadata = (object as { metadata?: { resourceVersion?: unknown } }).metadata;
  const version = metadata?.resourceVersion;
  if (typeof version !== "string") throw new Error("the write returned no resourceVersion");
  return version;
}

function until(description: string, probe: () => boolean, timeoutMs = 60_000): Promise<true> {
  return waitFor(() => Promise.resolve(probe() ? true : undefined), {
    description,
    timeoutMs,
    intervalMs: 50,
  });
}

function makePeer(name: string) {
  return {
    apiVersion: "crd.projectcalico.org/v1",
    kind: "BGPPeer",
    metadata: { name, labels: { team: "network" } },
    spec: { nodeSelector: "all()", peerIP: "10.0.0.254", asNumber: 65010 },
  };
}

async function seedCluster(kubeConfig: KubeConfig, factory: NodeFactory): Promise<void> {
  await factory.createNodes(12, { zones: ["zone-a", "zone-b", "zone-c"] });
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  await custom.createClusterCustomObject({
    ...CALICO,
    plural: "bgppeers",
    body: makePeer("tor-uplink"),
  });
  await custom.createClusterCustomObject({
    ...CALICO,
    plural: "bgpconfigurations",
    body: {
      apiVersion: "crd.projectcalico.org/v1",
      kind: "BGPConfiguration",
      metadata: { name: "default" },
      spec: { nodeToNodeMeshEnabled: true, asNumber: 64512 },
    },
  });
}

/**
 * Labels one object of every watched resource through the admin client and waits until each
 * resource's loop has caught up with its write (its resourceVersion is at least the write's):
 * afterwards every stream is known to be live, so relist and restart counts are final.
 */
async function touchEveryResource(
  kubeConfig: KubeConfig,
  watch: ClusterWatch,
  label: string,
): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const body = { metadata: { labels: { "example.com/touched": label } } };
  const written: Record<ClusterResource, string> = {
    nodes: resourceVersionOf(await core.patchNode({ name: "node-0006", body }, mergePatch)),
    bgppeers: resourceVersionOf(
      await custom.patchClusterCustomObject(
        { ...CALICO, plural: "bgppeers", name: "tor-uplink", body },
        mergePatch,
      ),
    ),
    bgpconfigurations: resourceVersionOf(
      await custom.patchClusterCustomObject(
        { ...CALICO, plural: "bgpconfigurations", name: "default", body },
        mergePatch,
      ),
    ),
    clusterinformations: resourceVersionOf(
      await custom.patchClusterCustomObject(
        { ...CALICO, plural: "clusterinformations", name: "default", body },
        mergePatch,
      ),
    ),
  };
  await until(`every resource caught up with its "${label}" write`, () =>
    RESOURCES.every((resource) => {
      const seen = healthOf(watch, resource).resourceVersion;
      return seen !== undefined && Number(seen) >= Number(written[resource]);
    }),
  );
}

describe("watchCluster against kube-apiserver with its watch cache (as in production)", () => {
  let cluster: TestCluster;
  let connection: ClusterConnection;
  let factory: NodeFactory;
  let recorded: ReturnType<typeof startRecordedWatch>;

  beforeAll(async () => {
    cluster = await startTestCluster({ name: "kube-watch" });
    factory = createNodeFactory(cluster.kubeConfig, {
      kubeletVersion: cluster.kubeApiserverVersion,
    });
    await seedCluster(cluster.kubeConfig, factory);
    connection = connectCluster({ kubeconfigPath: cluster.kubeconfigPath });
    const calico = await detectCalicoApi(connection);
    recorded = startRecordedWatch(connection, { calico, pageSize: 5 });
  });

  afterAll(async () => {
    // beforeAll may have failed before these existed.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    await recorded?.watch.stop();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    await cluster?.stop();
  });

  it("syncs to exactly what readClusterSnapshot reads", async () => {
    const started = performance.now();
    await recorded.watch.waitForSync(AbortSignal.timeout(60_000));
    console.log(
      `e2e kube-watch: synced ${recorded.watch.snapshot().nodes.length} nodes in ` +
        `${Math.round(performance.now() - started)} ms (LIST pages of 5)`,
    );
    expect(recorded.watch.snapshot()).toEqual(await readSorted(connection));
    expect(recorded.watch.snapshot().nodes).toHaveLength(12);
    expect(recorded.watch.calicoVersion()).toMatch(/^v3\./);
  });

  it("delivers node add, label and delete and BGPPeer create and delete to subscribers", async () => {
    const { watch } = recorded;
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    const steps: { name: string; write: () => Promise<string>; seen: () => boolean }[] = [
      {
        name: "node added",
        write: async () => resourceVersionOf(await factory.createNode({ name: "late-1" })),
        seen: () => watch.snapshot().nodes.some((n) => n.name === "late-1"),
      },
      {
        name: "node labelled",
        write: async () =>
          resourceVersionOf(
            await core.patchNode(
              { name: "late-1", body: { metadata: { labels: { "example.com/rack": "r7" } } } },
              mergePatch,
            ),
          ),
        seen: () =>
          watch.snapshot().nodes.find((n) => n.name === "late-1")?.labels["example.com/rack"] ===
          "r7",
      },
      {
        name: "BGPPeer created",
        write: async () =>
          resourceVersionOf(
            await custom.createClusterCustomObject({
              ...CALICO,
              plural: "bgppeers",
              body: makePeer("extra-peer"),
            }),
          ),
        seen: () => watch.snapshot().bgpPeers.some((p) => p.name === "extra-peer"),
      },
    ];
    for (const step of steps) {
      const before = recorded.notified();
      const version = await step.write();
      const kind = step.name.startsWith("BGPPeer") ? "BGPPeer" : "Node";
      const name = kind === "BGPPeer" ? "extra-peer" : "late-1";
      await until(step.name, () => watch.hasObserved({ kind, name, resourceVersion: version }));
      expect(step.seen(), step.name).toBe(true);
      expect(recorded.notified(), step.name).toBeGreaterThan(before);
    }

    let before = recorded.notified();
    await factory.deleteNode("late-1");
    await until("node deleted", () =>
      watch.hasObserved({ kind: "Node", name: "late-1", deleted: true }),
    );
    expect(recorded.notified()).toBeGreaterThan(before);

    before = recorded.notified();
    await custom.deleteClusterCustomObject({ ...CALICO, plural: "bgppeers", name: "extra-peer" });
    await until("BGPPeer deleted", () =>
      watch.hasObserved({ kind: "BGPPeer", name: "extra-peer", deleted: true }),
    );
    expect(recorded.notified()).toBeGreaterThan(before);
    expect(watch.snapshot()).toEqual(await readSorted(connection));
  });

  it("drops a heartbeat-only status update: no notification, but the resourceVersion moves", async () => {
    const { watch } = recorded;
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const name = "node-0003";
    const notifiedBefore = recorded.notified();
    const droppedBefore = recorded.count("nodes", "DROPPED");
    const snapshotBefore = watch.snapshot().nodes.find((n) => n.name === name);
    // What a kubelet posts every few minutes: the Ready condition's heartbeat, nothing else.
    const patched = await core.patchNodeStatus(
      {
        name,
        body: {
          status: {
            conditions: [{ type: "Ready", lastHeartbeatTime: new Date(Date.now() + 60_000) }],
          },
        },
      },
      strategicMerge,
    );
    const version = resourceVersionOf(patched);
    await until("heartbeat observed", () =>
      watch.hasObserved({ kind: "Node", name, resourceVersion: version }),
    );
    expect(recorded.count("nodes", "DROPPED")).toBe(droppedBefore + 1);
    expect(recorded.notified()).toBe(notifiedBefore);
    const after = watch.snapshot().nodes.find((n) => n.name === name);
    expect(after).toEqual({ ...snapshotBefore, resourceVersion: version });
  });

  it("recovers from an API server restart, relisting only where the server answers 410", async () => {
    const { watch } = recorded;
    const restartsBefore = perResource(watch, (h) => h.restarts);
    const relistsBefore = perResource(watch, (h) => h.relists);
    const gonesBefore = recorded.lines.filter((l) => l.message.includes("410 Gone")).length;

    const restartStarted = performance.now();
    await cluster.restartApiServer();
    const serving = performance.now();
    await touchEveryResource(cluster.kubeConfig, watch, "after-restart");
    const recovered = performance.now();
    // Every stream was cut and restarted; none stopped.
    for (const resource of RESOURCES) {
      expect(healthOf(watch, resource).restarts, resource).toBeGreaterThan(
        restartsBefore[resource] ?? 0,
      );
    }
    const relists = perResource(watch, (h) => h.relists - (relistsBefore[h.resource] ?? 0));
    const gones = recorded.lines.filter((l) => l.message.includes("410 Gone")).length - gonesBefore;
    // A fresh watch cache starts its history at the current etcd revision, so the server may
    // answer 410 to a resume from before the restart: at most one relist per resource, each
    // one a response to a 410, never a storm.
    for (const resource of RESOURCES) expect(relists[resource], resource).toBeLessThanOrEqual(1);
    expect(Object.values(relists).reduce((a, b) => a + b, 0)).toBe(gones);
    expect(watch.isSynced()).toBe(true);
    expect(watch.snapshot()).toEqual(await readSorted(connection));
    console.log(
      `e2e kube-watch (watch cache on): API server restart took ${Math.round(serving - restartStarted)} ms; ` +
        `a change made right after was seen ${Math.round(recovered - serving)} ms later; ` +
        `restarts ${JSON.stringify(perResource(watch, (h) => h.restarts - (restartsBefore[h.resource] ?? 0)))}; ` +
        `relists after 410 ${JSON.stringify(relists)}`,
    );
  });
});

/**
 * A kube-apiserver with `--watch-cache=false` serves watches straight from etcd, so a watch
 * resumes from any revision etcd still holds (across restarts) and etcd compaction is what
 * expires it: the setting where the watch's own resume logic is visible. The harness takes no
 * extra flags, so a wrapper script adds this one.
 */
async function writeApiServerWithoutWatchCache(dir: string, binary: string): Promise<string> {
  const path = join(dir, "kube-apiserver-no-watch-cache");
  await writeFile(path, `#!/bin/sh\nexec "${binary}" --watch-cache=false "$@"\n`);
  await chmod(path, 0o755);
  return path;
}

/** A copy of the cluster's kubeconfig whose server is the proxy (TLS still ends at the API server). */
async function writeProxiedKubeconfig(cluster: TestCluster, proxy: TcpProxy): Promise<string> {
  const document = JSON.parse(await readFile(cluster.kubeconfigPath, "utf8")) as {
    clusters: { cluster: { server: string } }[];
  };
  for (const entry of document.clusters) entry.cluster.server = `https://127.0.0.1:${proxy.port}`;
  const path = join(cluster.dir, "kubeconfig-via-proxy");
  await writeFile(path, JSON.stringify(document), { mode: 0o600 });
  return path;
}

describe("watchCluster through a freezable TCP proxy, watches served by etcd", () => {
  const QUIET_MS = 2_000;
  let etcd: TestEtcd;
  let cluster: TestCluster;
  let proxy: TcpProxy;
  let factory: NodeFactory;
  let connection: ClusterConnection;
  let admin: ClusterConnection;
  let wrapperDir: string | undefined;
  let recorded: ReturnType<typeof startRecordedWatch>;

  beforeAll(async () => {
    const binaries = await ensureBinaries();
    etcd = await startTestEtcd({ binaries });
    wrapperDir = await mkdtemp(join(tmpdir(), "rrfleet-kube-watch-"));
    cluster = await startTestCluster({
      name: "kube-watch-etcd",
      etcd,
      binaries: {
        ...binaries,
        kubeApiserver: await writeApiServerWithoutWatchCache(wrapperDir, binaries.kubeApiserver),
      },
    });
    factory = createNodeFactory(cluster.kubeConfig, {
      kubeletVersion: cluster.kubeApiserverVersion,
    });
    await seedCluster(cluster.kubeConfig, factory);
    admin = connectCluster({ kubeconfigPath: cluster.kubeconfigPath });
    proxy = await startTcpProxy({ host: "127.0.0.1", port: Number(new URL(cluster.apiUrl).port) });
    connection = connectCluster({ kubeconfigPath: await writeProxiedKubeconfig(cluster, proxy) });
    const calico = await detectCalicoApi(connection);
    recorded = startRecordedWatch(connection, {
      calico,
      quietTimeoutMs: QUIET_MS,
      backoff: { initialMs: 250, maxMs: 2_000 },
    });
    await recorded.watch.waitForSync(AbortSignal.timeout(60_000));
  });

  afterAll(async () => {
    // beforeAll may have failed before these existed.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    await recorded?.watch.stop();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    await proxy?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    await cluster?.stop();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    await etcd?.stop();
    if (wrapperDir !== undefined) await rm(wrapperDir, { recursive: true, force: true });
  });

  it("notices a half-open stream, reconnects after the link resumes and delivers what changed", async () => {
    const { watch } = recorded;
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const connectionsBefore = proxy.connections();
    const restartsAtFreeze = healthOf(watch, "nodes").restarts;
    proxy.freeze();
    const frozenAt = performance.now();
    const frozenWallClock = Date.now();
    const frozenConnections = proxy.openConnectionIds();
    expect(frozenConnections.length).toBeGreaterThanOrEqual(1);
    // Through the admin client, not the proxy: the API server is fine, only the link is stuck.
    const patched = await core.patchNode(
      { name: "node-0005", body: { metadata: { labels: { "example.com/frozen": "yes" } } } },
      mergePatch,
    );
    const version = resourceVersionOf(patched);
    // The nodes loop gives up on its silent stream after quietTimeoutMs…
    await until("the nodes loop notices the silence", () => {
      const health = healthOf(watch, "nodes");
      return (
        health.restarts > restartsAtFreeze &&
        (health.lastError?.startsWith("no event or bookmark") ?? false)
      );
    });
    const noticedAt = performance.now();
    // …and the client closes every connection that was open, which only the client could do:
    // the proxy forwards nothing, so the API server saw no reason to.
    await until("the client closes the frozen connections", () =>
      proxy.openConnectionIds().every((id) => !frozenConnections.includes(id)),
    );
    expect(watch.hasObserved({ kind: "Node", name: "node-0005", resourceVersion: version })).toBe(
      false,
    );
    expect(
      recorded.lines.some(
        (l) =>
          l.level === "warn" &&
          l.fields["resource"] === "nodes" &&
          l.message.includes("half-open") &&
          l.at >= frozenWallClock,
      ),
    ).toBe(true);

    proxy.resume();
    const resumedAt = performance.now();
    await until("the change made while frozen arrives", () =>
      watch.hasObserved({ kind: "Node", name: "node-0005", resourceVersion: version }),
    );
    const recoveredAt = performance.now();
    expect(
      watch.snapshot().nodes.find((n) => n.name === "node-0005")?.labels["example.com/frozen"],
    ).toBe("yes");
    expect(proxy.connections()).toBeGreaterThan(connectionsBefore);
    expect(watch.isSynced()).toBe(true);
    expect(healthOf(watch, "nodes").restarts).toBeGreaterThan(0);
    console.log(
      `e2e kube-watch (half-open link, quietTimeoutMs ${QUIET_MS}): the nodes loop gave up on its ` +
        `silent stream ${Math.round(noticedAt - frozenAt)} ms after the freeze; the change arrived ` +
        `${Math.round(recoveredAt - resumedAt)} ms after the link resumed; restarts so far ` +
        JSON.stringify(perResource(watch, (h) => h.restarts)),
    );
  });

  it("relists exactly once per resource whose resourceVersion etcd compacted away, and ends up right", async () => {
    const { watch } = recorded;
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    const relistsBefore = perResource(watch, (h) => h.relists);
    proxy.freeze();
    const frozenConnections = proxy.openConnectionIds();
    await until("every stream is down", () =>
      proxy.openConnectionIds().every((id) => !frozenConnections.includes(id)),
    );
    // Changes the watch cannot see while its streams are down.
    await factory.createNode({ name: "during-outage" });
    await factory.deleteNode("node-0001");
    await core.patchNode(
      { name: "node-0002", body: { metadata: { labels: { "example.com/rack": "r9" } } } },
      mergePatch,
    );
    await custom.createClusterCustomObject({
      ...CALICO,
      plural: "bgppeers",
      body: makePeer("outage-peer"),
    });
    await custom.patchClusterCustomObject(
      {
        ...CALICO,
        plural: "bgpconfigurations",
        name: "default",
        body: { spec: { nodeToNodeMeshEnabled: false } },
      },
      mergePatch,
    );
    const versionsBefore = perResource(watch, (h) => Number(h.resourceVersion));
    const compacted = await compactEtcd(etcd.url);
    expect(await readEtcdRevision(etcd.url)).toBe(compacted);
    const needed = RESOURCES.filter((r) => (versionsBefore[r] ?? 0) < compacted);

    proxy.resume();
    const resumedAt = performance.now();
    await until("every resource that needed it relisted", () =>
      needed.every((r) => healthOf(watch, r).relists > (relistsBefore[r] ?? 0)),
    );
    const relistedAt = performance.now();
    expect(watch.snapshot()).toEqual(await readSorted(admin));
    expect(watch.snapshot().bgpConfiguration.nodeToNodeMeshEnabled).toBe(false);

    // One more change on every resource, seen by watch: then count, nothing relisted twice.
    await touchEveryResource(cluster.kubeConfig, watch, "after-compaction");
    const relists = perResource(watch, (h) => h.relists - (relistsBefore[h.resource] ?? 0));
    expect(relists).toEqual(
      Object.fromEntries(RESOURCES.map((r) => [r, needed.includes(r) ? 1 : 0])),
    );
    expect(watch.isSynced()).toBe(true);
    console.log(
      `e2e kube-watch (etcd compacted to revision ${compacted} while the streams were down): ` +
        `relists ${JSON.stringify(relists)}; cache matched the server ` +
        `${Math.round(relistedAt - resumedAt)} ms after the link resumed`,
    );
  });

  it("resumes after an API server restart without a relist when etcd still has the history", async () => {
    const { watch } = recorded;
    const relistsBefore = perResource(watch, (h) => h.relists);
    const restartsBefore = perResource(watch, (h) => h.restarts);
    const restartStarted = performance.now();
    await cluster.restartApiServer();
    const serving = performance.now();
    await touchEveryResource(cluster.kubeConfig, watch, "after-restart");
    const recovered = performance.now();
    expect(perResource(watch, (h) => h.relists)).toEqual(relistsBefore);
    for (const resource of RESOURCES) {
      expect(healthOf(watch, resource).restarts, resource).toBeGreaterThan(
        restartsBefore[resource] ?? 0,
      );
    }
    expect(watch.snapshot()).toEqual(await readSorted(admin));
    console.log(
      `e2e kube-watch (watches from etcd): API server restart took ${Math.round(serving - restartStarted)} ms; ` +
        `a change made right after was seen ${Math.round(recovered - serving)} ms later, with 0 relists`,
    );
  });
});
