/**
 * The label that makes a Secret a cluster Secret, with value {@link CLUSTER_SECRET_LABEL_VALUE}
 * (Argo CD's `argocd.argoproj.io/secret-type: cluster`, in rrfleet's own prefix).
 */
export const CLUSTER_SECRET_LABEL = "rrfleet.io/cluster";

/** The value of {@link CLUSTER_SECRET_LABEL} that selects a Secret. */
export const CLUSTER_SECRET_LABEL_VALUE = "true";

/**
 * Cluster labels come from the Secret's own labels with this prefix: `rrfleet.io/label-env: prod`
 * gives the cluster the label `env: prod`. Chosen over a `labels` data key because labels stay
 * visible and selectable (`kubectl get secrets -l rrfleet.io/label-env=prod`) and editable without
 * touching credentials; the cost is that cluster label keys are plain names (no `prefix/`, at most
 * 57 characters).
 */
export const CLUSTER_LABEL_PREFIX = "rrfleet.io/label-";

/**
 * Splits a cluster's credentials by role: a Secret labelled `rrfleet.io/credentials-for:
 * watcher` serves only watchers (give it read-only credentials), `applier` only appliers; an
 * unlabelled Secret serves both, unless the role has a labelled Secret for that cluster.
 */
export const CREDENTIALS_FOR_LABEL = "rrfleet.io/credentials-for";
