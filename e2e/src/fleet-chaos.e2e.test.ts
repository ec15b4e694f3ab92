/**
 * Fleet mode under faults: 3 real API servers (one etcd, one prefix each), 3 `rrfleet-watcher`
 * and 2 `rrfleet-applier` processes, one redis-server — all started here. Every scenario prints
 * `chaos: <scenario>: routes lost N, stale writes N, takeover S s` and asserts 0 and 0.
 *
 * Judges, independent of the code under test:
 * - routes lost: one route observer per cluster runs the core's iBGP analysis on every state its
 *   own watch sees;
 * - stale writes: the API servers' audit logs. Each applier process incarnation authenticates as
 *   its own user (`applier-N`), and every write carries its leader epoch; a write is stale when it
 *   was accepted after its process was frozen past its lease, or after a write by a newer epoch
 *   in the same cluster.
 * Like a Deployment, the harness replaces an applier or watcher process that exits.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectRedis, createRedisFleetState, type FleetState } from "@rrfleet/fleet-state";
import { connectCluster, readClusterSnapshot } from "@rrfleet/kube";
import { parsePolicy, planCluster, type Policy } from "@rrfleet/topology-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createNodeFactory,
  findStaleWrites,
  grantShippedClusterRole,
  readAuditedWrites,
  startFleetService,
  startOtlpReceiver,
  startRouteObserver,
  startTestFleet,
  startTestRedis,
  userContextName,
  waitFor,
  writeFleetFile,
  type AuditedWrite,
  type FleetServiceProcess,
  type NodeFactory,
  type OtlpReceiver,
  type RouteObserver,
  type TestCluster,
  type TestFleet,
  type TestRedis,
} from "./harness/index.js";

const CLUSTERS = ["east", "west", "north"] as const;
const ZONES = ["zone-a", "zone-b", "zone-c"];
const NODES_PER_CLUSTER = 24;
const HEARTBEAT_S = 1;
const LEASE_S = 4;
const POLICY_INPUT = { topology: "multi", notReadyGraceSeconds: 300 } as const;
/** Each applier incarnation is its own user; the group holds the shipped ClusterRole and nothing else. */
const APPLIER_USERS = Array.from({ length: 40 }, (_, i) => ({
  name: `applier-${i + 1}`,
  token: `applier-token-${i + 1}-c0ffee`,
  groups: ["rrfleet-appliers"],
}));
/** The watchers' user holds the shipped read-only watcher ClusterRole: a write would be refused. */
const WATCHER_USER = { name: "watcher", token: "watcher-token-5eed", groups: ["rrfleet-watchers"] };
const ROLES = [
  { file: "clusterrole.yaml", group: "rrfleet-appliers" },
  { file: "clusterrole-watcher.yaml", group: "rrfleet-watchers" },
] as const;

const COMMON_ENV = {
  HEARTBEAT_SECONDS: String(HEARTBEAT_S),
  LOG_LEVEL: "info",
};
/** Spans are exported every 5 s by default; a test waits up to this long for them. */
const SPAN_EXPORT_WAIT_MS = 20_000;
const APPLIER_ENV = {
  ...COMMON_ENV,
  LEASE_SECONDS: String(LEASE_S),
  RENEW_DEADLINE_SECONDS: "3",
  RETRY_PERIOD_SECONDS: "0.5",
  SESSION_CHECK: "delay",
  SWITCHOVER_DELAY_SECONDS: "0.2",
  // Slow enough that a plan is still running when the leader is killed.
  CLUSTER_QPS: "4",
  CLUSTER_BURST: "2",
  RESYNC_SECONDS: "30",
};

function policyOf(input: unknown): Policy {
  const result = parsePolicy(input);
  if (!result.ok) throw new Error(`bad test policy: ${JSON.stringify(result.issues)}`);
  return result.policy;
}

/** One applier process incarnation and what the harness did to it. */
interface Incarnation {
  readonly process: FleetServiceProcess;
  readonly user: string;
  frozenAt?: number;
}

