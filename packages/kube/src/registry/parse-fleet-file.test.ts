import { DEFAULT_POLICY } from "@rrfleet/topology-core";
import { describe, expect, it } from "vitest";
import { parseFleetFile } from "./parse-fleet-file.js";
import { describeRegistryProblem } from "./registry-problem.js";

const PATH = "/etc/rrfleet/fleet.yaml";

/** Problems as `path: message`, the way a person reads them. */
function linesOf(problems: readonly { path: string; message: string }[]): string[] {
  return problems.map((p) => (p.path === "" ? p.message : `${p.path}: ${p.message}`));
}

describe("parseFleetFile", () => {
  it("loads every entry, resolving relative kubeconfigs against the file's folder", () => {
    const result = parseFleetFile(
      [
        "defaults:",
        "  policy: { topology: multi, reflectorsPerNode: 2 }",
        "clusters:",
        "  - name: prod-eu-1",
        "    kubeconfig: /etc/rrfleet/kubeconfigs/prod-eu-1.yaml",
        "    context: prod-eu-1",
        "    labels: { env: prod, region: eu }",
        "    policy: { ratio: 0.01 }",
        "  - name: dev",
        "    kubeconfig: kubeconfigs/dev.yaml",
      ].join("\n"),
      { path: PATH },
    );
    expect(result).toEqual({
      ok: true,
      defaults: { topology: "multi", reflectorsPerNode: 2 },
      problems: [],
      clusters: [
        {
          name: "prod-eu-1",
          credentials: {
            watcher: {
              kubeconfigPath: "/etc/rrfleet/kubeconfigs/prod-eu-1.yaml",
              context: "prod-eu-1",
              field: "clusters[0]",
            },
            applier: {
              kubeconfigPath: "/etc/rrfleet/kubeconfigs/prod-eu-1.yaml",
              context: "prod-eu-1",
              field: "clusters[0]",
            },
          },
          labels: { env: "prod", region: "eu" },
          policy: { ...DEFAULT_POLICY, topology: "multi", reflectorsPerNode: 2, ratio: 0.01 },
          index: 0,
        },
        {
          name: "dev",
          credentials: {
            watcher: { kubeconfigPath: "/etc/rrfleet/kubeconfigs/dev.yaml", field: "clusters[1]" },
            applier: { kubeconfigPath: "/etc/rrfleet/kubeconfigs/dev.yaml", field: "clusters[1]" },
          },
          labels: {},
          policy: { ...DEFAULT_POLICY, topology: "multi", reflectorsPerNode: 2 },
          index: 1,
        },
      ],
    });
  });

  it("layers cluster overrides over the defaults over DEFAULT_POLICY, field by field", () => {
    const result = parseFleetFile(
      JSON.stringify({
        defaults: { policy: { topology: "zoned", min: 5, max: 20 } },
        clusters: [{ name: "a", kubeconfig: "a.yaml", policy: { max: 8, ratio: 0.5 } }],
      }),
      { path: PATH },
    );
    if (!result.ok) throw new Error(linesOf(result.problems).join("; "));
    expect(result.clusters[0]?.policy).toEqual({
      ...DEFAULT_POLICY,
      topology: "zoned",
      min: 5,
      max: 8,
      ratio: 0.5,
    });
  });

  const entryCases: {
    name: string;
    clusters: string[];
    wantClusters: string[];
    wantProblems: string[];
  }[] = [
    {
      name: "skips an entry whose policy is out of range and loads the others",
      clusters: [
        "- { name: a, kubeconfig: a.yaml }",
        "- { name: b, kubeconfig: b.yaml, policy: { ratio: 2 } }",
        "- { name: c, kubeconfig: c.yaml }",
      ],
      wantClusters: ["a", "c"],
      wantProblems: ["clusters[1].policy.ratio: must be at most 1"],
    },
    {
      name: "rejects a misspelt entry field, naming the known ones",
      clusters: ["- { name: a, kubconfig: a.yaml }"],
      wantClusters: [],
      wantProblems: [
        "clusters[0].kubconfig: unknown field (known fields: context, credentials, kubeconfig, labels, name, policy)",
        "clusters[0].kubeconfig: is required: the path of the cluster's kubeconfig (or credentials: { watcher, applier })",
      ],
    },
    {
      name: "rejects a misspelt policy field instead of falling back to its default",
      clusters: ["- { name: a, kubeconfig: a.yaml, policy: { ratoi: 0.1 } }"],
      wantClusters: [],
      wantProblems: [
        "clusters[0].policy.ratoi: unknown field (known fields: clusterIdBase, excludeNodeSelector, max, maxLoadFactor, maxPathsPerPrefix, meshFailsafeMaxNodes, min, notReadyGraceSeconds, preferNodeSelector, ratio, reflectorsPerNode, topology, zoneLabel)",
      ],
    },
    {
      name: "keeps the first of two entries with one name and skips the later",
      clusters: ["- { name: a, kubeconfig: first.yaml }", "- { name: a, kubeconfig: second.yaml }"],
      wantClusters: ["a"],
      wantProblems: [
        'clusters[1].name: duplicate cluster name "a" (first in clusters[0]); this entry is skipped',
      ],
    },
    {
      name: "skips a duplicate even when the first entry of that name is invalid",
      clusters: [
        "- { name: a, kubeconfig: a.yaml, policy: { min: 0 } }",
        "- { name: a, kubeconfig: a.yaml }",
      ],
      wantClusters: [],
      wantProblems: [
        "clusters[0].policy.min: must be at least 1",
        'clusters[1].name: duplicate cluster name "a" (first in clusters[0]); this entry is skipped',
      ],
    },
    {
      name: "requires a DNS-1123 label as the name",
      clusters: ["- { name: Prod_EU, kubeconfig: a.yaml }"],
      wantClusters: [],
      wantProblems: [
        "clusters[0].name: must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit",
      ],
    },
    {
      name: "checks label keys and values with Kubernetes' rules and asks to quote numbers",
      clusters: ['- { name: a, kubeconfig: a.yaml, labels: { "bad key": x, tier: 1 } }'],
      wantClusters: [],
      wantProblems: [
        "clusters[0].labels[\"bad key\"]: label key name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        "clusters[0].labels.tier: must be a string (quote numbers and booleans)",
      ],
    },
    {
      name: "reports a policy that is not a mapping",
      clusters: ["- { name: a, kubeconfig: a.yaml, policy: fast }"],
      wantClusters: [],
      wantProblems: ["clusters[0].policy: must be a mapping of policy fields (topology, ratio, …)"],
    },
    {
      name: "checks min against max on the merged policy, blaming the override",
      clusters: ["- { name: a, kubeconfig: a.yaml, policy: { min: 12 } }"],
      wantClusters: [],
      wantProblems: ["clusters[0].policy.min: must not exceed max (min is 12, max is 10)"],
    },
    {
      name: "refuses shared and per-role credentials in one entry",
      clusters: [
        "- { name: a, kubeconfig: a.yaml, credentials: { watcher: { kubeconfig: r.yaml }, applier: { kubeconfig: w.yaml } } }",
      ],
      wantClusters: [],
      wantProblems: [
        "clusters[0].credentials: give kubeconfig (both roles) or credentials (one per role), not both",
      ],
    },
    {
      name: "needs both roles' credentials once they are split",
      clusters: ["- { name: a, credentials: { watcher: { kubeconfig: r.yaml } } }"],
      wantClusters: [],
      wantProblems: [
        "clusters[0].credentials.applier: is required: the appliers' credentials ({ kubeconfig, context? })",
      ],
    },
    {
      name: "names an unknown role and a misspelt credentials field",
      clusters: [
        "- { name: a, credentials: { watcher: { kubeconfig: r.yaml, contxt: x }, applier: { kubeconfig: w.yaml }, reader: {} } }",
      ],
      wantClusters: [],
      wantProblems: [
        "clusters[0].credentials.watcher.contxt: unknown field (known fields: context, kubeconfig)",
        "clusters[0].credentials.reader: unknown field (known fields: applier, watcher)",
      ],
    },
    {
      name: "reports an entry that is not a mapping",
      clusters: ["- just-a-name", "- { name: b, kubeconfig: b.yaml }"],
      wantClusters: ["b"],
      wantProblems: [
        "clusters[0]: must be a mapping with name, kubeconfig (or credentials) and optionally context, labels, policy",
      ],
    },
  ];

  it.each(entryCases)("$name", ({ clusters, wantClusters, wantProblems }) => {
    const result = parseFleetFile(["clusters:", ...clusters.map((c) => `  ${c}`)].join("\n"), {
      path: PATH,
    });
    if (!result.ok) throw new Error(`whole-file problem: ${linesOf(result.problems).join("; ")}`);
    expect(result.clusters.map((c) => c.name)).toEqual(wantClusters);
    expect(linesOf(result.problems)).toEqual(wantProblems);
    expect(result.problems.every((p) => p.source === "file" && p.origin === PATH)).toBe(true);
  });

  const wholeFileCases: { name: string; text: string; wantProblems: string[] }[] = [
    {
      name: "refuses text that is not YAML, with the line and column",
      text: "clusters:\n\t- { name: a, kubeconfig: a.yaml }\n",
      wantProblems: ["line 2, column 1: not valid YAML: Tabs are not allowed as indentation"],
    },
    {
      name: "refuses an empty file: it has no clusters list",
      text: "",
      wantProblems: ["the fleet file must be a mapping with a clusters list"],
    },
    {
      name: "refuses a file without a clusters list",
      text: "defaults: {}\n",
      wantProblems: ["clusters: is required: the list of clusters (write `clusters: []` for none)"],
    },
    {
      name: "refuses an empty clusters key rather than reading it as no clusters",
      text: "clusters:\n",
      wantProblems: ["clusters: must be a list of clusters (write `clusters: []` for none)"],
    },
    {
      name: "refuses an unknown top-level field",
      text: "clusters: []\ncluster: []\n",
      wantProblems: ["cluster: unknown field (known fields: clusters, defaults)"],
    },
    {
      name: "refuses invalid defaults: they would break every cluster",
      text: "defaults:\n  policy: { topology: ring }\nclusters: []\n",
      wantProblems: ['defaults.policy.topology: must be one of "single", "multi", "zoned"'],
    },
    {
      name: "refuses duplicate keys instead of letting the last one win",
      text: "clusters: []\nclusters: []\n",
      wantProblems: ["line 2, column 1: not valid YAML: Map keys must be unique"],
    },
  ];

  it.each(wholeFileCases)("$name", ({ text, wantProblems }) => {
    const result = parseFleetFile(text, { path: PATH });
    expect(result.ok).toBe(false);
    expect(linesOf(result.problems)).toEqual(wantProblems);
  });

  it("reads separate read-only watcher and write applier credentials per cluster", () => {
    const result = parseFleetFile(
      [
        "clusters:",
        "  - name: prod",
        "    credentials:",
        "      watcher: { kubeconfig: kubeconfigs/prod-readonly.yaml }",
        "      applier: { kubeconfig: /secrets/prod-write.yaml, context: rrfleet-applier }",
      ].join("\n"),
      { path: PATH },
    );
    if (!result.ok) throw new Error(linesOf(result.problems).join("; "));
    expect(result.problems).toEqual([]);
    expect(result.clusters[0]?.credentials).toEqual({
      watcher: {
        kubeconfigPath: "/etc/rrfleet/kubeconfigs/prod-readonly.yaml",
        field: "clusters[0].credentials.watcher",
      },
      applier: {
        kubeconfigPath: "/secrets/prod-write.yaml",
        context: "rrfleet-applier",
        field: "clusters[0].credentials.applier",
      },
    });
  });

  it("accepts an explicitly empty fleet", () => {
    expect(parseFleetFile("clusters: []\n", { path: PATH })).toEqual({
      ok: true,
      defaults: {},
      clusters: [],
      problems: [],
    });
  });

  it("renders a problem as one line naming the file and the field", () => {
    const result = parseFleetFile(
      "clusters:\n  - { name: a, kubeconfig: a.yaml, policy: { ratio: 0 } }\n",
      {
        path: PATH,
      },
    );
    expect(result.problems.map(describeRegistryProblem)).toEqual([
      "fleet file /etc/rrfleet/fleet.yaml: clusters[0].policy.ratio: must be greater than 0",
    ]);
    expect(result.problems[0]?.cluster).toBe("a");
  });
});
