/**
 * docker-compose.yml for real: every image built on this machine (scripts/build-images.sh, no
 * registry pull), the whole stack run by testcontainers' DockerComposeEnvironment with an
 * override file that points the fleet at two member clusters of the harness, and the outcome read
 * from the API servers, `rrctl status` inside the stack, Jaeger's API and Prometheus's API.
 *
 * Networking: the harness binds the API servers on the Docker bridge's gateway address (e.g.
 * 172.17.0.1), which is an address of this host that every container reaches through its own
 * network's gateway, and names it in the serving certificate; the containers' kubeconfigs use it.
 * Host networking would collide on the services' fixed ports and lose the service names.
 *
 * Without a Docker daemon the suite is skipped, and says why in its title (scripts/run-tests.mjs
 * lists skipped suites with their titles; a skip is never counted as a pass).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { CoreV1Api } from "@kubernetes/client-node";
import { connectCluster, readClusterSnapshot } from "@rrfleet/kube";
import {
  CLUSTER_ID_ANNOTATION,
  DEFAULT_POLICY,
  PEER_LABEL_PREFIX,
  REFLECTOR_LABEL,
  planCluster,
} from "@rrfleet/topology-core";
import {
  DockerComposeEnvironment,
  PullPolicy,
  Wait,
  type StartedDockerComposeEnvironment,
  type StartedTestContainer,
} from "testcontainers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import {
  createNodeFactory,
  grantShippedClusterRole,
  startTestFleet,
  userContextName,
  waitFor,
  type TestFleet,
} from "./harness/index.js";

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
const CLUSTERS = [
  { name: "east", nodes: 12 },
  { name: "west", nodes: 8 },
] as const;
const WATCHERS = ["watcher-1", "watcher-2", "watcher-3"] as const;
const APPLIERS = ["applier-1", "applier-2"] as const;
/** Cold image builds (Go tools, debootstrap) take many minutes; cached ones seconds. */
const BUILD_TIMEOUT_MS = 60 * 60_000;
const CONVERGE_TIMEOUT_MS = 240_000;

/** Why Docker cannot be used here, or undefined when `docker info` answers. */
async function findDockerUnavailableReason(): Promise<string | undefined> {
  try {
    await execFileAsync("docker", ["info", "--format", "{{.ServerVersion}}"], { timeout: 30_000 });
    return undefined;
  } catch (err: unknown) {
    const stderr =
      typeof err === "object" && err !== null && "stderr" in err ? String(err.stderr).trim() : "";
    const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
    return `no Docker daemon (docker info: ${stderr.split("\n")[0] || message})`;
  }
}

const unavailable = await findDockerUnavailableReason();
if (unavailable !== undefined) {
  console.warn(`containers.e2e: SKIPPED: ${unavailable}`);
}
const TITLE =
  unavailable === undefined
    ? "docker-compose.yml in containers"
    : `docker-compose.yml in containers (skipped: ${unavailable})`;

/**
 * The address containers reach this host on: what Docker maps `host-gateway` to (the default
 * bridge's gateway, e.g. 172.17.0.1), read inside a throwaway container of `image`. (Docker 20.10
 * leaves the bridge's IPAM gateway empty, and Node lists no address of a bridge without carrier.)
 */
async function findDockerHostAddress(image: string): Promise<string> {
  const hosts = await run("docker", [
    "run",
    "--rm",
    "--network",
    "bridge",
    "--add-host",
    "docker-host:host-gateway",
    image,
    "getent",
    "ahostsv4",
    "docker-host",
  ]);
  const address = /^(\d+\.\d+\.\d+\.\d+)\s/m.exec(hosts)?.[1];
  if (address === undefined) throw new Error(`host-gateway resolved to nothing: ${hosts}`);
  return address;
}

/** Runs a command; rejects with its output on a non-zero exit. */
async function run(
  command: string,
  args: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, [...args], {
      cwd: ROOT,
      timeout: options.timeoutMs ?? 60_000,
      maxBuffer: 64 * 1024 * 1024,
      env: options.env ?? process.env,
    });
    return stdout;
  } catch (err: unknown) {
    const out = (key: string): string =>
      typeof err === "object" && err !== null && key in err
        ? String((err as Record<string, unknown>)[key])
        : "";
    throw new Error(
      `${command} ${args.join(" ")} failed: ${err instanceof Error ? err.message : String(err)}\n${out("stderr").slice(-4_000)}`,
      { cause: err },
    );
  }
}

