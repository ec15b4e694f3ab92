/**
 * The lab's network: one network namespace per simulated node, each with an `eth0` veth whose
 * other end sits on a bridge in a hub namespace (nothing touches the root namespace). Addresses
 * are the nodes' `projectcalico.org/IPv4Address`. Neighbour (ARP) entries are written as
 * permanent entries with fixed MACs: the kernel's neighbour table is shared by every namespace
 * and capped (gc_thresh3, 1,024 here), which a 200-node lab would overflow with learnt entries.
 *
 * Namespaces are named `rrlab-<pid>-<n>-…` after the process that made them, so a later run can
 * tell a lab whose owner died (a killed test) from one in use, and sweep it.
 */
import { execFileSync } from "node:child_process";
import { mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand, runIpBatch } from "./run-command.js";

/** One simulated node's place in the lab network. */
export interface LabHost {
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
  readonly mac: string;
}

/** A lab network; every method throws when a command fails. */
export interface LabNetwork {
  /** `rrlab-<pid>-<n>`: the prefix of every namespace of this lab. */
  readonly id: string;
  /** A directory of the lab's own (configs, sockets, logs), removed by {@link destroy}. */
  readonly dir: string;
  /** Adds hosts (one namespace each) and the neighbour entries between them and every host. */
  addHosts(
    hosts: readonly { name: string; address: string; prefixLength: number }[],
  ): Promise<LabHost[]>;
  /** Removes a host's namespace (killing what runs in it) and its neighbour entries elsewhere. */
  removeHost(name: string): Promise<void>;
  host(name: string): LabHost | undefined;
  hosts(): readonly LabHost[];
  /** Kills every process in the lab's namespaces and deletes them and the directory; idempotent. */
  destroy(): Promise<void>;
}

const PREFIX = "rrlab-";
let labs = 0;

