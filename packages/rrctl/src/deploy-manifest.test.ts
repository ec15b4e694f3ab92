import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { parseRunOptions } from "./run-command.js";

const MANIFEST = fileURLToPath(
  new URL("../../../deploy/kubernetes/rrctl-run.yaml", import.meta.url),
);

interface Container {
  readonly command: readonly string[];
  readonly args: readonly string[];
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