/** The KEY=VALUE lines scripts/build-images.sh prints (image tags). */
function parseImageTags(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .split("\n")
      .map((line) => /^([A-Z_]+)=(\S+)$/.exec(line.trim()))
      .flatMap((match) => (match === null ? [] : [[match[1] ?? "", match[2] ?? ""]])),
  );
}

interface Kubeconfig {
  clusters: { name: string; cluster: Record<string, string> }[];
  users: { name: string }[];
  contexts: { name: string; context: { user: string } }[];
  "current-context": string;
}

/**
 * Each role reaches the member clusters as its own API user holding only the ClusterRole this
 * repository ships for it (watchers: read-only); the admin's credentials never enter a container.
 */
const ROLES = [
  {
    role: "watcher",
    services: WATCHERS,
    user: { name: "watcher", token: randomBytes(16).toString("hex"), groups: ["rrfleet-watchers"] },
    clusterRole: "clusterrole-watcher.yaml",
  },
  {
    role: "applier",
    services: APPLIERS,
    user: { name: "applier", token: randomBytes(16).toString("hex"), groups: ["rrfleet-appliers"] },
    clusterRole: "clusterrole.yaml",
  },
] as const;

/**
 * The override the test adds to docker-compose.yml: the fleet directory with the member clusters
 * (next to the Redis password volume, which the override must keep),
 * fast timings, sessions confirmed by delay (no calico-node here) and host ports chosen by Docker
 * on loopback (fixed ones could be taken on a shared machine).
 */
function renderOverride(fleetDirs: Readonly<Record<"watcher" | "applier", string>>): string {
  const lines = ["services:"];
  const service = (name: string, body: readonly string[]) =>
    lines.push(`  ${name}:`, ...body.map((line) => `    ${line}`));
  for (const name of WATCHERS) {
    service(name, [
      `volumes: !override ["${fleetDirs.watcher}:/etc/rrfleet:ro", "redis-auth:/run/rrfleet-redis:ro"]`,
      "environment:",
      '  HEARTBEAT_SECONDS: "2"',
      ...(name === "watcher-1" ? ["ports: !reset []"] : []),
    ]);
  }
  for (const name of APPLIERS) {
    service(name, [
      `volumes: !override ["${fleetDirs.applier}:/etc/rrfleet:ro", "redis-auth:/run/rrfleet-redis:ro"]`,
      "environment:",
      '  HEARTBEAT_SECONDS: "2"',
      "  SESSION_CHECK: delay",
      '  SWITCHOVER_DELAY_SECONDS: "0.2"',
      '  LEASE_SECONDS: "6"',
      '  RENEW_DEADLINE_SECONDS: "4"',
      '  RETRY_PERIOD_SECONDS: "1"',
      '  CLUSTER_QPS: "20"',
      ...(name === "applier-1" ? ['ports: !override ["127.0.0.1::9465"]'] : []),
    ]);
  }
  service("jaeger", ['ports: !override ["127.0.0.1::16686"]']);
  service("prometheus", ['ports: !override ["127.0.0.1::9090"]']);
  return `${lines.join("\n")}\n`;
}

