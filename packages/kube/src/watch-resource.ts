/**
 * The list+watch loop of one resource, a small state machine:
 *
 *   LIST (paginated) ──ok──▶ WATCH from the list's resourceVersion ──event──▶ apply, stay
 *     ▲  │failed: backoff,        │ 410 Gone (status or ERROR event): backoff, LIST again
 *     │  ▼retry                   │ closed / error / quiet for quietTimeoutMs: backoff,
 *     └──┘                        ▼ WATCH again from the last resourceVersion (no LIST)
 *
 * Only `stop()` leaves it. Objects are projected on receipt and the raw JSON is dropped; an
 * object that cannot be projected is logged and its previous projection kept. Backoff is full
 * jitter, doubling from `backoff.initialMs` to `backoff.maxMs`, reset after a stream that
 * delivered at least one event or bookmark; a Retry-After (429, 503) replaces the drawn delay.
 */
import type { ObjectIssue, Projection } from "@rrfleet/topology-core";
import { computeBackoffDelay, type BackoffBounds } from "./compute-backoff-delay.js";
import { createWatchStore, type Projected, type WatchStore } from "./create-watch-store.js";
import type { WatchEvent, WatchTransport } from "./create-watch-transport.js";
import { KubeError, toKubeError } from "./kube-error.js";

/** The resources {@link watchResource} loops are run for. */
export type WatchedResource =
  | "nodes"
  | "bgppeers"
  | "bgpconfigurations"
  | "clusterinformations"
  /** Cluster Secrets of the fleet's registry (`registry/watch-cluster-secrets.ts`). */
  | "secrets";

/**
 * What a watch loop reports for metrics: a received event (`ADDED`, `MODIFIED`, `DELETED`,
 * `BOOKMARK`), a MODIFIED that changed nothing projected (`DROPPED`), a LIST after 410 Gone
 * (`RELIST`), or a new watch after a stream ended (`RESTART`).
 */
export type WatchEventKind =
  "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "DROPPED" | "RELIST" | "RESTART";

/** The pino-compatible subset the loops log with: structured fields first, then a message. */
export interface WatchLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** The state of one resource's loop, for readiness probes and status output. */
export interface ResourceWatchHealth {
  readonly resource: WatchedResource;
  /** Listed at least once; stays true through restarts and relists. */
  readonly synced: boolean;
  /** Where the next watch resumes. */
  readonly resourceVersion?: string;
  /** When the last watch event or bookmark arrived. */
  readonly lastEventAt?: Date;
  /** Watches started again after a stream ended (server timeout, error, quiet stream). */
  readonly restarts: number;
  /** LISTs after the first one (each follows a 410 Gone). */
  readonly relists: number;
  /** The message of the most recent failure, if any. */
  readonly lastError?: string;
}

/** What is watched and how raw objects become projections. */
export interface ResourceKind<T extends Projected> {
  readonly resource: WatchedResource;
  /** Object kind for logs: `Node`, `BGPPeer`. */
  readonly kind: string;
  /** Collection path: `/api/v1/nodes`, `/apis/crd.projectcalico.org/v1/bgppeers`. */
  readonly path: string;
  /** For error messages: `nodes`, `bgppeers.crd.projectcalico.org`. */
  readonly resourceName: string;
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
  project(raw: unknown): Projection<T>;
}

/** The clock of a loop: a port so tests run it without waiting. */
export interface WatchTimers {
  now(): Date;
  /** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Calls `fire` after `ms` unless the returned function is called first. */
  schedule(ms: number, fire: () => void): () => void;
}

/** Tuning and callbacks of {@link watchResource}; see `WatchClusterOptions` for defaults. */
export interface ResourceWatchOptions {
  readonly logger: WatchLogger;
  readonly onEvent: (resource: WatchedResource, kind: WatchEventKind) => void;
  /** After every change of the store's content (not after resourceVersion-only updates). */
  readonly onChange: () => void;
  /** After every successful LIST (the first one makes the loop synced). */
  readonly onSynced: () => void;
  readonly quietTimeoutMs: number;
  readonly backoff: BackoffBounds;
  readonly random: () => number;
  readonly watchTimeoutSeconds: number;
  readonly pageSize: number;
  readonly timers: WatchTimers;
}

