import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connectCluster } from "./connect-cluster.js";

const dir = mkdtempSync(join(tmpdir(), "rrfleet-kube-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeKubeconfig(name: string, currentContext: string): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c1", cluster: { server: "https://127.0.0.1:6443" } }],
      users: [{ name: "u1", user: { token: "t" } }],
      contexts: [
        { name: "prod", context: { cluster: "c1", user: "u1" } },
        { name: "staging", context: { cluster: "c1", user: "u1" } },
      ],
      "current-context": currentContext,
    }),
  );
  return path;
}

describe("connectCluster", () => {
  it("selects the current context, or the one asked for", () => {
    const path = writeKubeconfig("both", "prod");
    expect(connectCluster({ kubeconfigPath: path }).name).toBe("prod");
    const staging = connectCluster({ kubeconfigPath: path, context: "staging" });
    expect(staging.name).toBe("staging");
    expect(staging.kubeConfig.getCurrentCluster()?.server).toBe("https://127.0.0.1:6443");
  });

  const failures = [
    {
      name: "an unknown context, listing the ones there are",
      target: () => ({ kubeconfigPath: writeKubeconfig("k1", "prod"), context: "nope" }),
      wantCode: "NotFound",
      wantMessage: /: no context "nope" \(contexts: prod, staging\)$/,
    },
    {
      name: "a missing file",
      target: () => ({ kubeconfigPath: join(dir, "missing") }),
      wantCode: "NotFound",
      wantMessage: /^kubeconfig .*missing: no such file$/,
    },
    {
      name: "no current context",
      target: () => ({ kubeconfigPath: writeKubeconfig("k2", "") }),
      wantCode: "Invalid",
      wantMessage: /no current-context; choose one with --context \(contexts: prod, staging\)$/,
    },
  ];
  it.each(failures)("throws a KubeError for $name", ({ target, wantCode, wantMessage }) => {
    let caught: unknown;
    try {
      connectCluster(target());
    } catch (err: unknown) {
      caught = err;
    }
    expect(caught).toMatchObject({ name: "KubeError", code: wantCode });
    expect((caught as Error).message).toMatch(wantMessage);
  });
});
