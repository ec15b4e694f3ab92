import { compareStrings } from "@rrfleet/topology-core";
/**
 * The fleet's cluster registry: the fleet file's clusters and the cluster Secrets' clusters,
 * merged into one set keyed by name and kept current without a restart.
 *
 *   fleet file ──fs.watch / poll, debounced──▶ loadFleetFile ─┐
 *                                                             ├─▶ merge ─▶ diff by fingerprint ─▶ onChange
 *   Secrets (rrfleet.io/cluster=true) ──list+watch──▶ parse ──┘
 *
 * Decisions, and why:
 * - An invalid entry (a fleet-file entry, a Secret) is dropped and reported, never kept at a
 *   last good version: the registry is then a function of its current inputs only, so every
 *   replica reading the same inputs holds the same clusters whatever it saw before (Argo CD's
 *   orphaned clusters come from replicas whose views differ).
 * - A whole-file problem (not YAML, no `clusters` list, invalid `defaults`, the file unreadable
 *   or deleted) keeps the file's clusters of its last good version: dropping the whole fleet for
 *   one bad edit would be worse. `clusters: []` removes them all. Before a first good version
 *   there are no file clusters.
 * - Names are unique across sources: the fleet file wins, and a Secret whose name is taken is
 *   reported and skipped; between Secrets the first by Secret name wins.
 * - Secret clusters' policy overrides apply on the fleet file's `defaults.policy` (its last good
 *   version), else on `DEFAULT_POLICY`.
 * - Nothing is published before the fleet file has been read once, so Secret clusters never
 *   appear first with the wrong defaults and then change.
 * - A Secret watch that fails keeps the Secrets it last saw (none before its first LIST); until
 *   that first LIST succeeds its error is a problem and the registry is not ready.
 */
import { readFile } from "node:fs/promises";
import { connectCluster, type ClusterConnection } from "../connect-cluster.js";
import { KubeError } from "../kube-error.js";
import type { WatchLogger } from "../watch-resource.js";
import {
  CLUSTER_SECRET_LABEL,
  CLUSTER_SECRET_LABEL_VALUE,
  CREDENTIALS_FOR_LABEL,
} from "./cluster-secret-labels.js";
import { diffClusters, type RegistryChange } from "./diff-clusters.js";
import { loadFleetFile, type ReadTextFile } from "./load-fleet-file.js";
import type { PolicyOverrides } from "./merge-policy-overrides.js";
import {
  parseClusterSecret,
  type ClusterSecret,
  type ClusterSecretParse,
} from "./parse-cluster-secret.js";
import type {
  ClusterRole,
  FileRegisteredCluster,
  RegisteredCluster,
} from "./registered-cluster.js";
import { createReadinessGate } from "../create-readiness-gate.js";
import { describeRegistryProblem, type RegistryProblem } from "./registry-problem.js";
import { watchClusterSecrets, type ClusterSecretSource } from "./watch-cluster-secrets.js";
import { readFileSignature, watchFiles, type FileWatch } from "./watch-files.js";

/** Options of {@link createClusterRegistry}; at least one of `fleetFile` and `secrets`. */
export interface ClusterRegistryOptions {
  /**
   * Whose credentials the registry hands out (default `applier`): a fleet-file entry's
   * `credentials.<role>`, and Secrets labelled `rrfleet.io/credentials-for: <role>` before
   * unlabelled ones; Secrets labelled for the other role are not this registry's.
   */
  readonly role?: ClusterRole;
  /** Accept fleet-file kubeconfigs that run a command for credentials (ALLOW_EXEC_KUBECONFIG). */
  readonly allowExecCredentials?: boolean;
  /** The fleet file's path (YAML or JSON). */
  readonly fleetFile?: string;
  /** Where cluster Secrets live: the control cluster and a namespace. RBAC: list, watch secrets there. */
  readonly secrets?: { readonly connection: ClusterConnection; readonly namespace: string };
  /**
   * Called after each change of `clusters()`, with what changed (never with three empty lists),
   * synchronously. A listener that throws is logged; the registry goes on.
   */
  readonly onChange?: (change: RegistryChange) => void;
  /** Default: logs nothing (problems still show in `problems()`). Credentials are never logged. */
  readonly logger?: WatchLogger;
  /** File events within this window after the first one make one reload. Default 200 ms. */
  readonly debounceMs?: number;
  /** How often the fleet file and its kubeconfigs are stat'ed, as a fallback. Default 10,000 ms. */
  readonly pollIntervalMs?: number;
  /** fs.watch the files' folders; false polls only (file systems without inotify). Default true. */
  readonly watchFolders?: boolean;
}

