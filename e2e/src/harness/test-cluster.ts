import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import type { CalicoApiVersion } from "@rrfleet/topology-core";
import { startApiServer, type ApiServerProcess } from "./apiserver-process.js";
import { AUDIT_POLICY_YAML } from "./audit-log.js";
import { createCertificates } from "./certificates.js";
import { ensureBinaries, type Binaries } from "./ensure-binaries.js";
import { installCalicoCrds } from "./install-calico-crds.js";
import { startTestEtcd, type TestEtcd } from "./test-etcd.js";
import { renderTokenFile, type TokenUser } from "./token-file.js";
import { waitForServing } from "./wait-for-serving.js";
import { userContextName, writeKubeconfig } from "./write-kubeconfig.js";

/** How to start a test cluster; every field is optional. */
export interface TestClusterOptions {
  /**
   * Cluster name (a DNS label): the kubeconfig's cluster and admin context name, and the etcd
   * prefix when etcd is shared. Default `e2e`.
   */
  readonly name?: string;
  /**
   * Token users besides the admin, each with a kubeconfig context `<name>-<user>`. kube-apiserver
   * reads its `--token-auth-file` only at startup, so declare users here; {@link
   * TestCluster.addUser} can add one later but restarts the API server to do it. Users get no
   * RBAC rights unless a group grants them (e.g. `system:masters`) or the test binds a role.
   */
  readonly users?: readonly TokenUser[];
  /** Share this etcd (it outlives the cluster: `stop()` leaves it running). Default: own etcd. */
  readonly etcd?: TestEtcd;
  /** Which Calico CRDs to install, or `none`. Default `crd.projectcalico.org/v1`. */
  readonly calico?: CalicoApiVersion | "none";
  /** Default {@link ensureBinaries}() (builds missing binaries). */
  readonly binaries?: Binaries;
  /**
   * Record every write to nodes, BGPPeers and BGPConfigurations in a JSON audit log
   * (`auditLogFile`; read it with `readAuditedWrites`). Default false.
   */
  readonly auditLog?: boolean;
  /**
   * IPv4 address kube-apiserver listens on (and `apiUrl`'s host, and a name in its serving
   * certificate). Default `127.0.0.1`. Containers reach the host's API servers on the Docker
   * bridge's gateway address (e.g. 172.17.0.1): give that to serve them.
   */
  readonly bindAddress?: string;
  /** Receives the one version line printed at startup. Default `console.log`. */
  readonly log?: (line: string) => void;
}

/** Wall-clock milliseconds each startup phase took. */
export interface StartupTimings {
  readonly etcdMs: number;
  readonly apiServerMs: number;
  readonly calicoMs: number;
  readonly totalMs: number;
}

/** A real kube-apiserver (with etcd) for one test file, plus ways to reach it. */
export interface TestCluster {
  readonly name: string;
  /** e.g. `https://127.0.0.1:41234`; the same after restarts. */
  readonly apiUrl: string;
  /** PEM of the test CA, which signed the serving certificate. */
  readonly caFile: string;
  /** Bearer token of `admin` (group `system:masters`). */
  readonly adminToken: string;
  /** kubeconfig with the admin context named after the cluster (current) and one per user. */
  readonly kubeconfigPath: string;
  /** A client-node KubeConfig loaded from `kubeconfigPath` (admin context). */
  readonly kubeConfig: KubeConfig;
  readonly kubeApiserverVersion: string;
  readonly etcdVersion: string;
  readonly apiServerLogFile: string;
  /** The API server's audit log, when `auditLog` was asked for. */
  readonly auditLogFile?: string;
  /** The temp dir holding certificates, token file, kubeconfig and logs (removed by `stop()`). */
  readonly dir: string;
  readonly timings: StartupTimings;
  /** Process ids this cluster runs now: kube-apiserver, and etcd unless shared. */
  processIds(): readonly number[];
  /** Token users other than the admin. */
  users(): readonly TokenUser[];
  /** A KubeConfig whose current context is the given user's. Throws for an unknown user. */
  kubeConfigFor(userName: string): KubeConfig;
  /**
   * Adds a token user and restarts the API server so the static token file is re-read (a few
   * seconds: prefer {@link TestClusterOptions.users}). Returns the user's KubeConfig.
   */
  addUser(name: string, token: string, groups?: readonly string[]): Promise<KubeConfig>;
  /**
   * Stops kube-apiserver and starts it on the same port; etcd keeps every object. Resolves once
   * `/readyz` is ok and every resource answers a LIST (see {@link waitForServing}).
   */
  restartApiServer(): Promise<void>;
  /** Stops kube-apiserver, its own etcd (not a shared one) and removes the temp dir; idempotent. */
  stop(): Promise<void>;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Starts etcd (unless shared) and kube-apiserver on free ports (loopback unless `bindAddress`)
 * in a fresh temp dir, writes the kubeconfig, installs the Calico CRDs and `ClusterInformation
 * default`, and prints `e2e: kube-apiserver vX.Y.Z, etcd vA.B.C`. Everything started is stopped
 * again when a later phase fails. Throws with the server's log tail when it does not come up.
 */
export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const name = options.name ?? "e2e";
  if (!DNS_LABEL.test(name)) throw new Error(`test cluster name ${name} is not a DNS label`);
  const users = [...(options.users ?? [])];
  const admin: TokenUser = {
    name: "admin",
    token: randomBytes(16).toString("hex"),
    groups: ["system:masters"],
  };
  assertUniqueUsers([admin, ...users]);
  const started = performance.now();
  const binaries = options.binaries ?? (await ensureBinaries());

