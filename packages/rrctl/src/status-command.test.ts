import {
  createMemoryFleetState,
  type Clock,
  type FleetState,
  type RedisConnectionSettings,
} from "@rrfleet/fleet-state";
import { describe, expect, it } from "vitest";
import type { FleetStatusReport } from "./status-command.js";
import { runFakeCli } from "./testing/fake-io.js";

const NOW = Date.parse("2026-11-28T00:00:00Z");
const clock: Clock = { now: () => NOW, monotonicNow: () => 0, sleep: () => Promise.resolve() };

/** A fleet state as a running fleet leaves it: a leader, two watchers, three clusters. */
async function makeFleet(): Promise<FleetState> {
  const state = createMemoryFleetState({ clock });
  const lease = await state.acquireOrRenew("applier-b", 15_000, { minEpoch: 6 });
  await state.heartbeat("w1", { ttlMs: 30_000 });
  await state.heartbeat("w2", { ttlMs: 30_000, capacity: 2 });
  await state.publishShardMap(
    { epoch: 12, assignments: { east: "w1", west: "w2" } },
    { holder: "applier-b", epoch: lease.epoch },
  );
  await state.writeStatus("east", {
    phase: "Converged",
    reason: "Converged",
    message: "4 route reflectors, 160 BGP sessions",
    updatedAt: NOW - 3_000,
    nodes: 40,
    reflectors: 4,
  });
  await state.writeStatus("north", {
    phase: "Failing",
    reason: "Unavailable",
    message: "connect ECONNREFUSED",
    updatedAt: NOW - 600_000,
  });
  await state.markDirty("north", { reason: "Retry" });
  return state;
}

function open(state: FleetState, seen: string[] = []) {
  return (redis: RedisConnectionSettings, prefix: string) => {
    const { url, ...login } = redis;
    seen.push(
      `${url} ${prefix}${Object.keys(login).length === 0 ? "" : ` ${JSON.stringify(login)}`}`,
    );
    return Promise.resolve({ state, close: () => seen.push("closed") });
  };
}

