import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { readLiveCluster, runCli, type CliIo } from "@rrfleet/rrctl";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createNodeFactory,
  startTestCluster,
  toWireJson,
  userContextName,
  type TestCluster,
} from "./harness/index.js";

const NOW = "2026-11-28T00:00:00Z";
const CALICO = { group: "crd.projectcalico.org", version: "v1" } as const;
const NO_RBAC = { name: "no-rbac", token: "no-rbac-token-7c21" } as const;

/** Runs rrctl in-process with the real file system and live-cluster reader. */
async function runRrctl(argv: readonly string[]) {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    readFile: (path) => readFile(path, "utf8"),
    readCluster: readLiveCluster,
    now: () => new Date(NOW),
    runController: () => Promise.reject(new Error("rrctl plan must not start the controller")),
    openFleetState: () => Promise.reject(new Error("rrctl plan must not read the fleet state")),
    env: {},
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

describe("rrctl plan --kubeconfig (live, read-only)", () => {
  let cluster: TestCluster;
  let dir: string;

  beforeAll(async () => {
    cluster = await startTestCluster({ name: "plan-live", users: [NO_RBAC] });
    dir = await mkdtemp(join(tmpdir(), "rrfleet-plan-live-"));
    const factory = createNodeFactory(cluster.kubeConfig, {
      kubeletVersion: cluster.kubeApiserverVersion,
    });
    await factory.createNodes(60, { zones: ["zone-a", "zone-b", "zone-c"] });
    await factory.setReady("node-0004", false, { since: new Date("2026-11-27T00:00:00Z") });
    await factory.setReady("node-0017", false, { since: new Date("2026-11-27T23:59:00Z") });
    await factory.cordon("node-0008");
    await factory.cordon("node-0031");
    await cluster.kubeConfig.makeApiClient(CustomObjectsApi).createClusterCustomObject({
      ...CALICO,
      plural: "bgppeers",
      body: {
        apiVersion: "crd.projectcalico.org/v1",
        kind: "BGPPeer",
        metadata: { name: "tor-uplink", labels: { team: "network" } },
        spec: { nodeSelector: "all()", peerIP: "10.0.0.254", asNumber: 65010 },
      },
    });
  });

  afterAll(async () => {
    // beforeAll may have failed before these existed.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    await cluster?.stop();
  });

  it("prints the same bytes as the offline command on the same objects", async () => {
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    const files = {
      nodes: toWireJson(await core.listNode()),
      bgppeers: (await custom.listClusterCustomObject({
        ...CALICO,
        plural: "bgppeers",
      })) as unknown,
      bgpconfigurations: (await custom.listClusterCustomObject({
        ...CALICO,
        plural: "bgpconfigurations",
      })) as unknown,
    };
    const offlineArgs: string[] = [];
    for (const [flag, list] of Object.entries(files)) {
      const path = join(dir, `${flag}.json`);
      await writeFile(path, JSON.stringify(list));
      offlineArgs.push(`--${flag}`, path);
    }

    const offline = await runRrctl(["plan", ...offlineArgs, "--output", "json", "--now", NOW]);
    const live = await runRrctl([
      "plan",
      "--kubeconfig",
      cluster.kubeconfigPath,
      "--output",
      "json",
      "--now",
      NOW,
    ]);

    expect(offline.stderr).toBe("");
    expect(offline.code).toBe(0);
    expect(live).toEqual(offline);
    const plan = JSON.parse(live.stdout) as {
      summary: { nodes: number; readyNodes: number; foreignBgpPeers: number };
      routeReflectors: { zone: string }[];
    };
    expect(plan.summary).toMatchObject({ nodes: 60, readyNodes: 58, foreignBgpPeers: 1 });
    expect(new Set(plan.routeReflectors.map((r) => r.zone))).toEqual(
      new Set(["zone-a", "zone-b", "zone-c"]),
    );
  });

  it("exits 2 naming the missing RBAC verb and resource for a user without rights", async () => {
    const run = await runRrctl([
      "plan",
      "--kubeconfig",
      cluster.kubeconfigPath,
      "--context",
      userContextName(cluster.name, NO_RBAC.name),
    ]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr.split("\n")).toHaveLength(2);
    expect(run.stderr).toContain('rrfleet needs "list" on "nodes" (cluster-scoped)');
  });

  it("exits 2 naming the contexts there are for an unknown context", async () => {
    const run = await runRrctl([
      "plan",
      "--kubeconfig",
      cluster.kubeconfigPath,
      "--context",
      "nope",
    ]);
    expect(run).toMatchObject({ code: 2, stdout: "" });
    expect(run.stderr).toMatch(/no context "nope" \(contexts: .*plan-live/);
  });
});
