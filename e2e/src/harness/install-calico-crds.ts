import { randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  CustomObjectsApi,
  loadYaml,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import type { CalicoApiVersion } from "@rrfleet/topology-core";
import { E2E_DIR } from "./e2e-dir.js";
import { isApiStatus } from "./is-api-status.js";
import { createCrds } from "./install-crds.js";
import { waitFor } from "./wait-for.js";

/** The Calico version written to `ClusterInformation default` (the CRDs' release). */
export const CALICO_VERSION = "v3.32.1";

/** Directory of the vendored CRDs for each way Calico 3.32 serves its API. */
const CRD_DIRS: Readonly<Record<CalicoApiVersion, string>> = {
  "crd.projectcalico.org/v1": join(E2E_DIR, "calico-crds"),
  "projectcalico.org/v3": join(E2E_DIR, "calico-crds", "projectcalico.org_v3"),
};

/** What {@link installCalicoCrds} installed. */
export interface InstalledCalicoCrds {
  readonly apiVersion: CalicoApiVersion;
  /** CRD names, e.g. `bgppeers.crd.projectcalico.org`, sorted. */
  readonly names: readonly string[];
}

/**
 * Installs every vendored Calico CRD of one API group (`e2e/calico-crds/*.yaml` for
 * `crd.projectcalico.org/v1`, the `projectcalico.org_v3/` subfolder for the native v3 mode), waits
 * until each is Established, then creates `ClusterInformation default` as calico-node would
 * (calicoVersion {@link CALICO_VERSION}, datastoreReady). Throws when a CRD is refused or not
 * Established within `timeoutMs` (default 60,000 ms).
 */
export async function installCalicoCrds(
  kubeConfig: KubeConfig,
  apiVersion: CalicoApiVersion,
  timeoutMs = 60_000,
): Promise<InstalledCalicoCrds> {
  const crds = await readCrds(CRD_DIRS[apiVersion]);
  const names = (
    await createCrds(kubeConfig, crds, timeoutMs, `${String(crds.length)} Calico CRDs Established`)
  ).sort();

  const [group, version] = apiVersion.split("/") as [string, string];
  const customObjects = kubeConfig.makeApiClient(CustomObjectsApi);
  const clusterInformation = {
    apiVersion,
    kind: "ClusterInformation",
    metadata: { name: "default" },
    spec: {
      calicoVersion: CALICO_VERSION,
      clusterGUID: randomUUID().replaceAll("-", ""),
      clusterType: "k8s,bgp,kubeadm,kdd",
      datastoreReady: true,
    },
  };
  // Established means served, but the first write can still race the new handler: retry 404s.
  await waitFor(
    async () => {
      try {
        await customObjects.createClusterCustomObject({
          group,
          version,
          plural: "clusterinformations",
          body: clusterInformation,
        });
        return true;
      } catch (err: unknown) {
        if (isApiStatus(err, 404)) return undefined;
        throw err;
      }
    },
    {
      description: "ClusterInformation default created",
      timeoutMs,
      intervalMs: 200,
      retryErrors: false,
    },
  );
  return { apiVersion, names };
}

async function readCrds(dir: string): Promise<V1CustomResourceDefinition[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith(".yaml")).sort();
  if (files.length === 0) throw new Error(`no CRD files in ${dir}`);
  return Promise.all(
    files.map(async (file) => {
      const crd = loadYaml<V1CustomResourceDefinition>(await readFile(join(dir, file), "utf8"));
      if (crd.kind !== "CustomResourceDefinition" || crd.metadata?.name === undefined) {
        throw new Error(`${join(dir, file)} is not a named CustomResourceDefinition`);
      }
      return crd;
    }),
  );
}
