import { DEFAULT_POLICY } from "@rrfleet/topology-core";
import { describe, expect, it } from "vitest";
import { parseClusterSecret, type ClusterSecret } from "./parse-cluster-secret.js";
import { describeRegistryProblem } from "./registry-problem.js";

const TOKEN = "s3cr3t-token-value-0123456789";
const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");
const CA = b64("-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n");
const CERT = b64("-----BEGIN CERTIFICATE-----\nMIIBclient\n-----END CERTIFICATE-----\n");
const KEY = b64("-----BEGIN EC PRIVATE KEY-----\nMHcfake\n-----END EC PRIVATE KEY-----\n");

/** A cluster Secret as the watch keeps it; `data` is given in clear text and encoded here. */
function makeSecret(
  data: Record<string, string>,
  labels: Record<string, string> = { "rrfleet.io/cluster": "true" },
): ClusterSecret {
  return {
    namespace: "rrfleet-system",
    name: "cluster-prod-eu-1",
    resourceVersion: "7",
    labels,
    data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, b64(value)])),
  };
}

const VALID = {
  name: "prod-eu-1",
  server: "https://10.0.0.1:6443",
  config: JSON.stringify({ bearerToken: TOKEN, tlsClientConfig: { caData: CA } }),
};

function linesOf(problems: readonly { path: string; message: string }[]): string[] {
  return problems.map((p) => (p.path === "" ? p.message : `${p.path}: ${p.message}`));
}

