import { projectNode, type NodeInfo } from "@rrfleet/topology-core";
import { makeNode } from "@rrfleet/topology-core/testing";
import { describe, expect, it } from "vitest";
import type {
  ListPage,
  ListPageRequest,
  WatchEvent,
  WatchRequest,
  WatchTransport,
} from "./create-watch-transport.js";
import type { CalicoApi } from "./detect-calico-api.js";
import { KubeError } from "./kube-error.js";
import { startClusterWatch } from "./watch-cluster.js";
import {
  watchResource,
  type ResourceWatchOptions,
  type WatchEventKind,
  type WatchLogger,
  type WatchTimers,
} from "./watch-resource.js";

const NODES = "/api/v1/nodes";
const CALICO: CalicoApi = {
  apiVersion: "crd.projectcalico.org/v1",
  group: "crd.projectcalico.org",
  version: "v1",
  calicoVersion: "v3.32.0",
};
const PEERS = "/apis/crd.projectcalico.org/v1/bgppeers";
const CONFIGURATIONS = "/apis/crd.projectcalico.org/v1/bgpconfigurations";
const INFORMATIONS = "/apis/crd.projectcalico.org/v1/clusterinformations";

/** A Node as the API server streams it: wire JSON, with the kubelet's status noise. */
function makeWireNode(
  name: string,
  resourceVersion: string,
  options: { zone?: string; heartbeat?: string; taintEffect?: string } = {},
) {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      resourceVersion,
      creationTimestamp: "2026-11-01T00:00:00Z",
      labels: {
        "kubernetes.io/hostname": name,
        "topology.kubernetes.io/zone": options.zone ?? "a",
      },
      annotations: { "projectcalico.org/IPv4Address": "10.1.0.1/16" },
    },
    spec: {
      podCIDR: "172.16.1.0/24",
      ...(options.taintEffect === undefined
        ? {}
        : { taints: [{ key: "k", effect: options.taintEffect }] }),
    },
    status: {
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "KubeletReady",
          lastHeartbeatTime: options.heartbeat ?? "2026-11-28T00:00:00Z",
          lastTransitionTime: "2026-11-27T00:00:00Z",
        },
      ],
      nodeInfo: { kubeletVersion: "v1.36.3" },
    },
  };
}

/** What the planner should see of {@link makeWireNode}. */
function projected(name: string, resourceVersion: string, zone = "a"): NodeInfo {
  return {
    ...makeNode(name)
      .inZone(zone)
      .ready("2026-11-27T00:00:00Z")
      .createdAt("2026-11-01T00:00:00Z")
      .build(),
    resourceVersion,
  };
}

function makeWirePeer(name: string, resourceVersion: string) {
  return {
    apiVersion: "crd.projectcalico.org/v1",
    kind: "BGPPeer",
    metadata: { name, resourceVersion },
    spec: { nodeSelector: "all()", peerIP: "192.0.2.1", asNumber: 64512 },
  };
}

/** A watch stream the test drives as the API server would. */
interface FakeStream {
  readonly request: WatchRequest;
  emit(type: WatchEvent["type"], object: unknown): void;
  /** The server ends the stream cleanly (its timeout). */
  end(): void;
  fail(error: Error): void;
  /** The client aborted it, or it ended. */
  isClosed(): boolean;
}

