/**
 * Turns the Redis connection settings (the REDIS_* variables) into ioredis options: checks that
 * they fit together, reads the password and the TLS files, and never lets a password into a
 * message. Every problem is a FleetStateError `Invalid` naming the variable at fault.
 */
import { readFile } from "node:fs/promises";
import type { ConnectionOptions } from "node:tls";
import { FleetStateError } from "./fleet-state-error.js";

/**
 * Where Redis is and how to log in, as the fleet services and `rrctl status` read it from the
 * environment (variable names in brackets; they also name the field in every error).
 */
export interface RedisConnectionSettings {
  /** `redis://host:port[/db]`, or `rediss://…` for TLS (REDIS_URL). Best without a password. */
  readonly url: string;
  /** The ACL user (REDIS_USERNAME); default: Redis's `default` user. */
  readonly username?: string;
  /**
   * A file holding the password (REDIS_PASSWORD_FILE), e.g. a mounted Secret; one trailing
   * newline is ignored. Read at every connection attempt, so a rotated Secret applies on the
   * next start.
   */
  readonly passwordFile?: string;
  /** TLS beyond the system's CAs; only with a `rediss://` URL. */
  readonly tls?: {
    /** PEM CA bundle the server's certificate must chain to (REDIS_TLS_CA_FILE). */
    readonly caFile?: string;
    /** PEM client certificate (REDIS_TLS_CERT_FILE); needs `keyFile`. */
    readonly certFile?: string;
    /** PEM key of the client certificate (REDIS_TLS_KEY_FILE); needs `certFile`. */
    readonly keyFile?: string;
  };
}

/** What {@link resolveRedisOptions} reads files with; rejects like `fs.promises.readFile`. */
export type ReadBinaryFile = (path: string) => Promise<Buffer>;

const readFromDisk: ReadBinaryFile = (path) => readFile(path);

/** ioredis options of {@link resolveRedisOptions}, with a safe description of the target. */
export interface ResolvedRedisOptions {
  /** `redis://user@host:port/db`: the URL without its password, for messages. */
  readonly target: string;
  /** The part of ioredis's options that says where and who. */
  readonly options: {
    readonly host: string;
    readonly port: number;
    readonly db?: number;
    readonly username?: string;
    readonly password?: string;
    readonly tls?: ConnectionOptions;
  };
}

/**
 * Checks `settings` and reads their files into ioredis options (host, port, db, username,
 * password, tls). Rejects with FleetStateError `Invalid`, naming the variable, when REDIS_URL is
 * not a redis:// or rediss:// URL, holds a password while REDIS_PASSWORD_FILE is set, names
 * another user than REDIS_USERNAME, when TLS files come with a redis:// URL, a certificate comes
 * without its key (or the reverse), or a file cannot be read or is empty. No message holds a
 * password or a file's content.
 */
export async function resolveRedisOptions(
  settings: RedisConnectionSettings,
  readBinary: ReadBinaryFile = readFromDisk,
): Promise<ResolvedRedisOptions> {
  const url = parseRedisUrl(settings.url);
  const urlUser = decodeURIComponent(url.username);
  const urlPassword = decodeURIComponent(url.password);
  const username = settings.username ?? (urlUser === "" ? undefined : urlUser);
  if (settings.username !== undefined && urlUser !== "" && urlUser !== settings.username) {
    throw invalid("REDIS_USERNAME", `REDIS_URL names another user ("${urlUser}"); keep one`);
  }
  if (settings.passwordFile !== undefined && urlPassword !== "") {
    throw invalid(
      "REDIS_PASSWORD_FILE",
      "REDIS_URL holds a password too; keep one (the file: a URL ends up in process listings and logs)",
    );
  }
  const tls = settings.tls ?? {};
  const secure = url.protocol === "rediss:";
  const tlsVariable =
    tls.caFile !== undefined
      ? "REDIS_TLS_CA_FILE"
      : tls.certFile !== undefined
        ? "REDIS_TLS_CERT_FILE"
        : tls.keyFile !== undefined
          ? "REDIS_TLS_KEY_FILE"
          : undefined;
  if (tlsVariable !== undefined && !secure) {
    throw invalid(tlsVariable, "TLS settings need a rediss:// REDIS_URL");
  }
  if (tls.certFile !== undefined && tls.keyFile === undefined) {
    throw invalid(
      "REDIS_TLS_KEY_FILE",
      "is required with REDIS_TLS_CERT_FILE (the client certificate's key)",
    );
  }
  if (tls.keyFile !== undefined && tls.certFile === undefined) {
    throw invalid(
      "REDIS_TLS_CERT_FILE",
      "is required with REDIS_TLS_KEY_FILE (the key's certificate)",
    );
  }

  const read = async (variable: string, path: string): Promise<Buffer> => {
    let content: Buffer;
    try {
      content = await readBinary(path);
    } catch (err: unknown) {
      throw invalid(variable, `cannot read ${path}: ${describeReadError(err)}`, err);
    }
    if (content.toString("utf8").trim() === "") throw invalid(variable, `${path} is empty`);
    return content;
  };
  const password =
    settings.passwordFile === undefined
      ? urlPassword === ""
        ? undefined
        : urlPassword
      : (await read("REDIS_PASSWORD_FILE", settings.passwordFile))
          .toString("utf8")
          .replace(/\r?\n$/, "");
  const [ca, cert, key] = await Promise.all([
    tls.caFile === undefined ? undefined : read("REDIS_TLS_CA_FILE", tls.caFile),
    tls.certFile === undefined ? undefined : read("REDIS_TLS_CERT_FILE", tls.certFile),
    tls.keyFile === undefined ? undefined : read("REDIS_TLS_KEY_FILE", tls.keyFile),
  ]);

  const db = url.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db)) {
    throw invalid(
      "REDIS_URL",
      `the path must be a database number (/0), got "/${db.slice(0, 20)}"`,
    );
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return {
    target: `${url.protocol}//${username === undefined ? "" : `${encodeURIComponent(username)}@`}${url.host}${db === "" ? "" : `/${db}`}`,
    options: {
      host,
      port: url.port === "" ? 6379 : Number(url.port),
      ...(db === "" ? {} : { db: Number(db) }),
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      // Certificates are always verified; the server name is the URL's host.
      ...(secure
        ? {
            tls: {
              rejectUnauthorized: true,
              ...(ca === undefined ? {} : { ca }),
              ...(cert === undefined ? {} : { cert }),
              ...(key === undefined ? {} : { key }),
            },
          }
        : {}),
    },
  };
}

/** REDIS_URL as a URL; never echoes it (it may hold a password). */
function parseRedisUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch (err: unknown) {
    // Not kept as the cause: a TypeError from URL carries the input, password included.
    if (!(err instanceof TypeError)) throw err;
    throw invalid("REDIS_URL", "must be a redis:// or rediss:// URL (redis://host:port)");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw invalid("REDIS_URL", `must be a redis:// or rediss:// URL, got scheme "${url.protocol}"`);
  }
  if (url.hostname === "") throw invalid("REDIS_URL", "names no host (redis://host:port)");
  return url;
}

function invalid(variable: string, message: string, cause?: unknown): FleetStateError {
  return new FleetStateError("Invalid", `${variable}: ${message}`, {
    ...(cause === undefined ? {} : { cause }),
  });
}

function describeReadError(err: unknown): string {
  const code = typeof err === "object" && err !== null && "code" in err ? err.code : undefined;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  return (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";
}
