import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { parseRunOptions } from "./run-command.js";

const MANIFEST = fileURLToPath(
  new URL("../../../deploy/kubernetes/rrctl-run.yaml", import.meta.url),
);
const CHART = fileURLToPath(new URL("../../../deploy/helm/rrfleet/Chart.yaml", import.meta.url));

interface Container {
  readonly image: string;
  readonly workingDir?: string;
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly securityContext?: Record<string, unknown>;
}

describe("deploy/kubernetes/rrctl-run.yaml", () => {
  it("runs `rrctl run` with arguments and a policy that rrctl accepts", async () => {
    const documents = parseAllDocuments(await readFile(MANIFEST, "utf8")).map(
      (d) => d.toJS() as Record<string, unknown>,
    );
    const deployment = documents.find((d) => d["kind"] === "Deployment") as {
      spec: {
        replicas: number;
        strategy: { type: string };
        template: { spec: { containers: Container[] } };
      };
    };
    const configMap = documents.find((d) => d["kind"] === "ConfigMap") as {
      data: Record<string, string>;
    };
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy.type).toBe("Recreate");
    const container = deployment.spec.template.spec.containers[0];
    expect(container?.command.slice(-1)).toEqual(["run"]);
    const options = await parseRunOptions(container?.args ?? [], (path) =>
      path === "/etc/rrfleet/policy.yaml"
        ? Promise.resolve(configMap.data["policy.yaml"] ?? "")
        : Promise.reject(new Error(`unexpected read of ${path}`)),
    );
    expect(options).toMatchObject({
      listenHost: "0.0.0.0",
      listenPort: 9464,
      policy: { topology: "multi" },
    });
  });
});

describe("deploy/kubernetes/rrctl-run.yaml's pod", () => {
  const load = async () => {
    const documents = parseAllDocuments(await readFile(MANIFEST, "utf8")).map(
      (d) => d.toJS() as Record<string, unknown>,
    );
    const deployment = documents.find((d) => d["kind"] === "Deployment") as {
      spec: {
        template: {
          spec: { securityContext: Record<string, unknown>; containers: Container[] };
        };
      };
    };
    const namespace = documents.find((d) => d["kind"] === "Namespace") as {
      metadata: { labels?: Record<string, string> };
    };
    return { pod: deployment.spec.template.spec, namespace };
  };

  it("runs the project image at the chart's appVersion, with its own working directory", async () => {
    const { pod } = await load();
    const chart = parse(await readFile(CHART, "utf8")) as { appVersion: string };
    expect(pod.containers[0]?.image).toBe(`ghcr.io/rrfleet/rrfleet:${chart.appVersion}`);
    expect(pod.containers[0]?.workingDir).toBeUndefined();
    expect(pod.containers[0]?.command).toEqual(["node", "packages/rrctl/bin/rrctl.js", "run"]);
  });

  it("meets the restricted Pod Security level its namespace enforces", async () => {
    const { pod, namespace } = await load();
    expect(namespace.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 10001,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod.containers[0]?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
  });
});