describe.skipIf(unavailable !== undefined)(TITLE, () => {
  let fleet: TestFleet | undefined;
  let dir: string | undefined;
  let projectName: string;
  let stack: StartedDockerComposeEnvironment | undefined;
  let images: Record<string, string> = {};
  // The services expected to run are docker-compose.yml's own.
  const composeServices = Object.keys(
    (
      parseYaml(readFileSync(join(ROOT, "docker-compose.yml"), "utf8"), {
        merge: true,
        maxAliasCount: -1,
      }) as { services: Record<string, unknown> }
    ).services,
  );

  const container = (service: string): StartedTestContainer => {
    if (stack === undefined) throw new Error("the compose stack did not start");
    return stack.getContainer(`${service}-1`);
  };
  /** Runs a command in a service's container; rejects on a non-zero exit. */
  const exec = async (service: string, command: readonly string[]): Promise<string> => {
    const result = await container(service).exec([...command]);
    if (result.exitCode !== 0) {
      throw new Error(
        `${service}: ${command.join(" ")} exited ${String(result.exitCode)}: ${result.output}`,
      );
    }
    return result.stdout;
  };
  const url = (service: string, port: number, path: string): string =>
    `http://${container(service).getHost()}:${String(container(service).getMappedPort(port))}${path}`;
  const getJson = async <T>(target: string): Promise<T> => {
    const response = await fetch(target, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`GET ${target}: HTTP ${String(response.status)}`);
    return (await response.json()) as T;
  };
  const promQuery = async (query: string) =>
    (
      await getJson<{
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      }>(url("prometheus", 9090, `/api/v1/query?query=${encodeURIComponent(query)}`))
    ).data.result;
  /** `name{labels} value` lines of a fleet service's /metrics, read inside its container. */
  const metricsOf = async (service: string, port: number): Promise<string> =>
    exec(service, [
      "node",
      "-e",
      `fetch('http://127.0.0.1:${String(port)}/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))`,
    ]);

  beforeAll(async () => {
    // Ryuk (the reaper container) would be pulled from a registry: cleanup is afterAll's job.
    process.env["TESTCONTAINERS_RYUK_DISABLED"] = "true";
    // The stack runs on this host's daemon (its API servers must be reachable from the
    // containers) and publishes on 127.0.0.1. testcontainers would take the bridge's gateway
    // instead wherever /.dockerenv exists (as on this sandbox), or try to pull alpine to find one.
    process.env["TESTCONTAINERS_HOST_OVERRIDE"] ??= "127.0.0.1";
    const started = performance.now();
    images = parseImageTags(
      await run("bash", ["scripts/build-images.sh"], { timeoutMs: BUILD_TIMEOUT_MS }),
    );
    console.log(
      `containers.e2e: images ready in ${((performance.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(images)}`,
    );
    const gateway = await findDockerHostAddress(
      images["RRFLEET_BASE_IMAGE"] ?? "rrfleet/node:local",
    );

    fleet = await startTestFleet(
      CLUSTERS.map((c) => c.name),
      { bindAddress: gateway, users: ROLES.map((r) => r.user) },
    );
    for (const { name, nodes } of CLUSTERS) {
      const cluster = fleet.cluster(name);
      for (const { user, clusterRole } of ROLES) {
        await grantShippedClusterRole(cluster.kubeConfig, clusterRole, {
          kind: "Group",
          name: user.groups[0],
        });
      }
      await createNodeFactory(cluster.kubeConfig, {
        kubeletVersion: cluster.kubeApiserverVersion,
      }).createNodes(nodes, { zones: ["zone-a", "zone-b"] });
    }

    // One fleet directory per role, mounted at /etc/rrfleet (read as user 10001): a fleet file
    // and, per cluster, a kubeconfig with that role's user only and the CA inlined.
    dir = await mkdtemp(join(tmpdir(), "rrfleet-containers-"));
    const fleetDirs = { watcher: join(dir, "fleet-watcher"), applier: join(dir, "fleet-applier") };
    for (const { role, user } of ROLES) {
      const fleetDir = fleetDirs[role];
      await mkdir(join(fleetDir, "kubeconfigs"), { recursive: true, mode: 0o755 });
      for (const { name } of CLUSTERS) {
        const cluster = fleet.cluster(name);
        const config = JSON.parse(await readFile(cluster.kubeconfigPath, "utf8")) as Kubeconfig;
        const context = userContextName(name, user.name);
        const ca = (await readFile(cluster.caFile)).toString("base64");
        const own = config.contexts.filter((c) => c.name === context);
        const roleConfig: Kubeconfig = {
          ...config,
          clusters: config.clusters.map((entry) => {
            expect(entry.cluster["server"]).toBe(cluster.apiUrl);
            return {
              name: entry.name,
              cluster: { server: cluster.apiUrl, "certificate-authority-data": ca },
            };
          }),
          users: config.users.filter((u) => own.some((c) => c.context.user === u.name)),
          contexts: own,
          "current-context": context,
        };
        expect(roleConfig.users).toHaveLength(1);
        await writeFile(join(fleetDir, "kubeconfigs", `${name}.json`), JSON.stringify(roleConfig), {
          mode: 0o644,
        });
      }
      await writeFile(
        join(fleetDir, "fleet.yaml"),
        [
          "clusters:",
          ...CLUSTERS.flatMap(({ name }) => [
            `  - name: ${name}`,
            `    kubeconfig: kubeconfigs/${name}.json`,
            `    context: ${userContextName(name, user.name)}`,
          ]),
          "",
        ].join("\n"),
        { mode: 0o644 },
      );
    }
    const overrideFile = join(dir, "docker-compose.e2e.yml");
    await writeFile(overrideFile, renderOverride(fleetDirs));

    projectName = `rrfleet-e2e-${String(process.pid)}`;
    const upStarted = performance.now();
    stack = await new DockerComposeEnvironment(ROOT, ["docker-compose.yml", overrideFile])
      .withProjectName(projectName)
      .withEnvironment(images)
      // `--pull never`: every image is built here; a missing one must fail, not be fetched.
      .withPullPolicy(PullPolicy.neverPull())
      // Started is enough here (compose itself waits for the dependencies' health); the first
      // test polls every service's health with a deadline and names the ones that are not.
      .withDefaultWaitStrategy(Wait.forSuccessfulCommand("true"))
      .withStartupTimeout(180_000)
      .up();
    console.log(
      `containers.e2e: compose up in ${((performance.now() - upStarted) / 1000).toFixed(1)} s`,
    );
  }, BUILD_TIMEOUT_MS + 600_000);

  afterAll(async () => {
    if (stack !== undefined) {
      // The services' logs are kept as test artifacts (reports/containers/SERVICE.log).
      const logs = join(ROOT, "e2e", "reports", "containers");
      await mkdir(logs, { recursive: true });
      for (const service of composeServices) {
        const text = await execFileAsync(
          "docker",
          ["logs", "--tail", "400", `${projectName}-${service}-1`],
          { maxBuffer: 64 * 1024 * 1024 },
        ).then(
          ({ stdout, stderr }) => `${stdout}${stderr}`,
          (err: unknown) => String(err),
        );
        await writeFile(join(logs, `${service}.log`), text);
      }
      await stack.down({ removeVolumes: true, timeout: 10_000 });
    }
    await fleet?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }, 180_000);

  it("runs every service of docker-compose.yml healthy, the fleet services as 10001:10001 from the image built here", async () => {
    expect(composeServices).toEqual(
      expect.arrayContaining(["redis", "otel-collector", "jaeger", "prometheus"]),
    );
    const health = async () => {
      const states = new Map<string, string>();
      for (const service of composeServices) {
        const inspected = JSON.parse(
          await run("docker", ["inspect", `${projectName}-${service}-1`]),
        ) as { State: { Health?: { Status: string } } }[];
        states.set(service, inspected[0]?.State.Health?.Status ?? "no health check");
      }
      return states;
    };
    await waitFor(
      async () => ([...(await health()).values()].every((s) => s === "healthy") ? true : undefined),
      { description: "every compose service healthy", timeoutMs: 120_000, intervalMs: 2_000 },
    ).catch(async (err: unknown) => {
      throw new Error(`${String(err)}: ${JSON.stringify([...(await health()).entries()])}`, {
        cause: err,
      });
    });
    for (const service of [...WATCHERS, ...APPLIERS]) {
      const [inspected] = JSON.parse(
        await run("docker", ["inspect", `${projectName}-${service}-1`]),
      ) as { Config: { Image: string; User: string } }[];
      expect(inspected?.Config.Image).toBe(images["RRFLEET_IMAGE"]);
      expect(inspected?.Config.User).toBe("10001:10001");
      expect((await exec(service, ["id", "-u"])).trim()).toBe("10001");
    }
  });

  it("elects exactly one leader among the appliers", async () => {
    const leaders = async () => {
      const result: string[] = [];
      for (const service of APPLIERS) {
        if (/^rrfleet_leader\{[^}]*\} 1$/m.test(await metricsOf(service, 9465))) {
          result.push(service);
        }
      }
      return result;
    };
    const found = await waitFor(
      async () => {
        const current = await leaders();
        return current.length === 1 ? current : undefined;
      },
      { description: "one applier reports rrfleet_leader 1", timeoutMs: 60_000, intervalMs: 1_000 },
    );
    expect(found).toHaveLength(1);
  });

  it("converges the member clusters: reflectors labelled and annotated, clients labelled, mesh off", async () => {
    const check = async (name: string): Promise<true | undefined> => {
      const cluster = fleet?.cluster(name);
      if (cluster === undefined) throw new Error(`no cluster ${name}`);
      const snapshot = await readClusterSnapshot(
        connectCluster({ kubeconfigPath: cluster.kubeconfigPath, context: name }),
      );
      if (snapshot.bgpConfiguration.nodeToNodeMeshEnabled) return undefined;
      if (planCluster(snapshot, DEFAULT_POLICY, new Date()).steps.length > 0) return undefined;
      const nodes = await cluster.kubeConfig.makeApiClient(CoreV1Api).listNode();
      const reflectors = nodes.items.filter(
        (n) =>
          n.metadata?.labels?.[REFLECTOR_LABEL] !== undefined &&
          n.metadata.annotations?.[CLUSTER_ID_ANNOTATION] !== undefined,
      );
      const clients = nodes.items.filter((n) =>
        Object.keys(n.metadata?.labels ?? {}).some((key) => key.startsWith(PEER_LABEL_PREFIX)),
      );
      return reflectors.length >= 2 && reflectors.length + clients.length >= nodes.items.length
        ? true
        : undefined;
    };
    for (const { name } of CLUSTERS) {
      await waitFor(() => check(name), {
        description: `${name} converged by the containers`,
        timeoutMs: CONVERGE_TIMEOUT_MS,
        intervalMs: 2_000,
      });
    }
  });

  it("shows the fleet right in `rrctl status` run inside the stack", async () => {
    interface Report {
      leader?: { holder: string; epoch: number };
      watchers: { id: string }[];
      clusters: { name: string; watcher?: string; status?: { phase: string; nodes?: number } }[];
    }
    const read = async (): Promise<Report> =>
      JSON.parse(
        await exec("applier-2", [
          "node",
          "packages/rrctl/bin/rrctl.js",
          "status",
          "--output",
          "json",
        ]),
      ) as Report;
    await waitFor(
      async () => {
        const report = await read();
        return report.clusters.length === CLUSTERS.length &&
          report.clusters.every((c) => c.status?.phase === "Converged")
          ? true
          : undefined;
      },
      {
        description: "rrctl status: every cluster Converged",
        timeoutMs: 120_000,
        intervalMs: 2_000,
      },
    );
    // Watchers, the shard map and the leader's metrics are eventually consistent: poll until the
    // report and the leader's /metrics agree, then check the report that did.
    const { report, leaderMetrics } = await waitFor(
      async () => {
        const current = await read();
        const holderHost = current.leader?.holder.replace(/-[^-]+$/, "") ?? "";
        const everyWatcher =
          current.watchers
            .map((w) => w.id)
            .sort()
            .join() === [...WATCHERS].sort().join();
        const watcherIds: readonly string[] = WATCHERS;
        const everyClusterWatched = current.clusters.every((c) =>
          watcherIds.includes(c.watcher ?? ""),
        );
        if (holderHost === "" || !everyWatcher || !everyClusterWatched) return undefined;
        const metrics = await metricsOf(holderHost, 9465);
        return /^rrfleet_leader\{[^}]*\} 1$/m.test(metrics)
          ? { report: current, leaderMetrics: metrics }
          : undefined;
      },
      {
        description: "rrctl status: every watcher, every cluster watched, its leader leading",
        timeoutMs: 60_000,
        intervalMs: 2_000,
      },
    );
    expect(report.watchers.map((w) => w.id).sort()).toEqual([...WATCHERS]);
    expect(report.leader?.holder).toMatch(/^applier-[12]-/);
    expect(report.clusters.map((c) => c.name).sort()).toEqual(CLUSTERS.map((c) => c.name).sort());
    for (const cluster of report.clusters) {
      expect(WATCHERS).toContain(cluster.watcher);
      expect(cluster.status?.nodes).toBe(CLUSTERS.find((c) => c.name === cluster.name)?.nodes);
    }
    // The leader rrctl names is the applier whose metrics say it leads.
    expect(leaderMetrics).toMatch(/^rrfleet_leader\{[^}]*\} 1$/m);
    const text = await exec("applier-1", ["node", "packages/rrctl/bin/rrctl.js", "status"]);
    for (const { name } of CLUSTERS) expect(text).toContain(name);
  });

  it("sends the services' traces through the collector to Jaeger, one trace across watcher and applier", async () => {
    interface JaegerTraces {
      data: {
        processes: Record<string, { serviceName: string }>;
        spans: { operationName: string; tags: { key: string; value: unknown }[] }[];
      }[];
    }
    await waitFor(
      async () => {
        const services = await getJson<{ data: string[] | null }>(
          url("jaeger", 16686, "/api/services"),
        );
        const names = services.data ?? [];
        return names.includes("rrfleet-watcher") && names.includes("rrfleet-applier")
          ? true
          : undefined;
      },
      {
        description: "Jaeger knows rrfleet-watcher and rrfleet-applier",
        timeoutMs: 90_000,
        intervalMs: 2_000,
      },
    );
    const trace = await waitFor(
      async () => {
        const traces = await getJson<JaegerTraces>(
          url(
            "jaeger",
            16686,
            "/api/traces?service=rrfleet-applier&operation=applier.reconcile&limit=50&lookback=1h",
          ),
        );
        return traces.data.find((t) => {
          const services = new Set(Object.values(t.processes).map((p) => p.serviceName));
          return services.has("rrfleet-watcher") && services.has("rrfleet-applier");
        });
      },
      {
        description: "a trace from a watcher into the applier",
        timeoutMs: 90_000,
        intervalMs: 2_000,
      },
    );
    const operations = trace.spans.map((s) => s.operationName);
    expect(operations).toEqual(expect.arrayContaining(["watcher.observe", "applier.reconcile"]));
    const clusterTags = trace.spans.flatMap((s) =>
      s.tags.filter((t) => t.key === "rrfleet.cluster").map((t) => t.value),
    );
    expect(clusterTags.length).toBeGreaterThan(0);
    for (const value of clusterTags) expect(CLUSTERS.map((c) => c.name)).toContain(value);
  });

  it("lets Prometheus scrape every watcher and applier and receive the collector's span metrics", async () => {
    await waitFor(
      async () => {
        const up = await promQuery('up{job=~"rrfleet-watcher|rrfleet-applier"} == 1');
        return up.length === WATCHERS.length + APPLIERS.length ? true : undefined;
      },
      { description: "Prometheus: 5 rrfleet targets up", timeoutMs: 90_000, intervalMs: 2_000 },
    );
    const leaders = await promQuery("rrfleet_leader == 1");
    expect(leaders).toHaveLength(1);
    const spanMetrics = await waitFor(
      async () => {
        const result = await promQuery(
          '{__name__=~"traces_span_metrics_calls(_total)?", span_name="applier.reconcile"}',
        );
        return result.length > 0 ? result : undefined;
      },
      {
        description: "span metrics of applier.reconcile in Prometheus",
        timeoutMs: 90_000,
        intervalMs: 2_000,
      },
    );
    console.log(
      `containers.e2e: span metrics: ${JSON.stringify(spanMetrics.map((r) => r.metric))}`,
    );
    for (const series of spanMetrics) {
      expect(series.metric["service_name"]).toBe("rrfleet-applier");
      expect(CLUSTERS.map((c) => c.name)).toContain(series.metric["rrfleet_cluster"]);
    }
    // The watcher's spans reach Prometheus on their own export and scrape cycle: poll for them.
    const durations = await waitFor(
      async () => {
        const result = await promQuery(
          'count by (__name__) ({__name__=~"traces_span_metrics_duration.*_bucket", service_name="rrfleet-watcher"})',
        );
        return result.length > 0 ? result : undefined;
      },
      {
        description: "span duration histograms of rrfleet-watcher in Prometheus",
        timeoutMs: 90_000,
        intervalMs: 2_000,
      },
    );
    expect(durations.map((r) => r.metric["__name__"])).toEqual([
      "traces_span_metrics_duration_milliseconds_bucket",
    ]);
    const collector = await waitFor(
      async () => {
        const result = await promQuery('up{job="otel-collector"} == 1');
        return result.length > 0 ? result : undefined;
      },
      {
        description: "Prometheus: the collector's target up",
        timeoutMs: 60_000,
        intervalMs: 2_000,
      },
    );
    expect(collector).toHaveLength(1);
  });
});