/** A running loop. */
export interface ResourceWatch<T extends Projected> {
  readonly store: Pick<WatchStore<T>, "get" | "values" | "size" | "generation">;
  isSynced(): boolean;
  health(): ResourceWatchHealth;
  /** Ends the loop and closes its stream; resolves when it has ended. Idempotent. */
  stop(): Promise<void>;
}

/** How one watch stream ended. */
type StreamEnd =
  | { readonly kind: "stopped" }
  | { readonly kind: "closed"; readonly healthy: boolean }
  | { readonly kind: "quiet"; readonly healthy: boolean }
  | { readonly kind: "gone"; readonly healthy: boolean; readonly error: KubeError }
  | { readonly kind: "failed"; readonly healthy: boolean; readonly error: KubeError };

const MAX_LOGGED_ISSUES = 5;

/** Timers on the real clock; unref'd, so a forgotten loop never holds the process open. */
export const realWatchTimers: WatchTimers = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) {
        resolve();
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      signal.addEventListener("abort", done, { once: true });
    }),
  schedule: (ms, fire) => {
    const timer = setTimeout(fire, ms);
    timer.unref();
    return () => {
      clearTimeout(timer);
    };
  },
};

/**
 * Starts the list+watch loop of one resource (see the module comment) and returns at once.
 * The loop never ends on its own and never rejects: every failure is logged, kept as
 * `lastError` and retried after a backoff. Throws nothing.
 */
