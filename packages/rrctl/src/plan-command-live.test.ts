import { KubeError, type KubeErrorCode } from "@rrfleet/kube";
import {
  projectBgpConfigurationList,
  projectBgpPeerList,
  projectNodeList,
} from "@rrfleet/topology-core";
import type { ClusterSnapshot } from "@rrfleet/topology-core";
import { describe, expect, it } from "vitest";
import type { LiveClusterTarget, ReadCluster } from "./plan-command.js";
import { runFakeCli } from "./testing/fake-io.js";
import { clusterFileArgs, makeSmallClusterFiles } from "./testing/kube-objects.js";

const NOW = "2026-11-28T00:00:00Z";

const FILES = makeSmallClusterFiles();

/** The snapshot the offline command reads from FILES, as a live reader would return it. */
function makeSnapshot(): ClusterSnapshot {
  const parse = (name: keyof typeof FILES): unknown => JSON.parse(FILES[name]);
  const nodes = projectNodeList(parse("nodes.json"));
  const peers = projectBgpPeerList(parse("bgppeers.json"));
  const configs = projectBgpConfigurationList(parse("bgpconfigurations.json"));
  if (!nodes.ok || !peers.ok || !configs.ok) throw new Error("bad fixture");
  return {
    nodes: nodes.value,
    bgpPeers: peers.value.peers,
    bgpConfiguration: configs.value.configuration,
    calicoApiVersion: "crd.projectcalico.org/v1",
  };
}

/** A reader returning `snapshot` and recording the targets it was asked for. */
function makeReader(result: ClusterSnapshot | Error): {
  readCluster: ReadCluster;
  targets: LiveClusterTarget[];
} {
  const targets: LiveClusterTarget[] = [];
  return {
    targets,
    readCluster: (target) => {
      targets.push(target);
      return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
    },
  };
}

describe("rrctl plan --kubeconfig", () => {
  it.each(["json", "text"])(
    "prints the same %s plan as the offline command for the same cluster",
    async (output) => {
      const offline = await runFakeCli(["plan", ...clusterFileArgs(NOW), "--output", output], {
        files: FILES,
      });
      const reader = makeReader(makeSnapshot());
      const live = await runFakeCli(
        ["plan", "--kubeconfig", "kc", "--policy", "policy.yaml", "--output", output, "--now", NOW],
        { files: FILES, readCluster: reader.readCluster },
      );
      expect(offline.code).toBe(0);
      expect(live).toEqual(offline);
      expect(reader.targets).toEqual([{ kubeconfigPath: "kc" }]);
    },
  );

  it("passes --context to the reader", async () => {
    const reader = makeReader(makeSnapshot());
    const run = await runFakeCli(["plan", "--kubeconfig", "kc", "--context", "prod"], {
      readCluster: reader.readCluster,
    });
    expect(run.code).toBe(0);
    expect(reader.targets).toEqual([{ kubeconfigPath: "kc", context: "prod" }]);
  });

  const usageErrors = [
    {
      name: "--kubeconfig with --nodes",
      argv: ["--kubeconfig", "kc", "--nodes", "nodes.json"],
      wantMessage: "--kubeconfig reads the cluster live: do not also give --nodes",
    },
    {
      name: "--kubeconfig with --bgppeers and --bgpconfigurations",
      argv: ["--kubeconfig", "kc", "--bgppeers", "p.json", "--bgpconfigurations", "c.json"],
      wantMessage:
        "--kubeconfig reads the cluster live: do not also give --bgppeers, --bgpconfigurations",
    },
    {
      name: "--context without --kubeconfig",
      argv: ["--nodes", "nodes.json", "--context", "prod"],
      wantMessage: "--context needs --kubeconfig",
    },
    {
      name: "an empty --kubeconfig",
      argv: ["--kubeconfig="],
      wantMessage: "--kubeconfig needs a file name, not an empty string",
    },
    {
      name: "an empty --context",
      argv: ["--kubeconfig", "kc", "--context="],
      wantMessage: "--context needs a name, not an empty string",
    },
  ];
  it.each(usageErrors)(
    "exits 2 without reading the cluster for $name",
    async ({ argv, wantMessage }) => {
      const reader = makeReader(makeSnapshot());
      const run = await runFakeCli(["plan", ...argv], {
        files: FILES,
        readCluster: reader.readCluster,
      });
      expect(run).toEqual({
        code: 2,
        stdout: "",
        stderr: `rrctl plan: ${wantMessage}\nRun "rrctl plan --help" for usage.\n`,
      });
      expect(reader.targets).toEqual([]);
    },
  );

  const clusterErrors: { name: string; code: KubeErrorCode; message: string }[] = [
    {
      name: "a forbidden list",
      code: "Forbidden",
      message:
        'forbidden: rrfleet needs "list" on "nodes" (cluster-scoped) — grant it in the ClusterRole',
    },
    { name: "an unknown context", code: "NotFound", message: 'kubeconfig kc: no context "x"' },
    {
      name: "an unreachable server",
      code: "Unavailable",
      message: "list nodes: cannot reach the API server (ECONNREFUSED)",
    },
    { name: "an unreadable object", code: "Invalid", message: 'Node "n1" cannot be read: x: y' },
  ];
  it.each(clusterErrors)(
    "exits 2 with one line on stderr and nothing on stdout for $name",
    async ({ code, message }) => {
      const reader = makeReader(new KubeError(code, message));
      const run = await runFakeCli(["plan", "--kubeconfig", "kc", "--context", "prod"], {
        readCluster: reader.readCluster,
      });
      expect(run).toEqual({
        code: 2,
        stdout: "",
        stderr: `rrctl plan: --kubeconfig kc --context prod: ${message}\n`,
      });
    },
  );

  it("reports an unclassified adapter error as an internal error (exit 1)", async () => {
    const reader = makeReader(new KubeError("Unknown", "list nodes: boom"));
    const run = await runFakeCli(["plan", "--kubeconfig", "kc"], {
      readCluster: reader.readCluster,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^rrctl plan: internal error: list nodes: boom/);
  });
});
