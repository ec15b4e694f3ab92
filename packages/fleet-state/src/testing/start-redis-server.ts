// No relative imports here: the benchmark loads this file directly with Node's type stripping.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";

/** A redis-server process of one test file's own. */
export interface RedisServer {
  /** The port it listens on: the TLS port when started with `tls`. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`, or `rediss://…` when started with `tls`. */
  readonly url: string;
  /** Kills the process and waits for it to exit. */
  stop(): Promise<void>;
}

/** Options of {@link startRedisServer}. */
export interface StartRedisServerOptions {
  /** Default `/usr/bin/redis-server` (or `REDIS_SERVER_BIN`). */
  readonly binary?: string;
  /** Give up waiting for "Ready to accept connections" after this long; default 10,000 ms. */
  readonly startTimeoutMs?: number;
  /** More arguments (`--requirepass`, `--aclfile`); appended after the defaults. */
  readonly args?: readonly string[];
  /**
   * Serve TLS only (`--port 0 --tls-port <port>`) with this certificate; client certificates
   * signed by `caFile` are required unless `authClients` says otherwise.
   */
  readonly tls?: {
    readonly certFile: string;
    readonly keyFile: string;
    readonly caFile: string;
    readonly authClients?: "yes" | "no" | "optional";
  };
}

/**
 * Starts a throwaway redis-server on a free loopback port without persistence
 * (`--save '' --appendonly no`), resolving once it accepts connections. Never the shared one on
 * 6379. Rejects with the server's output when it exits or does not get ready in time.
 */
export async function startRedisServer(
  options: StartRedisServerOptions = {},
): Promise<RedisServer> {
  const binary = options.binary ?? process.env["REDIS_SERVER_BIN"] ?? "/usr/bin/redis-server";
  const port = await findFreePort();
  const tls = options.tls;
  const listen =
    tls === undefined
      ? ["--port", String(port)]
      : [
          ...["--port", "0", "--tls-port", String(port)],
          ...["--tls-cert-file", tls.certFile, "--tls-key-file", tls.keyFile],
          ...["--tls-ca-cert-file", tls.caFile, "--tls-auth-clients", tls.authClients ?? "yes"],
        ];
  const child = spawn(
    binary,
    [...listen, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...(options.args ?? [])],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const exited = once(child, "exit");
  await new Promise<void>((resolve, reject) => {
    const timeoutMs = options.startTimeoutMs ?? 10_000;
    const timer = setTimeout(() => {
      fail(`not ready after ${timeoutMs} ms`);
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (!output.includes("Ready to accept connections")) return;
      settle();
      resolve();
    };
    const onError = (err: Error): void => {
      fail(err.message);
    };
    const onExit = (code: number | null): void => {
      fail(`exited with ${code}`);
    };
    const settle = (): void => {
      clearTimeout(timer);
      child.stdout.off("data", onData);
      child.stderr.off("data", onData);
      child.off("error", onError);
      child.off("exit", onExit);
      // Keep draining the log, or a full pipe would block the server.
      child.stdout.resume();
      child.stderr.resume();
    };
    const fail = (why: string): void => {
      settle();
      child.kill("SIGKILL");
      reject(new Error(`redis-server on port ${port}: ${why}\n${output}`));
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("error", onError);
    child.once("exit", onExit);
  });
  return {
    port,
    url: `${tls === undefined ? "redis" : "rediss"}://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** A port the OS just handed out; another process could take it before redis-server binds. */
/** A TCP port nothing listens on right now (the OS picks it). */
export async function findFreePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("no TCP port assigned");
  return address.port;
}
