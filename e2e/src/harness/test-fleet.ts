import { ensureBinaries } from "./ensure-binaries.js";
import { startTestCluster, type TestCluster, type TestClusterOptions } from "./test-cluster.js";
import { startTestEtcd, type TestEtcd } from "./test-etcd.js";

/** Several test clusters whose API servers share one etcd (each under its own key prefix). */
export interface TestFleet {
  readonly etcd: TestEtcd;
  /** In the order of the names given. */
  readonly clusters: readonly TestCluster[];
  /** The cluster with this name; throws for an unknown name. */
  cluster(name: string): TestCluster;
  /** Stops every cluster, then etcd, and removes all temp dirs; idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts one etcd and a test cluster per name on it, one after the other (a 2-core machine starts
 * them no faster in parallel). Options apply to every cluster. Stops whatever started when one
 * fails, then throws.
 */
export async function startTestFleet(
  names: readonly string[],
  options: Omit<TestClusterOptions, "name" | "etcd"> = {},
): Promise<TestFleet> {
  if (new Set(names).size !== names.length)
    throw new Error(`duplicate cluster names: ${names.join(", ")}`);
  const binaries = options.binaries ?? (await ensureBinaries());
  const etcd = await startTestEtcd({ binaries });
  const clusters: TestCluster[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const results = await Promise.allSettled(clusters.map((cluster) => cluster.stop()));
      results.push(...(await Promise.allSettled([etcd.stop()])));
      const errors = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
      if (errors.length > 0) throw new AggregateError(errors, "stopping the test fleet failed");
    })();
    return stopping;
  };
  try {
    for (const name of names) {
      clusters.push(await startTestCluster({ ...options, binaries, name, etcd }));
    }
  } catch (err: unknown) {
    try {
      await stop();
    } catch (stopErr: unknown) {
      throw new AggregateError([err, stopErr], "starting the test fleet failed", {
        cause: stopErr,
      });
    }
    throw err;
  }
  return {
    etcd,
    clusters,
    cluster: (name) => {
      const found = clusters.find((cluster) => cluster.name === name);
      if (found === undefined) throw new Error(`the test fleet has no cluster ${name}`);
      return found;
    },
    stop,
  };
}
