import {
  explainNode,
  parsePolicy,
  projectBgpConfigurationList,
  projectBgpPeerList,
  projectNodeList,
  type ClusterSnapshot,
  type NodeExplanation,
} from "@rrfleet/topology-core";
import { describe, expect, it } from "vitest";
import { runFakeCli } from "./testing/fake-io.js";
import {
  clusterFileArgs,
  makeListJson,
  makeNodeObject,
  makeSmallClusterFiles,
} from "./testing/kube-objects.js";

const NOW = "2026-11-28T00:00:00Z";
const CLUSTER = makeSmallClusterFiles();
const INPUT = clusterFileArgs(NOW);

function snapshotOf(files: Record<string, string>): ClusterSnapshot {
  const nodes = projectNodeList(JSON.parse(files["nodes.json"] ?? ""));
  const peers = projectBgpPeerList(JSON.parse(files["bgppeers.json"] ?? ""));
  const configs = projectBgpConfigurationList(JSON.parse(files["bgpconfigurations.json"] ?? ""));
  if (!nodes.ok || !peers.ok || !configs.ok) throw new Error("bad fixture");
  return {
    nodes: nodes.value,
    bgpPeers: peers.value.peers,
    bgpConfiguration: configs.value.configuration,
    calicoApiVersion: "crd.projectcalico.org/v1",
  };
}

describe("rrctl explain", () => {
  it("prints exactly the core's explanation as JSON, from the same input as rrctl plan", async () => {
    const run = await runFakeCli(["explain", "node-4", ...INPUT, "--output", "json"], {
      files: CLUSTER,
    });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const policy = parsePolicy({ topology: "multi", min: 3, max: 6 });
    if (!policy.ok) throw new Error("bad policy");
    const want = explainNode(snapshotOf(CLUSTER), policy.policy, new Date(NOW), "node-4");
    expect(run.stdout).toBe(`${JSON.stringify(want, null, 2)}\n`);
    const parsed = JSON.parse(run.stdout) as NodeExplanation;
    expect(parsed.selection.reason).toMatch(/^[A-Z][A-Za-z]+$/);
  });

  it("explains in text: eligibility, selection, peers with reasons, the next step", async () => {
    const run = await runFakeCli(["explain", "node-4", ...INPUT], { files: CLUSTER });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const text = run.stdout;
    expect(text).toMatch(/^Node node-4 \(zone b, topology multi\)\n/);
    expect(text).toContain("Eligibility: eligible");
    expect(text).toMatch(
      /Selection: (not a reflector \[ZoneTargetMet\]|becomes a reflector \[ZoneBelowTarget\])/,
    );
    expect(text).toMatch(
      /the cluster wants 3 reflectors: min\(clamp\(ceil\(12 eligible × ratio 0.005\), min 3, max 6\), eligible\)/,
    );
    expect(text).toMatch(
      /\n(Target: a client of .+\n {2}.+\[RendezvousChoice\]|Target: a route reflector)/,
    );
    expect(text).toMatch(/\nNext step: step 1 of \d+ \[PrepareReflectors\]/);
  });

  it("names the exact rule that keeps a node from being a reflector", async () => {
    const files = {
      ...CLUSTER,
      "nodes.json": makeListJson([
        ...(JSON.parse(CLUSTER["nodes.json"]) as { items: object[] }).items,
        makeNodeObject("sick", { zone: "a", ready: "False", readySince: "2026-11-27T23:00:00Z" }),
      ]),
    };
    const run = await runFakeCli(["explain", "sick", ...INPUT], { files });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /Eligibility: not eligible \[NotReady\]: sick is not Ready since 2026-11-27T23:00:00Z \(3600s; /,
    );
    expect(run.stdout).toContain("Selection: not a reflector [Ineligible]");
  });

  it("reads a live cluster read-only with --kubeconfig, like rrctl plan", async () => {
    const targets: unknown[] = [];
    const run = await runFakeCli(
      ["explain", "node-1", "--kubeconfig", "k.yaml", "--context", "prod", "--now", NOW],
      {
        readCluster: (target) => {
          targets.push(target);
          return Promise.resolve(snapshotOf(CLUSTER));
        },
      },
    );
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(targets).toEqual([{ kubeconfigPath: "k.yaml", context: "prod" }]);
    expect(run.stdout).toMatch(/^Node node-1 /);
  });

  const bad: { name: string; args: string[]; wantStderr: RegExp }[] = [
    {
      name: "no node named",
      args: ["explain", ...INPUT],
      wantStderr: /^rrctl explain: NODE is required/,
    },
    {
      name: "two nodes",
      args: ["explain", "node-1", "node-2", ...INPUT],
      wantStderr: /^rrctl explain: one NODE at a time \(got "node-1" and "node-2"\)/,
    },
    {
      name: "a node the cluster does not have",
      args: ["explain", "node-77", ...INPUT],
      wantStderr:
        /^rrctl explain: NODE: --nodes nodes.json has no node named "node-77" \(12 nodes; similar: node-7\)\n$/,
    },
    {
      name: "no --nodes",
      args: ["explain", "node-1"],
      wantStderr: /^rrctl explain: --nodes is required/,
    },
    {
      name: "a bad output format",
      args: ["explain", "node-1", ...INPUT, "--output", "yaml"],
      wantStderr: /^rrctl explain: --output: must be "text" or "json" \(got "yaml"\)/,
    },
    {
      name: "a bad policy field, named",
      args: ["explain", "node-1", ...INPUT.slice(0, 6), "--policy", "bad.yaml"],
      wantStderr: /^rrctl explain: --policy bad.yaml: .*ratio/,
    },
    {
      name: "a node file with a bad field, named",
      args: ["explain", "node-1", "--nodes", "broken.json"],
      wantStderr: /^rrctl explain: --nodes broken.json: .*items\[0\]/,
    },
  ];
  it.each(bad)("exits 2 with nothing on stdout on $name", async ({ args, wantStderr }) => {
    const run = await runFakeCli(args, {
      files: {
        ...CLUSTER,
        "bad.yaml": "ratio: 2\n",
        "broken.json": makeListJson([{ kind: "Node", metadata: { name: 7 } }]),
      },
    });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(wantStderr);
  });

  it("is listed in rrctl's help and has its own", async () => {
    expect((await runFakeCli(["--help"])).stdout).toMatch(/\n {2}explain +why a node/);
    const help = await runFakeCli(["explain", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: rrctl explain NODE --nodes FILE/);
  });
});
