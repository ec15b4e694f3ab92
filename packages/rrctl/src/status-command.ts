import type {
  FleetState,
  LeaseView,
  Member,
  PublishedShardMap,
  ClusterStatus,
  RedisConnectionSettings,
} from "@rrfleet/fleet-state";
import { compareStrings } from "@rrfleet/topology-core";
import { CliError } from "./cli-error.js";
import { formatTable } from "./format-table.js";
import { parseCommandLine } from "./parse-command-line.js";

/** The shared state `rrctl status` reads, and how to let go of it. */
export interface StatusSource {
  readonly state: Pick<
    FleetState,
    "readLease" | "readShardMap" | "readStatuses" | "listMembers" | "countDirty"
  >;
  close(): void;
}

/** What `rrctl status` needs from the outside world. */
export interface StatusCommandIo {
  /** Connects to the fleet's Redis; rejects when it cannot be reached or refuses the login. */
  readonly openFleetState: (
    redis: RedisConnectionSettings,
    prefix: string,
  ) => Promise<StatusSource>;
  /** The wall clock (ages in the table). */
  readonly now: () => Date;
  /**
   * REDIS_URL and REDIS_PREFIX are the flags' defaults; REDIS_USERNAME, REDIS_PASSWORD_FILE and
   * REDIS_TLS_CA_FILE/CERT_FILE/KEY_FILE log in as the fleet services do.
   */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** `rrctl status --help`. */
export const STATUS_USAGE = `Usage: rrctl status --redis-url URL [--redis-prefix PREFIX] [--output text|json]

Shows a fleet's state as its applier leader and watchers keep it in Redis: who leads (the
lease holder, its fencing epoch and what is left of its lease), the shard map and who published
it, live watchers, the dirty queue, and each cluster's last status (with the last error, such as
an unreachable API server). Read-only; reads no cluster.

Options:
  --redis-url URL         the fleet's Redis (redis://host:port[/db]); default REDIS_URL
  --redis-prefix PREFIX   key prefix (default: REDIS_PREFIX or rrfleet)
  --output FORMAT         text (default) or json
  -h, --help              show this help

Logs in and uses TLS as the fleet services do: REDIS_USERNAME, REDIS_PASSWORD_FILE (a file
holding the password; keep it out of the URL), REDIS_TLS_CA_FILE, REDIS_TLS_CERT_FILE and
REDIS_TLS_KEY_FILE (with a rediss:// URL).

Exit status: 0 shown, 2 bad arguments or Redis unreachable, 1 internal error.
`;

/** Everything `rrctl status` prints, as JSON output carries it. */
export interface FleetStatusReport {
  /**
   * The lease holder now (read from the lease, not the shard map: after a failover the map may
   * still be the dead leader's). Absent when nobody holds it. `live`: its lease has time left.
   */
  readonly leader?: {
    readonly holder: string;
    readonly epoch: number;
    readonly live: boolean;
    readonly ttlMs: number;
  };
  /** The stored shard map and the leadership that published it. */
  readonly shardMap?: {
    readonly epoch: number;
    readonly publishedBy: string;
    readonly leaderEpoch: number;
  };
  /** Same as `shardMap.epoch` (kept for scripts that read it). */
  readonly shardMapEpoch?: number;
  readonly watchers: readonly { readonly id: string; readonly capacity?: number }[];
  readonly dirtyClusters: number;
  readonly clusters: readonly {
    readonly name: string;
    /** The watcher the shard map gives it; undefined: nobody watches it (an orphan). */
    readonly watcher?: string;
    readonly status?: ClusterStatus;
  }[];
}

/**
 * Runs `rrctl status` with the arguments after `status` and returns what to print. Throws
 * {@link CliError} (`UsageError` for a bad flag, `ClusterError` when Redis cannot be read).
 */
export async function runStatusCommand(
  args: readonly string[],
  io: StatusCommandIo,
): Promise<string> {
  const { values } = parseCommandLine({
    args: [...args],
    options: {
      "redis-url": { type: "string" },
      "redis-prefix": { type: "string" },
      output: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    tokens: true,
    allowPositionals: false,
  });
  if (values.help === true) return STATUS_USAGE;
  const env = io.env;
  const redisUrl = values["redis-url"] ?? env["REDIS_URL"];
  if (redisUrl === undefined || redisUrl === "") {
    throw new CliError("UsageError", "--redis-url is required (or set REDIS_URL)");
  }
  if (!/^rediss?:\/\/\S+$/.test(redisUrl)) {
    throw new CliError("UsageError", `--redis-url must be a redis:// URL, got "${redisUrl}"`);
  }
  const prefix = values["redis-prefix"] ?? env["REDIS_PREFIX"] ?? "rrfleet";
  const output = values.output ?? "text";
  if (output !== "text" && output !== "json") {
    throw new CliError("UsageError", `--output must be text or json, got "${output}"`);
  }
  let source: StatusSource;
  try {
    source = await io.openFleetState(readRedisSettings(redisUrl, env), prefix);
  } catch (err: unknown) {
    throw new CliError(
      "ClusterError",
      `cannot reach Redis at ${redisUrl}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  try {
    const now = io.now().getTime();
    const report = await readReport(source.state, now);
    return output === "json" ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, now);
  } catch (err: unknown) {
    throw new CliError(
      "ClusterError",
      `reading the fleet state from ${redisUrl}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  } finally {
    source.close();
  }
}

async function readReport(state: StatusSource["state"], now: number): Promise<FleetStatusReport> {
  const [lease, map, statuses, members, dirty]: [
    LeaseView | undefined,
    PublishedShardMap | undefined,
    Record<string, ClusterStatus>,
    Member[],
    number,
  ] = await Promise.all([
    state.readLease(),
    state.readShardMap(),
    state.readStatuses(),
    state.listMembers(now),
    state.countDirty(),
  ]);
  const names = [...new Set([...Object.keys(map?.assignments ?? {}), ...Object.keys(statuses)])];
  names.sort(compareStrings);
  return {
    ...(lease === undefined
      ? {}
      : {
          leader: {
            holder: lease.holder,
            epoch: lease.epoch,
            live: lease.ttlMs > 0,
            ttlMs: lease.ttlMs,
          },
        }),
    ...(map === undefined
      ? {}
      : {
          shardMap: {
            epoch: map.epoch,
            publishedBy: map.publishedBy,
            leaderEpoch: map.leaderEpoch,
          },
          shardMapEpoch: map.epoch,
        }),
    watchers: members.map((m) => ({
      id: m.watcherId,
      ...(m.capacity === undefined ? {} : { capacity: m.capacity }),
    })),
    dirtyClusters: dirty,
    clusters: names.map((name) => {
      const watcher = map?.assignments[name];
      const status = statuses[name];
      return {
        name,
        ...(watcher === undefined ? {} : { watcher }),
        ...(status === undefined ? {} : { status }),
      };
    }),
  };
}

function formatReport(report: FleetStatusReport, now: number): string {
  const lines: string[] = [];
  const { leader, shardMap } = report;
  lines.push(
    leader === undefined
      ? "Leader: none holds the lease (no applier is running or reaches Redis)"
      : `Leader: ${leader.holder} (fencing epoch ${leader.epoch}, ${leader.live ? `lease live, ${formatAge(leader.ttlMs)} left` : "lease without expiry: set by hand?"})`,
  );
  if (shardMap === undefined) {
    lines.push("Shard map: none published yet (no leader yet, or Redis was emptied)");
  } else {
    const current =
      leader !== undefined &&
      leader.holder === shardMap.publishedBy &&
      leader.epoch === shardMap.leaderEpoch;
    lines.push(
      `Shard map: epoch ${shardMap.epoch}, published by ${shardMap.publishedBy} (fencing epoch ${shardMap.leaderEpoch})${current ? "" : ", not the current leader"}`,
    );
  }
  lines.push(
    `Watchers: ${report.watchers.length} alive${report.watchers.length === 0 ? "" : ` (${report.watchers.map((w) => w.id).join(", ")})`}`,
  );
  lines.push(`Dirty queue: ${report.dirtyClusters} cluster(s)`);
  const orphans = report.clusters.filter((c) => c.watcher === undefined);
  if (orphans.length > 0) {
    lines.push(`Orphaned (watched by nobody): ${orphans.map((c) => c.name).join(", ")}`);
  }
  lines.push("");
  if (report.clusters.length === 0) {
    lines.push("No clusters yet.");
  } else {
    lines.push(
      ...formatTable(
        [
          { header: "CLUSTER" },
          { header: "PHASE" },
          { header: "REASON" },
          { header: "NODES", align: "right" },
          { header: "REFLECTORS", align: "right" },
          { header: "WATCHER" },
          { header: "UPDATED", align: "right" },
          { header: "MESSAGE" },
        ],
        report.clusters.map(({ name, watcher, status }) => [
          name,
          status?.phase ?? "Unknown",
          status?.reason ?? "",
          status?.nodes === undefined ? "" : String(status.nodes),
          status?.reflectors === undefined ? "" : String(status.reflectors),
          watcher ?? "-",
          status === undefined ? "" : formatAge(now - status.updatedAt),
          status?.message ?? "",
        ]),
      ),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** `4s`, `3m`, `2h`, `5d` ago. */
function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3_600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

/** The REDIS_* login and TLS variables of `env` around `url` (connectRedis checks them). */
function readRedisSettings(
  url: string,
  env: Readonly<Record<string, string | undefined>>,
): RedisConnectionSettings {
  const value = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v === "" ? undefined : v;
  };
  const username = value("REDIS_USERNAME");
  const passwordFile = value("REDIS_PASSWORD_FILE");
  const caFile = value("REDIS_TLS_CA_FILE");
  const certFile = value("REDIS_TLS_CERT_FILE");
  const keyFile = value("REDIS_TLS_KEY_FILE");
  const tls = {
    ...(caFile === undefined ? {} : { caFile }),
    ...(certFile === undefined ? {} : { certFile }),
    ...(keyFile === undefined ? {} : { keyFile }),
  };
  return {
    url,
    ...(username === undefined ? {} : { username }),
    ...(passwordFile === undefined ? {} : { passwordFile }),
    ...(Object.keys(tls).length === 0 ? {} : { tls }),
  };
}
