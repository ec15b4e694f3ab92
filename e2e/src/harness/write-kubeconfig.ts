import { writeFile } from "node:fs/promises";
import type { TokenUser } from "./token-file.js";

/** What {@link writeKubeconfig} puts in the file. */
export interface KubeconfigSpec {
  /** Cluster name; also the admin context's name, and the current context. */
  readonly clusterName: string;
  readonly server: string;
  /** Path of the CA certificate (referenced, not inlined). */
  readonly caFile: string;
  readonly admin: TokenUser;
  /** Each gets a context named `<clusterName>-<user name>`. */
  readonly users: readonly TokenUser[];
}

/**
 * Writes a kubeconfig with one cluster (verified TLS against `caFile`), the admin context named
 * after the cluster (current) and one context per extra user, all with token auth. Overwrites.
 */
export async function writeKubeconfig(path: string, spec: KubeconfigSpec): Promise<void> {
  const entry = (user: TokenUser, contextName: string) => ({
    user: { name: `${spec.clusterName}-${user.name}`, user: { token: user.token } },
    context: {
      name: contextName,
      context: { cluster: spec.clusterName, user: `${spec.clusterName}-${user.name}` },
    },
  });
  const entries = [
    entry(spec.admin, spec.clusterName),
    ...spec.users.map((user) => entry(user, userContextName(spec.clusterName, user.name))),
  ];
  const document = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: spec.clusterName,
        cluster: { server: spec.server, "certificate-authority": spec.caFile },
      },
    ],
    users: entries.map((e) => e.user),
    contexts: entries.map((e) => e.context),
    "current-context": spec.clusterName,
  };
  // JSON is YAML: kubectl and client-node read it as a kubeconfig.
  await writeFile(path, `${JSON.stringify(document, null, 2)}\n`, { mode: 0o600 });
}

/** Name of the kubeconfig context of a non-admin user: `<clusterName>-<userName>`. */
export function userContextName(clusterName: string, userName: string): string {
  return `${clusterName}-${userName}`;
}
