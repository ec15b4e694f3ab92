import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBinaries, type Binaries } from "./ensure-binaries.js";
import { startEtcd, type EtcdProcess } from "./etcd-process.js";

/** An etcd in its own temp dir that one or more test clusters store their objects in. */
export interface TestEtcd {
  readonly url: string;
  /** e.g. `v3.6.16`. */
  readonly version: string;
  readonly logFile: string;
  readonly process: EtcdProcess;
  /**
   * Reserves the etcd key prefix of the cluster `name` (`/rrfleet-e2e/<name>`), so that several
   * API servers share this etcd without seeing each other's objects. Throws when the name is taken.
   */
  claimPrefix(name: string): string;
  /** Stops etcd and removes its temp dir; idempotent. */
  stop(): Promise<void>;
}

/** Which binaries to use; default {@link ensureBinaries}(). */
export interface StartTestEtcdOptions {
  readonly binaries?: Binaries;
}

/** Starts etcd in a fresh temp dir (see {@link startEtcd}); removes the dir if startup fails. */
export async function startTestEtcd(options: StartTestEtcdOptions = {}): Promise<TestEtcd> {
  const binaries = options.binaries ?? (await ensureBinaries());
  const dir = await mkdtemp(join(tmpdir(), "rrfleet-e2e-etcd-"));
  let etcd: EtcdProcess;
  try {
    etcd = await startEtcd({ binary: binaries.etcd, dir });
  } catch (err: unknown) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const claimed = new Set<string>();
  let stopping: Promise<void> | undefined;
  return {
    url: etcd.url,
    version: binaries.etcdVersion,
    logFile: etcd.logFile,
    process: etcd,
    claimPrefix: (name) => {
      if (claimed.has(name)) throw new Error(`a test cluster named ${name} already uses this etcd`);
      claimed.add(name);
      return `/rrfleet-e2e/${name}`;
    },
    stop: () => {
      stopping ??= (async () => {
        try {
          await etcd.stop();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      })();
      return stopping;
    },
  };
}
