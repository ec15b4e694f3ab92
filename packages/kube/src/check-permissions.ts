import {
  AuthorizationV1Api,
  V1ResourceAttributes,
  V1SelfSubjectAccessReview,
  V1SelfSubjectAccessReviewSpec,
  type KubeConfig,
} from "@kubernetes/client-node";
import type { CalicoApi } from "./detect-calico-api.js";
import { KubeError, toKubeError } from "./kube-error.js";

/** One RBAC permission: a verb on a cluster-scoped resource of an API group (`""` is core). */
export interface Permission {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
}

/** The review call {@link checkPermissions} makes (a `ClusterConnection`'s kubeconfig gives it). */
export type AccessReviewClient = Pick<AuthorizationV1Api, "createSelfSubjectAccessReview">;

/** Builds the {@link AccessReviewClient} of a kubeconfig. */
export function createAccessReviewClient(kubeConfig: KubeConfig): AccessReviewClient {
  return kubeConfig.makeApiClient(AuthorizationV1Api);
}

/**
 * Every permission the controller (`rrctl run`) uses on a cluster whose Calico API is `calico`:
 * watch nodes and patch their labels and annotations; manage BGPPeers and the BGPConfiguration;
 * read ClusterInformation; create and delete CalicoNodeStatus objects for the session check
 * (only when `sessionCheck` is true).
 */
export function listControllerPermissions(
  calico: CalicoApi,
  options: { readonly sessionCheck: boolean },
): Permission[] {
  const calicoVerbs = (resource: string, verbs: readonly string[]): Permission[] =>
    verbs.map((verb) => ({ verb, group: calico.group, resource }));
  return [
    ...["get", "list", "watch", "patch"].map((verb) => ({ verb, group: "", resource: "nodes" })),
    ...calicoVerbs("bgppeers", ["get", "list", "watch", "create", "update", "delete"]),
    ...calicoVerbs("bgpconfigurations", ["get", "list", "watch", "create", "patch"]),
    ...calicoVerbs("clusterinformations", ["get", "list", "watch"]),
    ...(options.sessionCheck
      ? calicoVerbs("caliconodestatuses", ["get", "list", "create", "delete"])
      : []),
  ];
}

/**
 * Asks the API server (SelfSubjectAccessReview, which every authenticated user may create)
 * whether the current credentials hold every permission, before anything is written: a
 * controller that finds out halfway through a plan leaves the cluster half-changed.
 * Throws {@link KubeError} `Forbidden` listing every missing `verb resource.group`, or the
 * review call's own error.
 */
export async function checkPermissions(
  client: AccessReviewClient,
  permissions: readonly Permission[],
): Promise<void> {
  const answers = await Promise.all(
    permissions.map(async (permission) => {
      try {
        const review = await client.createSelfSubjectAccessReview({
          body: renderAccessReview(permission),
        });
        return { permission, allowed: review.status?.allowed === true };
      } catch (err: unknown) {
        throw toKubeError(err, {
          verb: "create",
          resource: "selfsubjectaccessreviews.authorization.k8s.io",
        });
      }
    }),
  );
  const missing = answers.filter((answer) => !answer.allowed).map((a) => describe(a.permission));
  if (missing.length > 0) {
    throw new KubeError(
      "Forbidden",
      `the credentials lack ${missing.length === 1 ? "a permission" : `${missing.length} permissions`} ` +
        `rrfleet needs: ${missing.join(", ")}; grant them in the ClusterRole bound to this user ` +
        `(nothing was written)`,
    );
  }
}

/** client-node's typed models, filled in: its serializer expects instances. */
function renderAccessReview(permission: Permission): V1SelfSubjectAccessReview {
  const attributes = new V1ResourceAttributes();
  attributes.verb = permission.verb;
  attributes.group = permission.group;
  attributes.resource = permission.resource;
  const spec = new V1SelfSubjectAccessReviewSpec();
  spec.resourceAttributes = attributes;
  const review = new V1SelfSubjectAccessReview();
  review.apiVersion = "authorization.k8s.io/v1";
  review.kind = "SelfSubjectAccessReview";
  review.spec = spec;
  return review;
}

function describe(permission: Permission): string {
  const resource =
    permission.group === "" ? permission.resource : `${permission.resource}.${permission.group}`;
  return `${permission.verb} ${resource}`;
}
