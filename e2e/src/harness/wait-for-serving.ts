import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
} from "@kubernetes/client-node";
import { isApiStatus } from "./is-api-status.js";
import { waitFor } from "./wait-for.js";

/**
 * Waits until Nodes and every established CRD's resource answer a LIST. kube-apiserver builds a
 * CRD's storage and watch cache on the first request for it, and while a watch cache
 * (re)initializes it answers `429 storage is (re)initializing` (Retry-After 1), which client-go
 * retries but client-node 2.x does not. Run after installing CRDs and after every restart so
 * tests see a warm server. Throws on any other error, or when still 429 after `timeoutMs`
 * (default 60,000 ms).
 */
export async function waitForServing(kubeConfig: KubeConfig, timeoutMs = 60_000): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const customObjects = kubeConfig.makeApiClient(CustomObjectsApi);
  const crds = await kubeConfig.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
  const lists: { description: string; list: () => Promise<unknown> }[] = [
    { description: "nodes", list: () => core.listNode({ limit: 1 }) },
    ...crds.items.flatMap((crd) => {
      const version = crd.spec.versions.find((v) => v.served)?.name;
      if (version === undefined) return [];
      const { group, names } = crd.spec;
      return [
        {
          description: `${names.plural}.${group}`,
          list: () =>
            customObjects.listClusterCustomObject({
              group,
              version,
              plural: names.plural,
              limit: 1,
            }),
        },
      ];
    }),
  ];
  await Promise.all(
    lists.map(({ description, list }) =>
      waitFor(
        async () => {
          try {
            await list();
            return true;
          } catch (err: unknown) {
            if (isApiStatus(err, 429) || isApiStatus(err, 404)) return undefined;
            throw err;
          }
        },
        {
          description: `LIST ${description} served`,
          timeoutMs,
          intervalMs: 250,
          retryErrors: false,
        },
      ),
    ),
  );
}
