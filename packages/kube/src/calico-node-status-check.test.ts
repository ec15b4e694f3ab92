import {
  FENCING_EPOCH_ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
} from "@rrfleet/topology-core";
import { describe, expect, it } from "vitest";
import {
  CALICO_IPV4_ADDRESS_ANNOTATION,
  createCalicoNodeStatusCheck,
  renderRouteStatusName,
  renderSessionStatusName,
  type CalicoNodeStatusCheckOptions,
} from "./calico-node-status-check.js";
import type { CalicoApi } from "./detect-calico-api.js";
import { KubeError } from "./kube-error.js";
import type { SessionPair } from "./session-check.js";
import { makeFakeApiServer, type FakeApiServer } from "./testing/fake-api-server.js";

const CALICO: CalicoApi = {
  apiVersion: "crd.projectcalico.org/v1",
  group: "crd.projectcalico.org",
  version: "v1",
};
const STATUSES = "caliconodestatuses";

/** Nodes `name → IPv4/16` (undefined: no Calico address annotation). */
function storeNodes(server: FakeApiServer, nodes: Record<string, string | undefined>): void {
  for (const [name, address] of Object.entries(nodes)) {
    server.put("nodes", {
      metadata: {
        name,
        annotations:
          address === undefined ? {} : { [CALICO_IPV4_ADDRESS_ANNOTATION]: `${address}/16` },
      },
    });
  }
}

/** What calico-node on `node` would write into the status object watching it. */
function reportSessions(
  server: FakeApiServer,
  node: string,
  peers: readonly { peerIP: string; state: string; type?: string }[],
  lastUpdated = "2026-11-28T00:00:00Z",
): void {
  writeStatus(server, renderSessionStatusName(node), {
    lastUpdated,
    bgp: {
      numberEstablishedV4: peers.filter((p) => p.state === "Established").length,
      numberEstablishedV6: 0,
      numberNotEstablishedV4: peers.filter((p) => p.state !== "Established").length,
      numberNotEstablishedV6: 0,
      peersV4: peers.map((p) => ({ type: "NodePeer", ...p, since: "00:00:00" })),
    },
  });
}

/** calico-node writing `status` into the object named `name`, when it exists. */
function writeStatus(server: FakeApiServer, name: string, status: Record<string, unknown>): void {
  const current = server.read(STATUSES, name);
  if (current !== undefined) server.put(STATUSES, { ...current, status });
}

/** What calico-node on `node` would write into the status object reading its routes. */
function reportRoutes(
  server: FakeApiServer,
  node: string,
  routes: readonly { destination: string; sourceType: string; peerIP: string }[],
  lastUpdated: string,
): void {
  writeStatus(server, renderRouteStatusName(node), {
    lastUpdated,
    routes: {
      routesV4: routes.map((r) => ({
        type: "FIB",
        destination: r.destination,
        gateway: r.peerIP,
        interface: "eth0",
        learnedFrom: { sourceType: r.sourceType, peerIP: r.peerIP },
      })),
    },
  });
}

/**
 * A check on a fake clock: `sleep` advances it and then runs `onTick` (calico-node reporting, a
 * test aborting). Records every sleep.
 */
function makeCheck(
  server: FakeApiServer,
  options: CalicoNodeStatusCheckOptions & { onTick?: (nowMs: number) => void } = {},
) {
  let nowMs = 0;
  const sleeps: number[] = [];
  const { onTick, ...rest } = options;
  const check = createCalicoNodeStatusCheck(server, CALICO, {
    timeoutMs: 10_000,
    pollIntervalMs: 1_000,
    fallbackDelayMs: 5_000,
    settleMs: 0,
    now: () => nowMs,
    sleep: (ms, signal) => {
      signal?.throwIfAborted();
      sleeps.push(ms);
      nowMs += ms;
      onTick?.(nowMs);
      signal?.throwIfAborted();
      return Promise.resolve();
    },
    ...rest,
  });
  return { check, sleeps, now: () => nowMs };
}

const pair = (node: string, peer: string): SessionPair => ({ node, peer });

