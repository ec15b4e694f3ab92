import { join } from "node:path";
import { connectRedis } from "@rrfleet/fleet-state";
import { findFreePort } from "./free-port.js";
import { describeExit, startManagedProcess, type ManagedProcess } from "./managed-process.js";
import { waitFor } from "./wait-for.js";

/** A redis-server of the test's own that it can kill and bring back empty. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** SIGKILLs the server (nothing is persisted: its data is gone). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty; resolves once it answers PING. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` (REDIS_SERVER_BIN or /usr/bin/redis-server) on a free loopback port
 * without persistence, its log in `dir`; resolves once it answers PING.
 */
export async function startTestRedis(dir: string): Promise<TestRedis> {
  const port = await findFreePort();
  const url = `redis://127.0.0.1:${port}`;
  const launch = async (): Promise<ManagedProcess> => {
    const child = await startManagedProcess({
      name: "redis-server",
      command: process.env["REDIS_SERVER_BIN"] ?? "/usr/bin/redis-server",
      args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      logFile: join(dir, "redis.log"),
    });
    await waitFor(
      async () => {
        const client = await connectRedis(url, { connectTimeoutMs: 500 }).catch(() => undefined);
        if (client === undefined) return undefined;
        await client.ping();
        client.disconnect();
        return true;
      },
      {
        description: `redis-server on ${port}`,
        timeoutMs: 15_000,
        abortIf: () => describeExit(child),
      },
    );
    return child;
  };
  let current = await launch();
  return {
    url,
    port,
    kill: async () => {
      process.kill(current.pid, "SIGKILL");
      await current.exited;
    },
    restart: async () => {
      current = await launch();
    },
    stop: async () => {
      await current.stop(5_000);
    },
  };
}
