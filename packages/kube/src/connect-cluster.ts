import { ApisApi, CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { KubeError } from "./kube-error.js";

/** Where to connect: a kubeconfig file (default: `KUBECONFIG`, `~/.kube/config` or in-cluster). */
export interface ClusterTarget {
  readonly kubeconfigPath?: string;
  /** A context of the kubeconfig; default its `current-context`. */
  readonly context?: string;
}

/** The API clients of one cluster, all on the same context. */
export interface ClusterConnection {
  /** The context name (`inCluster` for the in-cluster service account). */
  readonly name: string;
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  /** API group discovery (`/apis`). */
  readonly apis: ApisApi;
}

/**
 * Loads a kubeconfig, selects the context and builds the API clients. Makes no request.
 * Throws {@link KubeError}: `NotFound` when the file or the context does not exist (naming the
 * contexts there are), `Invalid` when the file cannot be parsed or selects no cluster.
 */
export function connectCluster(target: ClusterTarget = {}): ClusterConnection {
  const kubeConfig = new KubeConfig();
  const source =
    target.kubeconfigPath === undefined
      ? "the default kubeconfig"
      : `kubeconfig ${target.kubeconfigPath}`;
  try {
    if (target.kubeconfigPath === undefined) kubeConfig.loadFromDefault();
    else kubeConfig.loadFromFile(target.kubeconfigPath);
  } catch (err: unknown) {
    const code = err instanceof Error && "code" in err ? err.code : undefined;
    if (code === "ENOENT") {
      throw new KubeError("NotFound", `${source}: no such file`, { cause: err });
    }
    const message = err instanceof Error ? err.message : String(err);
    throw new KubeError("Invalid", `${source}: cannot load it: ${message.split("\n")[0] ?? ""}`, {
      cause: err,
    });
  }

  const contexts = kubeConfig.getContexts().map((c) => c.name);
  const available = contexts.length === 0 ? "it has none" : `contexts: ${contexts.join(", ")}`;
  if (target.context !== undefined) {
    if (kubeConfig.getContextObject(target.context) === null) {
      throw new KubeError("NotFound", `${source}: no context "${target.context}" (${available})`);
    }
    kubeConfig.setCurrentContext(target.context);
  }
  const name = kubeConfig.getCurrentContext();
  if (name === "") {
    throw new KubeError(
      "Invalid",
      `${source}: no current-context; choose one with --context (${available})`,
    );
  }
  if (kubeConfig.getCurrentCluster() === null) {
    throw new KubeError("Invalid", `${source}: context "${name}" names no cluster in the file`);
  }
  return {
    name,
    kubeConfig,
    core: kubeConfig.makeApiClient(CoreV1Api),
    custom: kubeConfig.makeApiClient(CustomObjectsApi),
    apis: kubeConfig.makeApiClient(ApisApi),
  };
}