describe("rrctl status", () => {
  it("prints the leader, watchers, queue, orphans and one row per cluster", async () => {
    const seen: string[] = [];
    const run = await runFakeCli(["status", "--redis-url", "redis://r:6379"], {
      openFleetState: open(await makeFleet(), seen),
    });

    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe(
      [
        "Leader: applier-b (fencing epoch 7, lease live, 15s left)",
        "Shard map: epoch 12, published by applier-b (fencing epoch 7)",
        "Watchers: 2 alive (w1, w2)",
        "Dirty queue: 1 cluster(s)",
        "Orphaned (watched by nobody): north",
        "",
        "CLUSTER  PHASE      REASON       NODES  REFLECTORS  WATCHER  UPDATED  MESSAGE",
        "east     Converged  Converged       40           4  w1            3s  4 route reflectors, 160 BGP sessions",
        "north    Failing    Unavailable                     -            10m  connect ECONNREFUSED",
        "west     Unknown                                    w2",
        "",
      ].join("\n"),
    );
    expect(seen).toEqual(["redis://r:6379 rrfleet", "closed"]);
  });

  it("prints JSON with --output json, taking the URL and prefix from the environment", async () => {
    const seen: string[] = [];
    const run = await runFakeCli(["status", "--output", "json"], {
      openFleetState: open(await makeFleet(), seen),
      env: { REDIS_URL: "redis://env:6379", REDIS_PREFIX: "fleet-a" },
    });

    const report = JSON.parse(run.stdout) as FleetStatusReport;
    expect(report.leader).toEqual({ holder: "applier-b", epoch: 7, live: true, ttlMs: 15_000 });
    expect(report.shardMapEpoch).toBe(12);
    expect(report.watchers).toEqual([{ id: "w1" }, { id: "w2", capacity: 2 }]);
    expect(report.clusters.map((c) => [c.name, c.watcher, c.status?.phase])).toEqual([
      ["east", "w1", "Converged"],
      ["north", undefined, "Failing"],
      ["west", "w2", undefined],
    ]);
    expect(seen[0]).toBe("redis://env:6379 fleet-a");
  });

  it("names the lease holder after a failover, not the dead leader that published the shard map", async () => {
    const state = await makeFleet();
    // applier-b dies and its lease is gone; applier-c takes over and has not published a map yet.
    await state.release("applier-b", 7);
    await state.acquireOrRenew("applier-c", 15_000);

    const text = await runFakeCli(["status", "--redis-url", "redis://r:6379"], {
      openFleetState: open(state),
    });
    const json = await runFakeCli(["status", "--redis-url", "redis://r:6379", "--output", "json"], {
      openFleetState: open(state),
    });

    expect(text.stdout).toContain("Leader: applier-c (fencing epoch 8, lease live, 15s left)\n");
    expect(text.stdout).toContain(
      "Shard map: epoch 12, published by applier-b (fencing epoch 7), not the current leader\n",
    );
    const report = JSON.parse(json.stdout) as FleetStatusReport;
    expect(report.leader).toEqual({ holder: "applier-c", epoch: 8, live: true, ttlMs: 15_000 });
    expect(report.shardMap).toEqual({ epoch: 12, publishedBy: "applier-b", leaderEpoch: 7 });
  });

  it("says no applier leads when no lease is held, even with a shard map left behind", async () => {
    const state = await makeFleet();
    await state.release("applier-b", 7);

    const run = await runFakeCli(["status", "--redis-url", "redis://r:6379"], {
      openFleetState: open(state),
    });

    expect(run.stdout).toContain(
      "Leader: none holds the lease (no applier is running or reaches Redis)\n",
    );
  });

  it("logs in and uses TLS as the fleet services do, from the same REDIS_* variables", async () => {
    const seen: string[] = [];
    const run = await runFakeCli(["status", "--redis-url", "rediss://r:6380"], {
      openFleetState: open(await makeFleet(), seen),
      env: {
        REDIS_USERNAME: "rrfleet-status",
        REDIS_PASSWORD_FILE: "/run/secrets/redis-password",
        REDIS_TLS_CA_FILE: "/run/secrets/ca.crt",
        REDIS_TLS_CERT_FILE: "/run/secrets/tls.crt",
        REDIS_TLS_KEY_FILE: "/run/secrets/tls.key",
      },
    });
    expect(run.code).toBe(0);
    expect(seen[0]).toBe(
      'rediss://r:6380 rrfleet {"username":"rrfleet-status","passwordFile":"/run/secrets/redis-password","tls":{"caFile":"/run/secrets/ca.crt","certFile":"/run/secrets/tls.crt","keyFile":"/run/secrets/tls.key"}}',
    );
  });

  it("says plainly when no leader has published anything", async () => {
    const run = await runFakeCli(["status", "--redis-url", "redis://r:6379"], {
      openFleetState: open(createMemoryFleetState({ clock })),
    });
    expect(run.stdout).toContain("Leader: none holds the lease");
    expect(run.stdout).toContain("Shard map: none published yet");
    expect(run.stdout).toContain("No clusters yet.");
  });

  const usage = [
    { argv: ["status"], message: "--redis-url is required (or set REDIS_URL)" },
    {
      argv: ["status", "--redis-url", "http://x"],
      message: '--redis-url must be a redis:// URL, got "http://x"',
    },
    {
      argv: ["status", "--redis-url", "redis://x", "--output", "yaml"],
      message: '--output must be text or json, got "yaml"',
    },
  ];
  it.each(usage)("exits 2 naming the flag: $message", async ({ argv, message }) => {
    const run = await runFakeCli(argv);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(`rrctl status: ${message}`);
  });

  it("exits 2 naming the URL when Redis cannot be reached", async () => {
    const run = await runFakeCli(["status", "--redis-url", "redis://down:6379"], {
      openFleetState: () => Promise.reject(new Error("connect ECONNREFUSED")),
    });
    expect(run).toEqual({
      code: 2,
      stdout: "",
      stderr: "rrctl status: cannot reach Redis at redis://down:6379: connect ECONNREFUSED\n",
    });
  });

  it("never prints the password of the Redis URL, whichever message carries it", async () => {
    const url = "redis://rrfleet:s3cret@down:6379";
    const runs = [
      await runFakeCli(["status", "--redis-url", "http://rrfleet:s3cret@down:6379"]),
      await runFakeCli(["status", "--redis-url", url], {
        openFleetState: () => Promise.reject(new Error(`connect ECONNREFUSED (${url})`)),
      }),
      await runFakeCli(["status"], {
        env: { REDIS_URL: url },
        openFleetState: () =>
          Promise.resolve({
            state: {
              readStatuses: () => Promise.reject(new Error(`lost ${url}`)),
            } as never,
            close: () => undefined,
          }),
      }),
    ];
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr).not.toContain("s3cret");
      expect(run.stderr).toContain("rrfleet:***@down:6379");
    }
  });
});