describe("createCalicoNodeStatusCheck", () => {
  it("creates one status object per watched node, polls until every session is Established, then deletes it", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, { rr: "10.1.0.1", c1: "10.1.0.2", c2: "10.1.0.3" });
    const specs: unknown[] = [];
    const { check, sleeps } = makeCheck(server, {
      updatePeriodSeconds: 3,
      onTick: (nowMs) => {
        specs.push(server.read(STATUSES, "rrfleet-sessions-rr"));
        if (nowMs === 1_000) {
          reportSessions(server, "rr", [
            { peerIP: "10.1.0.2", state: "Established" },
            { peerIP: "10.1.0.3", state: "OpenSent" },
          ]);
        }
        if (nowMs === 2_000) {
          reportSessions(server, "rr", [
            { peerIP: "10.1.0.2", state: "Established" },
            { peerIP: "10.1.0.3", state: "Established" },
          ]);
        }
      },
    });

    const result = await check.waitForSessions([pair("rr", "c1"), pair("rr", "c2")]);

    expect(result).toEqual({ established: 2, missing: [], unverifiable: [], unchecked: 0 });
    expect(sleeps).toEqual([1_000, 1_000]);
    expect(specs[0]).toMatchObject({
      apiVersion: "crd.projectcalico.org/v1",
      kind: "CalicoNodeStatus",
      metadata: { name: "rrfleet-sessions-rr", labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } },
      spec: { node: "rr", classes: ["BGP"], updatePeriodSeconds: 3 },
    });
    expect(server.log()).toEqual([
      "get nodes/c1",
      "get nodes/c2",
      "create caliconodestatuses/rrfleet-sessions-rr",
      "list caliconodestatuses",
      "list caliconodestatuses",
      "list caliconodestatuses",
      "delete caliconodestatuses/rrfleet-sessions-rr",
    ]);
    expect(server.requests.find((r) => r.verb === "list")).toMatchObject({
      group: "crd.projectcalico.org",
      version: "v1",
      labelSelector: "app.kubernetes.io/managed-by=rrfleet",
    });
    expect(server.names(STATUSES)).toEqual([]);
  });

  it("reports the pairs still not Established when the timeout hits, and cleans up", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, { rr: "10.1.0.1", c1: "10.1.0.2", c2: "10.1.0.3" });
    const { check, now } = makeCheck(server, {
      timeoutMs: 4_500,
      onTick: () => {
        reportSessions(server, "rr", [
          { peerIP: "10.1.0.2", state: "Established" },
          { peerIP: "10.1.0.3", state: "Active" },
        ]);
      },
    });

    const result = await check.waitForSessions([pair("rr", "c1"), pair("rr", "c2")]);

    expect(result).toEqual({
      established: 1,
      missing: [pair("rr", "c2")],
      unverifiable: [],
      unchecked: 0,
    });
    expect(now()).toBe(4_500);
    expect(server.names(STATUSES)).toEqual([]);
  });

  it("watches the node covering the most pairs and reports pairs as given", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, { rr: "10.1.0.1", c1: "10.1.0.2", c2: "10.1.0.3" });
    const { check } = makeCheck(server, {
      onTick: () => {
        reportSessions(server, "rr", [{ peerIP: "10.1.0.2", state: "Established" }]);
      },
    });

    const result = await check.waitForSessions([
      pair("c1", "rr"),
      pair("c2", "rr"),
      pair("c1", "rr"),
    ]);

    expect(result).toEqual({
      established: 1,
      missing: [pair("c2", "rr")],
      unverifiable: [],
      unchecked: 0,
    });
    expect(server.log().filter((line) => line.startsWith("create"))).toEqual([
      "create caliconodestatuses/rrfleet-sessions-rr",
    ]);
  });

  it("counts a session only when it has the protocol the pair asks for (a mesh session is not a BGPPeer session)", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, { rr: "10.1.0.1", c1: "10.1.0.2", c2: "10.1.0.3" });
    const { check } = makeCheck(server, {
      timeoutMs: 3_000,
      onTick: () => {
        // c1: the mesh session holds the neighbour, the explicit one is Idle (Calico keeps both).
        reportSessions(server, "rr", [
          { peerIP: "10.1.0.2", state: "Established", type: "NodeMesh" },
          { peerIP: "10.1.0.2", state: "Idle", type: "NodePeer" },
          { peerIP: "10.1.0.3", state: "Established", type: "GlobalPeer" },
        ]);
      },
    });

    const result = await check.waitForSessions([
      { node: "rr", peer: "c1", kinds: ["peer"] },
      { node: "rr", peer: "c2", kinds: ["peer"] },
    ]);

    expect(result.missing).toEqual([{ node: "rr", peer: "c1", kinds: ["peer"] }]);
    expect(result.established).toBe(1);
  });

  it("accepts either protocol for a pair that has both (only one of them can hold the neighbour)", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, { a: "10.1.0.1", b: "10.1.0.2" });
    const { check } = makeCheck(server, {
      onTick: () => {
        reportSessions(server, "a", [
          { peerIP: "10.1.0.2", state: "Idle", type: "NodeMesh" },
          { peerIP: "10.1.0.2", state: "Established", type: "NodePeer" },
        ]);
      },
    });

    const result = await check.waitForSessions([{ node: "a", peer: "b", kinds: ["mesh", "peer"] }]);

    expect(result.missing).toEqual([]);
  });

  it("does not trust a report first seen before the settle time: calico-node may not have applied the last change yet", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, { rr: "10.1.0.1", c1: "10.1.0.2" });
    const { check, now } = makeCheck(server, {
      settleMs: 2_500,
      onTick: (nowMs) => {
        // A stale report at once; calico-node's next one (new lastUpdated) at 4 s.
        reportSessions(
          server,
          "rr",
          [{ peerIP: "10.1.0.2", state: "Established" }],
          nowMs >= 4_000 ? "2026-11-28T00:00:04Z" : "2026-11-28T00:00:00Z",
        );
      },
    });

    const result = await check.waitForSessions([pair("rr", "c1")]);

    expect(result.missing).toEqual([]);
    expect(now()).toBe(4_000);
  });

  it("watches at most maxWatchedNodes nodes, those covering the most pairs, and counts the rest unchecked", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, { rr: "10.1.0.1", c1: "10.1.0.2", c2: "10.1.0.3", c3: "10.1.0.4" });
    const { check } = makeCheck(server, {
      maxWatchedNodes: 1,
      onTick: () => {
        reportSessions(server, "rr", [
          { peerIP: "10.1.0.2", state: "Established" },
          { peerIP: "10.1.0.3", state: "Established" },
          { peerIP: "10.1.0.4", state: "Established" },
        ]);
      },
    });

    const result = await check.waitForSessions([
      pair("c1", "rr"),
      pair("c2", "rr"),
      pair("c3", "rr"),
      pair("c1", "c2"),
    ]);

    expect(result).toMatchObject({ established: 3, missing: [], unchecked: 1 });
    expect(server.log().filter((line) => line.startsWith("create"))).toEqual([
      "create caliconodestatuses/rrfleet-sessions-rr",
    ]);
  });

  it("reports peers without an IPv4 address as unverifiable and waits the fallback delay for them", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, { rr: "10.1.0.1", c1: "10.1.0.2", v6only: undefined });
    const { check, now } = makeCheck(server, {
      onTick: () => {
        reportSessions(server, "rr", [{ peerIP: "10.1.0.2", state: "Established" }]);
      },
    });

    const result = await check.waitForSessions([
      pair("rr", "c1"),
      pair("rr", "v6only"),
      pair("rr", "gone"),
    ]);

    expect(result).toEqual({
      established: 1,
      missing: [],
      unverifiable: [pair("rr", "v6only"), pair("rr", "gone")],
      unchecked: 0,
    });
    expect(now()).toBe(5_000);
    expect(server.names(STATUSES)).toEqual([]);
  });

  it("creates nothing when no pair can be verified", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, { rr: "10.1.0.1", c1: undefined });
    const { check, sleeps } = makeCheck(server);

    const result = await check.waitForSessions([pair("rr", "c1")]);

    expect(result).toEqual({
      established: 0,
      missing: [],
      unverifiable: [pair("rr", "c1")],
      unchecked: 0,
    });
    expect(sleeps).toEqual([5_000]);
    expect(server.log()).toEqual(["get nodes/c1"]);
  });

  it("returns at once for no pairs", async () => {
    const server = makeFakeApiServer();
    const { check, sleeps } = makeCheck(server);

    await expect(check.waitForSessions([])).resolves.toEqual({
      established: 0,
      missing: [],
      unverifiable: [],
    });
    expect(sleeps).toEqual([]);
    expect(server.requests).toEqual([]);
  });

  it("reads many peers' addresses with one paginated LIST instead of a GET each", async () => {
    const server = makeFakeApiServer();
    const clients = Array.from({ length: 60 }, (_, i) => `c${String(i)}`);
    storeNodes(server, {
      rr: "10.1.0.1",
      ...Object.fromEntries(clients.map((c, i) => [c, `10.2.0.${String(i + 1)}`])),
    });
    const { check } = makeCheck(server, {
      onTick: () => {
        reportSessions(
          server,
          "rr",
          clients.map((_, i) => ({ peerIP: `10.2.0.${String(i + 1)}`, state: "Established" })),
        );
      },
    });

    const result = await check.waitForSessions(clients.map((c) => pair("rr", c)));

    expect(result.established).toBe(60);
    expect(server.log().filter((line) => / nodes(\/|$)/.test(line))).toEqual(["list nodes"]);
  });

  it("deletes its status objects when aborted, rejecting with the reason", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, { rr: "10.1.0.1", rr2: "10.1.0.9", c1: "10.1.0.2", c2: "10.1.0.3" });
    const controller = new AbortController();
    const reason = new Error("leadership lost");
    const seen: string[][] = [];
    const { check } = makeCheck(server, {
      onTick: () => {
        seen.push(server.names(STATUSES));
        controller.abort(reason);
      },
    });

    const err = await check
      .waitForSessions([pair("rr", "c1"), pair("rr2", "c2")], controller.signal)
      .catch((e: unknown) => e);

    expect(err).toBe(reason);
    expect(seen).toEqual([["rrfleet-sessions-rr", "rrfleet-sessions-rr2"]]);
    expect(server.names(STATUSES)).toEqual([]);
  });

  it("replaces a leftover status object of its own", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, { rr: "10.1.0.1", c1: "10.1.0.2" });
    server.put(STATUSES, {
      metadata: { name: "rrfleet-sessions-rr", labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } },
      spec: { node: "rr", classes: ["BGP"], updatePeriodSeconds: 2 },
      status: { bgp: { peersV4: [{ peerIP: "10.1.0.2", state: "Established" }] } },
    });
    const { check, sleeps } = makeCheck(server, {
      timeoutMs: 2_000,
    });

    const result = await check.waitForSessions([pair("rr", "c1")]);

    // The stale status said Established; the fresh object has no status yet.
    expect(result).toEqual({
      established: 0,
      missing: [pair("rr", "c1")],
      unverifiable: [],
      unchecked: 0,
    });
    expect(sleeps).toEqual([1_000, 1_000]);
    expect(server.log().slice(1, 5)).toEqual([
      "create caliconodestatuses/rrfleet-sessions-rr",
      "get caliconodestatuses/rrfleet-sessions-rr",
      "delete caliconodestatuses/rrfleet-sessions-rr",
      "create caliconodestatuses/rrfleet-sessions-rr",
    ]);
    expect(server.names(STATUSES)).toEqual([]);
  });

  it("refuses to touch a status object of the same name that is not rrfleet's", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, { rr: "10.1.0.1", c1: "10.1.0.2" });
    const foreign = server.put(STATUSES, {
      metadata: { name: "rrfleet-sessions-rr", labels: { team: "network" } },
      spec: { node: "rr" },
    });
    const { check } = makeCheck(server);

    const err = await check.waitForSessions([pair("rr", "c1")]).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(KubeError);
    expect(err).toMatchObject({ code: "Conflict" });
    expect((err as Error).message).toBe(
      'create caliconodestatuses.crd.projectcalico.org "rrfleet-sessions-rr": it already exists and is not rrfleet\'s',
    );
    expect(server.read(STATUSES, "rrfleet-sessions-rr")).toEqual(foreign);
  });

  it("throws the API error naming the resource when it may not create status objects", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, { rr: "10.1.0.1", c1: "10.1.0.2" });
    server.interfere({ before: () => undefined }, { status: 403, message: "forbidden" });
    const { check } = makeCheck(server);

    const err = await check.waitForSessions([pair("rr", "c1")]).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: "Forbidden" });
    expect((err as Error).message).toMatch(
      /^forbidden: rrfleet needs "create" on "caliconodestatuses.crd.projectcalico.org"/,
    );
    // The failed create may not have landed; deleting by name is harmless (404).
    expect(server.log()).toEqual([
      "get nodes/c1",
      "create caliconodestatuses/rrfleet-sessions-rr",
      "delete caliconodestatuses/rrfleet-sessions-rr",
    ]);
  });
});

