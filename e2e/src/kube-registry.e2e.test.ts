/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node's models
   (V1Secret, V1Role, …) are plain data the library fills from JSON; object literals are what it sends. */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, RbacAuthorizationV1Api, type V1Secret } from "@kubernetes/client-node";
import {
  connectCluster,
  type ClusterConnection,
  createClusterRegistry,
  describeRegistryProblem,
  toKubeError,
  type ClusterRegistry,
  type RegistryChange,
} from "@rrfleet/kube";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestCluster, userContextName, waitFor, type TestCluster } from "./harness/index.js";

const NAMESPACE = "rrfleet-system";
/** Reads cluster Secrets, nothing else: the registry's least privilege. */
const REGISTRY = { name: "registry", token: "registry-token-5d1c9e" };
/** Member-cluster credentials the Secrets carry: may list nodes. */
const MEMBER = { name: "member", token: "member-token-77ab21" };

type Summary = { added: string[]; removed: string[]; changed: string[] };

describe("cluster registry against a real API server", () => {
  let cluster: TestCluster;
  let core: CoreV1Api;
  let registry: ClusterRegistry;
  let registryConnection: ClusterConnection;
  let caData: string;
  const changes: { at: number; summary: Summary }[] = [];
  let seen = 0;

  /** The next change the registry reported that this test has not consumed yet. */
  const nextChange = (description: string): Promise<{ at: number; summary: Summary }> =>
    waitFor(
      () => {
        const change = changes[seen];
        if (change !== undefined) seen += 1;
        return Promise.resolve(change);
      },
      { description, timeoutMs: 60_000, intervalMs: 20 },
    );

  /** A cluster Secret pointing back at the test API server. */
  const makeClusterSecret = (
    secretName: string,
    data: { name: string; token: string; policy?: string; config?: string },
    labels: Record<string, string> = { "rrfleet.io/cluster": "true" },
  ): V1Secret => ({
    metadata: { name: secretName, namespace: NAMESPACE, labels },
    stringData: {
      name: data.name,
      server: cluster.apiUrl,
      config:
        data.config ?? JSON.stringify({ bearerToken: data.token, tlsClientConfig: { caData } }),
      ...(data.policy === undefined ? {} : { policy: data.policy }),
    },
  });

  const summarize = (change: RegistryChange): Summary => ({
    added: change.added.map((c) => c.name),
    removed: change.removed.map((c) => c.name),
    changed: change.changed.map((c) => c.name),
  });

  beforeAll(async () => {
    cluster = await startTestCluster({
      name: "kube-registry",
      calico: "none",
      users: [REGISTRY, MEMBER],
    });
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const rbac = cluster.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    caData = (await readFile(cluster.caFile)).toString("base64");
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
    await rbac.createNamespacedRole({
      namespace: NAMESPACE,
      body: {
        metadata: { name: "cluster-secret-reader" },
        rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["list", "watch"] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: NAMESPACE,
      body: {
        metadata: { name: "cluster-secret-reader" },
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "Role",
          name: "cluster-secret-reader",
        },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: REGISTRY.name }],
      },
    });
    await rbac.createClusterRole({
      body: {
        metadata: { name: "node-lister" },
        rules: [{ apiGroups: [""], resources: ["nodes"], verbs: ["list"] }],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: "node-lister-member" },
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "ClusterRole",
          name: "node-lister",
        },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: MEMBER.name }],
      },
    });
    registryConnection = connectCluster({
      kubeconfigPath: cluster.kubeconfigPath,
      context: userContextName(cluster.name, REGISTRY.name),
    });
    // RBAC reaches the authorizer through an informer: wait until both users have their rights.
    await waitFor(
      async () =>
        (await registryConnection.core.listNamespacedSecret({ namespace: NAMESPACE })).items,
      { description: "the registry user may list Secrets", timeoutMs: 30_000 },
    );
    const member = connectCluster({
      kubeconfigPath: cluster.kubeconfigPath,
      context: userContextName(cluster.name, MEMBER.name),
    });
    await waitFor(async () => (await member.core.listNode()).items, {
      description: "the member user may list nodes",
      timeoutMs: 30_000,
    });

    registry = createClusterRegistry({
      secrets: { connection: registryConnection, namespace: NAMESPACE },
      onChange: (change) => {
        changes.push({ at: performance.now(), summary: summarize(change) });
      },
    });
    await registry.waitForReady();
  });

  afterAll(async () => {
    // beforeAll may have failed before these existed.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    await registry?.stop();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    await cluster?.stop();
  });

  it("picks up a labelled Secret and connects with its credentials: a LIST of nodes succeeds", async () => {
    const created = performance.now();
    await core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: makeClusterSecret(
        "cluster-alpha",
        { name: "alpha", token: MEMBER.token, policy: "ratio: 0.5\ntopology: zoned\n" },
        { "rrfleet.io/cluster": "true", "rrfleet.io/label-env": "e2e" },
      ),
    });
    const change = await nextChange("alpha added");
    expect(change.summary).toEqual({ added: ["alpha"], removed: [], changed: [] });
    console.log(
      `e2e: the registry reported a new cluster Secret ${Math.round(change.at - created)} ms after the create request was sent`,
    );

    const alpha = registry.clusters().find((c) => c.name === "alpha");
    expect(alpha).toMatchObject({
      source: "secret",
      target: { namespace: NAMESPACE, secretName: "cluster-alpha", server: cluster.apiUrl },
      labels: { env: "e2e" },
      policy: { ratio: 0.5, topology: "zoned" },
    });
    const nodes = await alpha!.connect().core.listNode();
    expect(Array.isArray(nodes.items)).toBe(true);
  });

  it("reports rotated credentials as changed, and connects with the new ones", async () => {
    await core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: makeClusterSecret("cluster-beta", { name: "beta", token: "not-a-valid-token" }),
    });
    expect((await nextChange("beta added")).summary).toEqual({
      added: ["beta"],
      removed: [],
      changed: [],
    });
    const stale = registry.clusters().find((c) => c.name === "beta")!;
    // The credentials come from the Secret: a wrong token is refused by the API server.
    const refused = await stale
      .connect()
      .core.listNode()
      .then(
        () => undefined,
        (err: unknown) => toKubeError(err, { verb: "list", resource: "nodes" }),
      );
    expect(refused?.code).toBe("Unauthorized");

    await core.replaceNamespacedSecret({
      name: "cluster-beta",
      namespace: NAMESPACE,
      body: makeClusterSecret("cluster-beta", { name: "beta", token: MEMBER.token }),
    });
    expect((await nextChange("beta changed")).summary).toEqual({
      added: [],
      removed: [],
      changed: ["beta"],
    });
    const fresh = registry.clusters().find((c) => c.name === "beta")!;
    expect(fresh.fingerprint).not.toBe(stale.fingerprint);
    expect(Array.isArray((await fresh.connect().core.listNode()).items)).toBe(true);
  });

  it("reports an invalid Secret with its name and field and skips it", async () => {
    await core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: makeClusterSecret("cluster-broken", {
        name: "broken",
        token: MEMBER.token,
        config: `{"bearerToken": "${MEMBER.token}", "tlsClientConfig": {"caData": "${caData}", "insecure": true}}`,
      }),
    });
    const lines = await waitFor(
      () => {
        const found = registry.problems().map(describeRegistryProblem);
        return Promise.resolve(
          found.some((line) => line.includes("cluster-broken")) ? found : undefined,
        );
      },
      { description: "the broken Secret reported", timeoutMs: 60_000, intervalMs: 20 },
    );
    expect(lines).toEqual([
      `Secret ${NAMESPACE}/cluster-broken: data.config.tlsClientConfig.insecure: cannot be true together with caData: verify with the CA, or not at all`,
    ]);
    expect(lines.join("\n")).not.toContain(MEMBER.token);
    expect(registry.clusters().map((c) => c.name)).not.toContain("broken");
  });

  it("ignores Secrets without the cluster label", async () => {
    await core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: makeClusterSecret("not-a-cluster", { name: "unlabelled", token: MEMBER.token }, {}),
    });
    // Watch events arrive in order: had the unlabelled Secret been selected, it would come first.
    await core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: makeClusterSecret("cluster-marker", { name: "marker", token: MEMBER.token }),
    });
    expect((await nextChange("marker added")).summary).toEqual({
      added: ["marker"],
      removed: [],
      changed: [],
    });
    expect(registry.clusters().map((c) => c.name)).not.toContain("unlabelled");
  });

  it("reports a deleted Secret as removed", async () => {
    await core.deleteNamespacedSecret({ name: "cluster-alpha", namespace: NAMESPACE });
    expect((await nextChange("alpha removed")).summary).toEqual({
      added: [],
      removed: ["alpha"],
      changed: [],
    });
    expect(registry.clusters().map((c) => c.name)).toEqual(["beta", "marker"]);
  });

  it("serves fleet-file clusters beside Secret ones; a Secret taking a file cluster's name is skipped", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rrfleet-e2e-fleet-"));
    const fleetFile = join(dir, "fleet.yaml");
    await writeFile(
      fleetFile,
      [
        "defaults:",
        "  policy: { topology: single }",
        "clusters:",
        "  - name: filed",
        `    kubeconfig: ${cluster.kubeconfigPath}`,
        `    context: ${userContextName(cluster.name, MEMBER.name)}`,
        "    labels: { env: e2e }",
      ].join("\n"),
    );
    await core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: makeClusterSecret("cluster-filed", { name: "filed", token: MEMBER.token }),
    });
    const both = createClusterRegistry({
      fleetFile,
      secrets: { connection: registryConnection, namespace: NAMESPACE },
    });
    try {
      await both.waitForReady();
      const filed = both.clusters().find((c) => c.name === "filed");
      expect(filed).toMatchObject({ source: "file", labels: { env: "e2e" } });
      expect(Array.isArray((await filed!.connect().core.listNode()).items)).toBe(true);
      // Secret clusters take the file's defaults.
      expect(both.clusters().find((c) => c.name === "beta")?.policy.topology).toBe("single");
      expect(both.problems().map(describeRegistryProblem)).toContain(
        `Secret ${NAMESPACE}/cluster-filed: data.name: cluster name "filed" is taken by the fleet file; this Secret is skipped`,
      );
    } finally {
      await both.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
