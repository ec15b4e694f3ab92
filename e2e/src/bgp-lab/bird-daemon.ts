/**
 * One BIRD 1.6 per simulated node, run in the node's network namespace as calico-node runs it:
 * `bird -R` (graceful-restart recovery on start), reconfigured by writing the file, checking it
 * with `bird -p` and calling `birdc configure` — what confd's reload command does.
 */
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { waitFor } from "../harness/wait-for.js";
import { runCommand } from "./run-command.js";

/** One line of `birdc show protocols` for a BGP protocol. */
export interface BirdProtocolState {
  readonly name: string;
  /** BIRD's protocol state: `up`, `start`, `down`, … */
  readonly state: string;
  /** The BGP state from the info column: `Established`, `Idle`, `Active`, `Connect`, … */
  readonly bgpState: string;
  /** The `since` column as BIRD prints it (whole seconds). */
  readonly since: string;
}

/** One path of `birdc show route`, as Calico's status reporter reads it. */
export interface BirdRoute {
  readonly destination: string;
  /** The next hop; `N/A` for routes without one (blackhole, direct). */
  readonly gateway: string;
  /** The protocol it came from: `Mesh_10_1_0_2`, `Node_…`, `static1`, `kernel1`, … */
  readonly protocol: string;
  /** BIRD's best path for the destination (`*`): what the kernel gets. */
  readonly primary: boolean;
}

/** A BIRD daemon of the lab. */
export interface BirdDaemon {
  readonly node: string;
  readonly namespace: string;
  /** BIRD's log (stderr): the route judge reads its kernel-protocol lines. */
  readonly logFile: string;
  /** Whether the process runs (false after {@link kill} until {@link start}). */
  running(): boolean;
  /** The configuration BIRD runs (or will start with), as last written. */
  config(): string;
  /**
   * Writes `text`, checks it with `bird -p`, and reconfigures the running daemon (when running).
   * Throws when the configuration is refused.
   */
  configure(text: string): Promise<void>;
  /** `birdc show route`: how many routes the table holds per prefix. */
  routesPerPrefix(): Promise<Map<string, number>>;
  /** `birdc show route`: every path of every destination. */
  routes(): Promise<BirdRoute[]>;
  /** `birdc show protocols`, BGP protocols only. Throws when BIRD does not answer. */
  protocols(): Promise<BirdProtocolState[]>;
  /** Starts BIRD (`bird -f -R`) with the last configuration; resolves when its socket answers. */
  start(): Promise<void>;
  /** SIGKILL: a crash (no Cease to the peers; graceful restart keeps their routes). */
  kill(): Promise<void>;
}

