import type { Policy } from "@rrfleet/topology-core";
import type { ClusterConnection } from "../connect-cluster.js";
import type { RegistrySource } from "./registry-problem.js";

/**
 * Which service a registry serves, so it hands out that role's credentials: watchers read
 * (never write: give them read-only credentials), appliers write.
 */
export type ClusterRole = "watcher" | "applier";

/** A fleet-file cluster's connection: an absolute kubeconfig path and, optionally, a context. */
export interface FileClusterTarget {
  /** Absolute; a relative path in the fleet file is resolved against the file's folder. */
  readonly kubeconfigPath: string;
  /** Default: the kubeconfig's `current-context`. */
  readonly context?: string;
}

/** Where a Secret cluster was read from, and its API server; the credentials stay inside. */
export interface SecretClusterTarget {
  readonly namespace: string;
  readonly secretName: string;
  /** The API server's https URL (`data.server`). */
  readonly server: string;
}

/** What every registered cluster has, whatever its source. */
export interface RegisteredClusterBase {
  /** A DNS-1123 label, unique across the registry. */
  readonly name: string;
  readonly source: RegistrySource;
  /** Free labels for selecting clusters (`env: prod`); never Kubernetes object labels. */
  readonly labels: Readonly<Record<string, string>>;
  /** `DEFAULT_POLICY`, then the fleet file's `defaults.policy`, then the cluster's own overrides. */
  readonly policy: Policy;
  /**
   * A hash of everything that defines the cluster: name, source, target, labels, policy and the
   * credentials (the kubeconfig's selected cluster, user and context; the Secret's `config`).
   * Equal fingerprints mean nothing changed. Safe to log.
   */
  readonly fingerprint: string;
  /**
   * Builds the API clients from the credentials the fingerprint covers (read when the entry was
   * loaded, never re-read from disk; no request is made). Throws `KubeError` `Invalid` only if
   * those credentials cannot be loaded, which loading already ruled out.
   */
  connect(): ClusterConnection;
}

/** A cluster from the fleet file. */
export interface FileRegisteredCluster extends RegisteredClusterBase {
  readonly source: "file";
  readonly target: FileClusterTarget;
}

/** A cluster from a cluster Secret (Argo CD style). */
export interface SecretRegisteredCluster extends RegisteredClusterBase {
  readonly source: "secret";
  readonly target: SecretClusterTarget;
}

/**
 * One cluster of the fleet as the registry serves it: plain data apart from `connect`, with no
 * credentials in any enumerable field, so it can be logged as it is.
 */
export type RegisteredCluster = FileRegisteredCluster | SecretRegisteredCluster;
