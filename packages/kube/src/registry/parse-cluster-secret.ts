import { parseDocument } from "yaml";
import { z } from "zod";
import { buildSecretKubeConfig, type ClusterSecretConfig } from "./build-secret-kube-config.js";
import { CLUSTER_LABEL_PREFIX } from "./cluster-secret-labels.js";
import { createClusterConnection } from "./create-cluster-connection.js";
import { describeSchemaIssues } from "./describe-schema-issues.js";
import { fingerprintCluster } from "./fingerprint-cluster.js";
import { formatFieldPath } from "./format-field-path.js";
import { mergePolicyOverrides, type PolicyOverrides } from "./merge-policy-overrides.js";
import type { SecretRegisteredCluster } from "./registered-cluster.js";
import type { RegistryProblem } from "./registry-problem.js";

/** A cluster Secret as the watch keeps it: its identity, labels, and `data` as sent (base64). */
export interface ClusterSecret {
  readonly namespace: string;
  /** The Secret's own name (the watch store's key), not the cluster's. */
  readonly name: string;
  readonly resourceVersion?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly data: Readonly<Record<string, string>>;
}

/** Result of {@link parseClusterSecret}. */
export type ClusterSecretParse =
  | { readonly ok: true; readonly cluster: SecretRegisteredCluster }
  | { readonly ok: false; readonly problems: readonly RegistryProblem[] };

const DATA_KEYS = ["name", "server", "config", "policy"] as const;
const CONFIG_FIELDS = ["bearerToken", "tlsClientConfig"] as const;
const TLS_FIELDS = ["caData", "certData", "keyData", "insecure", "serverName"] as const;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

const nonEmpty = z.string({ error: "must be a string" }).min(1, { error: "must not be empty" });

const configSchema = z.strictObject(
  {
    bearerToken: nonEmpty.optional(),
    tlsClientConfig: z
      .strictObject(
        {
          caData: nonEmpty.optional(),
          certData: nonEmpty.optional(),
          keyData: nonEmpty.optional(),
          insecure: z.boolean({ error: "must be true or false" }).optional(),
          serverName: nonEmpty.optional(),
        },
        { error: "must be an object" },
      )
      .optional(),
  },
  { error: "must be a JSON object with bearerToken and/or tlsClientConfig" },
);

/**
 * Validates a cluster Secret (Argo CD style) and builds its registered cluster. Data keys:
 * `name` (the cluster's name, a DNS-1123 label), `server` (an https URL), `config` (JSON:
 * `{ bearerToken?, tlsClientConfig?: { caData?, certData?, keyData?, insecure?, serverName? } }`,
 * the `*Data` fields base64-encoded PEM as in Argo CD; a token or a client certificate and key
 * are required; `insecure` excludes `caData`) and optional `policy` (YAML overrides on top of
 * `defaults`, the fleet file's `defaults.policy`). Unknown data keys and config fields are
 * rejected (a typo must not silently drop a setting). Cluster labels come from the Secret's
 * labels under `rrfleet.io/label-` (see {@link CLUSTER_LABEL_PREFIX}). `name` and `server` are
 * trimmed (`kubectl create secret --from-file` keeps a trailing newline). Every problem names the
 * Secret (`namespace/name`) and the field; no message ever contains a credential. Never throws.
 */
