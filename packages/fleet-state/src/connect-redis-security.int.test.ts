import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis } from "./connect-redis.js";
import type { RedisConnectionSettings } from "./resolve-redis-options.js";
import { FleetStateError } from "./fleet-state-error.js";
import { makeTlsFiles, type TlsFiles } from "./testing/make-tls-files.js";
import { startRedisServer, type RedisServer } from "./testing/start-redis-server.js";

const PASSWORD = "correct-horse-battery-staple";
const WRONG = "wrong-password-123";

let dir: string;
let tlsFiles: TlsFiles;
let aclServer: RedisServer;
let requirepassServer: RedisServer;
let tlsServer: RedisServer;
let passwordFile: string;
let wrongFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "rrfleet-redis-security-"));
  tlsFiles = await makeTlsFiles(dir);
  // The default user is off: only the ACL user gets in, as in the chart's Redis.
  await writeFile(
    join(dir, "users.acl"),
    `user default off\nuser rrfleet on >${PASSWORD} ~* &* +@all\n`,
  );
  // Secrets mounted from `kubectl create secret --from-file` often end with a newline.
  passwordFile = join(dir, "password");
  await writeFile(passwordFile, `${PASSWORD}\n`);
  wrongFile = join(dir, "wrong");
  await writeFile(wrongFile, WRONG);
  [aclServer, requirepassServer, tlsServer] = await Promise.all([
    startRedisServer({ args: ["--aclfile", join(dir, "users.acl")] }),
    startRedisServer({ args: ["--requirepass", PASSWORD] }),
    startRedisServer({
      tls: {
        certFile: tlsFiles.serverCertFile,
        keyFile: tlsFiles.serverKeyFile,
        caFile: tlsFiles.caFile,
      },
      args: ["--aclfile", join(dir, "users.acl")],
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([aclServer.stop(), requirepassServer.stop(), tlsServer.stop()]);
  await rm(dir, { recursive: true, force: true });
});

/** The rejection of connecting with `settings`, checked to leak no password. */
async function refusal(settings: RedisConnectionSettings): Promise<FleetStateError> {
  const err = await connectRedis(settings, { connectTimeoutMs: 3_000 }).then(
    (redis) => {
      redis.disconnect();
      throw new Error("connected, but should have been refused");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FleetStateError);
  const message = (err as Error).message;
  for (const secret of [PASSWORD, WRONG]) expect(message).not.toContain(secret);
  return err as FleetStateError;
}

describe("connectRedis with an ACL user (AUTH username password)", () => {
  it("logs in as the user with the password read from REDIS_PASSWORD_FILE", async () => {
    const redis = await connectRedis({ url: aclServer.url, username: "rrfleet", passwordFile });
    try {
      expect(await redis.acl("WHOAMI")).toBe("rrfleet");
    } finally {
      redis.disconnect();
    }
  });

  it("refuses a wrong password with Unauthenticated, naming the variables, not the password", async () => {
    const err = await refusal({ url: aclServer.url, username: "rrfleet", passwordFile: wrongFile });
    expect(err).toMatchObject({ code: "Unauthenticated", retryable: false });
    expect(err.message).toBe(
      `Redis at redis://rrfleet@127.0.0.1:${aclServer.port} refused the credentials (REDIS_USERNAME, REDIS_PASSWORD_FILE): WRONGPASS invalid username-password pair or user is disabled.`,
    );
  });

  it("refuses to connect without credentials when the default user is off", async () => {
    const err = await refusal({ url: aclServer.url });
    expect(err).toMatchObject({ code: "Unauthenticated" });
    expect(err.message).toMatch(/refused the credentials .*NOAUTH|WRONGPASS/);
  });

  it("names the password file when it cannot be read or is empty", async () => {
    const missing = await refusal({
      url: aclServer.url,
      username: "rrfleet",
      passwordFile: join(dir, "nope"),
    });
    expect(missing).toMatchObject({
      code: "Invalid",
      message: `REDIS_PASSWORD_FILE: cannot read ${join(dir, "nope")}: no such file`,
    });
    await writeFile(join(dir, "empty"), "\n");
    const empty = await refusal({ url: aclServer.url, passwordFile: join(dir, "empty") });
    expect(empty).toMatchObject({
      code: "Invalid",
      message: `REDIS_PASSWORD_FILE: ${join(dir, "empty")} is empty`,
    });
  });
});

describe("connectRedis with requirepass (the default user's password)", () => {
  it("logs in with the password file alone", async () => {
    const redis = await connectRedis({ url: requirepassServer.url, passwordFile });
    try {
      expect(await redis.ping()).toBe("PONG");
    } finally {
      redis.disconnect();
    }
  });

  it("refuses a password both in REDIS_URL and in REDIS_PASSWORD_FILE", async () => {
    const err = await refusal({
      url: `redis://:${PASSWORD}@127.0.0.1:${requirepassServer.port}`,
      passwordFile,
    });
    expect(err).toMatchObject({
      code: "Invalid",
      message:
        "REDIS_PASSWORD_FILE: REDIS_URL holds a password too; keep one (the file: a URL ends up in process listings and logs)",
    });
  });
});

describe("connectRedis over TLS (rediss://, custom CA, client certificate)", () => {
  const tls = () => ({
    caFile: tlsFiles.caFile,
    certFile: tlsFiles.clientCertFile,
    keyFile: tlsFiles.clientKeyFile,
  });

  it("connects with the CA and the client certificate, and logs in", async () => {
    const redis = await connectRedis({
      url: tlsServer.url,
      username: "rrfleet",
      passwordFile,
      tls: tls(),
    });
    try {
      expect(await redis.acl("WHOAMI")).toBe("rrfleet");
    } finally {
      redis.disconnect();
    }
  });

  it("refuses a server whose certificate the CA did not sign", async () => {
    const err = await refusal({
      url: tlsServer.url,
      username: "rrfleet",
      passwordFile,
      tls: { ...tls(), caFile: tlsFiles.otherCaFile },
    });
    expect(err).toMatchObject({ code: "Unauthenticated", retryable: false });
    expect(err.message).toMatch(
      /^TLS with Redis at rediss:\/\/rrfleet@127\.0\.0\.1:\d+ failed \(REDIS_TLS_CA_FILE\): /,
    );
  });

  it("is refused by a server that requires a client certificate when it has none", async () => {
    const err = await refusal({
      url: tlsServer.url,
      username: "rrfleet",
      passwordFile,
      tls: { caFile: tlsFiles.caFile },
    });
    expect(["Unavailable", "Unauthenticated"]).toContain(err.code);
  });

  it("refuses TLS settings with a plain redis:// URL instead of falling back to plain TCP", async () => {
    const err = await refusal({
      url: `redis://127.0.0.1:${tlsServer.port}`,
      username: "rrfleet",
      passwordFile,
      tls: tls(),
    });
    expect(err).toMatchObject({
      code: "Invalid",
      message: "REDIS_TLS_CA_FILE: TLS settings need a rediss:// REDIS_URL",
    });
  });

  it("gets no answer in plain TCP from a TLS-only server", async () => {
    const err = await refusal({
      url: `redis://127.0.0.1:${tlsServer.port}`,
      username: "rrfleet",
      passwordFile,
    });
    expect(err.code).toBe("Unavailable");
  });

  it("does not fall back to plain TCP when the server speaks no TLS", async () => {
    const err = await refusal({
      url: `rediss://127.0.0.1:${aclServer.port}`,
      username: "rrfleet",
      passwordFile,
      tls: tls(),
    });
    expect(err.code).toBe("Unavailable");
  });

  it("names the key file a client certificate is missing", async () => {
    const err = await refusal({
      url: tlsServer.url,
      tls: { caFile: tlsFiles.caFile, certFile: tlsFiles.clientCertFile },
    });
    expect(err).toMatchObject({
      code: "Invalid",
      message:
        "REDIS_TLS_KEY_FILE: is required with REDIS_TLS_CERT_FILE (the client certificate's key)",
    });
  });
});