describe("parseClusterSecret", () => {
  it("builds a cluster from an Argo CD style Secret, labels from rrfleet.io/label-*", () => {
    const result = parseClusterSecret(
      makeSecret(VALID, {
        "rrfleet.io/cluster": "true",
        "rrfleet.io/label-env": "prod",
        "rrfleet.io/label-region": "eu",
        "app.kubernetes.io/part-of": "something-else",
      }),
      {},
    );
    if (!result.ok) throw new Error(linesOf(result.problems).join("; "));
    const { fingerprint, ...rest } = result.cluster;
    expect({ ...rest, connect: undefined }).toEqual({
      name: "prod-eu-1",
      source: "secret",
      target: {
        namespace: "rrfleet-system",
        secretName: "cluster-prod-eu-1",
        server: "https://10.0.0.1:6443",
      },
      labels: { env: "prod", region: "eu" },
      policy: DEFAULT_POLICY,
    });
    expect(fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(result.cluster)).not.toContain(TOKEN);

    const connection = result.cluster.connect();
    expect(connection.name).toBe("prod-eu-1");
    expect(connection.kubeConfig.getCurrentCluster()).toMatchObject({
      server: "https://10.0.0.1:6443",
      caData: CA,
      skipTLSVerify: false,
    });
    expect(connection.kubeConfig.getCurrentUser()).toMatchObject({ token: TOKEN });
  });

  it("connects with a client certificate, and with insecure TLS and a server name", () => {
    const result = parseClusterSecret(
      makeSecret({
        ...VALID,
        config: JSON.stringify({
          tlsClientConfig: { certData: CERT, keyData: KEY, insecure: true, serverName: "api" },
        }),
      }),
      {},
    );
    if (!result.ok) throw new Error(linesOf(result.problems).join("; "));
    const kubeConfig = result.cluster.connect().kubeConfig;
    expect(kubeConfig.getCurrentCluster()).toMatchObject({
      skipTLSVerify: true,
      tlsServerName: "api",
    });
    expect(kubeConfig.getCurrentUser()).toMatchObject({ certData: CERT, keyData: KEY });
  });

  it("applies the Secret's policy overrides on top of the fleet's defaults", () => {
    const result = parseClusterSecret(makeSecret({ ...VALID, policy: "ratio: 0.02\nmax: 6\n" }), {
      topology: "zoned",
      max: 12,
    });
    if (!result.ok) throw new Error(linesOf(result.problems).join("; "));
    expect(result.cluster.policy).toEqual({
      ...DEFAULT_POLICY,
      topology: "zoned",
      ratio: 0.02,
      max: 6,
    });
  });

  it("trims the newline kubectl create secret --from-file leaves on name and server", () => {
    const result = parseClusterSecret(
      makeSecret({ ...VALID, name: "prod-eu-1\n", server: "https://10.0.0.1:6443\n" }),
      {},
    );
    expect(result.ok && result.cluster.name).toBe("prod-eu-1");
    expect(result.ok && result.cluster.target.server).toBe("https://10.0.0.1:6443");
  });

  const invalidCases: { name: string; data: Record<string, string | undefined>; want: string[] }[] =
    [
      {
        name: "requires the cluster's name",
        data: { name: undefined },
        want: ["data.name: is required: the cluster's name (a DNS-1123 label)"],
      },
      {
        name: "requires a DNS-1123 label as the name",
        data: { name: "Prod EU" },
        want: [
          "data.name: \"Prod EU\" is not a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63",
        ],
      },
      {
        name: "refuses a plain-http server: client-node would refuse it at connect time",
        data: { server: "http://10.0.0.1:8080" },
        want: ["data.server: must be an https:// URL of the API server"],
      },
      {
        name: "refuses config that is not JSON without quoting it (it holds credentials)",
        data: { config: `{"bearerToken": "${TOKEN}",}` },
        want: [
          expect.stringMatching(/^data\.config: not valid JSON( \(at position \d+\))?$/) as never,
        ],
      },
      {
        name: "rejects config fields rrfleet does not support instead of ignoring them",
        data: {
          config: JSON.stringify({ bearerToken: TOKEN, awsAuthConfig: { clusterName: "x" } }),
        },
        want: [
          "data.config.awsAuthConfig: unknown field (known fields: bearerToken, tlsClientConfig)",
        ],
      },
      {
        name: "rejects a misspelt TLS field",
        data: { config: JSON.stringify({ bearerToken: TOKEN, tlsClientConfig: { caDta: CA } }) },
        want: [
          "data.config.tlsClientConfig.caDta: unknown field (known fields: caData, certData, insecure, keyData, serverName)",
        ],
      },
      {
        name: "explains that PEM must be base64-encoded, as Argo CD stores it",
        data: {
          config: JSON.stringify({
            bearerToken: TOKEN,
            tlsClientConfig: {
              caData: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            },
          }),
        },
        want: [
          "data.config.tlsClientConfig.caData: must be base64-encoded PEM, not PEM itself: encode it (base64 -w0)",
        ],
      },
      {
        name: "refuses a certificate where the key belongs",
        data: { config: JSON.stringify({ tlsClientConfig: { certData: CERT, keyData: CERT } }) },
        want: [
          "data.config.tlsClientConfig.keyData: must be base64-encoded PEM holding a PRIVATE KEY block",
        ],
      },
      {
        name: "refuses a client certificate without its key",
        data: { config: JSON.stringify({ tlsClientConfig: { certData: CERT, caData: CA } }) },
        want: [
          "data.config.tlsClientConfig.keyData: certData and keyData go together: a client certificate needs its key",
        ],
      },
      {
        name: "refuses a config without any credentials",
        data: { config: JSON.stringify({ tlsClientConfig: { caData: CA } }) },
        want: [
          "data.config: needs credentials: bearerToken, or tlsClientConfig.certData and keyData",
        ],
      },
      {
        name: "refuses insecure together with a CA",
        data: {
          config: JSON.stringify({
            bearerToken: TOKEN,
            tlsClientConfig: { caData: CA, insecure: true },
          }),
        },
        want: [
          "data.config.tlsClientConfig.insecure: cannot be true together with caData: verify with the CA, or not at all",
        ],
      },
      {
        name: "rejects an unknown data key, pointing at where labels go",
        data: { labels: '{"env":"prod"}' },
        want: [
          "data.labels: unknown key (known keys: config, name, policy, server; cluster labels go in the Secret's labels as rrfleet.io/label-<key>)",
        ],
      },
      {
        name: "reports a policy that is not YAML",
        data: { policy: "ratio: [0.1\n" },
        want: [
          expect.stringMatching(/^data\.policy: not valid YAML at line \d+, column \d+: /) as never,
        ],
      },
      {
        name: "reports an invalid policy field with its path",
        data: { policy: "ratio: 5\ntopolgy: multi\n" },
        want: [
          "data.policy.ratio: must be at most 1",
          expect.stringMatching(/^data\.policy\.topolgy: unknown field/) as never,
        ],
      },
    ];

  it.each(invalidCases)("$name", ({ data, want }) => {
    const fields: Record<string, string | undefined> = { ...VALID, ...data };
    const merged = Object.fromEntries(
      Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    const result = parseClusterSecret(makeSecret(merged), {});
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(linesOf(problems)).toEqual(want);
    expect(
      problems.every(
        (p) => p.source === "secret" && p.origin === "rrfleet-system/cluster-prod-eu-1",
      ),
    ).toBe(true);
    expect(JSON.stringify(problems)).not.toContain(TOKEN);
  });

  it("names the Secret and the field in the one-line rendering", () => {
    const result = parseClusterSecret(makeSecret({ ...VALID, server: "10.0.0.1" }), {});
    expect(result.ok ? [] : result.problems.map(describeRegistryProblem)).toEqual([
      "Secret rrfleet-system/cluster-prod-eu-1: data.server: must be an https:// URL of the API server",
    ]);
    expect(result.ok ? undefined : result.problems[0]?.cluster).toBe("prod-eu-1");
  });

  const fingerprintCases: {
    name: string;
    edit: (secret: ClusterSecret) => ClusterSecret;
    wantChanged: boolean;
  }[] = [
    {
      name: "a rotated token changes the fingerprint",
      edit: (s) => ({
        ...s,
        data: {
          ...s.data,
          config: b64(JSON.stringify({ bearerToken: "other", tlsClientConfig: { caData: CA } })),
        },
      }),
      wantChanged: true,
    },
    {
      name: "a policy override changes the fingerprint",
      edit: (s) => ({ ...s, data: { ...s.data, policy: b64("ratio: 0.5") } }),
      wantChanged: true,
    },
    {
      name: "a cluster label changes the fingerprint",
      edit: (s) => ({ ...s, labels: { ...s.labels, "rrfleet.io/label-env": "staging" } }),
      wantChanged: true,
    },
    {
      name: "a new resourceVersion alone does not",
      edit: (s) => ({ ...s, resourceVersion: "8" }),
      wantChanged: false,
    },
    {
      name: "a Secret label outside rrfleet.io/label- does not",
      edit: (s) => ({ ...s, labels: { ...s.labels, team: "net" } }),
      wantChanged: false,
    },
    {
      name: "the same JSON with its keys in another order does not",
      edit: (s) => ({
        ...s,
        data: {
          ...s.data,
          config: b64(JSON.stringify({ tlsClientConfig: { caData: CA }, bearerToken: TOKEN })),
        },
      }),
      wantChanged: false,
    },
  ];

  it.each(fingerprintCases)("$name", ({ edit, wantChanged }) => {
    const before = parseClusterSecret(makeSecret(VALID), {});
    const after = parseClusterSecret(edit(makeSecret(VALID)), {});
    if (!before.ok || !after.ok) throw new Error("both versions must be valid");
    expect(before.cluster.fingerprint !== after.cluster.fingerprint).toBe(wantChanged);
  });
});