/** {@link ClusterRegistryOptions} with the Secret watch replaced by any source: the test seam. */
export interface StartClusterRegistryOptions extends Omit<ClusterRegistryOptions, "secrets"> {
  readonly secretSource?: {
    /** The namespace the source watches, for problems. */
    readonly namespace: string;
    /** Starts the source; it calls `onChange` after every change and every successful LIST. */
    start(onChange: () => void): ClusterSecretSource;
  };
}

/** A running registry. */
export interface ClusterRegistry {
  /** The clusters now, sorted by name. Empty until the fleet file has been read once. */
  clusters(): readonly RegisteredCluster[];
  /** Every problem now: skipped entries, an unusable fleet file, a Secret watch that cannot list. */
  problems(): readonly RegistryProblem[];
  /**
   * Resolves once the fleet file has been read (whatever it held) and the Secrets listed once.
   * Rejects with the signal's reason when `signal` aborts, with a `KubeError` when stopped first.
   */
  waitForReady(signal?: AbortSignal): Promise<void>;
  /** Stops watching; no `onChange` after it. Resolves when the Secret watch is closed. Idempotent. */
  stop(): Promise<void>;
}

const DEFAULTS = { debounceMs: 200, pollIntervalMs: 10_000 } as const;
const COMPONENT = { component: "cluster-registry" } as const;
const NO_LOGGER: WatchLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * Starts the cluster registry (see the module comment) and returns at once: reads the fleet
 * file, watches it and every kubeconfig it names for changes (fs.watch on their folders plus a
 * stat poll, debounced; in-place writes, atomic renames and ConfigMap `..data` swaps all work),
 * and watches the control cluster's Secrets labelled `rrfleet.io/cluster=true` in
 * `secrets.namespace`. Never throws after it started: every broken input becomes a problem.
 * Throws {@link KubeError} `Invalid` when given neither a fleet file nor Secrets, or a negative
 * `debounceMs` or non-positive `pollIntervalMs`.
 */
export function createClusterRegistry(options: ClusterRegistryOptions): ClusterRegistry {
  const { secrets, ...rest } = options;
  if (secrets === undefined) return startClusterRegistry(rest);
  return startClusterRegistry({
    ...rest,
    secretSource: {
      namespace: secrets.namespace,
      start: (onChange) =>
        watchClusterSecrets(secrets.connection, {
          namespace: secrets.namespace,
          onChange,
          ...(options.logger === undefined ? {} : { logger: options.logger }),
        }),
    },
  });
}

/**
 * The registry a fleet service configures from its environment: the fleet file at `fleetFile`
 * and/or the cluster Secrets in `secretsNamespace` of the control cluster the default
 * credentials reach (KUBECONFIG, ~/.kube/config or the in-cluster service account).
 */