/** An API server in memory: LIST serves `state` page by page; each watch is a {@link FakeStream}. */
function makeFakeTransport() {
  const state = new Map<string, { items: unknown[]; resourceVersion: string }>();
  const listFailures = new Map<string, Error[]>();
  const listRequests: ListPageRequest[] = [];
  const streams: FakeStream[] = [];
  const claimed = new Set<FakeStream>();
  const waiting: { path: string; resolve: (stream: FakeStream) => void }[] = [];

  const claim = (path: string): FakeStream | undefined => {
    const stream = streams.find((s) => s.request.path === path && !claimed.has(s));
    if (stream !== undefined) claimed.add(stream);
    return stream;
  };

  const transport: WatchTransport = {
    listPage: (request: ListPageRequest): Promise<ListPage> => {
      listRequests.push(request);
      const failure = listFailures.get(request.path)?.shift();
      if (failure !== undefined) return Promise.reject(failure);
      const { items, resourceVersion } = state.get(request.path) ?? {
        items: [],
        resourceVersion: "1",
      };
      const start = Number(request.continueToken ?? "0");
      const end = start + request.limit;
      return Promise.resolve({
        items: items.slice(start, end),
        resourceVersion,
        ...(end < items.length ? { continueToken: String(end) } : {}),
      });
    },
    watch: (request, onEvent, signal) =>
      new Promise<void>((resolve, reject) => {
        let closed = false;
        const stream: FakeStream = {
          request,
          emit: (type, object) => {
            if (!closed) onEvent({ type, object });
          },
          end: () => {
            closed = true;
            resolve();
          },
          fail: (error) => {
            closed = true;
            reject(error);
          },
          isClosed: () => closed,
        };
        signal.addEventListener(
          "abort",
          () => {
            closed = true;
            reject(signal.reason as Error);
          },
          { once: true },
        );
        streams.push(stream);
        const index = waiting.findIndex((w) => w.path === request.path);
        if (index !== -1) {
          const [waiter] = waiting.splice(index, 1);
          claimed.add(stream);
          waiter?.resolve(stream);
        }
      }),
  };

  return {
    transport,
    state,
    listFailures,
    listRequests,
    streams,
    /** The next watch opened on `path` that the test has not taken yet. */
    nextStream: (path: string): Promise<FakeStream> => {
      const stream = claim(path);
      if (stream !== undefined) return Promise.resolve(stream);
      return new Promise((resolve) => waiting.push({ path, resolve }));
    },
    listsOf: (path: string) => listRequests.filter((r) => r.path === path),
  };
}

/** A clock that never waits: sleeps are recorded and return at once; timers fire on demand. */
function makeFakeTimers() {
  const sleeps: number[] = [];
  const scheduled = new Set<{ ms: number; fire: () => void }>();
  const timers: WatchTimers = {
    now: () => new Date("2026-11-28T00:00:00Z"),
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    schedule: (ms, fire) => {
      const timer = { ms, fire };
      scheduled.add(timer);
      return () => {
        scheduled.delete(timer);
      };
    },
  };
  return {
    timers,
    sleeps,
    pending: () => [...scheduled].map((t) => t.ms),
    /** Fires every pending timer (the quiet timeouts). */
    fireAll: () => {
      for (const timer of [...scheduled]) {
        scheduled.delete(timer);
        timer.fire();
      }
    },
  };
}

function makeRecordingLogger() {
  const lines: { level: string; fields: object; message: string }[] = [];
  const at =
    (level: string) =>
    (fields: object, message: string): void => {
      lines.push({ level, fields, message });
    };
  const logger: WatchLogger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
  return { logger, lines };
}

/** A sleep that lasts until the loop stops: keeps a failed resource unsynced. */
function sleepUntilAborted(_ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    signal.addEventListener("abort", () => {
      resolve();
    });
  });
}

