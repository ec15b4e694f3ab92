import { compareStrings } from "@rrfleet/topology-core";
import type { Projection } from "@rrfleet/topology-core";
import type { ClusterConnection } from "../connect-cluster.js";
import { createWatchTransport, type WatchTransport } from "../create-watch-transport.js";
import { isRecord } from "../is-record.js";
import {
  realWatchTimers,
  watchResource,
  type WatchLogger,
  type WatchTimers,
} from "../watch-resource.js";
import { CLUSTER_SECRET_LABEL, CLUSTER_SECRET_LABEL_VALUE } from "./cluster-secret-labels.js";
import type { ClusterSecret } from "./parse-cluster-secret.js";

/** What the registry needs of a Secret watch: a port, so registry tests drive it by hand. */
export interface ClusterSecretSource {
  /** The labelled Secrets as last seen, sorted by Secret name (empty before the first LIST). */
  secrets(): readonly ClusterSecret[];
  /** Listed at least once; stays true while the watch reconnects. */
  isSynced(): boolean;
  /** The most recent failure (a LIST refused, the server gone), if any. */
  lastError(): string | undefined;
  /** Ends the watch; resolves when its stream is closed. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link watchClusterSecrets}. */
export interface WatchClusterSecretsOptions {
  readonly namespace: string;
  /** After every change of the Secrets seen and after every successful LIST. */
  readonly onChange: () => void;
  /** Default: logs nothing. */
  readonly logger?: WatchLogger;
  /** Reconnect backoff, full jitter, doubling; default 1,000 → 30,000 ms. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** No event or bookmark for this long → re-watch; default 90,000 ms. */
  readonly quietTimeoutMs?: number;
}

const NO_LOGGER: WatchLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * Watches the Secrets labelled `rrfleet.io/cluster=true` in one namespace of the control cluster
 * with the package's list+watch loop (relist on 410 Gone, re-watch with jittered backoff on any
 * other failure, never stops on its own). A Secret is kept as its identity, labels and `data`
 * (still base64: decoding and validation happen in `parseClusterSecret`), so a Secret whose
 * content did not change keeps its identity in {@link ClusterSecretSource.secrets}. RBAC needed:
 * `list` and `watch` on `secrets` in that namespace. Returns at once; throws nothing.
 */
export function watchClusterSecrets(
  connection: ClusterConnection,
  options: WatchClusterSecretsOptions,
): ClusterSecretSource {
  const quietTimeoutMs = options.quietTimeoutMs ?? 90_000;
  return startClusterSecretWatch(
    createWatchTransport(connection.kubeConfig, { listIdleTimeoutMs: quietTimeoutMs }),
    options,
  );
}

/** {@link watchClusterSecrets} on any transport and clock: the seam tests use. */
export function startClusterSecretWatch(
  transport: WatchTransport,
  options: WatchClusterSecretsOptions,
  timers: WatchTimers = realWatchTimers,
): ClusterSecretSource {
  const { namespace } = options;
  const selector = `${CLUSTER_SECRET_LABEL}=${CLUSTER_SECRET_LABEL_VALUE}`;
  let sorted: readonly ClusterSecret[] | undefined;
  const changed = (): void => {
    sorted = undefined;
    options.onChange();
  };
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
  const watch = watchResource<ClusterSecret>(
    {
      resource: "secrets",
      labelSelector: selector,
      kind: "Secret",
      path,
      resourceName: "secrets",
      project: (raw) => projectClusterSecret(raw, namespace),
    },
    transport,
    {
      logger: options.logger ?? NO_LOGGER,
      onEvent: () => undefined,
      onChange: changed,
      onSynced: changed,
      quietTimeoutMs: options.quietTimeoutMs ?? 90_000,
      backoff: options.backoff ?? { initialMs: 1_000, maxMs: 30_000 },
      random: Math.random,
      watchTimeoutSeconds: 300,
      pageSize: 500,
      timers,
    },
  );
  return {
    secrets: () => {
      sorted ??= [...watch.store.values()].sort((a, b) => compareStrings(a.name, b.name));
      return sorted;
    },
    isSynced: () => watch.isSynced(),
    lastError: () => watch.health().lastError,
    stop: () => watch.stop(),
  };
}

/** Keeps what the registry reads of a Secret; fails only without a name (the store's key). */
function projectClusterSecret(raw: unknown, namespace: string): Projection<ClusterSecret> {
  const metadata = isRecord(raw) ? raw["metadata"] : undefined;
  const name = isRecord(metadata) ? metadata["name"] : undefined;
  if (typeof name !== "string" || name === "") {
    return { ok: false, issues: [{ path: "metadata.name", message: "is required" }] };
  }
  const resourceVersion = isRecord(metadata) ? metadata["resourceVersion"] : undefined;
  const data = isRecord(raw) ? raw["data"] : undefined;
  const labels = isRecord(metadata) ? metadata["labels"] : undefined;
  return {
    ok: true,
    value: {
      namespace,
      name,
      ...(typeof resourceVersion === "string" ? { resourceVersion } : {}),
      labels: toStringMap(labels),
      data: toStringMap(data),
    },
  };
}

function toStringMap(value: unknown): Readonly<Record<string, string>> {
  if (!isRecord(value)) return {};
  const map: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) if (typeof entry === "string") map[key] = entry;
  return map;
}
