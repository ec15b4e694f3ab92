import { readFile as readFileFromDisk } from "node:fs/promises";
import type { KubeConfig, User } from "@kubernetes/client-node";
import { KubeError } from "../kube-error.js";
import { createClusterConnection } from "./create-cluster-connection.js";
import { describeCommandCredentials } from "./describe-command-credentials.js";
import { fingerprintCluster } from "./fingerprint-cluster.js";
import type { PolicyOverrides } from "./merge-policy-overrides.js";
import { parseKubeconfig } from "./parse-kubeconfig.js";
import {
  parseFleetFile,
  type FleetFileCluster,
  type FleetFileCredentials,
} from "./parse-fleet-file.js";
import type { ClusterRole, FileRegisteredCluster } from "./registered-cluster.js";
import type { RegistryProblem } from "./registry-problem.js";
import { selectKubeconfigContext } from "./select-kubeconfig-context.js";

/** Reads a whole text file (UTF-8); rejects like `fs.promises.readFile` (`code` `ENOENT`, …). */
export type ReadTextFile = (path: string) => Promise<string>;

/**
 * Result of {@link loadFleetFile}: like `FleetFileParse`, with the entries turned into
 * registered clusters (an entry whose kubeconfig cannot be used is one more skipped entry).
 */
export type FleetFileLoad =
  | {
      readonly ok: true;
      readonly defaults: PolicyOverrides;
      readonly clusters: readonly FileRegisteredCluster[];
      readonly problems: readonly RegistryProblem[];
    }
  | { readonly ok: false; readonly problems: readonly RegistryProblem[] };

const readUtf8: ReadTextFile = (path) => readFileFromDisk(path, "utf8");

/** Options of {@link loadFleetFile}. */
export interface LoadFleetFileOptions {
  /** Whose credentials to load (an entry may split them); default `applier`. */
  readonly role?: ClusterRole;
  /**
   * Accept kubeconfig users that run a command for their credentials (exec plugins, an auth
   * provider's `cmd-path`); default false: such an entry is reported and skipped. The fleet
   * services set it from ALLOW_EXEC_KUBECONFIG.
   */
  readonly allowExecCredentials?: boolean;
}

/**
 * Reads and parses the fleet file at `path` (see `parseFleetFile`), then reads each kubeconfig
 * it names (once per path, however many contexts use it) and selects the entry's context. An
 * entry whose kubeconfig is missing, unreadable, or lacks the context is reported
 * (`clusters[3].kubeconfig`, `clusters[3].context`) and skipped. The kubeconfig text read here is
 * what the cluster's fingerprint covers and what `connect()` uses: a rotated kubeconfig is a
 * change. Only `options.role`'s credentials of each entry are read. An entry whose user runs a
 * command for its credentials is reported and skipped unless `options.allowExecCredentials`.
 * A fleet file that cannot be read is a whole-file problem. Never throws.
 */
