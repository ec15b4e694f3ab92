/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node's RBAC
   models are plain data to its serializer; the test writes them as object literals. */
import { CustomObjectsApi, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { connectCluster, readClusterSnapshot } from "@rrfleet/kube";
import {
  parsePolicy,
  planCluster,
  type ClusterSnapshot,
  type Plan,
  type Policy,
} from "@rrfleet/topology-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createNodeFactory,
  describeExit,
  grantShippedClusterRole,
  readAuditedWrites,
  readLogTail,
  startRouteObserver,
  startRrctlRun,
  startTestCluster,
  userContextName,
  waitFor,
  waitForReady,
  type NodeFactory,
  type RouteObserver,
  type RrctlRunProcess,
  type TestCluster,
} from "./harness/index.js";

const CALICO = { group: "crd.projectcalico.org", version: "v1" } as const;
const POLICY_INPUT = { topology: "multi", notReadyGraceSeconds: 300 } as const;
const LIMITED = { name: "limited", token: "limited-token-5b0e" } as const;
/** The controller's own user, bound to the ClusterRole this repo ships (and nothing else). */
const CONTROLLER = { name: "rrfleet", token: "rrfleet-token-91d3" } as const;
/** Fast switchovers: there is no Calico here to wait for, and the observer checks every state. */
const RUN_ARGS = [
  "--session-check",
  "delay",
  "--switchover-delay-seconds",
  "0.3",
  "--qps",
  "200",
  "--burst",
  "400",
  "--resync-seconds",
  "2",
];
const ZONES = ["zone-a", "zone-b", "zone-c"];

function policyOf(input: unknown): Policy {
  const result = parsePolicy(input);
  if (!result.ok) throw new Error(`bad test policy: ${JSON.stringify(result.issues)}`);
  return result.policy;
}