export function parseClusterSecret(
  secret: ClusterSecret,
  defaults: PolicyOverrides,
): ClusterSecretParse {
  const origin = `${secret.namespace}/${secret.name}`;
  const problems: RegistryProblem[] = [];
  let clusterName: string | undefined;
  const report = (path: string, message: string): void => {
    problems.push({
      source: "secret",
      origin,
      path,
      message,
      ...(clusterName === undefined ? {} : { cluster: clusterName }),
    });
  };
  const text = (key: (typeof DATA_KEYS)[number]): string | undefined => {
    const value = secret.data[key];
    return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
  };

  const name = text("name")?.trim();
  if (name === undefined) report("data.name", "is required: the cluster's name (a DNS-1123 label)");
  else if (name.length > 63 || !DNS_LABEL.test(name)) {
    report(
      "data.name",
      `"${name.slice(0, 80)}" is not a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63`,
    );
  } else {
    clusterName = name;
  }

  for (const key of Object.keys(secret.data).sort()) {
    if (!(DATA_KEYS as readonly string[]).includes(key)) {
      report(
        `data.${key}`,
        `unknown key (known keys: ${[...DATA_KEYS].sort().join(", ")}; cluster labels go in the Secret's labels as ${CLUSTER_LABEL_PREFIX}<key>)`,
      );
    }
  }

  const server = text("server")?.trim();
  if (server === undefined) report("data.server", "is required: the API server's https URL");
  else if (!isHttpsUrl(server)) report("data.server", "must be an https:// URL of the API server");

  const config = readConfig(text("config"), report);

  const policyText = text("policy");
  let policyOverrides: unknown;
  if (policyText !== undefined) {
    const document = parseDocument(policyText, { uniqueKeys: true, prettyErrors: true });
    const [error] = document.errors;
    if (error !== undefined) {
      const position = error.linePos?.[0];
      const where =
        position === undefined ? "" : ` at line ${position.line}, column ${position.col}`;
      report("data.policy", `not valid YAML${where}: ${firstYamlLine(error.message)}`);
    } else {
      try {
        policyOverrides = document.toJS({ maxAliasCount: 100 }) as unknown;
      } catch (err: unknown) {
        // yaml throws a ReferenceError for alias bombs and unresolved aliases.
        report(
          "data.policy",
          `cannot be read: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
  }
  const merged = mergePolicyOverrides(defaults, policyOverrides, "data.policy");
  if (!merged.ok) for (const issue of merged.issues) report(issue.path, issue.message);

  if (
    problems.length > 0 ||
    name === undefined ||
    server === undefined ||
    config === undefined ||
    !merged.ok
  ) {
    return { ok: false, problems };
  }

  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret.labels)) {
    if (key.startsWith(CLUSTER_LABEL_PREFIX))
      labels[key.slice(CLUSTER_LABEL_PREFIX.length)] = value;
  }
  const target = { namespace: secret.namespace, secretName: secret.name, server };
  const fingerprint = fingerprintCluster({
    source: "secret",
    name,
    target,
    labels,
    policy: merged.policy,
    credentials: config,
  });
  return {
    ok: true,
    cluster: {
      name,
      source: "secret",
      target,
      labels,
      policy: merged.policy,
      fingerprint,
      connect: () => createClusterConnection(name, buildSecretKubeConfig(name, server, config)),
    },
  };
}

/** Parses and checks `data.config`; reports and returns undefined when it is unusable. */
function readConfig(
  text: string | undefined,
  report: (path: string, message: string) => void,
): ClusterSecretConfig | undefined {
  if (text === undefined) {
    report("data.config", "is required: JSON with bearerToken and/or tlsClientConfig");
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err: unknown) {
    if (!(err instanceof SyntaxError)) throw err;
    // V8's JSON messages quote the input around the error: only the position may be shown.
    const position = /position (\d+)/.exec(err.message)?.[1];
    report(
      "data.config",
      `not valid JSON${position === undefined ? "" : ` (at position ${position})`}`,
    );
    return undefined;
  }
  const parsed = configSchema.safeParse(value);
  if (!parsed.success) {
    for (const issue of describeSchemaIssues(parsed.error, (path) =>
      path.length === 0 ? CONFIG_FIELDS : TLS_FIELDS,
    )) {
      report(formatFieldPath(["data", "config", ...issue.path]), issue.message);
    }
    return undefined;
  }
  // zod leaves absent optional fields out, which is what exactOptionalPropertyTypes wants.
  const config = parsed.data as ClusterSecretConfig;
  const tls = config.tlsClientConfig ?? {};
  const at = "data.config.tlsClientConfig";
  let failures = 0;
  const fail = (path: string, message: string): void => {
    failures += 1;
    report(path, message);
  };
  if (tls.caData !== undefined) checkPem(tls.caData, "CERTIFICATE", `${at}.caData`, fail);
  if (tls.certData !== undefined) checkPem(tls.certData, "CERTIFICATE", `${at}.certData`, fail);
  if (tls.keyData !== undefined) checkPem(tls.keyData, "PRIVATE KEY", `${at}.keyData`, fail);
  if ((tls.certData === undefined) !== (tls.keyData === undefined)) {
    fail(
      tls.certData === undefined ? `${at}.certData` : `${at}.keyData`,
      "certData and keyData go together: a client certificate needs its key",
    );
  }
  if (config.bearerToken === undefined && tls.certData === undefined && tls.keyData === undefined) {
    fail("data.config", "needs credentials: bearerToken, or tlsClientConfig.certData and keyData");
  }
  if (tls.insecure === true && tls.caData !== undefined) {
    fail(
      `${at}.insecure`,
      "cannot be true together with caData: verify with the CA, or not at all",
    );
  }
  return failures === 0 ? config : undefined;
}

/** Argo CD stores PEM base64-encoded inside the JSON; raw PEM there is the usual mistake. */
function checkPem(
  value: string,
  kind: "CERTIFICATE" | "PRIVATE KEY",
  path: string,
  fail: (path: string, message: string) => void,
): void {
  if (value.includes("-----BEGIN")) {
    fail(path, "must be base64-encoded PEM, not PEM itself: encode it (base64 -w0)");
    return;
  }
  const decoded = BASE64.test(value) ? Buffer.from(value, "base64").toString("utf8") : "";
  const block =
    kind === "CERTIFICATE" ? /-----BEGIN CERTIFICATE-----/ : /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
  if (!block.test(decoded)) {
    fail(path, `must be base64-encoded PEM holding a ${kind} block`);
  }
}

function isHttpsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" && url.host !== "";
  } catch (err: unknown) {
    if (err instanceof TypeError) return false;
    throw err;
  }
}

/** yaml's pretty messages end with " at line L, column C:" and an excerpt; the position is reported apart. */
function firstYamlLine(message: string): string {
  return (message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
}