describe("fleet mode under chaos", () => {
  const policy = policyOf(POLICY_INPUT);
  let fleet: TestFleet;
  let dir: string;
  let redis: TestRedis;
  let otlp: OtlpReceiver;
  /** Undo steps of what beforeAll started, run in reverse by afterAll. */
  const cleanups: (() => Promise<void>)[] = [];
  let state: FleetState;
  let stateClient: Awaited<ReturnType<typeof connectRedis>> | undefined;
  const factories = new Map<string, NodeFactory>();
  const observers = new Map<string, RouteObserver>();
  const incarnations: Incarnation[] = [];
  const watchers: FleetServiceProcess[] = [];
  let shuttingDown = false;
  // A function: TypeScript cannot see the flag change during an await.
  const isShuttingDown = (): boolean => shuttingDown;
  let watcherCount = 0;

  const cluster = (name: string): TestCluster => fleet.cluster(name);

  /** The fleet file of one API user: every cluster, reached as that user. */
  const fleetFileFor = (user: string): Promise<string> =>
    writeFleetFile(
      join(dir, `fleet-${user}.yaml`),
      CLUSTERS.map((name) => ({
        name,
        kubeconfigPath: cluster(name).kubeconfigPath,
        context: userContextName(name, user),
      })),
      POLICY_INPUT,
    );

  /** Starts an applier incarnation as the next unused user; replaced like a Deployment would when it exits. */
  const startApplier = async (): Promise<Incarnation> => {
    const user = APPLIER_USERS[incarnations.length]?.name;
    if (user === undefined) throw new Error("out of applier users");
    const process = await startFleetService({
      kind: "applier",
      id: user,
      dir,
      env: {
        ...APPLIER_ENV,
        REDIS_URL: redis.url,
        FLEET_FILE: await fleetFileFor(user),
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      },
    });
    const incarnation: Incarnation = { process, user };
    incarnations.push(incarnation);
    void process.exited.then(async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      if (!isShuttingDown()) await startApplier();
    });
    return incarnation;
  };

  const startWatcher = async (): Promise<FleetServiceProcess> => {
    watcherCount += 1;
    const process = await startFleetService({
      kind: "watcher",
      id: `watcher-${watcherCount}`,
      dir,
      env: {
        ...COMMON_ENV,
        REDIS_URL: redis.url,
        FLEET_FILE: await fleetFileFor(WATCHER_USER.name),
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      },
    });
    watchers.push(process);
    return process;
  };

  const running = (): Incarnation[] =>
    incarnations.filter((i) => i.process.exitStatus() === undefined);

  /** The applier reporting itself leader. */
  const findLeader = (): Promise<Incarnation> =>
    waitFor(
      async () => {
        for (const incarnation of running()) {
          const metrics = await incarnation.process.metrics();
          if (metrics.get(`rrfleet_leader{applier="${incarnation.user}"}`) === 1)
            return incarnation;
        }
        return undefined;
      },
      { description: "an applier leading", timeoutMs: 30_000, intervalMs: 100 },
    );

  const routesLost = (): number =>
    [...observers.values()].reduce((sum, observer) => sum + observer.lostRoutes(), 0);

  const acceptedWrites = async (name: string): Promise<AuditedWrite[]> => {
    const file = cluster(name).auditLogFile;
    if (file === undefined) throw new Error("audit log missing");
    return (await readAuditedWrites(file)).filter(
      (w) => w.user.startsWith("applier-") && w.code < 400,
    );
  };

  /** Stale writes in every cluster so far (see the module comment), with examples. */
  const staleWrites = async (): Promise<{ count: number; examples: string[] }> => {
    const frozenAt = (user: string): number | undefined =>
      incarnations.find((i) => i.user === user)?.frozenAt;
    const found = await Promise.all(
      CLUSTERS.map(async (name) => findStaleWrites(name, await acceptedWrites(name), frozenAt)),
    );
    return {
      count: found.reduce((sum, f) => sum + f.count, 0),
      examples: found.flatMap((f) => f.examples),
    };
  };

  const isConverged = async (name: string): Promise<boolean> => {
    const snapshot = await readClusterSnapshot(
      connectCluster({ kubeconfigPath: cluster(name).kubeconfigPath, context: name }),
    );
    return (
      planCluster(snapshot, policy, new Date()).steps.length === 0 &&
      !snapshot.bgpConfiguration.nodeToNodeMeshEnabled
    );
  };

  const waitForConverged = async (
    what: string,
    names: readonly string[] = CLUSTERS,
  ): Promise<void> => {
    try {
      await waitFor(
        async () => {
          for (const name of names) if (!(await isConverged(name))) return undefined;
          return true;
        },
        { description: what, timeoutMs: 180_000, intervalMs: 500 },
      );
    } catch (err: unknown) {
      const tails = await Promise.all(
        running().map(async (i) => `--- ${i.user} ---\n${await i.process.logTail(15)}`),
      );
      throw new Error(`${String(err)}\n${tails.join("\n")}`, { cause: err });
    }
  };

  /** Prints the scenario's chaos line and asserts no route lost and no stale write. */
  const report = async (
    scenario: string,
    lostBefore: number,
    takeoverSeconds: number | undefined,
  ): Promise<void> => {
    const lost = routesLost() - lostBefore;
    const stale = await staleWrites();
    console.log(
      `chaos: ${scenario}: routes lost ${lost}, stale writes ${stale.count}, takeover ${takeoverSeconds === undefined ? "n/a" : `${takeoverSeconds.toFixed(2)} s`}`,
    );
    const losses = [...observers.values()].flatMap((o) => o.losses());
    expect(lost, losses.join("\n")).toBe(0);
    expect(stale.count, stale.examples.join("\n")).toBe(0);
  };

  /** The first write accepted from another applier than `previous` after `since` (epoch ms). */
  const firstWriteAfter = (since: number, previous: string): Promise<AuditedWrite> =>
    waitFor(
      async () => {
        const writes = (await Promise.all(CLUSTERS.map((name) => acceptedWrites(name)))).flat();
        return writes
          .filter((w) => w.receivedAt > since && w.user !== previous)
          .sort((a, b) => a.receivedAt - b.receivedAt)[0];
      },
      {
        description: `a write by the next leader after ${previous}`,
        timeoutMs: 60_000,
        intervalMs: 100,
      },
    );

  /** Waits until the current leader has written in `name` since `since` (a plan is under way). */
  const waitForLeaderWrite = (name: string, since: number, user: string): Promise<AuditedWrite> =>
    waitFor(
      async () => (await acceptedWrites(name)).find((w) => w.receivedAt > since && w.user === user),
      { description: `${user} writing in ${name}`, timeoutMs: 60_000, intervalMs: 50 },
    );

  beforeAll(async () => {
    fleet = await startTestFleet(CLUSTERS, {
      users: [...APPLIER_USERS, WATCHER_USER],
      auditLog: true,
    });
    cleanups.push(() => fleet.stop());
    dir = await mkdtemp(join(tmpdir(), "rrfleet-e2e-chaos-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    for (const name of CLUSTERS) {
      for (const { file, group } of ROLES) {
        await grantShippedClusterRole(cluster(name).kubeConfig, file, {
          kind: "Group",
          name: group,
        });
      }
      const factory = createNodeFactory(cluster(name).kubeConfig, {
        kubeletVersion: cluster(name).kubeApiserverVersion,
      });
      factories.set(name, factory);
      await factory.createNodes(NODES_PER_CLUSTER, { zones: ZONES });
      observers.set(
        name,
        await startRouteObserver({ kubeconfigPath: cluster(name).kubeconfigPath, context: name }),
      );
    }
    redis = await startTestRedis(dir);
    cleanups.push(() => redis.stop());
    otlp = await startOtlpReceiver();
    cleanups.push(() => otlp.stop());
    for (let i = 0; i < 3; i++) await startWatcher();
    await startApplier();
    await startApplier();
    stateClient = await connectRedis(redis.url);
    state = createRedisFleetState(stateClient, { prefix: "rrfleet" });
  });

  afterAll(async () => {
    shuttingDown = true;
    stateClient?.disconnect();
    await Promise.all([
      ...running().map((i) => i.process.stop(5_000)),
      ...watchers.map((w) => w.stop(5_000)),
    ]);
    await Promise.all([...observers.values()].map((o) => o.stop()));
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("has a stale-write judge that counts writes after a freeze and writes from an older epoch", () => {
    const write = (user: string, at: number, epoch?: number): AuditedWrite => ({
      user,
      verb: epoch === undefined ? "delete" : "patch",
      resource: "nodes",
      name: "n1",
      code: 200,
      receivedAt: at,
      ...(epoch === undefined ? {} : { epoch }),
    });
    const writes = [
      write("applier-1", 1_000, 3),
      write("applier-2", 2_000, 4),
      write("applier-1", 2_500, 3), // older epoch after a newer one: stale
      write("applier-1", 2_600), // a delete by the epoch-3 writer: stale too
      write("applier-2", 9_000, 4), // frozen at 5,000: stale
      write("applier-2", 5_500, 4), // in flight at the freeze: fine
    ];
    const frozen = (user: string) => (user === "applier-2" ? 5_000 : undefined);
    expect(findStaleWrites("east", writes, frozen).count).toBe(3);
    expect(findStaleWrites("east", writes.slice(0, 2), () => undefined).count).toBe(0);
  });

  it("converges the whole fleet from scratch, then through node churn in several clusters at once", async () => {
    const lost = routesLost();
    await waitForConverged("the fleet converged from scratch");
    await report("the whole fleet converges from scratch", lost, undefined);
    // The judge has something to judge: the writes are in the audit logs, fenced with an epoch.
    const writes = (await Promise.all(CLUSTERS.map((name) => acceptedWrites(name)))).flat();
    expect(writes.length).toBeGreaterThan(CLUSTERS.length * NODES_PER_CLUSTER);
    expect(writes.filter((w) => w.verb !== "delete" && w.epoch === undefined)).toEqual([]);
    // One trace from a node event to the writes: watcher.observe → (Redis) → applier.reconcile → applier.write.
    const linked = await waitFor(
      () => {
        const spans = otlp.spans();
        const observed = new Set(
          spans.filter((s) => s.name === "watcher.observe").map((s) => s.spanId),
        );
        const reconciles = spans.filter(
          (s) => s.name === "applier.reconcile" && observed.has(s.parentSpanId ?? ""),
        );
        const writes = spans.filter(
          (s) =>
            s.name === "applier.write" &&
            reconciles.some((r) => r.spanId === s.parentSpanId && r.traceId === s.traceId),
        );
        return Promise.resolve(writes.length > 0 ? { reconciles, writes } : undefined);
      },
      { description: "a trace from a watcher's change to a write", timeoutMs: SPAN_EXPORT_WAIT_MS },
    );
    console.log(
      `chaos: traces: ${linked.writes.length} writes in traces that start at a watcher's observed change`,
    );

    const churnLost = routesLost();
    for (const name of ["east", "west"]) {
      const factory = factories.get(name);
      if (factory === undefined) throw new Error(name);
      await factory.createNodes(3, { zones: ZONES, prefix: "churn" });
      await factory.deleteNode("node-0003");
      await factory.setReady("node-0004", false);
      await factory.cordon("node-0005");
    }
    await waitForConverged("the fleet converged after churn");
    await report("node churn in several clusters at once", churnLost, undefined);
  });

  it("loses no route and accepts no stale write when the leader is SIGKILLed in the middle of plans, 10 times", async () => {
    const lost = routesLost();
    const takeovers: number[] = [];
    for (let round = 0; round < 10; round++) {
      const name = CLUSTERS[round % CLUSTERS.length] ?? "east";
      const leader = await findLeader();
      const changedAt = Date.now();
      await factories.get(name)?.createNodes(6, { zones: ZONES, prefix: `kill${round}` });
      await waitForLeaderWrite(name, changedAt, leader.user);
      const killedAt = Date.now();
      leader.process.signal("SIGKILL");
      const next = await firstWriteAfter(killedAt, leader.user);
      takeovers.push((next.receivedAt - killedAt) / 1000);
    }
    await waitForConverged("the fleet converged after 10 leader kills");
    const worst = Math.max(...takeovers);
    await report("the leader SIGKILLed in the middle of plans, 10 times", lost, worst);
    expect(worst, `takeovers: ${takeovers.join(", ")} s`).toBeLessThanOrEqual(LEASE_S + 2);
  });

  it("gets no write accepted from a leader SIGSTOPped past its lease, which exits when resumed", async () => {
    const lost = routesLost();
    const leader = await findLeader();
    const changedAt = Date.now();
    await factories.get("north")?.createNodes(6, { zones: ZONES, prefix: "stop" });
    await waitForLeaderWrite("north", changedAt, leader.user);
    leader.frozenAt = Date.now();
    leader.process.signal("SIGSTOP");
    const next = await firstWriteAfter(leader.frozenAt, leader.user);
    const takeover = (next.receivedAt - leader.frozenAt) / 1000;
    const resumeAt = leader.frozenAt + (LEASE_S + 2) * 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, resumeAt - Date.now())));
    leader.process.signal("SIGCONT");
    const exit = await leader.process.exited;
    await waitForConverged("the fleet converged after the frozen leader");
    const late = (await Promise.all(CLUSTERS.map((n) => acceptedWrites(n))))
      .flat()
      .filter((w) => w.user === leader.user && w.receivedAt > (leader.frozenAt ?? 0) + 1_000);

    await report("the leader SIGSTOPped past its lease, then resumed", lost, takeover);
    expect(late).toEqual([]);
    expect(exit.code).toBe(3);
    expect(takeover).toBeLessThanOrEqual(LEASE_S + 2);
  });

  /**
   * Kills a watcher that owns clusters, waits until the shard map gives them to live watchers and
   * their new owners publish them, starts a replacement watcher, and checks that a node change
   * in one of them is applied. Returns the timings, from the kill.
   */
  const killAWatcher = async (
    /** Prefix of the nodes the check adds: unique per call. */
    nodePrefix: string,
  ): Promise<{
    victim: string;
    clusters: string[];
    reownedS: number;
    watchedS: number;
  }> => {
    const map = await waitFor(
      async () => {
        const current = await state.readShardMap();
        const owners = new Set(Object.values(current?.assignments ?? {}));
        return watchers.some((w) => w.exitStatus() === undefined && owners.has(w.id))
          ? current
          : undefined;
      },
      { description: "a shard map", timeoutMs: 30_000 },
    );
    const victim = watchers.find(
      (w) => w.exitStatus() === undefined && Object.values(map.assignments).includes(w.id),
    );
    if (victim === undefined) throw new Error("no watcher owns a cluster");
    const itsClusters = Object.entries(map.assignments)
      .filter(([, owner]) => owner === victim.id)
      .map(([name]) => name);
    const killedAt = Date.now();
    victim.signal("SIGKILL");
    const reowned = await waitFor(
      async () => {
        const current = await state.readShardMap();
        const live = new Set(
          watchers.filter((w) => w !== victim && w.exitStatus() === undefined).map((w) => w.id),
        );
        return itsClusters.every((name) => live.has(current?.assignments[name] ?? ""))
          ? Date.now()
          : undefined;
      },
      { description: "its clusters reassigned", timeoutMs: 30_000, intervalMs: 50 },
    );
    const watchedAgain = await waitFor(
      async () => {
        for (const name of itsClusters) {
          const stored = await state.readSnapshot(name);
          if (
            stored === undefined ||
            stored.meta.watcher === victim.id ||
            stored.meta.observedAt <= killedAt
          ) {
            return undefined;
          }
        }
        return Date.now();
      },
      {
        description: "its clusters published by their new owners",
        timeoutMs: 30_000,
        intervalMs: 50,
      },
    );
    await startWatcher();
    const changedAt = Date.now();
    const name = itsClusters[0] ?? "east";
    await factories.get(name)?.createNodes(2, { zones: ZONES, prefix: nodePrefix });
    await waitForConverged("converged after the watcher loss", [name]);
    expect((await acceptedWrites(name)).some((w) => w.receivedAt > changedAt)).toBe(true);

    return {
      victim: victim.id,
      clusters: itsClusters,
      reownedS: (reowned - killedAt) / 1000,
      watchedS: (watchedAgain - killedAt) / 1000,
    };
  };

  it("has a killed watcher's clusters watched again within 3 heartbeat periods", async () => {
    const lost = routesLost();
    const { victim, clusters, reownedS, watchedS } = await killAWatcher("afterwatcher");
    console.log(
      `chaos: watcher ${victim} killed: ${clusters.length} cluster(s) reassigned after ${reownedS.toFixed(2)} s, published by the new owner after ${watchedS.toFixed(2)} s`,
    );
    await report("a watcher killed", lost, undefined);
    expect(reownedS).toBeLessThanOrEqual(3 * HEARTBEAT_S);
    expect(watchedS).toBeLessThanOrEqual(3 * HEARTBEAT_S + 1);
  });

  /** Kills redis-server, restarts it empty, and waits until the map and every snapshot are back. */
  const restartRedisEmpty = async (): Promise<{ rebuiltS: number }> => {
    await redis.kill();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const restartedAt = Date.now();
    await redis.restart();
    await waitFor(
      async () => {
        const map = await state.readShardMap().catch(() => undefined);
        if (map === undefined) return undefined;
        for (const name of CLUSTERS) {
          if ((await state.readSnapshot(name).catch(() => undefined)) === undefined)
            return undefined;
        }
        return true;
      },
      { description: "shard map and snapshots back in Redis", timeoutMs: 60_000, intervalMs: 200 },
    );
    return { rebuiltS: (Date.now() - restartedAt) / 1000 };
  };

  it("rebuilds the fleet from the clusters after redis-server is killed and restarted empty", async () => {
    const lost = routesLost();
    const { rebuiltS } = await restartRedisEmpty();
    const changedAt = Date.now();
    await factories.get("west")?.createNodes(3, { zones: ZONES, prefix: "afterredis" });
    await waitForConverged("converged after Redis came back empty");
    expect((await acceptedWrites("west")).some((w) => w.receivedAt > changedAt)).toBe(true);
    console.log(
      `chaos: redis restarted empty: shard map and every snapshot back after ${rebuiltS.toFixed(2)} s`,
    );
    await report("redis-server killed and restarted empty", lost, undefined);
  });

  // After the restart the new leader's shard map starts again at epoch 1, below the epoch the
  // watchers applied before; they used to ignore it ("ignoring an older shard map"), so the
  // clusters a changed map moved were watched by nobody (and rrfleet_orphaned_clusters read 0).
  it("follows a shard map that changes after Redis came back empty: a killed watcher's clusters are watched again", async () => {
    const lost = routesLost();
    // Watchers apply a map epoch well above where the next leadership starts again: move
    // clusters around by replacing owners (each one that leaves makes the leader reassign).
    const readEpoch = async (): Promise<number> => (await state.readShardMap())?.epoch ?? 0;
    const wantApplied = (await readEpoch()) + 4;
    while ((await readEpoch()) < wantApplied) {
      const map = await state.readShardMap();
      const owners = new Set(Object.values(map?.assignments ?? {}));
      const owner = watchers.find((w) => w.exitStatus() === undefined && owners.has(w.id));
      if (owner === undefined) {
        const live = watchers.filter((w) => w.exitStatus() === undefined).map((w) => w.id);
        throw new Error(
          `no live watcher owns a cluster: map ${JSON.stringify(map)}, live watchers ${live.join(", ")}`,
        );
      }
      const epoch = await readEpoch();
      owner.signal("SIGTERM");
      await owner.exited;
      await waitFor(async () => ((await readEpoch()) > epoch ? true : undefined), {
        description: "the shard map changed",
        timeoutMs: 30_000,
        intervalMs: 50,
      });
      // Keep three watchers: the replacement is heartbeating before the next one leaves.
      const replacement = await startWatcher();
      await waitFor(
        async () =>
          (await state.listMembers(Date.now())).some((m) => m.watcherId === replacement.id)
            ? true
            : undefined,
        { description: `${replacement.id} heartbeating`, timeoutMs: 30_000, intervalMs: 50 },
      );
    }
    const applied = await readEpoch();
    // Watchers read the map every quarter heartbeat: let them all apply it.
    await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_S * 1000));

    await restartRedisEmpty();
    const { victim, clusters, reownedS, watchedS } = await killAWatcher("afterflush");
    const after = await state.readShardMap();
    console.log(
      `chaos: Redis restarted empty after the watchers applied shard map epoch ${applied}; the new leader's map moved ${clusters.length} cluster(s) of killed watcher ${victim} at epoch ${after?.epoch ?? "?"} after ${reownedS.toFixed(2)} s, published by the new owner after ${watchedS.toFixed(2)} s`,
    );
    // The scenario exercised what it is about: the moving map's epoch is below the applied one.
    expect(after?.epoch ?? Infinity).toBeLessThan(applied);
    await report("a watcher killed after Redis restarted empty", lost, undefined);
    expect(reownedS).toBeLessThanOrEqual(3 * HEARTBEAT_S);
    expect(watchedS).toBeLessThanOrEqual(3 * HEARTBEAT_S + 1);
  });

  it("resumes watches after an API server restart without a relist storm", async () => {
    const lost = routesLost();
    const relists = async (): Promise<number> => {
      let sum = 0;
      for (const watcher of watchers) {
        for (const [key, value] of await watcher.metrics()) {
          if (
            key.startsWith("rrfleet_watch_events_total{") &&
            key.includes('cluster="east"') &&
            key.includes('kind="RELIST"')
          ) {
            sum += value;
          }
        }
      }
      return sum;
    };
    const before = await relists();
    await cluster("east").restartApiServer();
    const changedAt = Date.now();
    await factories.get("east")?.createNodes(3, { zones: ZONES, prefix: "afterrestart" });
    await waitForConverged("converged after the API server restart", ["east"]);
    expect((await acceptedWrites("east")).some((w) => w.receivedAt > changedAt)).toBe(true);
    const relisted = (await relists()) - before;
    console.log(
      `chaos: API server of east restarted: ${relisted} relist(s) by its watcher (4 resources watched)`,
    );
    await report("an API server restarted", lost, undefined);
    expect(relisted).toBeLessThanOrEqual(4);
  });
});
