import type { CalicoApi } from "./detect-calico-api.js";
import {
  checkPermissions,
  createAccessReviewClient,
  listControllerPermissions,
} from "./check-permissions.js";
import { checkSessionStatusSupport } from "./check-session-status-support.js";
import type { ClusterConnection } from "./connect-cluster.js";

/** How the controller will use a cluster, which decides what it must be allowed to do. */
export interface ControllerAccess {
  readonly sessionCheck: "calico-node-status" | "delay";
  /** A dry run writes nothing: only the read permissions are required. */
  readonly dryRun: boolean;
}

const READ_VERBS: ReadonlySet<string> = new Set(["get", "list", "watch"]);

/**
 * What `rrctl run` and the fleet leader check before they manage a cluster, so that a controller
 * never finds a missing verb halfway through a plan: that the cluster serves CalicoNodeStatus
 * (when sessions are confirmed through it), and — through SelfSubjectAccessReviews — every
 * permission the controller will use there. Throws KubeError naming what is missing.
 */
export async function checkControllerAccess(
  connection: ClusterConnection,
  calico: CalicoApi,
  access: ControllerAccess,
): Promise<void> {
  const sessionCheck = access.sessionCheck === "calico-node-status";
  if (sessionCheck) await checkSessionStatusSupport(connection, calico);
  const permissions = listControllerPermissions(calico, { sessionCheck }).filter(
    (p) => !access.dryRun || READ_VERBS.has(p.verb),
  );
  await checkPermissions(createAccessReviewClient(connection.kubeConfig), permissions);
}