describe("createCalicoNodeStatusCheck: fencing (fleet mode)", () => {
  const fencing = (epoch: number, current: () => boolean = () => true) => ({
    epoch,
    assertCurrent: () => {
      if (!current()) throw new KubeError("Fenced", "the lease is over");
    },
  });

  it("stamps the leader's epoch on the status objects it creates", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, { rr: "10.1.0.1", c1: "10.1.0.2" });
    const annotations: unknown[] = [];
    const { check } = makeCheck(server, {
      timeoutMs: 1_000,
      fencing: fencing(7),
      onTick: () => {
        annotations.push(server.read(STATUSES, "rrfleet-sessions-rr")?.metadata.annotations);
      },
    });

    await check.waitForSessions([pair("rr", "c1")]);

    expect(annotations[0]).toMatchObject({ [FENCING_EPOCH_ANNOTATION]: "7" });
  });

  it("creates and deletes nothing once the lease is over", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, { rr: "10.1.0.1", c1: "10.1.0.2" });
    const { check } = makeCheck(server, { fencing: fencing(7, () => false) });

    const err = await check.waitForSessions([pair("rr", "c1")]).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: "Fenced" });
    expect(
      server.log().filter((line) => !line.startsWith("get ") && !line.startsWith("list ")),
    ).toEqual([]);
  });

  it("stops asking for writes when the lease ends mid-check: its own objects are left for the next check to replace", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, { rr: "10.1.0.1", c1: "10.1.0.2" });
    let current = true;
    const { check } = makeCheck(server, {
      timeoutMs: 3_000,
      fencing: fencing(7, () => current),
      onTick: () => {
        current = false;
      },
    });

    const err = await check.waitForSessions([pair("rr", "c1")]).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: "Fenced" });
    expect(server.log().filter((line) => line.startsWith("delete "))).toEqual([]);
    expect(server.names(STATUSES)).toEqual(["rrfleet-sessions-rr"]);
  });

  it("refuses to replace a leftover status object a newer leader created, deleting nothing", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, { rr: "10.1.0.1", c1: "10.1.0.2" });
    const newer = server.put(STATUSES, {
      metadata: {
        name: "rrfleet-sessions-rr",
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
        annotations: { [FENCING_EPOCH_ANNOTATION]: "9" },
      },
      spec: { node: "rr", classes: ["BGP"], updatePeriodSeconds: 2 },
    });
    const { check } = makeCheck(server, { fencing: fencing(7) });

    const err = await check.waitForSessions([pair("rr", "c1")]).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: "Fenced" });
    expect(server.log().filter((line) => line.startsWith("delete "))).toEqual([]);
    expect(server.read(STATUSES, "rrfleet-sessions-rr")).toEqual(newer);
  });

  it("replaces a leftover status object of an older leader", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, { rr: "10.1.0.1", c1: "10.1.0.2" });
    server.put(STATUSES, {
      metadata: {
        name: "rrfleet-sessions-rr",
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
        annotations: { [FENCING_EPOCH_ANNOTATION]: "6" },
      },
      spec: { node: "rr", classes: ["BGP"], updatePeriodSeconds: 2 },
    });
    const { check } = makeCheck(server, { timeoutMs: 1_000, fencing: fencing(7) });

    await check.waitForSessions([pair("rr", "c1")]);

    expect(
      server.log().filter((line) => line.startsWith("delete ") || line.startsWith("create ")),
    ).toEqual([
      "create caliconodestatuses/rrfleet-sessions-rr",
      "delete caliconodestatuses/rrfleet-sessions-rr",
      "create caliconodestatuses/rrfleet-sessions-rr",
      "delete caliconodestatuses/rrfleet-sessions-rr",
    ]);
    expect(server.names(STATUSES)).toEqual([]);
  });
});