/** Creates an empty lab network (the hub namespace and its bridge). Needs root. */
export async function createLabNetwork(): Promise<LabNetwork> {
  if (process.getuid?.() !== 0) {
    throw new Error(
      "the BGP lab needs root (network namespaces, veths): run the tests as root, as CI does",
    );
  }
  const id = `${PREFIX}${process.pid}-${++labs}`;
  const hub = `${id}-hub`;
  const dir = join(tmpdir(), id);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await runCommand("ip", ["netns", "add", hub]);
  await runIpBatch(["link add br0 type bridge", "link set br0 up", "link set lo up"], hub);

  const byName = new Map<string, LabHost & { index: number }>();
  let nextIndex = 0;
  let destroyed = false;
  // One hook for the whole lab: a test process that exits without stop() takes its BIRDs and
  // monitors with it (a SIGKILLed one cannot; the next run's sweep removes what it left).
  const killOnExit = (): void => {
    for (const ns of [...[...byName.values()].map((h) => h.namespace), hub]) {
      try {
        const pids = execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8" });
        for (const pid of pids.split("\n").filter((p) => p.trim() !== ""))
          process.kill(Number(pid), "SIGKILL");
        execFileSync("ip", ["netns", "del", ns]);
      } catch (err: unknown) {
        console.error(`BGP lab ${id}: cleaning up ${ns} on exit failed: ${String(err)}`);
      }
    }
  };
  process.on("exit", killOnExit);

  const neighbourCommand = (host: LabHost, verb: "replace" | "del"): string =>
    verb === "replace"
      ? `neigh replace ${host.address} lladdr ${host.mac} dev eth0 nud permanent`
      : `neigh del ${host.address} dev eth0`;

  const forEachLimited = async <T>(
    items: readonly T[],
    width: number,
    work: (item: T) => Promise<void>,
  ): Promise<void> => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) await work(items[next++] as T);
    };
    await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  };

  return {
    id,
    dir,
    host: (name) => byName.get(name),
    hosts: () => [...byName.values()],
    async addHosts(inputs) {
      const added: (LabHost & { index: number })[] = [];
      for (const input of inputs) {
        if (byName.has(input.name)) throw new Error(`lab host ${input.name} exists already`);
        const index = ++nextIndex;
        const host = {
          name: input.name,
          namespace: `${id}-${index}`,
          address: input.address,
          mac: macOf(index),
          index,
        };
        await runCommand("ip", ["netns", "add", host.namespace]);
        await runIpBatch(
          [
            `link add h${index} type veth peer name eth0 netns ${host.namespace}`,
            `link set h${index} master br0`,
            `link set h${index} up`,
          ],
          hub,
        );
        await runIpBatch(
          [
            "link set lo up",
            `link set eth0 address ${host.mac}`,
            `addr add ${host.address}/${input.prefixLength} dev eth0`,
            "link set eth0 up",
          ],
          host.namespace,
        );
        byName.set(host.name, host);
        added.push(host);
      }
      const addedNames = new Set(added.map((h) => h.name));
      const everyone = [...byName.values()];
      await forEachLimited(everyone, 8, async (host) => {
        const targets = addedNames.has(host.name) ? everyone : added;
        await runIpBatch(
          targets.filter((t) => t.name !== host.name).map((t) => neighbourCommand(t, "replace")),
          host.namespace,
        );
      });
      return added;
    },
    async removeHost(name) {
      const host = byName.get(name);
      if (host === undefined) return;
      byName.delete(name);
      await killNamespaceProcesses(host.namespace);
      await runCommand("ip", ["netns", "del", host.namespace]);
      await forEachLimited([...byName.values()], 8, async (other) => {
        await runIpBatch([neighbourCommand(host, "del")], other.namespace);
      });
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      process.off("exit", killOnExit);
      await removeNamespaces([...[...byName.values()].map((h) => h.namespace), hub]);
      byName.clear();
      // BGP_LAB_DEBUG keeps the BIRD configurations and logs for a look afterwards.
      if (process.env["BGP_LAB_DEBUG"] === undefined)
        await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Removes every lab namespace (and kills what runs in it) whose owning process is gone — left
 * behind by a test run that was killed — and the lab directories with them. Returns how many
 * namespaces it removed.
 */
export async function sweepStaleLabs(): Promise<number> {
  const stale = (await listLabNamespaces()).filter((ns) => !isAlive(ownerOf(ns)));
  await removeNamespaces(stale);
  const ids = new Set(stale.map((ns) => ns.split("-").slice(0, 3).join("-")));
  for (const id of ids) await rm(join(tmpdir(), id), { recursive: true, force: true });
  return stale.length;
}

/** Every network namespace named like a lab's, in use or not. */
export async function listLabNamespaces(): Promise<string[]> {
  const { stdout } = await runCommand("ip", ["netns", "list"]);
  return stdout
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.startsWith(PREFIX));
}

async function removeNamespaces(namespaces: readonly string[]): Promise<void> {
  for (const ns of namespaces) await killNamespaceProcesses(ns);
  for (const ns of namespaces) {
    try {
      await runCommand("ip", ["netns", "del", ns]);
    } catch (err: unknown) {
      // Gone already (a concurrent sweep) is fine; anything else is a leak worth failing on.
      if ((await listLabNamespaces()).includes(ns)) throw err;
    }
  }
}

async function killNamespaceProcesses(namespace: string): Promise<void> {
  const { stdout } = await runCommand("ip", ["netns", "pids", namespace]);
  for (const pid of stdout.split("\n").filter((line) => line.trim() !== "")) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err; // ESRCH: exited meanwhile
    }
  }
}

function ownerOf(namespace: string): number {
  return Number(namespace.slice(PREFIX.length).split("-")[0]);
}

function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: unknown) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function macOf(index: number): string {
  const bytes = [0x02, 0x52, (index >> 16) & 0xff, (index >> 8) & 0xff, index & 0xff, 0x01];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}
