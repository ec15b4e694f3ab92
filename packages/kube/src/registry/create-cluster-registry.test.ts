import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_POLICY } from "@rrfleet/topology-core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { KubeError } from "../kube-error.js";
import type { WatchLogger } from "../watch-resource.js";
import {
  startClusterRegistry,
  type ClusterRegistry,
  type StartClusterRegistryOptions,
} from "./create-cluster-registry.js";
import type { RegistryChange } from "./diff-clusters.js";
import type { ClusterSecret } from "./parse-cluster-secret.js";
import { describeRegistryProblem } from "./registry-problem.js";
import type { ClusterSecretSource } from "./watch-cluster-secrets.js";

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");
const CA = b64("-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n");

/** A kubeconfig with one context per name, each its own cluster and token user. */
function renderKubeconfig(tokens: Record<string, string>): string {
  const names = Object.keys(tokens);
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: names.map((name) => ({ name, cluster: { server: `https://${name}.example:6443` } })),
    users: names.map((name) => ({ name, user: { token: tokens[name] } })),
    contexts: names.map((name) => ({ name, context: { cluster: name, user: name } })),
  });
}

/** A fleet file whose clusters all use `kubeconfigs/all.yaml`, one context each. */
function renderFleet(
  clusters: { name: string; policy?: Record<string, unknown> }[],
  defaults?: Record<string, unknown>,
): string {
  return JSON.stringify({
    ...(defaults === undefined ? {} : { defaults: { policy: defaults } }),
    clusters: clusters.map((c) => ({
      name: c.name,
      kubeconfig: "kubeconfigs/all.yaml",
      context: c.name,
      ...(c.policy === undefined ? {} : { policy: c.policy }),
    })),
  });
}

function makeClusterSecret(
  secretName: string,
  clusterName: string,
  extra: Record<string, string> = {},
): ClusterSecret {
  return {
    namespace: "rrfleet-system",
    name: secretName,
    labels: { "rrfleet.io/cluster": "true" },
    data: {
      name: b64(clusterName),
      server: b64(`https://${clusterName}.example:6443`),
      config: b64(JSON.stringify({ bearerToken: "t", tlsClientConfig: { caData: CA } })),
      ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, b64(v)])),
    },
  };
}

/** A Secret source the test lists and fails by hand. */
function makeFakeSecretSource(options: { listAtStart?: ClusterSecret[] } = {}) {
  let secrets: readonly ClusterSecret[] = [];
  let synced = false;
  let error: string | undefined;
  let notify: () => void = () => undefined;
  let stopped = false;
  const list = (next: ClusterSecret[]): void => {
    secrets = [...next].sort((a, b) => (a.name < b.name ? -1 : 1));
    synced = true;
    notify();
  };
  return {
    namespace: "rrfleet-system",
    start(onChange: () => void): ClusterSecretSource {
      notify = onChange;
      if (options.listAtStart !== undefined) list(options.listAtStart);
      return {
        secrets: () => secrets,
        isSynced: () => synced,
        lastError: () => error,
        stop: () => {
          stopped = true;
          return Promise.resolve();
        },
      };
    },
    list,
    fail: (message: string) => {
      error = message;
    },
    isStopped: () => stopped,
  };
}

type Summary = { added: string[]; removed: string[]; changed: string[] };
const summarize = (change: RegistryChange): Summary => ({
  added: change.added.map((c) => c.name),
  removed: change.removed.map((c) => c.name),
  changed: change.changed.map((c) => c.name),
});

function makeRecordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (_fields: object, message: string) => {
    lines.push({ level, message });
  };
  const logger: WatchLogger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
  return { logger, lines };
}