describe("renderSessionStatusName", () => {
  it("prefixes short node names", () => {
    expect(renderSessionStatusName("ip-10-0-1-7.ec2.internal")).toBe(
      "rrfleet-sessions-ip-10-0-1-7.ec2.internal",
    );
  });

  it("shortens long names with a hash, staying within 253 characters and distinct", () => {
    const a = `${"a".repeat(230)}.${"b".repeat(20)}`;
    const b = `${"a".repeat(230)}.${"c".repeat(20)}`;
    const nameA = renderSessionStatusName(a);
    expect(nameA.length).toBeLessThanOrEqual(253);
    expect(nameA).toMatch(/^rrfleet-sessions-a+-[0-9a-f]{10}$/);
    expect(renderSessionStatusName(b)).not.toBe(nameA);
    expect(renderSessionStatusName(a)).toBe(nameA);
  });
});

describe("createCalicoNodeStatusCheck: waitForRoutes", () => {
  const NODES = { rr: "10.1.0.1", c1: "10.1.0.2", c2: "10.1.0.3" };
  const keepsReflector = (node: string) => ({
    node,
    keeps: [{ peer: "rr", kinds: ["peer"] as const }],
  });
  const meshRoute = (destination: string, peerIP: string) => ({
    destination,
    sourceType: "NodeMesh",
    peerIP,
  });
  const reflected = (destination: string) => ({
    destination,
    sourceType: "BGPPeer",
    peerIP: "10.1.0.1",
  });

  it("reads a node's routes until every mesh route also comes over its reflector session, then deletes its object", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, NODES);
    const specs: unknown[] = [];
    const { check, sleeps } = makeCheck(server, {
      onTick: (nowMs) => {
        specs.push(server.read(STATUSES, "rrfleet-routes-c1"));
        const routes = [meshRoute("192.168.0.64/26", "10.1.0.3"), reflected("192.168.0.0/26")];
        // The reflector's copy of c2's block arrives one report later.
        if (nowMs >= 2_000) routes.push(reflected("192.168.0.64/26"));
        reportRoutes(server, "c1", routes, `t${nowMs}`);
      },
    });

    const result = await check.waitForRoutes({ handovers: [keepsReflector("c1")], exempt: [] });

    expect(result).toEqual({ confirmed: 1, missing: [], unchecked: 0 });
    expect(sleeps).toEqual([1_000, 1_000]);
    expect(specs[0]).toMatchObject({
      metadata: { name: "rrfleet-routes-c1", labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } },
      spec: { node: "c1", classes: ["Routes"] },
    });
    expect(server.names(STATUSES)).toEqual([]);
  });

  it("reports the node and the destinations it still lacks over its kept sessions at the timeout", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, NODES);
    const { check } = makeCheck(server, {
      timeoutMs: 3_000,
      onTick: (nowMs) => {
        reportRoutes(server, "c1", [meshRoute("192.168.0.64/26", "10.1.0.3")], `t${nowMs}`);
      },
    });

    const result = await check.waitForRoutes({ handovers: [keepsReflector("c1")], exempt: [] });

    expect(result).toEqual({
      confirmed: 0,
      missing: [{ node: "c1", destinations: ["192.168.0.64/26"] }],
      unchecked: 0,
    });
    expect(server.names(STATUSES)).toEqual([]);
  });

  it("trusts no report older than the settle time: a report from before the check shows nothing yet", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, NODES);
    const { check } = makeCheck(server, {
      timeoutMs: 2_500,
      settleMs: 5_000,
      onTick: () => {
        reportRoutes(server, "c1", [reflected("192.168.0.64/26")], "unchanged");
      },
    });

    const result = await check.waitForRoutes({ handovers: [keepsReflector("c1")], exempt: [] });

    expect(result.missing).toEqual([{ node: "c1", destinations: [] }]);
  });

  it("reads at most maxRouteNodes nodes and counts the others as unchecked", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, NODES);
    const { check } = makeCheck(server, {
      maxRouteNodes: 1,
      random: () => 0,
      onTick: (nowMs) => {
        for (const node of ["c1", "c2"]) reportRoutes(server, node, [], `t${nowMs}`);
      },
    });

    const result = await check.waitForRoutes({
      handovers: [keepsReflector("c1"), keepsReflector("c2")],
      exempt: [],
    });

    expect(result).toEqual({ confirmed: 1, missing: [], unchecked: 1 });
    expect(server.log().filter((line) => line.startsWith("create"))).toEqual([
      "create caliconodestatuses/rrfleet-routes-c1",
    ]);
  });

  it("says so when no node to read has a Calico address, and creates nothing", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, { ...NODES, c1: undefined });
    const { check } = makeCheck(server);

    const result = await check.waitForRoutes({ handovers: [keepsReflector("c1")], exempt: [] });

    expect(result).toMatchObject({ confirmed: 0, missing: [], unchecked: 1 });
    expect(result.unverifiable).toMatch(/no node .* has a Calico IPv4 address/);
    expect(server.log().filter((line) => !line.startsWith("list nodes"))).toEqual([]);
  });

  it("says why it cannot check a cluster too large for a route report, and creates nothing", async () => {
    const server = makeFakeApiServer();
    storeNodes(server, NODES);
    const { check } = makeCheck(server, { maxRouteCheckClusterNodes: 2 });

    const result = await check.waitForRoutes({ handovers: [keepsReflector("c1")], exempt: [] });

    expect(result).toMatchObject({ confirmed: 0, missing: [], unchecked: 1 });
    expect(result.unverifiable).toMatch(/3 nodes, more than 2/);
    expect(server.log().filter((line) => !line.startsWith("list nodes"))).toEqual([]);
  });
});
