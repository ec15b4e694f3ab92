import { readFile } from "node:fs/promises";
import {
  ApiextensionsV1Api,
  loadYaml,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { waitFor } from "./wait-for.js";

/**
 * Creates the CustomResourceDefinitions in `files` (one CRD per file) and waits until each is
 * Established, so objects of its kinds can be created. Returns the CRD names. Throws when one is
 * refused or not Established within `timeoutMs` (default 60,000 ms).
 */
export async function installCrds(
  kubeConfig: KubeConfig,
  files: readonly string[],
  timeoutMs = 60_000,
): Promise<string[]> {
  const crds = await Promise.all(
    files.map(async (file) => loadYaml<V1CustomResourceDefinition>(await readFile(file, "utf8"))),
  );
  return createCrds(kubeConfig, crds, timeoutMs);
}

/**
 * Creates `crds` and waits until each is Established (`description` names them in a timeout's
 * message; default: their names). Returns the CRD names in the order given.
 */
export async function createCrds(
  kubeConfig: KubeConfig,
  crds: readonly V1CustomResourceDefinition[],
  timeoutMs = 60_000,
  description?: string,
): Promise<string[]> {
  const extensions = kubeConfig.makeApiClient(ApiextensionsV1Api);
  await Promise.all(crds.map((body) => extensions.createCustomResourceDefinition({ body })));
  const names = crds.map((crd) => crd.metadata?.name ?? "");
  await waitFor(
    async () => {
      const list = await extensions.listCustomResourceDefinition();
      const established = new Set(
        list.items
          .filter((crd) =>
            (crd.status?.conditions ?? []).some(
              (c) => c.type === "Established" && c.status === "True",
            ),
          )
          .map((crd) => crd.metadata?.name),
      );
      return names.every((name) => established.has(name)) ? true : undefined;
    },
    { description: description ?? `${names.join(", ")} Established`, timeoutMs, intervalMs: 200 },
  );
  return names;
}