/** Creates (does not start) the daemon of `node`, with files under `dir`. */
export function createBirdDaemon(options: {
  readonly node: string;
  readonly namespace: string;
  readonly dir: string;
  readonly initialConfig: string;
}): BirdDaemon {
  const base = join(options.dir, options.node);
  const configFile = `${base}.cfg`;
  const socket = `${base}.ctl`;
  const logFile = `${base}.log`;
  let text = options.initialConfig;
  let daemon: { pid: number; exited: Promise<void>; exit: string | undefined } | undefined;

  const birdc = async (...command: string[]): Promise<string> =>
    (await runCommand("birdc", ["-s", socket, ...command])).stdout;

  // configure, start and kill run one at a time: the lab's reconcile loop and a test restarting
  // calico-node both write the configuration file, and two writes would race on the temporary file.
  let last: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(operation: () => Promise<T>): Promise<T> => {
    const result = last.then(operation, operation);
    last = result.catch(() => undefined);
    return result;
  };

  const write = async (config: string): Promise<void> => {
    const temporary = `${configFile}.new`;
    await writeFile(temporary, config);
    await runCommand("bird", ["-p", "-c", temporary]);
    await rename(temporary, configFile);
    text = config;
  };

  return {
    node: options.node,
    namespace: options.namespace,
    logFile,
    running: () => daemon !== undefined && daemon.exit === undefined,
    config: () => text,
    configure: (config) =>
      exclusive(async () => {
        await write(config);
        if (daemon === undefined || daemon.exit !== undefined) return;
        const reply = await birdc("configure");
        if (!/Reconfigur/.test(reply)) {
          throw new Error(`birdc configure on ${options.node}: ${reply.trim()}`);
        }
      }),
    async routesPerPrefix() {
      const counts = new Map<string, number>();
      let current = "";
      for (const line of (await birdc("show", "route")).split("\n")) {
        const prefix = /^(\d+\.\d+\.\d+\.\d+\/\d+)\s/.exec(line)?.[1];
        if (prefix !== undefined) current = prefix;
        else if (!/^\s+via\s/.test(line) || current === "") continue;
        counts.set(current, (counts.get(current) ?? 0) + 1);
      }
      return counts;
    },
    async routes() {
      const routes: BirdRoute[] = [];
      let current = "";
      for (const line of (await birdc("show", "route")).split("\n")) {
        const parsed = parseRouteLine(line);
        if (parsed === undefined) continue;
        current = parsed.destination ?? current;
        if (current === "") continue;
        routes.push({ ...parsed, destination: current });
      }
      return routes;
    },
    async protocols() {
      const reply = await birdc("show", "protocols");
      const states: BirdProtocolState[] = [];
      for (const line of reply.split("\n")) {
        const columns = line.trim().split(/\s+/);
        if (columns[1] !== "BGP" || columns.length < 6) continue;
        states.push({
          name: columns[0] ?? "",
          state: columns[3] ?? "",
          since: columns[4] ?? "",
          bgpState: columns[5] ?? "",
        });
      }
      return states;
    },
    start: () =>
      exclusive(async () => {
        if (daemon !== undefined && daemon.exit === undefined) return;
        await write(text);
        // No exit hook per daemon: the lab network kills everything in its namespaces on exit.
        const fd = openSync(logFile, "a");
        // Above normal priority: on a loaded test machine BIRD could otherwise be descheduled between
        // the two halves of a kernel route replacement (delete, then add), which the route judge
        // would rightly see as a gap that no cluster change caused.
        const child = spawn(
          "nice",
          [
            "-n",
            "-10",
            "ip",
            "netns",
            "exec",
            options.namespace,
            "bird",
            "-f",
            "-R",
            "-c",
            configFile,
            "-s",
            socket,
          ],
          { stdio: ["ignore", fd, fd] },
        );
        closeSync(fd);
        await new Promise<void>((resolve, reject) => {
          child.once("spawn", resolve);
          child.once("error", reject);
        });
        const started = {
          pid: child.pid ?? 0,
          exit: undefined as string | undefined,
          exited: new Promise<void>((resolve) => {
            child.once("exit", (code, signal) => {
              started.exit = `BIRD on ${options.node} exited (${String(code ?? signal)})`;
              resolve();
            });
          }),
        };
        daemon = started;
        await waitFor(
          async () => ((await birdc("show", "status")).includes("Daemon is up") ? true : undefined),
          {
            description: `BIRD on ${options.node} answering on its socket`,
            timeoutMs: 20_000,
            intervalMs: 50,
            abortIf: () => started.exit,
          },
        );
      }),
    kill: () =>
      exclusive(async () => {
        const current = daemon;
        if (current === undefined) return;
        daemon = undefined;
        if (current.exit === undefined) process.kill(current.pid, "SIGKILL");
        await current.exited;
      }),
  };
}

/**
 * One line of `birdc show route` (`192.168.0.0/26 via 10.1.0.2 on eth0 [Mesh_10_1_0_2 12:00:00] *
 * (100/0) [i]`; a further path of the same destination starts with blanks), read the way Calico's
 * status reporter reads it; undefined for other lines.
 */
export function parseRouteLine(
  line: string,
): { destination?: string; gateway: string; protocol: string; primary: boolean } | undefined {
  const match =
    /^(\d+\.\d+\.\d+\.\d+\/\d+)?\s+(?:via\s(\S+)\son\s\S+|dev\s\S+|blackhole|unreachable)\s+\[(\S+)\s[^\]]*\](\s\*)?/.exec(
      line,
    );
  if (match === null) return undefined;
  const [, destination, gateway, protocol = "", star] = match;
  return {
    ...(destination === undefined ? {} : { destination }),
    gateway: gateway ?? "N/A",
    protocol,
    primary: star !== undefined,
  };
}