describe("rrctl run against a real API server", () => {
  const policy = policyOf(POLICY_INPUT);
  let cluster: TestCluster;
  let nodes: NodeFactory;
  let observer: RouteObserver;
  let run: RrctlRunProcess | undefined;
  let custom: CustomObjectsApi;

  const readSnapshot = async (): Promise<ClusterSnapshot> =>
    readClusterSnapshot(
      connectCluster({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.name }),
    );

  /** Waits until the stored state needs no step and the mesh is off; returns that plan. */
  const waitForConverged = async (what: string, timeoutMs = 180_000): Promise<Plan> => {
    try {
      return await waitFor(
        async () => {
          const snapshot = await readSnapshot();
          const plan = planCluster(snapshot, policy, new Date());
          return plan.steps.length === 0 && !snapshot.bgpConfiguration.nodeToNodeMeshEnabled
            ? plan
            : undefined;
        },
        {
          description: what,
          timeoutMs,
          intervalMs: 500,
          // A controller that died will not converge anything: fail now, not after the timeout.
          abortIf: () => (run === undefined ? undefined : describeExit(run)),
        },
      );
    } catch (err: unknown) {
      throw new Error(
        `${String(err)}\n${run === undefined ? "" : await readLogTail(run.logFile, 30)}`,
        {
          cause: err,
        },
      );
    }
  };

  const controllerContext = (): string => userContextName(cluster.name, CONTROLLER.name);

  const reflectorsOf = (snapshot: ClusterSnapshot): string[] =>
    snapshot.nodes.filter((n) => n.routeReflectorClusterId !== undefined).map((n) => n.name);

  const countAppliedSteps = async (process: RrctlRunProcess): Promise<number> =>
    (await process.logLines()).filter((line) => String(line["msg"]).startsWith("applied step"))
      .length;

  /**
   * BGPPeers the controller created at or after `since` and deleted again: each one is a session
   * set up and torn down on every node it selects, for nothing (from the API server's audit log).
   */
  const peersTakenBack = async (since: number): Promise<string[]> => {
    const file = cluster.auditLogFile;
    if (file === undefined) throw new Error("the test cluster keeps no audit log");
    const created = new Map<string, number>();
    const takenBack: string[] = [];
    for (const w of await readAuditedWrites(file)) {
      if (w.user !== CONTROLLER.name || w.resource !== "bgppeers" || w.code >= 300) continue;
      if (w.receivedAt < since) continue;
      if (w.verb === "create") created.set(w.name, w.receivedAt);
      const at = created.get(w.name);
      if (w.verb === "delete" && at !== undefined)
        takenBack.push(`${w.name}: deleted ${w.receivedAt - at} ms after it was created`);
    }
    return takenBack;
  };

  /** The controller's applied steps since `since`, one per line, for a failure's message. */
  const describeSteps = async (since: number): Promise<string> =>
    ((await run?.logLines()) ?? [])
      .filter(
        (l) =>
          String(l["msg"]).startsWith("applied step") && Date.parse(String(l["time"])) >= since,
      )
      .map(
        (l) =>
          `${String(l["time"])} ${String(l["msg"])}${l["decisions"] === undefined ? "" : ` ${JSON.stringify(l["decisions"])}`}`,
      )
      .join("\n");

  beforeAll(async () => {
    cluster = await startTestCluster({
      name: "run",
      users: [LIMITED, CONTROLLER],
      auditLog: true,
    });
    await grantShippedClusterRole(cluster.kubeConfig, "clusterrole.yaml", {
      kind: "User",
      name: CONTROLLER.name,
    });
    nodes = createNodeFactory(cluster.kubeConfig, { kubeletVersion: cluster.kubeApiserverVersion });
    await nodes.createNodes(60, { zones: ZONES });
    custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    // Someone else's objects, which rrfleet must never touch.
    await custom.createClusterCustomObject({
      ...CALICO,
      plural: "bgppeers",
      body: {
        apiVersion: "crd.projectcalico.org/v1",
        kind: "BGPPeer",
        metadata: { name: "tor-uplink", labels: { team: "network" } },
        spec: { nodeSelector: "rack == 'r1'", peerIP: "10.0.0.254", asNumber: 65010 },
      },
    });
    await nodes.createNode({
      name: "edge-0000",
      zone: "zone-a",
      labels: { rack: "r1", "team.example.com/owner": "edge" },
    });
    observer = await startRouteObserver({
      kubeconfigPath: cluster.kubeconfigPath,
      context: cluster.name,
    });
  });

  afterAll(async () => {
    await run?.stop();
    await observer.stop();
    await cluster.stop();
  });

  it("refuses to start when its credentials lack one RBAC verb, and writes nothing", async () => {
    const rbac = cluster.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({
      body: {
        metadata: { name: "rrfleet-without-node-patch" },
        rules: [
          { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
          { apiGroups: [CALICO.group], resources: ["*"], verbs: ["*"] },
        ],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: "rrfleet-without-node-patch" },
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "ClusterRole",
          name: "rrfleet-without-node-patch",
        },
        subjects: [{ kind: "User", name: LIMITED.name, apiGroup: "rbac.authorization.k8s.io" }],
      },
    });
    const limited = await startRrctlRun({
      cluster,
      context: userContextName(cluster.name, LIMITED.name),
      policy: POLICY_INPUT,
      args: RUN_ARGS,
      logName: "rrctl-run-limited.log",
    });
    const exit = await limited.exited;
    const log = await readLogTail(limited.logFile);
    expect(exit.code, log).toBe(2);
    expect(log).toMatch(/lack.*patch nodes/);
    expect(log).not.toMatch(/\n\s+at /); // no stack trace
    const snapshot = await readSnapshot();
    expect(snapshot.bgpPeers.map((p) => p.name)).toEqual(["tor-uplink"]);
    expect(
      snapshot.nodes.filter((n) => Object.keys(n.labels).some((l) => l.startsWith("rrfleet.io/"))),
    ).toEqual([]);
    expect(observer.states()).toBe(1);
  });

  it("plans with read-only credentials in a dry run, logs the steps and writes nothing", async () => {
    const dryRun = await startRrctlRun({
      cluster,
      context: userContextName(cluster.name, LIMITED.name),
      policy: POLICY_INPUT,
      args: [...RUN_ARGS, "--dry-run"],
      logName: "rrctl-run-dry.log",
    });
    await waitForReady(dryRun);
    const planned = await waitFor(
      async () =>
        (await dryRun.logLines()).find((line) =>
          String(line["msg"]).startsWith("dry run: would apply"),
        ),
      { description: "the dry run logged its plan", timeoutMs: 30_000 },
    );
    expect(String(planned["msg"])).toMatch(/would apply 3 steps/);
    expect(await dryRun.stop()).toEqual({ code: 0, signal: null });
    expect(observer.states()).toBe(1);
  });

  it("converges a fresh 60-node, three-zone cluster and switches the mesh off only at the end", async () => {
    const started = performance.now();
    run = await startRrctlRun({
      cluster,
      context: controllerContext(),
      policy: POLICY_INPUT,
      args: RUN_ARGS,
    });
    await waitForReady(run);
    const plan = await waitForConverged("fresh cluster converged");
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `e2e: rrctl run: 61 nodes converged in ${seconds.toFixed(1)} s, ${observer.states()} states observed, ` +
        `${await countAppliedSteps(run)} steps, routes lost ${observer.lostRoutes()}`,
    );
    expect(plan.summary.reflectors).toBe(3);
    const controller = run;
    await waitFor(
      async () =>
        (await controller.logLines()).some((line) => line["msg"] === "converged")
          ? true
          : undefined,
      { description: "the controller logged that it converged", timeoutMs: 30_000 },
    );
    const reasons = (await controller.logLines())
      .filter((line) => String(line["msg"]).startsWith("applied step"))
      .map((line) => String(line["reason"]));
    console.log(`e2e: rrctl run: steps ${reasons.join(" → ")}`);
    // The mesh goes off once, and after it only removals and clean-up remain.
    const meshOff = reasons.indexOf("DisableNodeMesh");
    expect(meshOff).toBeGreaterThan(0);
    expect(reasons.slice(0, meshOff)).not.toContain("RemoveClientPeerings");
    expect(
      reasons
        .slice(meshOff + 1)
        .filter(
          (r) => !["RemoveClientPeerings", "DemoteReflectors", "DeleteOrphanPeers"].includes(r),
        ),
    ).toEqual([]);
    expect(observer.missingWhenMeshWentOff()).toBe(0);
    expect(observer.lostRoutes(), observer.losses().join("\n")).toBe(0);
    // /readyz and the metrics follow the API's state a pass later: poll them, never read once.
    const current = run;
    await waitFor(
      async () => {
        if ((await current.probe("/readyz")).status !== 200) return undefined;
        const metrics = (await current.probe("/metrics")).body;
        return /rrfleet_cluster_converged\{cluster="run-rrfleet"\} 1/.test(metrics) &&
          /rrfleet_plan_steps_applied_total\{cluster="run-rrfleet",reason="DisableNodeMesh"\} 1/.test(
            metrics,
          )
          ? true
          : undefined;
      },
      {
        description: "ready, converged and one DisableNodeMesh step in /metrics",
        timeoutMs: 60_000,
        abortIf: () => describeExit(current),
      },
    );
  });

  it("leaves foreign objects and labels alone and restores a deleted rrfleet BGPPeer", async () => {
    const foreign = (await custom.getClusterCustomObject({
      ...CALICO,
      plural: "bgppeers",
      name: "tor-uplink",
    })) as {
      metadata: { labels: Record<string, string> };
      spec: Record<string, unknown>;
    };
    expect(foreign.metadata.labels).toEqual({ team: "network" });
    expect(foreign.spec).toEqual({
      nodeSelector: "rack == 'r1'",
      peerIP: "10.0.0.254",
      asNumber: 65010,
    });
    const edge = (await readSnapshot()).nodes.find((n) => n.name === "edge-0000");
    expect(edge?.labels).toMatchObject({ rack: "r1", "team.example.com/owner": "edge" });

    const owned = (await readSnapshot()).bgpPeers.find(
      (p) => p.name.startsWith("rrfleet-reflector-") && p.name !== "rrfleet-reflector-mesh",
    );
    expect(owned).toBeDefined();
    await custom.deleteClusterCustomObject({
      ...CALICO,
      plural: "bgppeers",
      name: owned?.name ?? "",
    });
    await waitFor(
      async () =>
        (await readSnapshot()).bgpPeers.some((p) => p.name === owned?.name) ? true : undefined,
      { description: `BGPPeer ${owned?.name ?? ""} restored`, timeoutMs: 30_000 },
    );
    await waitForConverged("converged after the BGPPeer came back");
    expect(observer.lostRoutes(), observer.losses().join("\n")).toBe(0);
  });

  it("follows node churn: nodes added, deleted, NotReady within and past the grace period, cordoned", async () => {
    const since = Date.now();
    const before = await readSnapshot();
    const reflectors = reflectorsOf(before);
    const [withinGrace, pastGrace] = reflectors;
    const clients = before.nodes.filter(
      (n) => !reflectors.includes(n.name) && n.name.startsWith("node-"),
    );
    await nodes.createNodes(6, { zones: ZONES, prefix: "late" });
    await nodes.deleteNode(clients[0]?.name ?? "");
    await nodes.deleteNode(clients[1]?.name ?? "");
    await nodes.setReady(clients[2]?.name ?? "", false, {
      since: new Date(Date.now() - 3_600_000),
    });
    await nodes.cordon(clients[3]?.name ?? "");
    await nodes.setReady(withinGrace ?? "", false);
    await waitForConverged("converged after client churn");
    // A reflector NotReady for less than notReadyGraceSeconds keeps its place.
    expect(reflectorsOf(await readSnapshot())).toContain(withinGrace);

    await nodes.setReady(withinGrace ?? "", true);
    await nodes.setReady(pastGrace ?? "", false, { since: new Date(Date.now() - 3_600_000) });
    const third = reflectors[2] ?? "";
    await nodes.cordon(third);
    const plan = await waitForConverged("converged after reflectors went NotReady and cordoned");
    const after = reflectorsOf(await readSnapshot());
    expect(after).not.toContain(pastGrace);
    expect(after).not.toContain(third);
    expect(plan.summary.reflectors).toBe(3);
    expect(observer.lostRoutes(), observer.losses().join("\n")).toBe(0);
    expect(await peersTakenBack(since), await describeSteps(since)).toEqual([]);
  });

  it("replaces a deleted reflector make-before-break", async () => {
    const since = Date.now();
    const reflector = reflectorsOf(await readSnapshot())[0] ?? "";
    await nodes.deleteNode(reflector);
    const plan = await waitForConverged("converged after a reflector was deleted");
    expect(plan.summary.reflectors).toBe(3);
    expect(reflectorsOf(await readSnapshot())).not.toContain(reflector);
    expect(observer.lostRoutes(), observer.losses().join("\n")).toBe(0);
    expect(await peersTakenBack(since), await describeSteps(since)).toEqual([]);
  });

  it("logs no error and counts no write error for its routine conflicts", async () => {
    // Everything above (a fresh rollout, a restored BGPPeer, churn, a reflector deleted) ran
    // under one controller process.
    const controller = run;
    if (controller === undefined) throw new Error("no controller running");
    const errors = (await controller.logLines()).filter((line) =>
      ["error", "fatal"].includes(String(line["level"])),
    );
    expect(
      errors.map((line) => `${String(line["msg"])} ${JSON.stringify(line["err"] ?? "")}`),
    ).toEqual([]);
    const metrics = (await controller.probe("/metrics")).body;
    const conflicts = (await controller.logLines()).filter((line) =>
      /conflict/i.test(JSON.stringify(line)),
    );
    expect(
      /^rrfleet_write_errors_total\{[^}]*\} [1-9].*$/m.exec(metrics)?.[0],
      conflicts.map((line) => JSON.stringify(line)).join("\n"),
    ).toBeUndefined();
  });

  it("converges after being SIGKILLed in the middle of a multi-step plan", async () => {
    const current = run;
    if (current === undefined) throw new Error("no controller running");
    const stepsBefore = await countAppliedSteps(current);
    // Two reflectors go at once: replacing them takes several make-before-break steps.
    const [first, second] = reflectorsOf(await readSnapshot());
    await nodes.deleteNode(first ?? "");
    await nodes.deleteNode(second ?? "");
    await waitFor(
      async () => ((await countAppliedSteps(current)) > stepsBefore ? true : undefined),
      {
        description: "a step of the replacement applied",
        timeoutMs: 30_000,
        intervalMs: 20,
      },
    );
    process.kill(current.pid, "SIGKILL");
    const exit = await current.exited;
    expect(exit.signal).toBe("SIGKILL");
    const midway = planCluster(await readSnapshot(), policy, new Date());
    console.log(`e2e: rrctl run: SIGKILLed with ${midway.steps.length} steps left`);

    run = await startRrctlRun({
      cluster,
      context: controllerContext(),
      policy: POLICY_INPUT,
      args: RUN_ARGS,
      logName: "rrctl-run-2.log",
    });
    await waitForReady(run);
    const plan = await waitForConverged("converged after the restart");
    expect(plan.summary.reflectors).toBe(3);
    expect(observer.lostRoutes(), observer.losses().join("\n")).toBe(0);
    console.log(
      `e2e: rrctl run: churn scenarios observed ${observer.states()} states, routes lost ${observer.lostRoutes()}`,
    );
  });

  it("stops cleanly on SIGTERM", async () => {
    const current = run;
    if (current === undefined) throw new Error("no controller running");
    const exit = await current.stop(15_000);
    expect(exit).toEqual({ code: 0, signal: null });
    run = undefined;
    const lines = await current.logLines();
    expect(lines.at(-1)?.["msg"]).toBe("rrctl run stopped");
    expect(lines.filter((line) => line["level"] === "fatal" || line["level"] === "error")).toEqual(
      [],
    );
  });

  it("has an observer that does catch a change losing routes, so its zeros above mean something", async () => {
    const lostBefore = observer.lostRoutes();
    const peers = (await readSnapshot()).bgpPeers.filter((p) => p.name.startsWith("rrfleet-"));
    for (const peer of peers) {
      await custom.deleteClusterCustomObject({ ...CALICO, plural: "bgppeers", name: peer.name });
    }
    await waitFor(() => Promise.resolve(observer.lostRoutes() > lostBefore ? true : undefined), {
      description: "the observer counted the routes the deletion lost",
      timeoutMs: 10_000,
    });
    expect(observer.lostRoutes()).toBeGreaterThan(lostBefore);
  });
});
