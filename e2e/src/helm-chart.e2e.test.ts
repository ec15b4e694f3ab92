import { startBgpLab, type BgpLab } from "./bgp-lab/index.js";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { KubeConfig } from "@kubernetes/client-node";
import { parseApplierConfig } from "@rrfleet/applier";
import { connectRedis } from "@rrfleet/fleet-state";
import {
  checkPermissions,
  connectCluster,
  createAccessReviewClient,
  detectCalicoApi,
  listControllerPermissions,
  parseClusterSecret,
  parseFleetFile,
  readClusterSnapshot,
  startClusterRegistry,
  type ClusterSecret,
  type Permission,
} from "@rrfleet/kube";
import { parsePolicy, planCluster, type Policy } from "@rrfleet/topology-core";
import { parseWatcherConfig } from "@rrfleet/watcher";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import {
  buildGoTool,
  createNodeFactory,
  describeExit,
  findFreePort,
  installCrds,
  locatePrometheusOperatorCrds,
  PROMETHEUS_OPERATOR_VERSION,
  requestKube,
  runCommand,
  sendRedisCommand,
  startManagedProcess,
  startRrctlRun,
  startTestCluster,
  waitFor,
  waitForReady,
  writeKubeconfig,
  type RrctlRunProcess,
  type TestCluster,
} from "./harness/index.js";

/**
 * The Helm chart (deploy/helm/rrfleet), judged by the tools a platform team would use: helm lint
 * and the values schema; every rendered object created with strict field validation by a real
 * kube-apiserver (with the Prometheus Operator CRDs of a pinned release, from its Go module);
 * `helm install` into namespaces enforcing the `restricted` Pod Security level, with every pod
 * template admitted as a Pod; each ServiceAccount's rights asked of the API server; and the
 * single-mode controller run with the chart's own arguments, policy and ServiceAccount until the
 * cluster converges.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CHART = join(ROOT, "deploy/helm/rrfleet");

interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

interface PodSpec {
  readonly serviceAccountName?: string;
  readonly automountServiceAccountToken?: boolean;
  readonly securityContext?: Record<string, unknown>;
  readonly containers: readonly {
    readonly name: string;
    readonly command?: readonly string[];
    readonly args?: readonly string[];
    readonly env?: readonly { readonly name: string; readonly value?: string }[];
    readonly securityContext?: Record<string, unknown>;
    readonly volumeMounts?: readonly { readonly name: string; readonly mountPath: string }[];
  }[];
  readonly volumes?: readonly {
    readonly name: string;
    readonly configMap?: { readonly name: string };
    readonly secret?: { readonly secretName: string };
  }[];
}

interface Workload extends KubeObject {
  readonly spec: {
    readonly replicas?: number;
    readonly strategy?: { readonly type: string };
    readonly template: {
      readonly metadata: { readonly labels: Readonly<Record<string, string>> };
      readonly spec: PodSpec;
    };
  };
}

/** The values files under ci/ (chart-testing's layout) and what each installs. */
const VALUES = [
  { file: "single-values.yaml", mode: "single" },
  { file: "single-monitoring-values.yaml", mode: "single" },
  { file: "fleet-values.yaml", mode: "fleet" },
  { file: "fleet-external-tls-values.yaml", mode: "fleet" },
  { file: "all-toggles-values.yaml", mode: "fleet" },
  { file: "member-values.yaml", mode: "member" },
] as const;

const RULES_FILE = join(ROOT, "deploy/monitoring/rrfleet.rules.yaml");
const GROUPS_BY_MODE = {
  single: ["rrfleet-clusters", "rrfleet-controller"],
  fleet: ["rrfleet-clusters", "rrfleet-fleet"],
} as const;

const releaseOf = (file: string) => file.replace(/-values\.yaml$/, "");
const isWorkload = (o: KubeObject): o is Workload =>
  o.kind === "Deployment" || o.kind === "StatefulSet";
const named = (objects: readonly KubeObject[], kind: string, suffix: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name.endsWith(suffix));
const rrfleetContainer = (workload: Workload) => workload.spec.template.spec.containers[0];
const envOf = (workload: Workload) =>
  Object.fromEntries((rrfleetContainer(workload)?.env ?? []).map((e) => [e.name, e.value ?? ""]));
const dataOf = (object: KubeObject | undefined) =>
  (object?.["data"] ?? {}) as Readonly<Record<string, string>>;
const rulesOf = async (file: string) =>
  (parseYaml(await readFile(join(ROOT, "deploy/kubernetes", file), "utf8")) as { rules: unknown })
    .rules;

