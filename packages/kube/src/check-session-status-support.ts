import type { CustomObjectsApi } from "@kubernetes/client-node";
import { isCalicoOlderThan } from "./check-calico-version.js";
import type { CalicoApi } from "./detect-calico-api.js";
import { KubeError, toKubeError } from "./kube-error.js";

/** The first Calico with the `CalicoNodeStatus` resource and calico-node filling it. */
export const MINIMUM_SESSION_STATUS_CALICO_VERSION = "v3.22.0";

/**
 * Whether a cluster can confirm BGP sessions through `CalicoNodeStatus`, checked once before a
 * controller relies on it: a Calico older than {@link MINIMUM_SESSION_STATUS_CALICO_VERSION} has
 * no calico-node to fill the objects, and a cluster that does not serve the resource cannot hold
 * them. Either way every wait for sessions would fail, and a controller must refuse to run with
 * that check rather than find out halfway through a rollout. One read-only LIST (limit 1).
 * Throws {@link KubeError} `NotFound` (not served) or `Invalid` (too old) with a message naming the
 * resource, the version and the way out; other API errors as {@link toKubeError} maps them.
 */
export async function checkSessionStatusSupport(
  clients: { readonly custom: Pick<CustomObjectsApi, "listClusterCustomObject"> },
  calico: CalicoApi,
): Promise<void> {
  const resource = `caliconodestatuses.${calico.group}`;
  const advice =
    "rrfleet cannot confirm new BGP sessions before removing the ones they replace. Upgrade Calico, " +
    "or choose the delay session check knowingly (it waits a fixed time and cannot see sessions)";
  const version = calico.calicoVersion;
  if (
    version !== undefined &&
    isCalicoOlderThan(version, MINIMUM_SESSION_STATUS_CALICO_VERSION) === true
  ) {
    throw new KubeError(
      "Invalid",
      `Calico ${version} has no CalicoNodeStatus (it needs ${MINIMUM_SESSION_STATUS_CALICO_VERSION} or newer): ${advice}`,
    );
  }
  try {
    await clients.custom.listClusterCustomObject({
      group: calico.group,
      version: calico.version,
      plural: "caliconodestatuses",
      limit: 1,
    });
  } catch (err: unknown) {
    const error = toKubeError(err, { verb: "list", resource });
    if (error.code !== "NotFound") throw error;
    throw new KubeError("NotFound", `the API server does not serve ${resource}: ${advice}`, {
      cause: err,
    });
  }
}