export function openClusterRegistry(options: {
  readonly role: ClusterRole;
  readonly allowExecCredentials?: boolean;
  readonly fleetFile?: string;
  readonly secretsNamespace?: string;
  readonly logger?: WatchLogger;
}): ClusterRegistry {
  return createClusterRegistry({
    role: options.role,
    allowExecCredentials: options.allowExecCredentials ?? false,
    ...(options.fleetFile === undefined ? {} : { fleetFile: options.fleetFile }),
    ...(options.secretsNamespace === undefined
      ? {}
      : { secrets: { connection: connectCluster({}), namespace: options.secretsNamespace } }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
}

/** {@link createClusterRegistry} on any Secret source (the test seam). Same behaviour and errors. */
export function startClusterRegistry(options: StartClusterRegistryOptions): ClusterRegistry {
  const debounceMs = options.debounceMs ?? DEFAULTS.debounceMs;
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULTS.pollIntervalMs;
  if (options.fleetFile === undefined && options.secretSource === undefined) {
    throw new KubeError(
      "Invalid",
      "the cluster registry needs a fleet file, cluster Secrets, or both",
    );
  }
  if (!(Number.isFinite(debounceMs) && debounceMs >= 0)) {
    throw new KubeError("Invalid", `debounceMs must be 0 or more (got ${debounceMs})`);
  }
  if (!(Number.isFinite(pollIntervalMs) && pollIntervalMs > 0)) {
    throw new KubeError("Invalid", `pollIntervalMs must be more than 0 (got ${pollIntervalMs})`);
  }
  const logger = options.logger ?? NO_LOGGER;
  const role = options.role ?? "applier";
  const fleetFile = options.fleetFile;
  const namespace = options.secretSource?.namespace;

  let file:
    | { readonly defaults: PolicyOverrides; readonly clusters: readonly FileRegisteredCluster[] }
    | undefined;
  let fileProblems: readonly RegistryProblem[] = [];
  let fileRead = fleetFile === undefined;
  let current = new Map<string, RegisteredCluster>();
  let sorted: readonly RegisteredCluster[] = [];
  let entryProblems: readonly RegistryProblem[] = [];
  let logged = new Map<string, RegistryProblem>();
  let stopped = false;
  // Assigned once the callbacks below exist; a source may call back before `start` returns.
  let secretSource: ClusterSecretSource | undefined = undefined;
  const parsedSecrets = new WeakMap<
    ClusterSecret,
    { readonly defaults: PolicyOverrides; readonly parse: ClusterSecretParse }
  >();

  const isReady = (): boolean =>
    fileRead && (options.secretSource === undefined || secretSource?.isSynced() === true);
  const ready = createReadinessGate(isReady, toError);

  const parseSecret = (secret: ClusterSecret, defaults: PolicyOverrides): ClusterSecretParse => {
    const cached = parsedSecrets.get(secret);
    if (cached?.defaults === defaults) return cached.parse;
    const parse = parseClusterSecret(secret, defaults);
    parsedSecrets.set(secret, { defaults, parse });
    return parse;
  };

  const logProblems = (next: readonly RegistryProblem[]): void => {
    const keyed = new Map(next.map((problem) => [describeRegistryProblem(problem), problem]));
    for (const [line, problem] of keyed) {
      if (!logged.has(line)) logger.warn({ ...COMPONENT, ...fieldsOf(problem) }, line);
    }
    for (const [line, problem] of logged) {
      if (!keyed.has(line)) {
        logger.info({ ...COMPONENT, ...fieldsOf(problem) }, `resolved: ${line}`);
      }
    }
    logged = keyed;
  };

  const notify = (change: RegistryChange): void => {
    logger.info(
      {
        ...COMPONENT,
        added: change.added.map((c) => c.name),
        removed: change.removed.map((c) => c.name),
        changed: change.changed.map((c) => c.name),
        clusters: current.size,
      },
      "the cluster registry changed",
    );
    try {
      options.onChange?.(change);
    } catch (err: unknown) {
      logger.error({ ...COMPONENT, err }, "an onChange listener threw; the registry goes on");
    }
  };

  /** Merges the sources into the cluster set, reports problems, notifies; runs synchronously. */
  const recompute = (): void => {
    if (stopped || !fileRead) return;
    const defaults = file?.defaults ?? {};
    const next = new Map<string, RegisteredCluster>();
    const problems: RegistryProblem[] = [...fileProblems];
    for (const cluster of file?.clusters ?? []) next.set(cluster.name, cluster);
    // This role's own Secrets first: they override a shared Secret of the same cluster.
    const mine: ClusterSecret[] = [];
    const shared: ClusterSecret[] = [];
    for (const secret of secretSource?.secrets() ?? []) {
      const forRole = secret.labels[CREDENTIALS_FOR_LABEL];
      if (forRole === undefined) shared.push(secret);
      else if (forRole === role) mine.push(secret);
      else if (forRole !== "watcher" && forRole !== "applier") {
        problems.push({
          source: "secret",
          origin: `${secret.namespace}/${secret.name}`,
          path: `metadata.labels["${CREDENTIALS_FOR_LABEL}"]`,
          message: `must be watcher or applier (or absent: both roles), got "${forRole.slice(0, 63)}"; this Secret is skipped`,
        });
      }
    }
    const overridden = new Set<string>();
    for (const secret of [...mine, ...shared]) {
      const parsed = parseSecret(secret, defaults);
      if (!parsed.ok) {
        problems.push(...parsed.problems);
        continue;
      }
      const isMine = secret.labels[CREDENTIALS_FOR_LABEL] !== undefined;
      if (!isMine && overridden.has(parsed.cluster.name)) continue;
      if (isMine) overridden.add(parsed.cluster.name);
      const taken = next.get(parsed.cluster.name);
      if (taken !== undefined) {
        const by =
          taken.source === "file"
            ? `the fleet file`
            : `Secret ${taken.target.namespace}/${taken.target.secretName}`;
        problems.push({
          source: "secret",
          origin: `${secret.namespace}/${secret.name}`,
          path: "data.name",
          message: `cluster name "${parsed.cluster.name}" is taken by ${by}; this Secret is skipped`,
          cluster: parsed.cluster.name,
        });
        continue;
      }
      next.set(parsed.cluster.name, parsed.cluster);
    }
    const change = diffClusters(current, next);
    current = next;
    sorted = [...next.values()].sort((a, b) => compareStrings(a.name, b.name));
    entryProblems = problems;
    logProblems(problems);
    if (change.added.length + change.removed.length + change.changed.length > 0) notify(change);
    ready.check();
  };

  const reloadOnce = async (path: string): Promise<void> => {
    try {
      const signatures = new Map<string, string>();
      // Signatures are taken before each read: a change after it shows at the next poll.
      const read: ReadTextFile = async (filePath) => {
        signatures.set(filePath, await readFileSignature(filePath));
        return readFile(filePath, "utf8");
      };
      const result = await loadFleetFile(path, read, {
        role,
        allowExecCredentials: options.allowExecCredentials ?? false,
      });
      if (stopped) return;
      fileWatch?.track(signatures);
      fileProblems = result.problems;
      if (result.ok) {
        file = { defaults: result.defaults, clusters: result.clusters };
      } else if (file !== undefined) {
        logger.warn(
          { ...COMPONENT, fleetFile: path, kept: file.clusters.length },
          "the fleet file is unusable; keeping the clusters of its last valid version",
        );
      }
      fileRead = true;
      recompute();
    } catch (err: unknown) {
      // loadFleetFile reports bad input as problems; reaching this is a bug. Retry on the next event.
      logger.error({ ...COMPONENT, fleetFile: path, err }, "reloading the fleet file failed");
    }
  };

  let reloading: Promise<void> | undefined;
  let reloadAgain = false;
  const isReloadWanted = (): boolean => reloadAgain && !stopped;
  const requestReload = (): void => {
    if (stopped || fleetFile === undefined) return;
    if (reloading !== undefined) {
      reloadAgain = true;
      return;
    }
    reloading = (async () => {
      do {
        reloadAgain = false;
        await reloadOnce(fleetFile);
        // A function, not the variables: TypeScript would keep their values narrowed across the await.
      } while (isReloadWanted());
      reloading = undefined;
    })();
  };

  const fileWatch: FileWatch | undefined =
    fleetFile === undefined
      ? undefined
      : watchFiles({
          onChange: requestReload,
          logger,
          debounceMs,
          pollIntervalMs,
          watchFolders: options.watchFolders ?? true,
        });
  secretSource = options.secretSource?.start(recompute);
  requestReload();

  const watchProblems = (): RegistryProblem[] => {
    if (secretSource === undefined || namespace === undefined || secretSource.isSynced()) return [];
    const error = secretSource.lastError();
    if (error === undefined) return [];
    return [
      {
        source: "secret",
        origin: namespace,
        path: "",
        message: `cannot list the Secrets labelled ${CLUSTER_SECRET_LABEL}=${CLUSTER_SECRET_LABEL_VALUE} (rrfleet needs "list" and "watch" on "secrets" in this namespace — grant them in a Role there): ${error}`,
      },
    ];
  };

  return {
    clusters: () => sorted,
    problems: () => [...entryProblems, ...watchProblems()],
    waitForReady: (signal) => ready.wait(signal),
    stop: async () => {
      if (!stopped) {
        stopped = true;
        fileWatch?.stop();
        ready.close(stoppedError());
      }
      await secretSource?.stop();
      await reloading;
    },
  };
}

function stoppedError(): KubeError {
  return new KubeError("Unavailable", "the cluster registry was stopped");
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/** Structured log fields of a problem (its line is the message). */
function fieldsOf(problem: RegistryProblem): Record<string, string> {
  return {
    source: problem.source,
    origin: problem.origin,
    ...(problem.path === "" ? {} : { field: problem.path }),
    ...(problem.cluster === undefined ? {} : { cluster: problem.cluster }),
  };
}