export async function loadFleetFile(
  path: string,
  readFile: ReadTextFile = readUtf8,
  options: LoadFleetFileOptions = {},
): Promise<FleetFileLoad> {
  const role = options.role ?? "applier";
  let text: string;
  try {
    text = await readFile(path);
  } catch (err: unknown) {
    return {
      ok: false,
      problems: [{ source: "file", origin: path, path: "", message: describeReadError(err) }],
    };
  }
  const parsed = parseFleetFile(text, { path });
  if (!parsed.ok) return parsed;

  // Read and parsed once per path: a merged kubeconfig serves many clusters.
  type Kubeconfig =
    { readonly content: string; readonly kubeConfig: KubeConfig } | { readonly error: string };
  const kubeconfigs = new Map<string, Promise<Kubeconfig>>();
  const readKubeconfig = (kubeconfigPath: string): Promise<Kubeconfig> => {
    let read = kubeconfigs.get(kubeconfigPath);
    if (read === undefined) {
      read = readFile(kubeconfigPath).then(
        (content): Kubeconfig => {
          const loaded = parseKubeconfig(content, kubeconfigPath);
          return loaded.ok ? { content, kubeConfig: loaded.kubeConfig } : { error: loaded.message };
        },
        (err: unknown): Kubeconfig => ({
          error: `kubeconfig ${kubeconfigPath}: ${describeReadError(err)}`,
        }),
      );
      kubeconfigs.set(kubeconfigPath, read);
    }
    return read;
  };

  const problems: RegistryProblem[] = [...parsed.problems];
  const clusters: FileRegisteredCluster[] = [];
  const loaded = await Promise.all(
    parsed.clusters.map(async (entry) => ({
      entry,
      access: entry.credentials[role],
      kubeconfig: await readKubeconfig(entry.credentials[role].kubeconfigPath),
    })),
  );
  for (const { entry, access, kubeconfig } of loaded) {
    const skip = (field: "kubeconfig" | "context", message: string): void => {
      problems.push({
        source: "file",
        origin: path,
        path: `${access.field}.${field}`,
        message: `${message}; this cluster is skipped`,
        cluster: entry.name,
      });
    };
    if ("error" in kubeconfig) {
      skip("kubeconfig", kubeconfig.error);
      continue;
    }
    const selected = selectKubeconfigContext(
      kubeconfig.kubeConfig,
      access.kubeconfigPath,
      access.context,
    );
    if (!selected.ok) {
      skip(selected.field, selected.message);
      continue;
    }
    const user = (selected.credentials as { user?: User }).user;
    const command = describeCommandCredentials(user);
    if (command !== undefined && options.allowExecCredentials !== true) {
      skip(
        "kubeconfig",
        `kubeconfig ${access.kubeconfigPath}: user "${user?.name ?? ""}" of context "${selected.context}" runs a command for its credentials (${command}), which fleet files may not do unless ALLOW_EXEC_KUBECONFIG=true`,
      );
      continue;
    }
    clusters.push(
      toRegisteredCluster(
        entry,
        access,
        kubeconfig.content,
        selected.context,
        selected.credentials,
      ),
    );
  }
  problems.sort((a, b) => compareEntryPaths(a.path, b.path));
  return { ok: true, defaults: parsed.defaults, clusters, problems };
}

function toRegisteredCluster(
  entry: FleetFileCluster,
  access: FleetFileCredentials,
  content: string,
  context: string,
  credentials: unknown,
): FileRegisteredCluster {
  const target = {
    kubeconfigPath: access.kubeconfigPath,
    ...(access.context === undefined ? {} : { context: access.context }),
  };
  const fingerprint = fingerprintCluster({
    source: "file",
    name: entry.name,
    target,
    labels: entry.labels,
    policy: entry.policy,
    credentials,
  });
  return {
    name: entry.name,
    source: "file",
    target,
    labels: entry.labels,
    policy: entry.policy,
    fingerprint,
    connect: () => {
      // Parsed again from the text loading checked: each connection gets its own KubeConfig.
      const parsed = parseKubeconfig(content, access.kubeconfigPath);
      if (!parsed.ok) throw new KubeError("Invalid", parsed.message);
      parsed.kubeConfig.setCurrentContext(context);
      return createClusterConnection(context, parsed.kubeConfig);
    },
  };
}

function describeReadError(err: unknown): string {
  const code = typeof err === "object" && err !== null && "code" in err ? err.code : undefined;
  if (code === "ENOENT") return "cannot read it: no such file";
  if (code === "EACCES") return "cannot read it: permission denied";
  if (code === "EISDIR") return "cannot read it: it is a directory";
  const message = err instanceof Error ? err.message : String(err);
  return `cannot read it: ${message.split("\n")[0] ?? ""}`;
}

/** Orders problems by entry (`clusters[10]` after `clusters[9]`); the sort is stable within one. */
function compareEntryPaths(a: string, b: string): number {
  const index = (path: string): number => Number(/^clusters\[(\d+)\]/.exec(path)?.[1] ?? -1);
  return index(a) - index(b);
}
