import type { Cluster, Context, KubeConfig, User } from "@kubernetes/client-node";

/**
 * Result of {@link selectKubeconfigContext}: the context's name and what defines its
 * credentials, or the fleet-file field at fault (`kubeconfig` or `context`) and why.
 */
export type KubeconfigContextSelection =
  | {
      readonly ok: true;
      readonly context: string;
      /** The context, its cluster and its user as loaded: the credentials part of a fingerprint. */
      readonly credentials: unknown;
    }
  | { readonly ok: false; readonly field: "kubeconfig" | "context"; readonly message: string };

/** A kubeconfig's entries by name: client-node's getters scan lists, quadratic over a fleet. */
interface KubeconfigIndex {
  readonly available: string;
  readonly contexts: ReadonlyMap<string, Context>;
  readonly clusters: ReadonlyMap<string, Cluster>;
  readonly users: ReadonlyMap<string, User>;
}

const indexes = new WeakMap<KubeConfig, KubeconfigIndex>();

function indexOf(kubeConfig: KubeConfig): KubeconfigIndex {
  let index = indexes.get(kubeConfig);
  if (index === undefined) {
    const contexts = kubeConfig.getContexts();
    index = {
      available: `contexts: ${contexts.map((c) => c.name).join(", ")}`,
      // First wins on duplicate names, as client-node's find() does.
      contexts: new Map(contexts.toReversed().map((c) => [c.name, c])),
      clusters: new Map(
        kubeConfig
          .getClusters()
          .toReversed()
          .map((c) => [c.name, c]),
      ),
      users: new Map(
        kubeConfig
          .getUsers()
          .toReversed()
          .map((u) => [u.name, u]),
      ),
    };
    indexes.set(kubeConfig, index);
  }
  return index;
}

/**
 * Decides which context of a loaded kubeconfig a cluster uses: `context`, else the file's
 * `current-context`; checks what `connectCluster` checks (the context exists and names a cluster
 * in the file). Only that context's own objects go into `credentials`, so the other contexts of a
 * merged kubeconfig can change without touching this one. Does not change `kubeConfig` (one
 * parsed kubeconfig serves every cluster that uses it); it must not be changed between calls
 * either (its entries are indexed on the first call). Never throws.
 */
export function selectKubeconfigContext(
  kubeConfig: KubeConfig,
  kubeconfigPath: string,
  context: string | undefined,
): KubeconfigContextSelection {
  const index = indexOf(kubeConfig);
  if (index.contexts.size === 0) {
    return {
      ok: false,
      field: "kubeconfig",
      message: `kubeconfig ${kubeconfigPath} has no contexts`,
    };
  }
  // Typed as a string, but undefined when the file has no current-context.
  const current = kubeConfig.getCurrentContext() as string | undefined;
  const name = context ?? current;
  if (name === undefined || name === "") {
    return {
      ok: false,
      field: "context",
      message: `kubeconfig ${kubeconfigPath} has no current-context; name one with context (${index.available})`,
    };
  }
  const contextObject = index.contexts.get(name);
  if (contextObject === undefined) {
    return context === undefined
      ? {
          ok: false,
          field: "kubeconfig",
          message: `kubeconfig ${kubeconfigPath}: its current-context "${name}" is not among its ${index.available}`,
        }
      : {
          ok: false,
          field: "context",
          message: `kubeconfig ${kubeconfigPath} has no context "${name}" (${index.available})`,
        };
  }
  const cluster = index.clusters.get(contextObject.cluster);
  if (cluster === undefined) {
    return {
      ok: false,
      field: context === undefined ? "kubeconfig" : "context",
      message: `kubeconfig ${kubeconfigPath}: context "${name}" names no cluster in the file`,
    };
  }
  return {
    ok: true,
    context: name,
    credentials: { context: contextObject, cluster, user: index.users.get(contextObject.user) },
  };
}