export function watchResource<T extends Projected>(
  kind: ResourceKind<T>,
  transport: WatchTransport,
  options: ResourceWatchOptions,
): ResourceWatch<T> {
  const { logger, timers } = options;
  const store = createWatchStore<T>();
  const stopping = new AbortController();
  const fields = { resource: kind.resource };
  // A function, not the property: TypeScript would keep a narrowed `aborted` across awaits.
  const isStopping = (): boolean => stopping.signal.aborted;
  let synced = false;
  let resourceVersion: string | undefined;
  let lastEventAt: Date | undefined;
  let restarts = 0;
  let relists = 0;
  let lastError: string | undefined;
  let attempt = 0;

  const report = (eventKind: WatchEventKind): void => {
    try {
      options.onEvent(kind.resource, eventKind);
    } catch (err: unknown) {
      logger.error({ ...fields, err }, "the onEvent callback threw; the watch goes on");
    }
  };
  const changed = (): void => {
    try {
      options.onChange();
    } catch (err: unknown) {
      logger.error({ ...fields, err }, "a change listener threw; the watch goes on");
    }
  };
  const fail = (error: KubeError): void => {
    lastError = error.message;
  };
  /** Waits before the next request: the server's Retry-After, else a jittered backoff. */
  const pause = async (error: KubeError | undefined): Promise<void> => {
    const drawn = computeBackoffDelay(attempt, options.backoff, options.random);
    attempt += 1;
    const delayMs = error?.retryAfterSeconds === undefined ? drawn : error.retryAfterSeconds * 1000;
    await timers.sleep(delayMs, stopping.signal);
  };

  const warnUnprojectable = (raw: unknown, issues: readonly ObjectIssue[]): void => {
    logger.warn(
      {
        ...fields,
        name: readMetadataString(raw, "name"),
        issues: issues.slice(0, MAX_LOGGED_ISSUES),
        issueCount: issues.length,
      },
      `a ${kind.kind} cannot be projected; keeping its previous state`,
    );
  };

  /** LISTs every page; returns false when it failed (logged) or the loop stopped. */
  const list = async (): Promise<boolean> => {
    const started = timers.now().getTime();
    try {
      const fresh = new Map<string, T>();
      let continueToken: string | undefined;
      let listVersion: string;
      do {
        const page = await transport.listPage(
          {
            path: kind.path,
            resource: kind.resourceName,
            limit: options.pageSize,
            ...(kind.fieldSelector === undefined ? {} : { fieldSelector: kind.fieldSelector }),
            ...(kind.labelSelector === undefined ? {} : { labelSelector: kind.labelSelector }),
            ...(kind.labelSelector === undefined ? {} : { labelSelector: kind.labelSelector }),
            ...(continueToken === undefined ? {} : { continueToken }),
          },
          stopping.signal,
        );
        for (const raw of page.items) {
          const projection = kind.project(raw);
          if (projection.ok) {
            fresh.set(projection.value.name, projection.value);
            continue;
          }
          warnUnprojectable(raw, projection.issues);
          const name = readMetadataString(raw, "name");
          const previous = name === undefined ? undefined : store.get(name);
          if (previous !== undefined) fresh.set(previous.name, previous);
        }
        continueToken = page.continueToken;
        listVersion = page.resourceVersion;
      } while (continueToken !== undefined);
      const diff = store.replace(fresh.values());
      resourceVersion = listVersion;
      const summary = {
        ...fields,
        resourceVersion,
        objects: store.size,
        ...diff,
        durationMs: timers.now().getTime() - started,
      };
      if (synced) {
        relists += 1;
        report("RELIST");
        logger.info(summary, "relisted; the cache now matches the server");
      } else {
        logger.info(summary, "listed");
      }
      synced = true;
      if (diff.added + diff.modified + diff.deleted > 0) changed();
      options.onSynced();
      return true;
    } catch (err: unknown) {
      if (stopping.signal.aborted) return false;
      const error = toKubeError(err, { verb: "list", resource: kind.resourceName });
      fail(error);
      logger.warn(
        { ...fields, code: error.code, retryAfterSeconds: error.retryAfterSeconds, err: error },
        `list failed; retrying after a backoff: ${error.message}`,
      );
      await pause(error);
      return false;
    }
  };

  const apply = (event: WatchEvent): void => {
    lastEventAt = timers.now();
    const version = readMetadataString(event.object, "resourceVersion");
    if (version !== undefined) resourceVersion = version;
    switch (event.type) {
      case "BOOKMARK":
        report("BOOKMARK");
        return;
      case "DELETED": {
        const name = readMetadataString(event.object, "name");
        report("DELETED");
        if (name === undefined) {
          logger.warn({ ...fields }, `a DELETED ${kind.kind} has no name; ignored`);
          return;
        }
        if (store.remove(name) === "deleted") changed();
        return;
      }
      case "ADDED":
      case "MODIFIED": {
        const projection = kind.project(event.object);
        if (!projection.ok) {
          report(event.type);
          warnUnprojectable(event.object, projection.issues);
          return;
        }
        const change = store.upsert(projection.value);
        // A heartbeat: only the resourceVersion moved. Keep it (writers fence on it), tell nobody.
        report(event.type === "MODIFIED" && change === "versionOnly" ? "DROPPED" : event.type);
        if (change === "added" || change === "modified") changed();
        return;
      }
    }
  };

  /** Runs one watch stream to its end. */
  const watchOnce = async (from: string): Promise<StreamEnd> => {
    // An abort that already happened fires no listener: check before linking the stream to it.
    if (isStopping()) return { kind: "stopped" };
    const stream = new AbortController();
    const abortStream = (): void => {
      stream.abort(stopping.signal.reason);
    };
    stopping.signal.addEventListener("abort", abortStream, { once: true });
    let received = 0;
    const quietError = new KubeError(
      "Unavailable",
      `no event or bookmark for ${options.quietTimeoutMs} ms; presuming the stream half-open`,
      { retryable: true },
    );
    const onQuiet = (): void => {
      stream.abort(quietError);
    };
    let cancelQuiet = timers.schedule(options.quietTimeoutMs, onQuiet);
    const min = options.watchTimeoutSeconds;
    // client-go's spread: [min, 2×min], so a fleet of watchers does not reconnect in step.
    const timeoutSeconds = min + Math.floor(options.random() * (min + 1));
    try {
      await transport.watch(
        {
          path: kind.path,
          resource: kind.resourceName,
          resourceVersion: from,
          timeoutSeconds,
          ...(kind.fieldSelector === undefined ? {} : { fieldSelector: kind.fieldSelector }),
          ...(kind.labelSelector === undefined ? {} : { labelSelector: kind.labelSelector }),
        },
        (event) => {
          if (stream.signal.aborted) return;
          received += 1;
          cancelQuiet();
          cancelQuiet = timers.schedule(options.quietTimeoutMs, onQuiet);
          apply(event);
        },
        stream.signal,
      );
      return { kind: "closed", healthy: received > 0 };
    } catch (err: unknown) {
      if (isStopping()) return { kind: "stopped" };
      if (stream.signal.reason === quietError) return { kind: "quiet", healthy: received > 0 };
      const error = toKubeError(err, { verb: "watch", resource: kind.resourceName });
      return error.code === "Gone"
        ? { kind: "gone", healthy: received > 0, error }
        : { kind: "failed", healthy: received > 0, error };
    } finally {
      cancelQuiet();
      stopping.signal.removeEventListener("abort", abortStream);
    }
  };

  const run = async (): Promise<void> => {
    let needList = true;
    while (!stopping.signal.aborted) {
      try {
        if (needList) {
          if (!(await list())) continue;
          needList = false;
        }
        const from = resourceVersion ?? "";
        const end = await watchOnce(from);
        if (end.kind === "stopped") break;
        if (end.healthy) attempt = 0;
        switch (end.kind) {
          case "gone":
            needList = true;
            fail(end.error);
            logger.info(
              { ...fields, resourceVersion: from },
              "the resourceVersion expired (410 Gone); relisting",
            );
            await pause(undefined);
            continue;
          case "closed":
            logger.debug({ ...fields, resourceVersion: from }, "the server closed the stream");
            break;
          case "quiet":
            lastError = `no event or bookmark for ${options.quietTimeoutMs} ms`;
            logger.warn(
              { ...fields, resourceVersion: from, quietTimeoutMs: options.quietTimeoutMs },
              "no event or bookmark in time; presuming the stream half-open and re-watching",
            );
            break;
          case "failed":
            fail(end.error);
            logger[end.error.retryable ? "warn" : "error"](
              {
                ...fields,
                resourceVersion: from,
                code: end.error.code,
                retryAfterSeconds: end.error.retryAfterSeconds,
                err: end.error,
              },
              `watch failed; re-watching after a backoff: ${end.error.message}`,
            );
            break;
        }
        restarts += 1;
        report("RESTART");
        await pause(end.kind === "failed" ? end.error : undefined);
      } catch (err: unknown) {
        // A bug in this loop, not the server: still never stop silently.
        const error = toKubeError(err, { verb: "watch", resource: kind.resourceName });
        fail(error);
        logger.error(
          { ...fields, err },
          `the watch loop hit an unexpected error: ${error.message}`,
        );
        await pause(undefined);
      }
    }
  };

  // run() catches everything inside its loop; this only guards against a bug in that guard.
  const running = run().catch((err: unknown) => {
    lastError = `the watch loop ended: ${err instanceof Error ? err.message : String(err)}`;
    logger.error({ ...fields, err }, "the watch loop ended unexpectedly; this is a bug");
  });
  return {
    store,
    isSynced: () => synced,
    health: () => ({
      resource: kind.resource,
      synced,
      restarts,
      relists,
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
      ...(lastEventAt === undefined ? {} : { lastEventAt }),
      ...(lastError === undefined ? {} : { lastError }),
    }),
    stop: async () => {
      stopping.abort(new KubeError("Unavailable", `the ${kind.resource} watch was stopped`));
      await running;
    },
  };
}

function readMetadataString(raw: unknown, field: "name" | "resourceVersion"): string | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const metadata = (raw as { metadata?: unknown }).metadata;
  if (typeof metadata !== "object" || metadata === null) return undefined;
  const value = (metadata as Record<string, unknown>)[field];
  return typeof value === "string" && value !== "" ? value : undefined;
}