/** Lets every pending promise continuation run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

function startNodeLoop(overrides: Partial<ResourceWatchOptions> = {}) {
  const fake = makeFakeTransport();
  const clock = makeFakeTimers();
  const { logger, lines } = makeRecordingLogger();
  const events: WatchEventKind[] = [];
  let changes = 0;
  let syncs = 0;
  const start = () =>
    watchResource<NodeInfo>(
      {
        resource: "nodes",
        kind: "Node",
        path: NODES,
        resourceName: "nodes",
        project: projectNode,
      },
      fake.transport,
      {
        logger,
        onEvent: (_resource, kind) => events.push(kind),
        onChange: () => {
          changes += 1;
        },
        onSynced: () => {
          syncs += 1;
        },
        quietTimeoutMs: 90_000,
        backoff: { initialMs: 1_000, maxMs: 30_000 },
        random: () => 0.5,
        watchTimeoutSeconds: 300,
        pageSize: 2,
        timers: clock.timers,
        ...overrides,
      },
    );
  return {
    fake,
    clock,
    lines,
    events,
    start,
    changes: () => changes,
    syncs: () => syncs,
  };
}

describe("watchResource (the list+watch loop of one resource)", () => {
  it("lists page by page, then watches from the list's resourceVersion with bookmarks", async () => {
    const t = startNodeLoop();
    t.fake.state.set(NODES, {
      items: [makeWireNode("n1", "10"), makeWireNode("n2", "11"), makeWireNode("n3", "12")],
      resourceVersion: "20",
    });
    const loop = t.start();
    const stream = await t.fake.nextStream(NODES);
    expect(t.fake.listsOf(NODES).map((r) => r.continueToken ?? "")).toEqual(["", "2"]);
    expect(stream.request).toEqual({
      path: NODES,
      resource: "nodes",
      resourceVersion: "20",
      // [300, 600] like client-go: 300 + floor(0.5 × 301).
      timeoutSeconds: 450,
    });
    expect(loop.isSynced()).toBe(true);
    expect([...loop.store.values()]).toEqual([
      projected("n1", "10"),
      projected("n2", "11"),
      projected("n3", "12"),
    ]);
    expect(t.changes()).toBe(1);
    await loop.stop();
  });

  it("applies ADDED, MODIFIED and DELETED and keeps the newest resourceVersion", async () => {
    const t = startNodeLoop();
    t.fake.state.set(NODES, { items: [makeWireNode("n1", "10")], resourceVersion: "20" });
    const loop = t.start();
    const stream = await t.fake.nextStream(NODES);
    stream.emit("ADDED", makeWireNode("n2", "21"));
    stream.emit("MODIFIED", makeWireNode("n1", "22", { zone: "b" }));
    stream.emit("DELETED", makeWireNode("n2", "23"));
    stream.emit("BOOKMARK", { kind: "Node", metadata: { resourceVersion: "30" } });
    expect([...loop.store.values()]).toEqual([projected("n1", "22", "b")]);
    expect(t.events).toEqual(["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]);
    expect(t.changes()).toBe(1 + 3);
    expect(loop.health()).toMatchObject({ resourceVersion: "30", restarts: 0, relists: 0 });
    await loop.stop();
  });

  it("drops a heartbeat-only update: the resourceVersion moves, nobody is told", async () => {
    const t = startNodeLoop();
    t.fake.state.set(NODES, { items: [makeWireNode("n1", "10")], resourceVersion: "20" });
    const loop = t.start();
    const stream = await t.fake.nextStream(NODES);
    const before = t.changes();
    stream.emit("MODIFIED", makeWireNode("n1", "21", { heartbeat: "2026-11-28T00:05:00Z" }));
    expect(t.events).toEqual(["DROPPED"]);
    expect(t.changes()).toBe(before);
    expect(loop.store.get("n1")?.resourceVersion).toBe("21");
    await loop.stop();
  });

  it("keeps the previous state of an object that cannot be projected, and says why", async () => {
    const t = startNodeLoop();
    t.fake.state.set(NODES, { items: [makeWireNode("n1", "10")], resourceVersion: "20" });
    const loop = t.start();
    const stream = await t.fake.nextStream(NODES);
    stream.emit("MODIFIED", makeWireNode("n1", "21", { taintEffect: "Sometimes" }));
    stream.emit("MODIFIED", makeWireNode("n1", "22", { zone: "b" }));
    expect(t.lines.filter((l) => l.level === "warn")).toEqual([
      {
        level: "warn",
        fields: {
          resource: "nodes",
          name: "n1",
          issues: [
            {
              path: "spec.taints[0].effect",
              message: "must be NoSchedule, PreferNoSchedule or NoExecute",
            },
          ],
          issueCount: 1,
        },
        message: "a Node cannot be projected; keeping its previous state",
      },
    ]);
    // The loop went on: the next good event was applied.
    expect(loop.store.get("n1")).toEqual(projected("n1", "22", "b"));
    await loop.stop();
  });

  it("relists once on 410 Gone and applies the difference as one change", async () => {
    const t = startNodeLoop();
    t.fake.state.set(NODES, {
      items: [makeWireNode("keep", "10"), makeWireNode("gone", "11"), makeWireNode("move", "12")],
      resourceVersion: "20",
    });
    const loop = t.start();
    const first = await t.fake.nextStream(NODES);
    first.emit("MODIFIED", makeWireNode("keep", "21", { heartbeat: "2026-11-28T00:05:00Z" }));
    const changesBefore = t.changes();
    t.fake.state.set(NODES, {
      items: [
        makeWireNode("keep", "21"),
        makeWireNode("move", "30", { zone: "c" }),
        makeWireNode("new", "31"),
      ],
      resourceVersion: "40",
    });
    first.fail(new KubeError("Gone", "watch nodes: gone", { retryable: true }));
    const second = await t.fake.nextStream(NODES);
    expect(second.request.resourceVersion).toBe("40");
    expect([...loop.store.values()].map((n) => n.name)).toEqual(["keep", "move", "new"]);
    expect(loop.store.get("move")).toEqual(projected("move", "30", "c"));
    expect(t.changes() - changesBefore).toBe(1);
    expect(t.events.filter((e) => e === "RELIST")).toHaveLength(1);
    expect(loop.health()).toMatchObject({ relists: 1, restarts: 0, synced: true });
    expect(t.lines.find((l) => l.message.startsWith("relisted"))?.fields).toMatchObject({
      added: 1,
      modified: 1,
      deleted: 1,
      unchanged: 1,
    });
    await loop.stop();
  });

  it("re-watches from the last resourceVersion after an error, without a relist", async () => {
    const t = startNodeLoop();
    t.fake.state.set(NODES, { items: [makeWireNode("n1", "10")], resourceVersion: "20" });
    const loop = t.start();
    const first = await t.fake.nextStream(NODES);
    first.emit("BOOKMARK", { metadata: { resourceVersion: "25" } });
    first.fail(new KubeError("Unavailable", "watch nodes: ECONNRESET", { retryable: true }));
    const second = await t.fake.nextStream(NODES);
    expect(second.request.resourceVersion).toBe("25");
    expect(t.fake.listsOf(NODES)).toHaveLength(1);
    expect(loop.health()).toMatchObject({
      restarts: 1,
      relists: 0,
      synced: true,
      lastError: "watch nodes: ECONNRESET",
    });
    expect(t.events).toEqual(["BOOKMARK", "RESTART"]);
    await loop.stop();
  });

  it("backs off with full jitter, doubling while streams fail, reset by a healthy one", async () => {
    const t = startNodeLoop();
    const loop = t.start();
    const down = new KubeError("Unavailable", "connection refused", { retryable: true });
    for (let i = 0; i < 7; i++) (await t.fake.nextStream(NODES)).fail(down);
    const healthy = await t.fake.nextStream(NODES);
    healthy.emit("BOOKMARK", { metadata: { resourceVersion: "2" } });
    healthy.end();
    (await t.fake.nextStream(NODES)).fail(down);
    await t.fake.nextStream(NODES);
    // random() = 0.5: half of 1, 2, 4, 8, 16, 30, 30 s; then the healthy stream resets it.
    expect(t.clock.sleeps).toEqual([500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 500, 1_000]);
    expect(loop.health().restarts).toBe(9);
    await loop.stop();
  });

  it("waits as long as a 429's Retry-After says, instead of the drawn delay", async () => {
    const t = startNodeLoop();
    const loop = t.start();
    (await t.fake.nextStream(NODES)).fail(
      new KubeError("TooManyRequests", "storage is (re)initializing", {
        retryable: true,
        retryAfterSeconds: 3,
      }),
    );
    await t.fake.nextStream(NODES);
    expect(t.clock.sleeps).toEqual([3_000]);
    await loop.stop();
  });

  it("aborts a stream that stays quiet too long and re-watches from the last resourceVersion", async () => {
    const t = startNodeLoop({ quietTimeoutMs: 2_000 });
    t.fake.state.set(NODES, { items: [], resourceVersion: "20" });
    const loop = t.start();
    const first = await t.fake.nextStream(NODES);
    expect(t.clock.pending()).toEqual([2_000]);
    first.emit("BOOKMARK", { metadata: { resourceVersion: "21" } });
    // Every event re-arms the one timer.
    expect(t.clock.pending()).toEqual([2_000]);
    t.clock.fireAll();
    const second = await t.fake.nextStream(NODES);
    expect(first.isClosed()).toBe(true);
    expect(second.request.resourceVersion).toBe("21");
    expect(t.fake.listsOf(NODES)).toHaveLength(1);
    expect(loop.health()).toMatchObject({
      restarts: 1,
      relists: 0,
      lastError: "no event or bookmark for 2000 ms",
    });
    expect(t.lines.some((l) => l.level === "warn" && l.message.includes("half-open"))).toBe(true);
    await loop.stop();
  });

  it("retries a failed LIST after a backoff until it succeeds", async () => {
    const t = startNodeLoop();
    t.fake.listFailures.set(NODES, [
      new KubeError("Forbidden", 'forbidden: rrfleet needs "list" on "nodes"'),
      new KubeError("Unavailable", "connection refused", { retryable: true }),
    ]);
    const loop = t.start();
    await t.fake.nextStream(NODES);
    expect(t.fake.listsOf(NODES)).toHaveLength(3);
    expect(t.clock.sleeps).toEqual([500, 1_000]);
    expect(loop.health()).toMatchObject({ synced: true, relists: 0 });
    expect(t.syncs()).toBe(1);
    await loop.stop();
  });

  it("goes on when a change listener throws", async () => {
    const t = startNodeLoop({
      onChange: () => {
        throw new Error("listener bug");
      },
    });
    const loop = t.start();
    const stream = await t.fake.nextStream(NODES);
    stream.emit("ADDED", makeWireNode("n1", "5"));
    stream.emit("ADDED", makeWireNode("n2", "6"));
    expect(loop.store.size).toBe(2);
    expect(t.lines.filter((l) => l.level === "error")).toHaveLength(2);
    await loop.stop();
  });

  it("stops: closes the stream, leaves no timer behind and ends the loop", async () => {
    const t = startNodeLoop();
    const loop = t.start();
    const stream = await t.fake.nextStream(NODES);
    await loop.stop();
    expect(stream.isClosed()).toBe(true);
    expect(t.clock.pending()).toEqual([]);
    await settle();
    expect(t.fake.streams).toHaveLength(1);
    await loop.stop();
  });
});

describe("startClusterWatch", () => {
  function startCluster(calico: CalicoApi = CALICO) {
    const fake = makeFakeTransport();
    const clock = makeFakeTimers();
    const { logger, lines } = makeRecordingLogger();
    const root =
      calico.apiVersion === "projectcalico.org/v3"
        ? "/apis/projectcalico.org/v3"
        : "/apis/crd.projectcalico.org/v1";
    fake.state.set(NODES, {
      items: [makeWireNode("n2", "12"), makeWireNode("n1", "11")],
      resourceVersion: "20",
    });
    fake.state.set(`${root}/bgppeers`, {
      items: [makeWirePeer("zz-foreign", "14"), makeWirePeer("rrfleet-mesh", "13")],
      resourceVersion: "20",
    });
    fake.state.set(`${root}/bgpconfigurations`, {
      items: [
        {
          metadata: { name: "default", resourceVersion: "15" },
          spec: { nodeToNodeMeshEnabled: false, asNumber: 64512 },
        },
      ],
      resourceVersion: "20",
    });
    fake.state.set(`${root}/clusterinformations`, {
      items: [
        {
          metadata: { name: "default", resourceVersion: "16" },
          spec: { calicoVersion: "v3.32.1" },
        },
      ],
      resourceVersion: "20",
    });
    const watch = startClusterWatch(fake.transport, { calico, logger }, clock.timers);
    return { fake, clock, lines, watch, root };
  }

  it("syncs all four resources and serves a snapshot sorted by name", async () => {
    const { watch, fake } = startCluster();
    expect(watch.isSynced()).toBe(false);
    await watch.waitForSync();
    expect(watch.snapshot()).toEqual({
      nodes: [projected("n1", "11"), projected("n2", "12")],
      bgpPeers: [
        {
          name: "rrfleet-mesh",
          labels: {},
          nodeSelector: "all()",
          peerIP: "192.0.2.1",
          asNumber: 64512,
          resourceVersion: "13",
        },
        {
          name: "zz-foreign",
          labels: {},
          nodeSelector: "all()",
          peerIP: "192.0.2.1",
          asNumber: 64512,
          resourceVersion: "14",
        },
      ],
      bgpConfiguration: {
        exists: true,
        nodeToNodeMeshEnabled: false,
        specFields: ["asNumber", "nodeToNodeMeshEnabled"],
        resourceVersion: "15",
      },
      calicoApiVersion: "crd.projectcalico.org/v1",
    });
    expect(watch.calicoVersion()).toBe("v3.32.1");
    // Only `default` of the two singletons is asked for.
    expect(fake.listsOf(CONFIGURATIONS)[0]?.fieldSelector).toBe("metadata.name=default");
    expect(fake.listsOf(INFORMATIONS)[0]?.fieldSelector).toBe("metadata.name=default");
    expect(fake.listsOf(PEERS)[0]?.fieldSelector).toBeUndefined();
    expect(watch.health().map((h) => [h.resource, h.synced])).toEqual([
      ["nodes", true],
      ["bgppeers", true],
      ["bgpconfigurations", true],
      ["clusterinformations", true],
    ]);
    await watch.stop();
  });

  it("watches Calico objects in the detected group and version", async () => {
    const { watch, fake } = startCluster({
      apiVersion: "projectcalico.org/v3",
      group: "projectcalico.org",
      version: "v3",
    });
    await watch.waitForSync();
    const stream = await fake.nextStream("/apis/projectcalico.org/v3/bgppeers");
    expect(stream.request.resource).toBe("bgppeers.projectcalico.org");
    expect(watch.snapshot().calicoApiVersion).toBe("projectcalico.org/v3");
    await watch.stop();
  });

  it("tells subscribers about changes but not about heartbeats, until they unsubscribe", async () => {
    const { watch, fake } = startCluster();
    await watch.waitForSync();
    const stream = await fake.nextStream(NODES);
    let calls = 0;
    const unsubscribe = watch.subscribe(() => {
      calls += 1;
    });
    const before = watch.snapshot();
    stream.emit("MODIFIED", makeWireNode("n1", "30", { heartbeat: "2026-11-28T00:05:00Z" }));
    expect(calls).toBe(0);
    stream.emit("MODIFIED", makeWireNode("n1", "31", { zone: "b" }));
    expect(calls).toBe(1);
    expect(watch.snapshot()).not.toBe(before);
    expect(watch.snapshot().nodes[0]).toEqual(projected("n1", "31", "b"));
    unsubscribe();
    stream.emit("DELETED", makeWireNode("n1", "32"));
    expect(calls).toBe(1);
    expect(watch.snapshot().nodes.map((n) => n.name)).toEqual(["n2"]);
    await watch.stop();
  });

  it("returns the same snapshot object until something changes", async () => {
    const { watch } = startCluster();
    await watch.waitForSync();
    expect(watch.snapshot()).toBe(watch.snapshot());
    await watch.stop();
  });

  const observed = [
    {
      name: "the version the write returned",
      ref: { kind: "Node", name: "n1", resourceVersion: "11" },
      want: true,
    },
    {
      name: "an older version than the cache holds",
      ref: { kind: "Node", name: "n1", resourceVersion: "9" },
      want: true,
    },
    {
      name: "a newer version than the cache holds",
      ref: { kind: "Node", name: "n1", resourceVersion: "100" },
      want: false,
    },
    {
      name: "any version of an object that exists",
      ref: { kind: "BGPPeer", name: "rrfleet-mesh" },
      want: true,
    },
    {
      name: "an object that does not exist",
      ref: { kind: "BGPPeer", name: "rrfleet-rr-1" },
      want: false,
    },
    {
      name: "a delete of an absent object",
      ref: { kind: "BGPPeer", name: "rrfleet-rr-1", deleted: true },
      want: true,
    },
    {
      name: "a delete of an object still there",
      ref: { kind: "Node", name: "n2", deleted: true },
      want: false,
    },
    {
      name: "BGPConfiguration default",
      ref: { kind: "BGPConfiguration", name: "default", resourceVersion: "15" },
      want: true,
    },
  ] as const;
  it.each(observed)("hasObserved: $name is $want", async ({ ref, want }) => {
    const { watch } = startCluster();
    await watch.waitForSync();
    expect(watch.hasObserved(ref)).toBe(want);
    await watch.stop();
  });

  it("sees a heartbeat's resourceVersion, which writers fence on", async () => {
    const { watch, fake } = startCluster();
    await watch.waitForSync();
    const stream = await fake.nextStream(NODES);
    stream.emit("MODIFIED", makeWireNode("n1", "30", { heartbeat: "2026-11-28T00:05:00Z" }));
    expect(watch.hasObserved({ kind: "Node", name: "n1", resourceVersion: "30" })).toBe(true);
    expect(watch.snapshot().nodes[0]?.resourceVersion).toBe("30");
    await watch.stop();
  });

  it("observes nothing before it has synced, not even absence", async () => {
    const fake = makeFakeTransport();
    const down = new KubeError("Unavailable", "down", { retryable: true });
    fake.listFailures.set(NODES, [down]);
    fake.listFailures.set(INFORMATIONS, [down]);
    const clock = makeFakeTimers();
    // Sleeps that never end keep nodes unsynced.
    const timers: WatchTimers = {
      ...clock.timers,
      sleep: sleepUntilAborted,
    };
    const watch = startClusterWatch(fake.transport, { calico: CALICO }, timers);
    await settle();
    expect(watch.hasObserved({ kind: "Node", name: "n9", deleted: true })).toBe(false);
    expect(watch.calicoVersion()).toBe("v3.32.0");
    await watch.stop();
  });

  it("rejects waitForSync when stopped first, and when the caller's signal aborts", async () => {
    const fake = makeFakeTransport();
    fake.listFailures.set(NODES, [new KubeError("Unavailable", "down", { retryable: true })]);
    const timers: WatchTimers = {
      ...makeFakeTimers().timers,
      sleep: sleepUntilAborted,
    };
    const watch = startClusterWatch(fake.transport, { calico: CALICO }, timers);
    const caller = new AbortController();
    const aborted = watch.waitForSync(caller.signal);
    caller.abort(new Error("shutting down"));
    await expect(aborted).rejects.toThrow("shutting down");
    const pending = watch.waitForSync();
    await watch.stop();
    await expect(pending).rejects.toMatchObject({ code: "Unavailable" });
    await expect(watch.waitForSync()).rejects.toBeInstanceOf(KubeError);
  });

  const badOptions = [
    { name: "a zero quiet timeout", options: { quietTimeoutMs: 0 }, want: "quietTimeoutMs" },
    {
      name: "a backoff maximum below its start",
      options: { backoff: { initialMs: 5, maxMs: 1 } },
      want: "backoff",
    },
    {
      name: "a fractional watch timeout",
      options: { watchTimeoutSeconds: 1.5 },
      want: "watchTimeoutSeconds",
    },
    { name: "an empty page", options: { pageSize: 0 }, want: "pageSize" },
  ];
  it.each(badOptions)("refuses $name", ({ options, want }) => {
    const fake = makeFakeTransport();
    expect(() => startClusterWatch(fake.transport, { calico: CALICO, ...options })).toThrow(
      expect.objectContaining({
        code: "Invalid",
        message: expect.stringContaining(want) as unknown,
      }) as Error,
    );
  });
});