  const cleanups: (() => Promise<void>)[] = [];
  const runCleanups = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (err: unknown) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, `stopping test cluster ${name} failed`);
  };

  try {
    const dir = await mkdtemp(join(tmpdir(), `rrfleet-e2e-${name}-`));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));

    const etcd = options.etcd ?? (await startTestEtcd({ binaries }));
    if (options.etcd === undefined) cleanups.push(() => etcd.stop());
    const etcdPrefix = etcd.claimPrefix(name);
    const etcdReady = performance.now();

    const bindAddress = options.bindAddress;
    const certificates = await createCertificates(
      join(dir, "pki"),
      bindAddress === undefined ? [] : [bindAddress],
    );
    const tokenFile = join(dir, "tokens.csv");
    const writeTokenFile = (): Promise<void> =>
      writeFile(tokenFile, renderTokenFile([admin, ...users]), { mode: 0o600 });
    await writeTokenFile();

    const audit =
      options.auditLog === true
        ? { logFile: join(dir, "audit.log"), policyFile: join(dir, "audit-policy.yaml") }
        : undefined;
    if (audit !== undefined) await writeFile(audit.policyFile, AUDIT_POLICY_YAML);
    const apiServer: ApiServerProcess = await startApiServer({
      binary: binaries.kubeApiserver,
      dir,
      etcdUrl: etcd.url,
      etcdPrefix,
      certificates,
      tokenFile,
      adminToken: admin.token,
      ...(bindAddress === undefined ? {} : { bindAddress }),
      ...(audit === undefined ? {} : { audit }),
    });
    cleanups.push(() => apiServer.stop());
    const apiServerReady = performance.now();

    const kubeconfigPath = join(dir, "kubeconfig");
    const writeClusterKubeconfig = (): Promise<void> =>
      writeKubeconfig(kubeconfigPath, {
        clusterName: name,
        server: apiServer.url,
        caFile: certificates.caCert,
        admin,
        users,
      });
    await writeClusterKubeconfig();
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);

    const calico = options.calico ?? "crd.projectcalico.org/v1";
    if (calico !== "none") await installCalicoCrds(kubeConfig, calico);
    await waitForServing(kubeConfig);
    const calicoReady = performance.now();

    const kubeConfigFor = (userName: string): KubeConfig => {
      if (!users.some((user) => user.name === userName)) {
        throw new Error(`test cluster ${name} has no user ${userName}`);
      }
      const config = new KubeConfig();
      config.loadFromFile(kubeconfigPath);
      config.setCurrentContext(userContextName(name, userName));
      return config;
    };

    (options.log ?? console.log)(
      `e2e: kube-apiserver ${binaries.kubeApiserverVersion}, etcd ${binaries.etcdVersion}`,
    );
    let stopping: Promise<void> | undefined;
    return {
      name,
      apiUrl: apiServer.url,
      caFile: certificates.caCert,
      adminToken: admin.token,
      kubeconfigPath,
      kubeConfig,
      kubeApiserverVersion: binaries.kubeApiserverVersion,
      etcdVersion: binaries.etcdVersion,
      apiServerLogFile: apiServer.logFile,
      ...(audit === undefined ? {} : { auditLogFile: audit.logFile }),
      dir,
      timings: {
        etcdMs: Math.round(etcdReady - started),
        apiServerMs: Math.round(apiServerReady - etcdReady),
        calicoMs: Math.round(calicoReady - apiServerReady),
        totalMs: Math.round(calicoReady - started),
      },
      processIds: () => [
        apiServer.process().pid,
        ...(options.etcd === undefined ? [etcd.process.process.pid] : []),
      ],
      users: () => [...users],
      kubeConfigFor,
      addUser: async (userName, token, groups) => {
        const user: TokenUser = {
          name: userName,
          token,
          ...(groups === undefined ? {} : { groups }),
        };
        assertUniqueUsers([admin, ...users, user]);
        users.push(user);
        await writeTokenFile();
        await writeClusterKubeconfig();
        await apiServer.restart();
        await waitForServing(kubeConfig);
        return kubeConfigFor(userName);
      },
      restartApiServer: async () => {
        await apiServer.restart();
        await waitForServing(kubeConfig);
      },
      stop: () => {
        stopping ??= runCleanups();
        return stopping;
      },
    };
  } catch (err: unknown) {
    try {
      await runCleanups();
    } catch (cleanupErr: unknown) {
      throw new AggregateError([err, cleanupErr], `starting test cluster ${name} failed`, {
        cause: cleanupErr,
      });
    }
    throw err;
  }
}

function assertUniqueUsers(users: readonly TokenUser[]): void {
  const names = new Set<string>();
  const tokens = new Set<string>();
  for (const user of users) {
    if (names.has(user.name)) throw new Error(`duplicate test user ${user.name}`);
    if (tokens.has(user.token)) throw new Error(`test user ${user.name} reuses another's token`);
    names.add(user.name);
    tokens.add(user.token);
  }
}