describe("deploy/helm/rrfleet", () => {
  let helm: string;
  let cluster: TestCluster;
  /** Rendered objects per values file, namespace = release name. */
  const rendered = new Map<string, KubeObject[]>();
  const resources = new Map<string, { plural: string; namespaced: boolean }>();

  async function runHelm(args: readonly string[]) {
    return runCommand(helm, args, { cwd: ROOT });
  }

  async function render(file: string): Promise<KubeObject[]> {
    const release = releaseOf(file);
    const result = await runHelm([
      "template",
      release,
      CHART,
      "--namespace",
      release,
      "--kube-version",
      cluster.kubeApiserverVersion,
      "--values",
      join(CHART, "ci", file),
    ]);
    expect(result.code, result.stderr).toBe(0);
    return parseAllDocuments(result.stdout)
      .map((d) => d.toJS() as KubeObject | null)
      .filter((o): o is KubeObject => o !== null);
  }

  /** The REST resource of a kind, from the API server's discovery (CRDs included). */
  async function resourceOf(apiVersion: string, kind: string) {
    const key = `${apiVersion}/${kind}`;
    const known = resources.get(key);
    if (known !== undefined) return known;
    const path = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const response = await requestKube({ cluster }, "GET", path);
    expect(response.status, `discovery of ${path}: ${response.body}`).toBe(200);
    const list = JSON.parse(response.body) as {
      resources: { name: string; kind: string; namespaced: boolean }[];
    };
    const found = list.resources.find((r) => r.kind === kind && !r.name.includes("/"));
    if (found === undefined) throw new Error(`the API server serves no ${kind} in ${apiVersion}`);
    const resource = { plural: found.name, namespaced: found.namespaced };
    resources.set(key, resource);
    return resource;
  }

  async function collectionPath(object: KubeObject, namespace: string): Promise<string> {
    const { plural, namespaced } = await resourceOf(object.apiVersion, object.kind);
    const base = object.apiVersion.includes("/")
      ? `/apis/${object.apiVersion}`
      : `/api/${object.apiVersion}`;
    return namespaced
      ? `${base}/namespaces/${object.metadata.namespace ?? namespace}/${plural}`
      : `${base}/${plural}`;
  }

  async function createNamespace(name: string, labels: Record<string, string> = {}) {
    const response = await requestKube({ cluster }, "POST", "/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name, labels },
    });
    expect(response.status, response.body).toBe(201);
  }

  /** A token of a ServiceAccount, from the TokenRequest API (what kubelet mounts in its pods). */
  async function tokenOf(namespace: string, serviceAccount: string): Promise<string> {
    const response = await requestKube(
      { cluster },
      "POST",
      `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`,
      {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { expirationSeconds: 3600 },
      },
    );
    expect(response.status, response.body).toBe(201);
    const token = (JSON.parse(response.body) as { status?: { token?: string } }).status?.token;
    if (token === undefined) throw new Error(`no token for ${namespace}/${serviceAccount}`);
    return token;
  }

  function kubeConfigWithToken(token: string): KubeConfig {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: cluster.name, server: cluster.apiUrl, caFile: cluster.caFile }],
      users: [{ name: "sa", token }],
      contexts: [{ name: cluster.name, cluster: cluster.name, user: "sa" }],
      currentContext: cluster.name,
    });
    return kubeConfig;
  }

  /** SelfSubjectAccessReview as `token`: may it do `verb` on `resource` (in `namespace`)? */
  async function canI(
    token: string,
    verb: string,
    resource: string,
    group = "",
    namespace?: string,
  ): Promise<boolean> {
    const response = await requestKube(
      { cluster, token },
      "POST",
      "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
      {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SelfSubjectAccessReview",
        spec: {
          resourceAttributes: { verb, resource, group, ...(namespace ? { namespace } : {}) },
        },
      },
    );
    expect(response.status, response.body).toBe(201);
    return (
      (JSON.parse(response.body) as { status?: { allowed?: boolean } }).status?.allowed === true
    );
  }

  beforeAll(async () => {
    helm = await buildGoTool("helm");
    cluster = await startTestCluster({ name: "helm" });
    const crds = await installCrds(cluster.kubeConfig, await locatePrometheusOperatorCrds());
    console.log(
      `helm: ${helm}; Prometheus Operator ${PROMETHEUS_OPERATOR_VERSION} CRDs: ${crds.join(", ")}`,
    );
    for (const { file } of VALUES) rendered.set(file, await render(file));
  });

  afterAll(async () => {
    await cluster.stop();
  });

  it("passes helm lint --strict with each values file", async () => {
    for (const { file } of VALUES) {
      const result = await runHelm([
        "lint",
        CHART,
        "--strict",
        "--kube-version",
        cluster.kubeApiserverVersion,
        "--values",
        join(CHART, "ci", file),
      ]);
      expect(result.code, `${file}:\n${result.stdout}${result.stderr}`).toBe(0);
      expect(result.stdout).toContain("0 chart(s) failed");
    }
  });

  it.each([
    { name: "a mode that does not exist", set: ["mode=fleat"], want: "at '/mode'" },
    { name: "no watcher", set: ["watcher.replicas=0"], want: "at '/watcher/replicas'" },
    {
      name: "a single applier (no standby)",
      set: ["applier.replicas=1"],
      want: "at '/applier/replicas'",
    },
    { name: "a policy ratio above 1", set: ["policy.ratio=2"], want: "at '/policy/ratio'" },
    {
      name: "a policy field rrfleet does not know",
      set: ["policy.reflectorCount=3"],
      want: "additional properties 'reflectorCount' not allowed",
    },
    {
      name: "a misspelt top-level key",
      set: ["controler.qps=5"],
      want: "additional properties 'controler' not allowed",
    },
    {
      name: "a Redis URL that is not redis://",
      set: ["externalRedis.url=http://redis:6379"],
      want: "at '/externalRedis/url'",
    },
    { name: "an unknown log level", set: ["logLevel=loud"], want: "at '/logLevel'" },
    {
      name: "a cluster name that is not a DNS label",
      setJson: [
        'fleet.clusters=[{"name":"Prod_East","server":"https://x:6443","watcher":{"bearerToken":"t"}}]',
      ],
      want: "at '/fleet/clusters/0/name'",
    },
    {
      name: "a cluster without credentials",
      setJson: ['fleet.clusters=[{"name":"east","server":"https://x:6443"}]'],
      want: "missing property 'watcher'",
    },
    {
      name: "fleet mode without the in-chart Redis and without a URL",
      set: ["mode=fleet", "redis.enabled=false"],
      want: "externalRedis.url: required when redis.enabled is false",
    },
    {
      name: "a password inside the Redis URL",
      set: ["mode=fleet", "redis.enabled=false", "externalRedis.url=redis://u:secret@redis:6379"],
      want: "externalRedis.url: must not hold a password",
    },
    {
      name: "TLS settings with a plain redis:// URL",
      set: [
        "mode=fleet",
        "redis.enabled=false",
        "externalRedis.url=redis://redis:6379",
        "externalRedis.tls.existingSecret=redis-tls",
      ],
      want: "externalRedis.tls.existingSecret: TLS needs a rediss://",
    },
    {
      name: "a lease shorter than its renew deadline",
      set: ["mode=fleet", "applier.leaseSeconds=5"],
      want: "applier.leaseSeconds: must be greater than applier.renewDeadlineSeconds",
    },
  ])("refuses $name, naming the field", async ({ set = [], setJson = [], want }) => {
    const result = await runHelm([
      "template",
      "bad",
      CHART,
      "--kube-version",
      cluster.kubeApiserverVersion,
      ...set.flatMap((s) => ["--set", s]),
      ...setJson.flatMap((s) => ["--set-json", s]),
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(want);
    // The secret in the URL case must not be echoed back.
    expect(result.stderr).not.toContain("u:secret@");
  });

  it("renders the defaults without any value set (the schema's control case)", async () => {
    const result = await runHelm([
      "template",
      "ok",
      CHART,
      "--kube-version",
      cluster.kubeApiserverVersion,
    ]);
    expect(result.code, result.stderr).toBe(0);
  });

  it("renders its alert rules and ClusterRoles from copies equal to their sources", async () => {
    const check = await runCommand(process.execPath, ["scripts/sync-chart-files.mjs", "--check"], {
      cwd: ROOT,
    });
    expect(check.code, check.stderr).toBe(0);
    const controller = named(rendered.get("single-values.yaml") ?? [], "ClusterRole", "controller");
    expect(controller?.["rules"]).toEqual(await rulesOf("clusterrole.yaml"));
    const member = rendered.get("member-values.yaml") ?? [];
    expect(named(member, "ClusterRole", "-watcher")?.["rules"]).toEqual(
      await rulesOf("clusterrole-watcher.yaml"),
    );
    expect(named(member, "ClusterRole", "-applier")?.["rules"]).toEqual(
      await rulesOf("clusterrole.yaml"),
    );
  });

  it("carries the rule groups of the installed mode, scraped under the job names they select", async () => {
    const source = parseYaml(await readFile(RULES_FILE, "utf8")) as {
      groups: { name: string; rules: { expr: string }[] }[];
    };
    const jobsInRules = new Set(
      [...JSON.stringify(source).matchAll(/job=\\"(rrfleet-[a-z]+)\\"/g)].map((m) => m[1]),
    );
    for (const { file, mode } of VALUES) {
      if (mode === "member") continue;
      const objects = rendered.get(file) ?? [];
      const wanted = source.groups.filter((g) =>
        (GROUPS_BY_MODE[mode] as readonly string[]).includes(g.name),
      );
      const rule = named(objects, "PrometheusRule", "alerts") as
        { spec: { groups: unknown } } | undefined;
      if (rule !== undefined) expect(rule.spec.groups, file).toEqual(wanted);
      const prometheus = named(objects, "ConfigMap", "prometheus");
      if (prometheus !== undefined) {
        const rules = parseYaml(dataOf(prometheus)["rrfleet.rules.yaml"] ?? "") as unknown;
        expect(rules, file).toEqual({ groups: wanted });
      }
      for (const monitor of objects.filter((o) => o.kind.endsWith("Monitor"))) {
        const endpoints = (monitor["spec"] as Record<string, unknown>)[
          monitor.kind === "ServiceMonitor" ? "endpoints" : "podMetricsEndpoints"
        ] as { relabelings: { targetLabel: string; replacement: string }[] }[];
        const job = endpoints[0]?.relabelings.find((r) => r.targetLabel === "job")?.replacement;
        expect(jobsInRules, `${file}: ${monitor.kind} ${monitor.metadata.name}`).toContain(job);
      }
    }
    expect(
      named(rendered.get("all-toggles-values.yaml") ?? [], "PrometheusRule", "alerts"),
    ).toBeDefined();
  });

  it("runs rrfleet's pods as numeric non-root users with a read-only root file system and no privileges", () => {
    let checked = 0;
    for (const { file } of VALUES) {
      for (const workload of (rendered.get(file) ?? []).filter(isWorkload)) {
        const spec = workload.spec.template.spec;
        const where = `${file}: ${workload.metadata.name}`;
        expect(spec.securityContext, where).toMatchObject({
          runAsNonRoot: true,
          runAsUser: expect.any(Number) as number,
          seccompProfile: { type: "RuntimeDefault" },
        });
        for (const container of spec.containers) {
          expect(container.securityContext, `${where}/${container.name}`).toMatchObject({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
          });
        }
        const component = workload.metadata.labels?.["app.kubernetes.io/component"] ?? "";
        if (["controller", "watcher", "applier"].includes(component)) {
          // The project image's user (contracts: 10001:10001); they read the API server.
          expect(spec.securityContext, where).toMatchObject({
            runAsUser: 10001,
            runAsGroup: 10001,
          });
          expect(spec.automountServiceAccountToken, where).toBe(true);
          expect(rrfleetContainer(workload)?.command?.[0], where).toBe("node");
        } else if (component !== "prometheus") {
          expect(spec.automountServiceAccountToken, where).toBe(false);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(12);
  });

  it("configures the fleet services with values their own parsers accept", () => {
    for (const { file, mode } of VALUES) {
      if (mode !== "fleet") continue;
      const objects = rendered.get(file) ?? [];
      const watcher = named(objects, "Deployment", "-watcher") as Workload;
      const applier = named(objects, "Deployment", "-applier") as Workload;
      expect(parseWatcherConfig(envOf(watcher)), file).toMatchObject({ ok: true });
      expect(parseApplierConfig(envOf(applier)), file).toMatchObject({ ok: true });
      expect(applier.spec.replicas, file).toBeGreaterThanOrEqual(2);
      expect(watcher.spec.replicas, file).toBeGreaterThanOrEqual(1);
      for (const kind of ["-watcher", "-applier"]) {
        expect(named(objects, "PodDisruptionBudget", kind), `${file}: PDB ${kind}`).toBeDefined();
      }
      const fleetFile = named(objects, "ConfigMap", "-fleet");
      const parsed = parseFleetFile(dataOf(fleetFile)["fleet.yaml"] ?? "", {
        path: "/etc/rrfleet/fleet.yaml",
      });
      expect(parsed, file).toMatchObject({ ok: true, problems: [] });
      // The file is mounted where FLEET_FILE says.
      expect(envOf(watcher)["FLEET_FILE"]).toBe("/etc/rrfleet/fleet.yaml");
      const mount = rrfleetContainer(watcher)?.volumeMounts?.find(
        (m) => m.mountPath === "/etc/rrfleet",
      );
      const volume = watcher.spec.template.spec.volumes?.find((v) => v.name === mount?.name);
      expect(volume?.configMap?.name).toBe(fleetFile?.metadata.name);
    }
  });

  it("renders each member cluster's watcher and applier credentials as separate cluster Secrets the registry accepts", () => {
    const objects = rendered.get("fleet-values.yaml") ?? [];
    const secrets = objects.filter(
      (o) => o.kind === "Secret" && o.metadata.labels?.["rrfleet.io/cluster"] === "true",
    ) as (KubeObject & { stringData: Record<string, string> })[];
    const roles = secrets.map((s) => [
      s.stringData["name"],
      s.metadata.labels?.["rrfleet.io/credentials-for"],
    ]);
    expect(roles.sort()).toEqual([
      ["prod-east", "applier"],
      ["prod-east", "watcher"],
      ["prod-west", "applier"],
      ["prod-west", "watcher"],
    ]);
    for (const secret of secrets) {
      const parsed = parseClusterSecret(
        {
          namespace: "fleet",
          name: secret.metadata.name,
          labels: secret.metadata.labels ?? {},
          data: Object.fromEntries(
            Object.entries(secret.stringData).map(([k, v]) => [
              k,
              Buffer.from(v).toString("base64"),
            ]),
          ),
        },
        {},
      );
      expect(parsed, `${secret.metadata.name}: ${JSON.stringify(parsed)}`).toMatchObject({
        ok: true,
      });
    }
    // Watchers' Secrets never carry the appliers' tokens.
    const watcherSecrets = secrets.filter(
      (s) => s.metadata.labels?.["rrfleet.io/credentials-for"] === "watcher",
    );
    expect(JSON.stringify(watcherSecrets)).not.toContain("applier-token");
  });

  it("hands each role's registry that role's credentials from the rendered Secrets", async () => {
    const secrets = (rendered.get("fleet-values.yaml") ?? [])
      .filter((o) => o.kind === "Secret" && o.metadata.labels?.["rrfleet.io/cluster"] === "true")
      .map((o): ClusterSecret => ({
        namespace: "fleet",
        name: o.metadata.name,
        labels: o.metadata.labels ?? {},
        data: Object.fromEntries(
          Object.entries((o as KubeObject & { stringData: Record<string, string> }).stringData).map(
            ([k, v]) => [k, Buffer.from(v).toString("base64")],
          ),
        ),
      }));
    const tokens: Record<string, Record<string, string | undefined>> = {};
    for (const role of ["watcher", "applier"] as const) {
      const registry = startClusterRegistry({
        role,
        secretSource: {
          namespace: "fleet",
          start: (onChange) => {
            queueMicrotask(onChange);
            return {
              secrets: () => secrets,
              isSynced: () => true,
              lastError: () => undefined,
              stop: () => Promise.resolve(),
            };
          },
        },
      });
      await registry.waitForReady();
      expect(registry.problems()).toEqual([]);
      tokens[role] = Object.fromEntries(
        registry.clusters().map((c) => [c.name, c.connect().kubeConfig.getCurrentUser()?.token]),
      );
      await registry.stop();
    }
    expect(tokens).toEqual({
      watcher: { "prod-east": "watcher-token-east", "prod-west": "watcher-token-west" },
      applier: { "prod-east": "applier-token-east", "prod-west": "applier-token-west" },
    });
  });

  it("starts the in-chart Redis with the services' ACL user opened by the password, and the default user off", async () => {
    const redis = named(
      rendered.get("fleet-values.yaml") ?? [],
      "Deployment",
      "-redis",
    ) as Workload;
    const container = redis.spec.template.spec.containers[0];
    const [shell, flag, script] = container?.command ?? [];
    expect([shell, flag]).toEqual(["sh", "-c"]);
    const username = redis.spec.template.spec.containers[0]?.env?.find(
      (e) => e.name === "REDIS_USERNAME",
    )?.value;
    expect(username).toBe(
      envOf(named(rendered.get("fleet-values.yaml") ?? [], "Deployment", "-applier") as Workload)[
        "REDIS_USERNAME"
      ],
    );
    // The container's own start script, run here with its mounts mapped to a temp dir and
    // Debian's redis-server on a free loopback port.
    const dir = await mkdtemp(join(tmpdir(), "rrfleet-chart-redis-"));
    const password = "a-generated-password-0123456789";
    await writeFile(join(dir, "password"), password);
    const port = await findFreePort();
    const patched = (script ?? "")
      .replaceAll("/var/run/secrets/redis/password", join(dir, "password"))
      .replaceAll("/data", dir)
      .replace("exec redis-server", `exec redis-server --port ${port} --bind 127.0.0.1`);
    const server = await startManagedProcess({
      name: "chart redis",
      command: "sh",
      args: ["-c", patched],
      logFile: join(dir, "redis.log"),
      env: { ...process.env, REDIS_USERNAME: username ?? "" },
    });
    try {
      const client = await waitFor(
        () =>
          connectRedis(`redis://${username ?? ""}:${password}@127.0.0.1:${port}`, {
            connectTimeoutMs: 1_000,
          }).catch(() => undefined),
        {
          description: "the chart's Redis answering its ACL user",
          timeoutMs: 20_000,
          intervalMs: 200,
        },
      );
      expect(await client.ping()).toBe("PONG");
      expect(await client.acl("WHOAMI")).toBe(username);
      client.disconnect();
      // Without credentials Redis answers nothing but an authentication error.
      expect(await sendRedisCommand(port, "PING")).toMatch(/^-NOAUTH/);
      await expect(
        connectRedis(`redis://${username ?? ""}:wrong-password@127.0.0.1:${port}`, {
          connectTimeoutMs: 2_000,
        }),
      ).rejects.toThrow();
      // The ACL file holds the password's hash, not the password.
      expect(readFileSync(join(dir, "users.acl"), "utf8")).not.toContain(password);
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("serves the in-chart Redis over TLS only with redis.tls.enabled, the services presenting the chart's client certificate", async () => {
    const objects = rendered.get("all-toggles-values.yaml") ?? [];
    const redis = named(objects, "Deployment", "-redis") as Workload;
    const secretName = (workload: Workload, mountPath: string) => {
      const pod = workload.spec.template.spec;
      const mount = pod.containers[0]?.volumeMounts?.find((m) => m.mountPath === mountPath);
      return pod.volumes?.find((v) => v.name === mount?.name)?.secret?.secretName;
    };
    const serverSecret = named(objects, "Secret", "-redis-server-tls");
    const clientSecret = named(objects, "Secret", "-redis-client-tls");
    expect(secretName(redis, "/var/run/secrets/redis-tls")).toBe(serverSecret?.metadata.name);
    for (const suffix of ["-watcher", "-applier"]) {
      const service = named(objects, "Deployment", suffix) as Workload;
      const env = envOf(service);
      expect(env["REDIS_URL"], suffix).toBe(`rediss://${redis.metadata.name}:6379`);
      expect(env, suffix).toMatchObject({
        REDIS_TLS_CA_FILE: "/var/run/secrets/rrfleet/redis-tls/ca.crt",
        REDIS_TLS_CERT_FILE: "/var/run/secrets/rrfleet/redis-tls/tls.crt",
        REDIS_TLS_KEY_FILE: "/var/run/secrets/rrfleet/redis-tls/tls.key",
      });
      // The services hold the client certificate, never the server's key.
      expect(secretName(service, "/var/run/secrets/rrfleet/redis-tls"), suffix).toBe(
        clientSecret?.metadata.name,
      );
      const parsed = suffix === "-watcher" ? parseWatcherConfig(env) : parseApplierConfig(env);
      expect(parsed, suffix).toMatchObject({ ok: true });
    }
    // Redis's own start script, run here on a free port with the rendered certificates.
    const dir = await mkdtemp(join(tmpdir(), "rrfleet-chart-redis-tls-"));
    const write = async (folder: string, data: Readonly<Record<string, string>>) => {
      await mkdir(join(dir, folder));
      for (const [key, value] of Object.entries(data)) {
        await writeFile(join(dir, folder, key), Buffer.from(value, "base64"));
      }
    };
    await write("server", dataOf(serverSecret));
    await write("client", dataOf(clientSecret));
    const password = "a-generated-password-0123456789";
    await writeFile(join(dir, "password"), password);
    const username = envOf(named(objects, "Deployment", "-applier") as Workload)["REDIS_USERNAME"];
    const port = await findFreePort();
    const [, , script] = redis.spec.template.spec.containers[0]?.command ?? [];
    const patched = (script ?? "")
      .replaceAll("/var/run/secrets/redis-tls", join(dir, "server"))
      .replaceAll("/var/run/secrets/redis/password", join(dir, "password"))
      .replaceAll("/data", dir)
      .replace("--tls-port 6379", `--tls-port ${String(port)} --bind 127.0.0.1`);
    expect(patched).toContain(`--tls-port ${String(port)}`);
    const server = await startManagedProcess({
      name: "chart redis tls",
      command: "sh",
      args: ["-c", patched],
      logFile: join(dir, "redis.log"),
      env: { ...process.env, REDIS_USERNAME: username ?? "" },
    });
    const login = {
      url: `rediss://127.0.0.1:${String(port)}`,
      username: username ?? "",
      passwordFile: join(dir, "password"),
    };
    const client = join(dir, "client");
    try {
      const redisClient = await waitFor(
        () =>
          connectRedis(
            {
              ...login,
              tls: {
                caFile: join(client, "ca.crt"),
                certFile: join(client, "tls.crt"),
                keyFile: join(client, "tls.key"),
              },
            },
            { connectTimeoutMs: 1_000 },
          ).catch(() => undefined),
        { description: "the chart's Redis over TLS", timeoutMs: 20_000, intervalMs: 200 },
      );
      expect(await redisClient.acl("WHOAMI")).toBe(username);
      redisClient.disconnect();
      // No client certificate, or no TLS at all: refused.
      await expect(
        connectRedis(
          { ...login, tls: { caFile: join(client, "ca.crt") } },
          { connectTimeoutMs: 2_000 },
        ),
      ).rejects.toThrow();
      await expect(
        connectRedis(
          { ...login, url: `redis://127.0.0.1:${String(port)}` },
          { connectTimeoutMs: 2_000 },
        ),
      ).rejects.toThrow();
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("lets only this release's watchers and appliers reach the in-chart Redis", () => {
    const objects = rendered.get("all-toggles-values.yaml") ?? [];
    const policy = named(objects, "NetworkPolicy", "-redis") as KubeObject & {
      spec: {
        podSelector: LabelSelector;
        ingress: { from: { podSelector: LabelSelector }[]; ports: { port: string }[] }[];
      };
    };
    expect(policy).toBeDefined();
    const pods = objects.filter(isWorkload).map((w) => ({
      component: w.metadata.labels?.["app.kubernetes.io/component"],
      labels: w.spec.template.metadata.labels,
    }));
    const isolated = pods.filter((p) => matches(policy.spec.podSelector, p.labels));
    expect(isolated.map((p) => p.component)).toEqual(["redis"]);
    const admitted = pods
      .filter((p) =>
        policy.spec.ingress.some((rule) => rule.from.some((f) => matches(f.podSelector, p.labels))),
      )
      .map((p) => p.component)
      .sort();
    expect(admitted).toEqual(["applier", "watcher"]);
    // Another release's watcher has the same component label but another instance.
    const otherRelease = { ...pods.find((p) => p.component === "watcher")?.labels };
    otherRelease["app.kubernetes.io/instance"] = "someone-else";
    expect(
      policy.spec.ingress.some((rule) =>
        rule.from.some((f) => matches(f.podSelector, otherRelease)),
      ),
    ).toBe(false);
  });

  describe.each(VALUES)("with ci/$file", ({ file }) => {
    const release = releaseOf(file);

    it("renders only objects the API server accepts under strict field validation", async () => {
      await createNamespace(`dry-${release}`);
      const refused: string[] = [];
      for (const object of rendered.get(file) ?? []) {
        const namespaced = {
          ...object,
          metadata: { ...object.metadata, namespace: `dry-${release}` },
        };
        const { namespaced: isNamespaced } = await resourceOf(object.apiVersion, object.kind);
        const body = isNamespaced ? namespaced : object;
        const path = await collectionPath(body, `dry-${release}`);
        const response = await requestKube(
          { cluster },
          "POST",
          `${path}?dryRun=All&fieldValidation=Strict`,
          body,
        );
        if (response.status !== 201) {
          refused.push(
            `${object.kind} ${object.metadata.name}: ${response.status} ${response.body}`,
          );
        }
        expect(response.warnings, `${object.kind} ${object.metadata.name}`).toEqual([]);
      }
      expect(refused).toEqual([]);
    });

    it("installs with helm into a namespace that enforces the restricted Pod Security level", async () => {
      await createNamespace(release, {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
      });
      const result = await runHelm([
        "install",
        release,
        CHART,
        "--namespace",
        release,
        "--kubeconfig",
        cluster.kubeconfigPath,
        "--values",
        join(CHART, "ci", file),
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain("STATUS: deployed");
      expect(result.stderr).not.toMatch(/PodSecurity|would violate/);
      // Workload objects only get Pod Security warnings; their pods are what is enforced. No
      // kubelet or controller runs here, so create each pod template as a Pod ourselves.
      for (const workload of (rendered.get(file) ?? []).filter(isWorkload)) {
        const response = await requestKube(
          { cluster },
          "POST",
          `/api/v1/namespaces/${release}/pods?fieldValidation=Strict`,
          {
            apiVersion: "v1",
            kind: "Pod",
            metadata: {
              name: `${workload.metadata.name}-probe`,
              labels: workload.spec.template.metadata.labels,
            },
            spec: workload.spec.template.spec,
          },
        );
        expect(response.status, `${workload.metadata.name}: ${response.body}`).toBe(201);
        expect(response.warnings, workload.metadata.name).toEqual([]);
      }
    });
  });

  it("applies deploy/kubernetes/rrctl-run.yaml as it is, and its namespace admits its pod under restricted", async () => {
    const objects = ["clusterrole.yaml", "rrctl-run.yaml"].flatMap((file) =>
      parseAllDocuments(readFileSync(join(ROOT, "deploy/kubernetes", file), "utf8"))
        .map((d) => d.toJS() as KubeObject | null)
        .filter((o): o is KubeObject => o !== null),
    );
    for (const object of objects) {
      const path = await collectionPath(object, "rrfleet");
      const response = await requestKube(
        { cluster },
        "POST",
        `${path}?fieldValidation=Strict`,
        object,
      );
      expect(response.status, `${object.kind} ${object.metadata.name}: ${response.body}`).toBe(201);
      expect(response.warnings, object.metadata.name).toEqual([]);
    }
    const deployment = objects.find(isWorkload);
    const response = await requestKube(
      { cluster },
      "POST",
      "/api/v1/namespaces/rrfleet/pods?fieldValidation=Strict",
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "rrctl-run-probe", labels: deployment?.spec.template.metadata.labels },
        spec: deployment?.spec.template.spec,
      },
    );
    expect(response.status, response.body).toBe(201);
  });

  it("would notice a rendered field the API server does not know (strict validation bites)", async () => {
    const controller = named(rendered.get("single-values.yaml") ?? [], "Deployment", "controller");
    const typo = { ...controller, spec: { ...(controller?.["spec"] as object), replica: 1 } };
    const path = await collectionPath(typo as KubeObject, "dry-single");
    const response = await requestKube(
      { cluster },
      "POST",
      `${path}?dryRun=All&fieldValidation=Strict`,
      { ...typo, metadata: { ...controller?.metadata, namespace: "dry-single" } },
    );
    expect(response.status).toBe(400);
    expect((JSON.parse(response.body) as { message: string }).message).toContain(
      'unknown field "spec.replica"',
    );
  });

  it("has a namespace that really enforces restricted: a privileged variant of a pod is refused", async () => {
    const controller = named(
      rendered.get("single-values.yaml") ?? [],
      "Deployment",
      "controller",
    ) as Workload;
    const [container] = controller.spec.template.spec.containers;
    const response = await requestKube({ cluster }, "POST", "/api/v1/namespaces/single/pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "privileged-probe" },
      spec: {
        ...controller.spec.template.spec,
        securityContext: {},
        containers: [{ ...container, securityContext: { allowPrivilegeEscalation: true } }],
      },
    });
    expect(response.status).toBe(403);
    expect(response.body).toContain("violates PodSecurity");
  });

  it("gives the member cluster's watcher ServiceAccount read rights only, and the applier's exactly what it writes", async () => {
    const calico = await detectCalicoApi(
      connectCluster({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.name }),
    );
    const everything = listControllerPermissions(calico, { sessionCheck: true });
    const reads = everything.filter((p) => ["get", "list", "watch"].includes(p.verb));
    const writes = everything.filter((p) => !reads.includes(p));
    const watcher = await tokenOf("member", "member-rrfleet-watcher");
    const applier = await tokenOf("member", "member-rrfleet-applier");
    const check = (token: string, permissions: readonly Permission[]) =>
      checkPermissions(createAccessReviewClient(kubeConfigWithToken(token)), permissions);

    await expect(check(applier, everything)).resolves.toBeUndefined();
    // The watcher reads nodes, BGPPeers, BGPConfigurations and ClusterInformation…
    await expect(
      check(
        watcher,
        reads.filter((p) => p.resource !== "caliconodestatuses"),
      ),
    ).resolves.toBeUndefined();
    // …and may write nothing: every write is refused, one by one.
    for (const permission of writes) {
      await expect(
        check(watcher, [permission]),
        `${permission.verb} ${permission.resource}`,
      ).rejects.toThrow(/lack a permission/);
    }
    expect(await canI(watcher, "patch", "nodes")).toBe(false);
    expect(await canI(watcher, "create", "bgppeers", "crd.projectcalico.org")).toBe(false);
    expect(await canI(applier, "patch", "nodes")).toBe(true);
    expect(await canI(applier, "delete", "bgppeers", "crd.projectcalico.org")).toBe(true);
    // Neither may touch what rrfleet has no business with.
    for (const token of [watcher, applier]) {
      expect(await canI(token, "delete", "nodes")).toBe(false);
      expect(await canI(token, "list", "secrets", "", "kube-system")).toBe(false);
    }
  });

  it("lets the fleet's watchers and appliers read the cluster Secrets of their namespace, nothing more", async () => {
    for (const component of ["watcher", "applier"]) {
      const token = await tokenOf("fleet", `fleet-rrfleet-${component}`);
      expect(await canI(token, "list", "secrets", "", "fleet"), component).toBe(true);
      expect(await canI(token, "watch", "secrets", "", "fleet"), component).toBe(true);
      expect(await canI(token, "create", "secrets", "", "fleet"), component).toBe(false);
      expect(await canI(token, "list", "secrets", "", "kube-system"), component).toBe(false);
      expect(await canI(token, "patch", "nodes"), component).toBe(false);
    }
  });

  describe("single mode, run as the chart configures it", () => {
    let lab: BgpLab | undefined;
    let run: RrctlRunProcess | undefined;

    afterAll(async () => {
      await run?.stop();
      await lab?.stop();
    });

    it("converges the cluster with the chart's arguments, policy and ServiceAccount", async () => {
      const objects = rendered.get("single-values.yaml") ?? [];
      const deployment = named(objects, "Deployment", "controller") as Workload;
      const container = rrfleetContainer(deployment);
      expect(container?.command).toEqual(["node", "packages/rrctl/bin/rrctl.js", "run"]);
      const policyText =
        dataOf(named(objects, "ConfigMap", "controller-policy"))["policy.yaml"] ?? "";
      const policy = parsePolicy(parseYaml(policyText));
      expect(policy.ok, JSON.stringify(policy)).toBe(true);

      // In the pod, the policy is mounted at /etc/rrfleet and the credentials are the
      // ServiceAccount's: here, a file with the same text and a kubeconfig with its token.
      const policyFile = join(cluster.dir, "chart-policy.yaml");
      await writeFile(policyFile, policyText);
      const kubeconfigPath = join(cluster.dir, "chart-controller.kubeconfig");
      await writeKubeconfig(kubeconfigPath, {
        clusterName: cluster.name,
        server: cluster.apiUrl,
        caFile: cluster.caFile,
        admin: { name: "controller", token: await tokenOf("single", "single-rrfleet-controller") },
        users: [],
      });
      const args = (container?.args ?? [])
        .filter((a) => !a.startsWith("--listen="))
        .map((a) => (a === "--policy=/etc/rrfleet/policy.yaml" ? `--policy=${policyFile}` : a));
      expect(args).toContain(`--policy=${policyFile}`);

      await createNodeFactory(cluster.kubeConfig, {
        kubeletVersion: cluster.kubeApiserverVersion,
      }).createNodes(18, { zones: ["zone-a", "zone-b", "zone-c"] });
      // Real BGP: BIRD per node, configured from the API server; it fills CalicoNodeStatus.
      lab = await startBgpLab({ kubeConfig: cluster.kubeConfig });
      run = await startRrctlRun({ cluster, kubeconfigPath, args, logName: "chart-controller.log" });
      await waitForReady(run);
      const current = run;
      const wanted = (policy as { policy: Policy }).policy;
      await waitFor(
        async () => {
          const metrics = (await current.probe("/metrics")).body;
          if (!metrics.includes(`rrfleet_cluster_converged{cluster="${cluster.name}"} 1`)) {
            return undefined;
          }
          const snapshot = await readClusterSnapshot(
            connectCluster({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.name }),
          );
          return planCluster(snapshot, wanted, new Date()).steps.length === 0 ? true : undefined;
        },
        {
          description: "converged under the chart's policy",
          timeoutMs: 180_000,
          intervalMs: 500,
          abortIf: () => describeExit(current),
        },
      );
    });
  });
});

interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    readonly values?: readonly string[];
  }[];
}

/** Kubernetes label-selector semantics (matchLabels AND every matchExpression). */
function matches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  const equal = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return (
    equal &&
    (selector.matchExpressions ?? []).every((e) => {
      const value = labels[e.key];
      switch (e.operator) {
        case "In":
          return value !== undefined && (e.values ?? []).includes(value);
        case "NotIn":
          return value === undefined || !(e.values ?? []).includes(value);
        case "Exists":
          return value !== undefined;
        case "DoesNotExist":
          return value === undefined;
      }
    })
  );
}
