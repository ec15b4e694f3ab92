import { dirname } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";

/** Result of {@link parseKubeconfig}. */
export type KubeconfigParse =
  | { readonly ok: true; readonly kubeConfig: KubeConfig }
  | { readonly ok: false; readonly message: string };

/**
 * Loads kubeconfig text in memory as `KubeConfig.loadFromFile` would: certificate and key paths
 * in it are made absolute against `kubeconfigPath`'s folder (the files are not read). Never
 * throws: a text client-node cannot load gives its first error line.
 */
export function parseKubeconfig(content: string, kubeconfigPath: string): KubeconfigParse {
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromString(content);
    kubeConfig.makePathsAbsolute(dirname(kubeconfigPath));
  } catch (err: unknown) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      message: `kubeconfig ${kubeconfigPath} cannot be loaded: ${message.split("\n")[0] ?? ""}`,
    };
  }
  return { ok: true, kubeConfig };
}
