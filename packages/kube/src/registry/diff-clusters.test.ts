import { DEFAULT_POLICY } from "@rrfleet/topology-core";
import { describe, expect, it } from "vitest";
import { KubeError } from "../kube-error.js";
import { diffClusters } from "./diff-clusters.js";
import type { RegisteredCluster } from "./registered-cluster.js";

function makeCluster(name: string, fingerprint: string): RegisteredCluster {
  return {
    name,
    source: "file",
    target: { kubeconfigPath: `/k/${name}.yaml` },
    labels: {},
    policy: DEFAULT_POLICY,
    fingerprint,
    connect: () => {
      throw new KubeError("Invalid", "not in this test");
    },
  };
}

const byName = (clusters: RegisteredCluster[]) => new Map(clusters.map((c) => [c.name, c]));

describe("diffClusters", () => {
  const cases: {
    name: string;
    previous: RegisteredCluster[];
    next: RegisteredCluster[];
    want: { added: string[]; removed: string[]; changed: string[] };
  }[] = [
    {
      name: "reports nothing when every fingerprint is the same",
      previous: [makeCluster("a", "1"), makeCluster("b", "2")],
      next: [makeCluster("b", "2"), makeCluster("a", "1")],
      want: { added: [], removed: [], changed: [] },
    },
    {
      name: "reports a new name as added and a missing one as removed",
      previous: [makeCluster("a", "1")],
      next: [makeCluster("b", "2")],
      want: { added: ["b"], removed: ["a"], changed: [] },
    },
    {
      name: "reports a name whose fingerprint moved as changed, sorted by name",
      previous: [makeCluster("c", "1"), makeCluster("a", "1"), makeCluster("b", "1")],
      next: [makeCluster("c", "2"), makeCluster("a", "2"), makeCluster("b", "1")],
      want: { added: [], removed: [], changed: ["a", "c"] },
    },
  ];

  it.each(cases)("$name", ({ previous, next, want }) => {
    const change = diffClusters(byName(previous), byName(next));
    expect({
      added: change.added.map((c) => c.name),
      removed: change.removed.map((c) => c.name),
      changed: change.changed.map((c) => c.name),
    }).toEqual(want);
  });
});
