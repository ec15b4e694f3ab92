import type { ApisApi, CustomObjectsApi } from "@kubernetes/client-node";
import type { CalicoApiVersion } from "@rrfleet/topology-core";
import { KubeError, toKubeError } from "./kube-error.js";
import { isRecord } from "./is-record.js";

/** How the cluster serves Calico's resources. */
export interface CalicoApi {
  /** The apiVersion to read and write Calico objects with. */
  readonly apiVersion: CalicoApiVersion;
  readonly group: "crd.projectcalico.org" | "projectcalico.org";
  readonly version: "v1" | "v3";
  /** `ClusterInformation default` `spec.calicoVersion` (e.g. `v3.32.1`), when present. */
  readonly calicoVersion?: string;
}

/** The two client calls {@link detectCalicoApi} makes. */
export interface CalicoApiClients {
  readonly apis: Pick<ApisApi, "getAPIVersions">;
  readonly custom: Pick<CustomObjectsApi, "getClusterCustomObject">;
}

const V1: Omit<CalicoApi, "calicoVersion"> = {
  apiVersion: "crd.projectcalico.org/v1",
  group: "crd.projectcalico.org",
  version: "v1",
};
const V3: Omit<CalicoApi, "calicoVersion"> = {
  apiVersion: "projectcalico.org/v3",
  group: "projectcalico.org",
  version: "v3",
};

/**
 * Detects Calico's API mode by discovery, the way Calico itself decides (libcalico-go's
 * UsingV3CRDs): `crd.projectcalico.org/v1` when that group is served, else `projectcalico.org/v3`
 * when that one is, then reads `ClusterInformation default` for the Calico version (absent: no
 * version). Read-only: GET /apis and one GET. Throws {@link KubeError}: `NotFound` "Calico CRDs
 * not found" when neither group is served, and any API error mapped by {@link toKubeError}.
 */
export async function detectCalicoApi(clients: CalicoApiClients): Promise<CalicoApi> {
  let served: Set<string>;
  try {
    const list = await clients.apis.getAPIVersions();
    served = new Set(list.groups.flatMap((g) => g.versions.map((v) => v.groupVersion)));
  } catch (err: unknown) {
    throw toKubeError(err, { verb: "get", resource: "/apis (API discovery)" });
  }
  const api = served.has(V1.apiVersion) ? V1 : served.has(V3.apiVersion) ? V3 : undefined;
  if (api === undefined) {
    throw new KubeError(
      "NotFound",
      "Calico CRDs not found: the API server serves neither crd.projectcalico.org/v1 nor " +
        "projectcalico.org/v3; is Calico installed in this cluster?",
    );
  }
  const calicoVersion = await readCalicoVersion(clients.custom, api);
  return calicoVersion === undefined ? api : { ...api, calicoVersion };
}

async function readCalicoVersion(
  custom: CalicoApiClients["custom"],
  api: Omit<CalicoApi, "calicoVersion">,
): Promise<string | undefined> {
  let info: unknown;
  try {
    info = await custom.getClusterCustomObject({
      group: api.group,
      version: api.version,
      plural: "clusterinformations",
      name: "default",
    });
  } catch (err: unknown) {
    const error = toKubeError(err, {
      verb: "get",
      resource: `clusterinformations.${api.group}`,
      name: "default",
    });
    // Calico creates it at startup: a cluster without it simply has no version to report.
    if (error.code === "NotFound") return undefined;
    throw error;
  }
  const spec = isRecord(info) ? info["spec"] : undefined;
  const version = isRecord(spec) ? spec["calicoVersion"] : undefined;
  return typeof version === "string" && version !== "" ? version : undefined;
}
