import { writeFile } from "node:fs/promises";
import { stringify } from "yaml";

/** One cluster of a fleet file: its kubeconfig and the context (user) to reach it as. */
export interface FleetFileEntry {
  readonly name: string;
  readonly kubeconfigPath: string;
  readonly context: string;
}

/** Writes a fleet file (the registry's format) listing `clusters`, with `policy` as the default. */
export async function writeFleetFile(
  path: string,
  clusters: readonly FleetFileEntry[],
  policy?: Readonly<Record<string, unknown>>,
): Promise<string> {
  await writeFile(
    path,
    stringify({
      ...(policy === undefined ? {} : { defaults: { policy } }),
      clusters: clusters.map((c) => ({
        name: c.name,
        kubeconfig: c.kubeconfigPath,
        context: c.context,
      })),
    }),
  );
  return path;
}
