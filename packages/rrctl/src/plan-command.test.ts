import {
  parsePolicy,
  planCluster,
  projectBgpConfigurationList,
  projectBgpPeerList,
  projectNodeList,
  type Plan,
} from "@rrfleet/topology-core";
import { describe, expect, it } from "vitest";
import { runFakeCli } from "./testing/fake-io.js";
import {
  clusterFileArgs,
  makeBgpConfigurationObject,
  makeBgpPeerObject,
  makeListJson,
  makeNodeObject,
  makeNodeObjects,
  makeSmallClusterFiles,
} from "./testing/kube-objects.js";

const NOW = "2026-11-28T00:00:00Z";

const CLUSTER = makeSmallClusterFiles();

const FULL_ARGS = ["plan", ...clusterFileArgs(NOW)];

function parsePlan(stdout: string): Plan {
  return JSON.parse(stdout) as Plan;
}

describe("rrctl plan", () => {
  it("prints the text plan by default and exits 0 with nothing on stderr", async () => {
    const run = await runFakeCli(FULL_ARGS, { files: CLUSTER });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(/^Plan: multi topology, 12 nodes \(12 Ready, 12 eligible/);
    expect(run.stdout).toContain("Route reflectors (3):");
    expect(run.stdout).toContain("BGPPeers: rrfleet 4 (bound 5), foreign 1\n");
  });

  it("prints exactly JSON.stringify(plan, null, 2) and a newline for --output json", async () => {
    const run = await runFakeCli([...FULL_ARGS, "--output", "json"], { files: CLUSTER });
    expect(run.code).toBe(0);
    const peers = projectBgpPeerList(JSON.parse(CLUSTER["bgppeers.json"]));
    const nodes = projectNodeList(JSON.parse(CLUSTER["nodes.json"]));
    const config = projectBgpConfigurationList(JSON.parse(CLUSTER["bgpconfigurations.json"]));
    const policy = parsePolicy({ topology: "multi", min: 3, max: 6 });
    if (!peers.ok || !nodes.ok || !config.ok || !policy.ok) throw new Error("bad fixture");
    const plan = planCluster(
      {
        nodes: nodes.value,
        bgpPeers: peers.value.peers,
        bgpConfiguration: config.value.configuration,
        calicoApiVersion: "crd.projectcalico.org/v1",
      },
      policy.policy,
      new Date(NOW),
    );
    expect(run.stdout).toBe(`${JSON.stringify(plan, null, 2)}\n`);
    expect(Object.keys(parsePlan(run.stdout))).toEqual([
      "routeReflectors",
      "steps",
      "summary",
      "decisions",
    ]);
  });

  it("prints identical bytes for the same input, in both formats", async () => {
    for (const output of ["json", "text"]) {
      const first = await runFakeCli([...FULL_ARGS, "-o", output], { files: CLUSTER });
      const second = await runFakeCli([...FULL_ARGS, "-o", output], { files: CLUSTER });
      expect(first.code).toBe(0);
      expect(second.stdout).toBe(first.stdout);
    }
  });

  it("measures the NotReady grace against --now, or the io clock when --now is absent", async () => {
    const nodes = [
      makeNodeObject("rr-a", { zone: "a", reflector: { clusterId: "244.0.0.1", key: "1" } }),
      makeNodeObject("rr-b", { zone: "b", reflector: { clusterId: "244.0.0.2", key: "2" } }),
      makeNodeObject("rr-c", {
        zone: "c",
        reflector: { clusterId: "244.0.0.3", key: "3" },
        ready: "Unknown",
        readySince: "2026-11-27T23:58:00Z",
      }),
      ...makeNodeObjects(9),
    ];
    const files = { "nodes.json": makeListJson(nodes) };
    const decisionFor = (plan: Plan) =>
      plan.decisions.find((d) => d.kind !== "mesh" && d.kind !== "size" && d.node === "rr-c");

    const withinGrace = await runFakeCli(
      ["plan", "--nodes", "nodes.json", "-o", "json", "--now", "2026-11-28T00:00:00Z"],
      { files, now: () => new Date("2030-01-01T00:00:00Z") },
    );
    expect(decisionFor(parsePlan(withinGrace.stdout))).toMatchObject({
      kind: "keep",
      reason: "WithinNotReadyGrace",
    });

    const pastGrace = await runFakeCli(["plan", "--nodes", "nodes.json", "-o", "json"], {
      files,
      now: () => new Date("2026-11-28T01:00:00Z"),
    });
    expect(decisionFor(parsePlan(pastGrace.stdout))).toMatchObject({
      kind: "demote",
      reason: "NotReadyPastGrace",
    });
  });

  it("treats a missing --bgpconfigurations as no object (mesh on) and creates one to turn the mesh off", async () => {
    const run = await runFakeCli(["plan", "--nodes", "nodes.json", "-o", "json", "--now", NOW], {
      files: CLUSTER,
    });
    const actions = parsePlan(run.stdout).steps.flatMap((step) => step.actions);
    expect(actions).toContainEqual(
      expect.objectContaining({ verb: "create", kind: "BGPConfiguration" }),
    );

    const withConfig = await runFakeCli([...FULL_ARGS, "-o", "json"], { files: CLUSTER });
    const patched = parsePlan(withConfig.stdout).steps.flatMap((step) => step.actions);
    expect(patched).toContainEqual(
      expect.objectContaining({ verb: "patch", kind: "BGPConfiguration", name: "default" }),
    );
  });

  it("treats a missing --bgppeers as none and missing --policy as the defaults", async () => {
    const run = await runFakeCli(["plan", "--nodes", "nodes.json", "-o", "json", "--now", NOW], {
      files: CLUSTER,
    });
    const plan = parsePlan(run.stdout);
    expect(plan.summary.foreignBgpPeers).toBe(0);
    expect(plan.summary.topology).toBe("multi");
    expect(plan.summary.reflectors).toBe(3);
  });

  it("writes BGPPeers with the apiVersion the cluster's BGPPeers are served as", async () => {
    const files = {
      ...CLUSTER,
      "bgppeers.json": makeListJson([
        makeBgpPeerObject("tor", { peerIP: "10.0.0.254", asNumber: 65010 }, "projectcalico.org/v3"),
      ]),
    };
    const run = await runFakeCli([...FULL_ARGS, "-o", "json"], { files });
    const created = parsePlan(run.stdout)
      .steps.flatMap((step) => step.actions)
      .filter((action) => action.verb === "create" && action.kind === "BGPPeer");
    expect(created.length).toBeGreaterThan(0);
    for (const action of created) {
      expect(action).toMatchObject({ object: { apiVersion: "projectcalico.org/v3" } });
    }
  });

  it("accepts a JSON policy file", async () => {
    const files = { ...CLUSTER, "policy.json": '{"topology": "single", "min": 2, "max": 2}' };
    const run = await runFakeCli(
      ["plan", "--nodes", "nodes.json", "--policy", "policy.json", "-o", "json", "--now", NOW],
      { files },
    );
    expect(run.code).toBe(0);
    expect(parsePlan(run.stdout).summary).toMatchObject({ topology: "single", reflectors: 2 });
  });

  it("accepts an empty policy file as the defaults", async () => {
    const files = { ...CLUSTER, "policy.yaml": "# nothing to override\n" };
    const run = await runFakeCli(
      ["plan", "--nodes", "nodes.json", "--policy", "policy.yaml", "--now", NOW],
      { files },
    );
    expect(run.code).toBe(0);
  });

  it("prints its usage for --help, even without --nodes", async () => {
    const run = await runFakeCli(["plan", "--help"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(/^Usage: rrctl plan --nodes FILE/);
  });
});

describe("rrctl plan on bad input", () => {
  const NODES = CLUSTER["nodes.json"];
  const base = ["plan", "--nodes", "nodes.json", "--now", NOW];
  const withPolicy = (text: string) => ({
    args: [...base, "--policy", "policy.yaml"],
    files: { "nodes.json": NODES, "policy.yaml": text },
  });

  const cases: {
    name: string;
    args: readonly string[];
    files?: Readonly<Record<string, string>>;
    readErrors?: Readonly<Record<string, string>>;
    wantStderr: readonly string[];
  }[] = [
    {
      name: "a missing --nodes",
      args: ["plan", "--now", NOW],
      wantStderr: ["rrctl plan: --nodes is required"],
    },
    {
      name: "an unknown flag",
      args: [...base, "--bogus"],
      files: { "nodes.json": NODES },
      wantStderr: ['rrctl plan: unknown option "--bogus"', 'Run "rrctl plan --help" for usage.'],
    },
    {
      name: "a near miss of a flag",
      args: ["plan", "--node", "nodes.json"],
      wantStderr: ['unknown option "--node" (did you mean --nodes?)'],
    },
    {
      name: "a flag without its value",
      args: ["plan", "--nodes"],
      wantStderr: ["rrctl plan: --nodes needs a value"],
    },
    {
      name: "a flag given twice",
      args: [...base, "--nodes", "other.json"],
      wantStderr: ["rrctl plan: --nodes given more than once"],
    },
    {
      name: "a stray positional argument",
      args: [...base, "nodes.json"],
      wantStderr: ['rrctl plan: unexpected argument "nodes.json"'],
    },
    {
      name: "an empty file name",
      args: ["plan", "--nodes", ""],
      wantStderr: ["rrctl plan: --nodes needs a file name"],
    },
    {
      name: "a bad --output",
      args: [...base, "--output", "yaml"],
      files: { "nodes.json": NODES },
      wantStderr: ['rrctl plan: --output: must be "text" or "json" (got "yaml")'],
    },
    {
      name: "a --now that is not a timestamp",
      args: ["plan", "--nodes", "nodes.json", "--now", "yesterday"],
      files: { "nodes.json": NODES },
      wantStderr: ["rrctl plan: --now: must be an ISO 8601 timestamp", '(got "yesterday")'],
    },
    {
      name: "a --now without a time zone",
      args: ["plan", "--nodes", "nodes.json", "--now", "2026-11-28T00:00:00"],
      files: { "nodes.json": NODES },
      wantStderr: ["rrctl plan: --now: must be an ISO 8601 timestamp with a time zone"],
    },
    {
      name: "a --now on an impossible date",
      args: ["plan", "--nodes", "nodes.json", "--now", "2026-02-30T00:00:00Z"],
      files: { "nodes.json": NODES },
      wantStderr: ['(got "2026-02-30T00:00:00Z")'],
    },
    {
      name: "a file that does not exist",
      args: ["plan", "--nodes", "missing.json"],
      wantStderr: ["rrctl plan: --nodes missing.json: cannot read the file: no such file\n"],
    },
    {
      name: "a file that cannot be read",
      args: [...base, "--bgppeers", "secret.json"],
      files: { "nodes.json": NODES },
      readErrors: { "secret.json": "EACCES" },
      wantStderr: ["rrctl plan: --bgppeers secret.json: cannot read the file: permission denied"],
    },
    {
      name: "an empty file",
      args: base,
      files: { "nodes.json": "  \n" },
      wantStderr: [
        'rrctl plan: --nodes nodes.json: the file is empty; expected the output of "kubectl get nodes -o json"',
      ],
    },
    {
      name: "a file that is not JSON",
      args: base,
      files: { "nodes.json": "apiVersion: v1\nkind: List\n" },
      wantStderr: ["rrctl plan: --nodes nodes.json: not valid JSON (", "kubectl get nodes -o json"],
    },
    {
      name: "a list of the wrong kind",
      args: base,
      files: { "nodes.json": makeListJson([makeBgpPeerObject("tor", { peerIP: "10.0.0.1" })]) },
      wantStderr: [
        "rrctl plan: --nodes nodes.json: a List of BGPPeer objects, not Node objects; expected",
      ],
    },
    {
      name: "a list with a kind that is not a list",
      args: base,
      files: { "nodes.json": makeListJson([], "PodList") },
      wantStderr: [
        'rrctl plan: --nodes nodes.json: kind: must be "List" or "NodeList" (got "PodList")',
      ],
    },
    {
      name: "a single object instead of a list",
      args: base,
      files: { "nodes.json": JSON.stringify(makeNodeObject("n1")) },
      wantStderr: ["rrctl plan: --nodes nodes.json: a single Node object, not a List"],
    },
    {
      name: "an item without a name",
      args: base,
      files: {
        "nodes.json": makeListJson([
          makeNodeObject("n1"),
          { apiVersion: "v1", kind: "Node", metadata: {} },
        ]),
      },
      wantStderr: [
        "rrctl plan: --nodes nodes.json: items[1].metadata.name: is required and must be a string",
      ],
    },
    {
      name: "a duplicate node name",
      args: base,
      files: { "nodes.json": makeListJson([makeNodeObject("n1"), makeNodeObject("n1")]) },
      wantStderr: ['items[1].metadata.name: duplicate name "n1"'],
    },
    {
      name: "a bad BGPPeer apiVersion",
      args: [...base, "--bgppeers", "bgppeers.json"],
      files: {
        "nodes.json": NODES,
        "bgppeers.json": makeListJson([makeBgpPeerObject("tor", {}, "projectcalico.org/v2")]),
      },
      wantStderr: ["rrctl plan: --bgppeers bgppeers.json: items[0].apiVersion: must be"],
    },
    {
      name: "a mesh switch that is not a boolean",
      args: [...base, "--bgpconfigurations", "bgpconfigurations.json"],
      files: {
        "nodes.json": NODES,
        "bgpconfigurations.json": makeListJson([
          makeBgpConfigurationObject({ nodeToNodeMeshEnabled: "yes" }),
        ]),
      },
      wantStderr: [
        "rrctl plan: --bgpconfigurations bgpconfigurations.json: items[0].spec.nodeToNodeMeshEnabled: must be true or false",
      ],
    },
    {
      name: "a negative ratio",
      ...withPolicy("ratio: -0.5\n"),
      wantStderr: ["rrctl plan: --policy policy.yaml: ratio: must be greater than 0\n"],
    },
    {
      name: "min above max",
      ...withPolicy("min: 5\nmax: 3\n"),
      wantStderr: [
        "rrctl plan: --policy policy.yaml: min: must not exceed max (min is 5, max is 3)\n",
      ],
    },
    {
      name: "an unknown topology",
      ...withPolicy("topology: ring\n"),
      wantStderr: [
        'rrctl plan: --policy policy.yaml: topology: must be one of "single", "multi", "zoned"',
      ],
    },
    {
      name: "a malformed selector",
      ...withPolicy('excludeNodeSelector: "role in (a"\n'),
      wantStderr: [
        "rrctl plan: --policy policy.yaml: excludeNodeSelector: not a valid Kubernetes label selector",
      ],
    },
    {
      name: "an unknown policy field",
      ...withPolicy("reflectorsPerNodes: 2\n"),
      wantStderr: ["rrctl plan: --policy policy.yaml: ", "reflectorsPerNodes", "unknown field"],
    },
    {
      name: "a YAML syntax error",
      ...withPolicy("min: 3\nmax: [4\n"),
      wantStderr: ["rrctl plan: --policy policy.yaml: line 3, column 1: not valid YAML: "],
    },
    {
      name: "a duplicate YAML key",
      ...withPolicy("min: 3\nmin: 4\n"),
      wantStderr: [
        "rrctl plan: --policy policy.yaml: line 2, column 1: not valid YAML: Map keys must be unique\n",
      ],
    },
  ];

  it.each(cases)(
    "exits 2 with nothing on stdout and names the flag and field for $name",
    async ({ args, files, readErrors, wantStderr }) => {
      const run = await runFakeCli(args, {
        ...(files === undefined ? {} : { files }),
        ...(readErrors === undefined ? {} : { readErrors }),
      });
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      for (const want of wantStderr) expect(run.stderr).toContain(want);
      expect(run.stderr).not.toMatch(/^\s+at /m);
    },
  );

  it("lists every issue of a file, one per line, after a first line naming the flag and file", async () => {
    const { args, files } = withPolicy("topology: ring\nratio: 0\nreflectorsPerNode: 0\n");
    const run = await runFakeCli(args, { files });
    expect(run.code).toBe(2);
    expect(run.stderr.split("\n")).toEqual([
      "rrctl plan: --policy policy.yaml: 3 problems:",
      '  topology: must be one of "single", "multi", "zoned"',
      "  ratio: must be greater than 0",
      "  reflectorsPerNode: must be at least 1",
      "",
    ]);
  });

  it("caps a long issue list and says how many more there are", async () => {
    const nameless = Array.from({ length: 60 }, () => ({
      apiVersion: "v1",
      kind: "Node",
      metadata: {},
    }));
    const run = await runFakeCli(base, { files: { "nodes.json": makeListJson(nameless) } });
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe("rrctl plan: --nodes nodes.json: 60 problems:");
    expect(lines).toHaveLength(52);
    expect(lines.at(-1)).toBe("  ... and 10 more");
  });
});
