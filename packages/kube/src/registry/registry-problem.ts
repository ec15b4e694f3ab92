/** Where a registry entry comes from: the fleet file, or a cluster Secret in the control cluster. */
export type RegistrySource = "file" | "secret";

/**
 * One problem the registry found and worked around (the entry is skipped, or for a whole-file
 * problem the previous version kept). Never carries credentials.
 */
export interface RegistryProblem {
  readonly source: RegistrySource;
  /**
   * What holds the problem: the fleet file's path, a Secret's `namespace/name`, or for a Secret
   * watch that cannot list, the namespace.
   */
  readonly origin: string;
  /**
   * The field inside `origin`: `clusters[3].policy.ratio`, `data.config.tlsClientConfig.caData`,
   * `line 4, column 3`; empty when the problem concerns all of `origin`.
   */
  readonly path: string;
  readonly message: string;
  /** The cluster the problem is about, when its name could be read. */
  readonly cluster?: string;
}

/**
 * Renders a problem as one line for logs and status output:
 * `fleet file /etc/rrfleet/fleet.yaml: clusters[3].policy.ratio: must be at most 1`. Never throws.
 */
export function describeRegistryProblem(problem: RegistryProblem): string {
  const origin =
    problem.source === "file" ? `fleet file ${problem.origin}` : `Secret ${problem.origin}`;
  return problem.path === ""
    ? `${origin}: ${problem.message}`
    : `${origin}: ${problem.path}: ${problem.message}`;
}