describe("createClusterRegistry", () => {
  let dir: string;
  let fleetPath: string;
  let registry: ClusterRegistry | undefined;
  let changes: RegistryChange[];
  let waiting: ((change: RegistryChange) => void)[];

  /** Resolves with the next change; ask before causing it. */
  const nextChange = (): Promise<Summary> =>
    new Promise((resolve) => {
      waiting.push((change) => {
        resolve(summarize(change));
      });
    });

  const start = (
    options: Partial<StartClusterRegistryOptions> = {},
    { withFleetFile = true } = {},
  ): ClusterRegistry => {
    registry = startClusterRegistry({
      ...(withFleetFile ? { fleetFile: fleetPath } : {}),
      debounceMs: 10,
      // Long enough that only fs.watch can explain a reload, unless a test polls on purpose.
      pollIntervalMs: 600_000,
      onChange: (change) => {
        changes.push(change);
        waiting.shift()?.(change);
      },
      ...options,
    });
    return registry;
  };

  const writeKubeconfig = (tokens: Record<string, string>) =>
    writeFile(join(dir, "kubeconfigs", "all.yaml"), renderKubeconfig(tokens));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "rrfleet-registry-"));
    fleetPath = join(dir, "fleet.yaml");
    await mkdir(join(dir, "kubeconfigs"));
    await writeKubeconfig({ a: "ta", b: "tb", c: "tc", s: "ts" });
    changes = [];
    waiting = [];
  });
  afterEach(async () => {
    await registry?.stop();
    registry = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  describe("with a fleet file", () => {
    it("publishes the file's clusters as added once it is ready", async () => {
      await writeFile(
        fleetPath,
        renderFleet([{ name: "b" }, { name: "a", policy: { ratio: 0.5 } }]),
      );
      const first = nextChange();
      const r = start();
      await r.waitForReady();
      expect(await first).toEqual({ added: ["a", "b"], removed: [], changed: [] });
      expect(r.clusters().map((c) => c.name)).toEqual(["a", "b"]);
      expect(r.clusters()[0]?.policy).toEqual({ ...DEFAULT_POLICY, ratio: 0.5 });
      expect(r.problems()).toEqual([]);
    });

    it("picks up a write in place as a change of that cluster only", async () => {
      await writeFile(fleetPath, renderFleet([{ name: "a" }, { name: "b" }]));
      const first = nextChange();
      start();
      await first;
      const next = nextChange();
      await writeFile(
        fleetPath,
        renderFleet([{ name: "a" }, { name: "b", policy: { topology: "single" } }]),
      );
      expect(await next).toEqual({ added: [], removed: [], changed: ["b"] });
      expect(registry?.clusters()[1]?.policy.topology).toBe("single");
    });

    it("picks up a new file renamed over the old one, as editors and atomic writers do", async () => {
      await writeFile(fleetPath, renderFleet([{ name: "a" }]));
      const first = nextChange();
      start();
      await first;
      const next = nextChange();
      await writeFile(join(dir, ".fleet.yaml.tmp"), renderFleet([{ name: "a" }, { name: "b" }]));
      await rename(join(dir, ".fleet.yaml.tmp"), fleetPath);
      expect(await next).toEqual({ added: ["b"], removed: [], changed: [] });
      // The folder watch outlives the inode it saw first: a second rename is seen too.
      const again = nextChange();
      await writeFile(join(dir, ".fleet.yaml.tmp"), renderFleet([{ name: "b" }]));
      await rename(join(dir, ".fleet.yaml.tmp"), fleetPath);
      expect(await again).toEqual({ added: [], removed: ["a"], changed: [] });
    });

    it("picks up a ConfigMap volume update: a new ..data symlink renamed over the old", async () => {
      // What the kubelet does: files link into ..data, which links to a timestamped folder.
      await mkdir(join(dir, "..2026_11_28_1"));
      await writeFile(join(dir, "..2026_11_28_1", "fleet.yaml"), renderFleet([{ name: "a" }]));
      await symlink("..2026_11_28_1", join(dir, "..data"));
      await symlink("..data/fleet.yaml", fleetPath);
      const first = nextChange();
      start();
      expect(await first).toEqual({ added: ["a"], removed: [], changed: [] });

      const next = nextChange();
      await mkdir(join(dir, "..2026_11_28_2"));
      await writeFile(join(dir, "..2026_11_28_2", "fleet.yaml"), renderFleet([{ name: "c" }]));
      await symlink("..2026_11_28_2", join(dir, "..data_tmp"));
      await rename(join(dir, "..data_tmp"), join(dir, "..data"));
      expect(await next).toEqual({ added: ["c"], removed: ["a"], changed: [] });
    });

    it("keeps the clusters of a deleted file, reports it, and takes the file back when it returns", async () => {
      await writeFile(fleetPath, renderFleet([{ name: "a" }]));
      const first = nextChange();
      const r = start();
      await first;
      await rm(fleetPath);
      await vi.waitFor(() => {
        expect(r.problems().map(describeRegistryProblem)).toEqual([
          `fleet file ${fleetPath}: cannot read it: no such file`,
        ]);
      }, 10_000);
      expect(r.clusters().map((c) => c.name)).toEqual(["a"]);
      const next = nextChange();
      await writeFile(fleetPath, renderFleet([{ name: "a" }, { name: "b" }]));
      expect(await next).toEqual({ added: ["b"], removed: [], changed: [] });
      expect(r.problems()).toEqual([]);
    });

    it("keeps the previous clusters when the file stops being YAML", async () => {
      await writeFile(fleetPath, renderFleet([{ name: "a" }, { name: "b" }]));
      const first = nextChange();
      const r = start();
      await first;
      await writeFile(fleetPath, "clusters:\n\t- a\n");
      await vi.waitFor(() => {
        expect(r.problems().map((p) => p.path)).toEqual(["line 2, column 1"]);
      }, 10_000);
      expect(r.clusters().map((c) => c.name)).toEqual(["a", "b"]);
      const next = nextChange();
      await writeFile(fleetPath, renderFleet([{ name: "a" }]));
      expect(await next).toEqual({ added: [], removed: ["b"], changed: [] });
    });

    it("drops and reports an entry that becomes invalid, keeping the others", async () => {
      await writeFile(fleetPath, renderFleet([{ name: "a" }, { name: "b" }]));
      const first = nextChange();
      const r = start();
      await first;
      const next = nextChange();
      await writeFile(fleetPath, renderFleet([{ name: "a" }, { name: "b", policy: { ratio: 3 } }]));
      expect(await next).toEqual({ added: [], removed: ["b"], changed: [] });
      expect(r.problems().map(describeRegistryProblem)).toEqual([
        `fleet file ${fleetPath}: clusters[1].policy.ratio: must be at most 1`,
      ]);
    });

    it("reports a rotated kubeconfig as a change of the clusters on that context only", async () => {
      await writeFile(fleetPath, renderFleet([{ name: "a" }, { name: "b" }]));
      const first = nextChange();
      start();
      await first;
      const next = nextChange();
      await writeKubeconfig({ a: "ta", b: "rotated", c: "tc", s: "ts" });
      expect(await next).toEqual({ added: [], removed: [], changed: ["b"] });
      const b = registry?.clusters().find((c) => c.name === "b");
      expect(b?.connect().kubeConfig.getCurrentUser()?.token).toBe("rotated");
    });

    it("notices changes by polling when folder watches are off", async () => {
      await writeFile(fleetPath, renderFleet([{ name: "a" }]));
      const first = nextChange();
      start({ watchFolders: false, pollIntervalMs: 20 });
      await first;
      const next = nextChange();
      await writeFile(fleetPath, renderFleet([{ name: "a", policy: { min: 1 } }]));
      expect(await next).toEqual({ added: [], removed: [], changed: ["a"] });
    });

    it("is ready with no clusters when the file does not exist yet, and loads it when it appears", async () => {
      const r = start();
      await r.waitForReady();
      expect(r.clusters()).toEqual([]);
      expect(r.problems().map((p) => p.message)).toEqual(["cannot read it: no such file"]);
      const next = nextChange();
      await writeFile(fleetPath, renderFleet([{ name: "a" }]));
      expect(await next).toEqual({ added: ["a"], removed: [], changed: [] });
    });

    it("logs each problem once when it appears and once when it is resolved", async () => {
      const { logger, lines } = makeRecordingLogger();
      await writeFile(fleetPath, renderFleet([{ name: "a" }, { name: "b", policy: { ratio: 3 } }]));
      const first = nextChange();
      start({ logger });
      await first;
      // A reload that changes nothing (the same bytes again) logs the problem no second time.
      // Renamed into place: a reader never sees a half-written file here.
      const writeAtomically = async (text: string) => {
        await writeFile(join(dir, ".tmp"), text);
        await rename(join(dir, ".tmp"), fleetPath);
      };
      const next = nextChange();
      await writeAtomically(renderFleet([{ name: "a" }, { name: "b", policy: { ratio: 3 } }]));
      await writeAtomically(renderFleet([{ name: "a" }, { name: "b" }]));
      expect(await next).toEqual({ added: ["b"], removed: [], changed: [] });
      const problemLines = lines.filter((l) => l.message.includes("clusters[1].policy.ratio"));
      expect(problemLines.map((l) => l.level)).toEqual(["warn", "info"]);
      expect(problemLines[1]?.message.startsWith("resolved: ")).toBe(true);
    });

    it("goes on when an onChange listener throws", async () => {
      const { logger, lines } = makeRecordingLogger();
      await writeFile(fleetPath, renderFleet([{ name: "a" }]));
      let calls = 0;
      let resolveSecond: () => void = () => undefined;
      const second = new Promise<void>((resolve) => {
        resolveSecond = resolve;
      });
      start({
        logger,
        onChange: () => {
          calls += 1;
          if (calls === 2) resolveSecond();
          throw new Error("listener bug");
        },
      });
      await vi.waitFor(() => {
        expect(calls).toBe(1);
      }, 10_000);
      await writeFile(fleetPath, renderFleet([{ name: "a" }, { name: "b" }]));
      await second;
      expect(lines.filter((l) => l.level === "error").map((l) => l.message)).toEqual([
        "an onChange listener threw; the registry goes on",
        "an onChange listener threw; the registry goes on",
      ]);
    });
  });

  describe("with cluster Secrets", () => {
    it("merges Secret clusters with the file's; their policy overrides apply on the file's defaults", async () => {
      await writeFile(fleetPath, renderFleet([{ name: "a" }], { topology: "zoned", max: 7 }));
      const source = makeFakeSecretSource();
      const first = nextChange();
      const r = start({ secretSource: source });
      const ready = r.waitForReady();
      source.list([makeClusterSecret("cluster-s", "s", { policy: "max: 5" })]);
      await ready;
      expect(await first).toEqual({ added: ["a", "s"], removed: [], changed: [] });
      expect(changes).toHaveLength(1);
      expect(r.clusters().map((c) => [c.name, c.source, c.policy.topology, c.policy.max])).toEqual([
        ["a", "file", "zoned", 7],
        ["s", "secret", "zoned", 5],
      ]);
    });

    it("publishes nothing before the fleet file was read, so Secret clusters never start on the wrong defaults", async () => {
      await writeFile(fleetPath, renderFleet([{ name: "a" }], { topology: "single" }));
      const source = makeFakeSecretSource({ listAtStart: [makeClusterSecret("cluster-s", "s")] });
      const first = nextChange();
      const r = start({ secretSource: source });
      expect(await first).toEqual({ added: ["a", "s"], removed: [], changed: [] });
      await r.waitForReady();
      expect(changes).toHaveLength(1);
      expect(r.clusters().find((c) => c.name === "s")?.policy.topology).toBe("single");
    });

    it("skips and reports a Secret whose cluster name the file has, and the later of two Secrets", async () => {
      await writeFile(fleetPath, renderFleet([{ name: "a" }]));
      const source = makeFakeSecretSource();
      const r = start({ secretSource: source });
      source.list([
        makeClusterSecret("cluster-a", "a"),
        makeClusterSecret("cluster-s1", "s"),
        makeClusterSecret("cluster-s2", "s"),
      ]);
      await r.waitForReady();
      expect(r.clusters().map((c) => `${c.name}/${c.source}`)).toEqual(["a/file", "s/secret"]);
      expect(r.clusters()[1]?.target).toMatchObject({ secretName: "cluster-s1" });
      expect(r.problems().map(describeRegistryProblem)).toEqual([
        'Secret rrfleet-system/cluster-a: data.name: cluster name "a" is taken by the fleet file; this Secret is skipped',
        'Secret rrfleet-system/cluster-s2: data.name: cluster name "s" is taken by Secret rrfleet-system/cluster-s1; this Secret is skipped',
      ]);
    });

    it("gives each role the Secret labelled rrfleet.io/credentials-for it, else the unlabelled one", async () => {
      const forRole = (secret: ClusterSecret, role: string, token: string): ClusterSecret => ({
        ...secret,
        labels: { ...secret.labels, "rrfleet.io/credentials-for": role },
        data: {
          ...secret.data,
          config: b64(JSON.stringify({ bearerToken: token, tlsClientConfig: { caData: CA } })),
        },
      });
      const secrets = [
        // Split credentials: one Secret per role ("applier" sorts first, and must not win for watchers).
        forRole(makeClusterSecret("east-applier", "east"), "applier", "write-token"),
        forRole(makeClusterSecret("east-watcher", "east"), "watcher", "read-token"),
        // Shared credentials.
        makeClusterSecret("west", "west"),
        // Only the appliers' split out: watchers keep the shared Secret.
        makeClusterSecret("north", "north"),
        forRole(makeClusterSecret("north-applier", "north"), "applier", "north-write"),
      ];
      const tokens: Record<string, Record<string, string | undefined>> = {};
      for (const role of ["watcher", "applier"] as const) {
        const source = makeFakeSecretSource();
        const r = start({ secretSource: source, role }, { withFleetFile: false });
        source.list(secrets);
        await r.waitForReady();
        expect(r.problems()).toEqual([]);
        tokens[role] = Object.fromEntries(
          r.clusters().map((c) => [c.name, c.connect().kubeConfig.getCurrentUser()?.token]),
        );
        await r.stop();
      }
      expect(tokens).toEqual({
        watcher: { east: "read-token", north: "t", west: "t" },
        applier: { east: "write-token", north: "north-write", west: "t" },
      });
    });

    it("skips and reports a Secret labelled for no known role", async () => {
      const source = makeFakeSecretSource();
      const r = start({ secretSource: source, role: "watcher" }, { withFleetFile: false });
      const secret = makeClusterSecret("east", "east");
      source.list([
        { ...secret, labels: { ...secret.labels, "rrfleet.io/credentials-for": "writer" } },
      ]);
      await r.waitForReady();
      expect(r.clusters()).toEqual([]);
      expect(r.problems().map(describeRegistryProblem)).toEqual([
        'Secret rrfleet-system/east: metadata.labels["rrfleet.io/credentials-for"]: must be watcher or applier (or absent: both roles), got "writer"; this Secret is skipped',
      ]);
    });

    it("reports Secret edits as changed, invalid Secrets as removed with a problem, deletions as removed", async () => {
      const source = makeFakeSecretSource();
      const r = start({ secretSource: source }, { withFleetFile: false });
      const first = nextChange();
      source.list([makeClusterSecret("cluster-s", "s"), makeClusterSecret("cluster-t", "t")]);
      expect(await first).toEqual({ added: ["s", "t"], removed: [], changed: [] });

      const edited = nextChange();
      source.list([
        makeClusterSecret("cluster-s", "s", { policy: "ratio: 0.2" }),
        makeClusterSecret("cluster-t", "t"),
      ]);
      expect(await edited).toEqual({ added: [], removed: [], changed: ["s"] });

      const broken = nextChange();
      source.list([
        makeClusterSecret("cluster-s", "s", { policy: "ratio: 2" }),
        makeClusterSecret("cluster-t", "t"),
      ]);
      expect(await broken).toEqual({ added: [], removed: ["s"], changed: [] });
      expect(r.problems().map(describeRegistryProblem)).toEqual([
        "Secret rrfleet-system/cluster-s: data.policy.ratio: must be at most 1",
      ]);

      const deleted = nextChange();
      source.list([]);
      expect(await deleted).toEqual({ added: [], removed: ["t"], changed: [] });
      expect(r.problems()).toEqual([]);
    });

    it("re-derives Secret clusters' policy when the file's defaults change", async () => {
      await writeFile(fleetPath, renderFleet([{ name: "a" }]));
      const source = makeFakeSecretSource({ listAtStart: [makeClusterSecret("cluster-s", "s")] });
      const first = nextChange();
      start({ secretSource: source });
      await first;
      const next = nextChange();
      await writeFile(fleetPath, renderFleet([{ name: "a" }], { notReadyGraceSeconds: 60 }));
      expect(await next).toEqual({ added: [], removed: [], changed: ["a", "s"] });
    });

    it("is not ready before the Secrets are listed, and says why while the LIST fails", async () => {
      const source = makeFakeSecretSource();
      const r = start({ secretSource: source }, { withFleetFile: false });
      source.fail('list secrets: forbidden: rrfleet needs "list" on "secrets"');
      let ready = false;
      const waiting = r.waitForReady().then(() => {
        ready = true;
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect(ready).toBe(false);
      expect(r.problems().map((p) => p.origin)).toEqual(["rrfleet-system"]);
      expect(r.problems()[0]?.message).toBe(
        'cannot list the Secrets labelled rrfleet.io/cluster=true (rrfleet needs "list" and "watch" on "secrets" in this namespace — grant them in a Role there): list secrets: forbidden: rrfleet needs "list" on "secrets"',
      );
      source.list([]);
      await waiting;
      expect(r.problems()).toEqual([]);
    });

    it("stops the Secret source and rejects waiters on stop", async () => {
      const source = makeFakeSecretSource();
      const r = start({ secretSource: source }, { withFleetFile: false });
      const waiting = r.waitForReady();
      await r.stop();
      await expect(waiting).rejects.toThrow("the cluster registry was stopped");
      await expect(r.waitForReady()).rejects.toBeInstanceOf(KubeError);
      expect(source.isStopped()).toBe(true);
      await r.stop();
    });
  });

  it("refuses to start without a fleet file or Secrets", () => {
    expect(() => startClusterRegistry({})).toThrow(KubeError);
  });
});
