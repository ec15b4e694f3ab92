import { KubeConfig } from "@kubernetes/client-node";

/** The Argo CD style `config` of a cluster Secret, validated (see `parseClusterSecret`). */
export interface ClusterSecretConfig {
  readonly bearerToken?: string;
  readonly tlsClientConfig?: {
    /** Base64-encoded PEM, as Argo CD stores it (and as a kubeconfig's `*-data` fields hold it). */
    readonly caData?: string;
    readonly certData?: string;
    readonly keyData?: string;
    /** Skip verifying the server's certificate. Never together with `caData`. */
    readonly insecure?: boolean;
    /** The name the server's certificate is checked against, when not the URL's host. */
    readonly serverName?: string;
  };
}

/**
 * Builds a one-context client-node `KubeConfig` in memory (cluster, user and context all named
 * `name`) from a cluster Secret's server and config. Nothing is written to disk, and the
 * credentials exist only inside the returned object. Never throws.
 */
export function buildSecretKubeConfig(
  name: string,
  server: string,
  config: ClusterSecretConfig,
): KubeConfig {
  const tls = config.tlsClientConfig ?? {};
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      {
        name,
        server,
        skipTLSVerify: tls.insecure ?? false,
        ...(tls.caData === undefined ? {} : { caData: tls.caData }),
        ...(tls.serverName === undefined ? {} : { tlsServerName: tls.serverName }),
      },
    ],
    users: [
      {
        name,
        ...(config.bearerToken === undefined ? {} : { token: config.bearerToken }),
        ...(tls.certData === undefined ? {} : { certData: tls.certData }),
        ...(tls.keyData === undefined ? {} : { keyData: tls.keyData }),
      },
    ],
    contexts: [{ name, cluster: name, user: name }],
    currentContext: name,
  });
  return kubeConfig;
}
