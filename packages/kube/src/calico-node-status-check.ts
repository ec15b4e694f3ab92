/**
 * Confirms new BGP sessions the way Calico reports them: one `CalicoNodeStatus` per watched node
 * (calico-node on that node fills `status.bgp.peersV4` every `updatePeriodSeconds`), polled until
 * every pair's peer address shows `Established`, then deleted again, also on errors and aborts.
 *
 * In fleet mode these are writes of the leader like any other, fenced the same way
 * (`WriteFencing`): each create and delete asks `assertCurrent` first, each object carries the
 * leader's epoch, and a leftover object stamped by a newer leader is never deleted (its check
 * is running). A leader whose lease ends mid-check leaves its objects behind; the next check of
 * the next leader replaces them (they carry an older epoch).
 */
import { createHash } from "node:crypto";
import type { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import {
  FENCING_EPOCH_ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  isOwnedByRrfleet,
  isWriteFenced,
  parseIpv4,
  readFencingEpoch,
} from "@rrfleet/topology-core";
import { createRequestOptions } from "./create-request-options.js";
import type { CalicoApi } from "./detect-calico-api.js";
import { KubeError, toKubeError, type KubeRequestContext } from "./kube-error.js";
import { renderDeleteOptions } from "./render-delete-options.js";
import { findRoutesNotHandedOver, sampleHandovers, type ReportedRoute } from "./route-handover.js";
import {
  uniqueSessionPairs,
  type RouteCheckResult,
  type RouteHandoverRequest,
  type SessionCheck,
  type SessionCheckResult,
  type SessionPair,
} from "./session-check.js";
import { sleepWithSignal } from "./sleep-with-signal.js";
import { isRecord } from "./is-record.js";
import type { WriteFencing } from "./write-cluster.js";

/** The client calls the check makes (a {@link ClusterConnection} has them all). */
export interface CalicoNodeStatusCheckClients {
  readonly core: Pick<CoreV1Api, "readNode" | "listNode">;
  readonly custom: Pick<
    CustomObjectsApi,
    | "createClusterCustomObject"
    | "listClusterCustomObject"
    | "deleteClusterCustomObject"
    | "getClusterCustomObject"
  >;
}

/** Knobs of {@link createCalicoNodeStatusCheck}; every field is optional. */
export interface CalicoNodeStatusCheckOptions {
  /** How long to wait for every session, from the call, in milliseconds; default 60,000. */
  readonly timeoutMs?: number;
  /** Between two reads of the status objects, in milliseconds; default 1,000. */
  readonly pollIntervalMs?: number;
  /** `spec.updatePeriodSeconds` of the status objects (how often calico-node reports); default 2. */
  readonly updatePeriodSeconds?: number;
  /** Minimum wait, from the call, when some pair cannot be checked (no IPv4 address); default 10,000 ms. */
  readonly fallbackDelayMs?: number;
  /**
   * Reports first seen earlier than this after the call are not trusted, in milliseconds; default
   * 3,000. calico-node applies a cluster change to BIRD a moment after the API server has it, so
   * a report made right after a step may still show a session the step restarted as Established.
   * Measured on this side's clock (when a new `status.lastUpdated` is first seen), so clock skew
   * between the controller and the nodes does not matter.
   */
  readonly settleMs?: number;
  /**
   * At most this many nodes get a status object; default 64. Each object reports all of its
   * node's peers, so nodes are picked greedily by how many pairs they cover (reflectors first);
   * pairs no picked node covers are counted as `unchecked`.
   */
  readonly maxWatchedNodes?: number;
  /**
   * The route check reads at most this many nodes' routes; default 8 (Calico advises fewer than
   * ten route-reporting status objects at a time).
   */
  readonly maxRouteNodes?: number;
  /**
   * Clusters with more nodes than this get no route check, default 500: a node's route report
   * lists every path to every block (the mesh's and each reflector's: about 140 bytes each, and
   * 8–10 paths per block before mesh-off), and beyond about a thousand nodes it outgrows the
   * 1.5 MiB etcd holds per object, so calico-node could not write it. Such clusters rely on the
   * session check alone (the result says so).
   */
  readonly maxRouteCheckClusterNodes?: number;
  /** Picks the route check's sample (injectable for tests); returns [0, 1). */
  readonly random?: () => number;
  /** Waits (injectable for tests); must reject with `signal.reason` on abort. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A monotonic clock in milliseconds; default `performance.now`. */
  readonly now?: () => number;
  /** Fleet mode: fence every create and delete with the leader's lease (see the module comment). */
  readonly fencing?: WriteFencing;
}

/** Calico's (KDD) Node annotation holding the node's BGP IPv4 address and prefix length. */
export const CALICO_IPV4_ADDRESS_ANNOTATION = "projectcalico.org/IPv4Address";

const STATUS_PREFIX = "rrfleet-sessions-";
const ROUTES_PREFIX = "rrfleet-routes-";
/** A route gap names at most this many destinations. */
const MAX_REPORTED_DESTINATIONS = 10;
const MAX_NAME_LENGTH = 253;
const PLURAL = "caliconodestatuses";
/** Up to this many peer nodes are read one GET each; more are found in one paginated LIST. */
const MAX_NODE_GETS = 50;
const PAGE_SIZE = 500;
const CONCURRENCY = 8;

/**
 * The name of the CalicoNodeStatus watching `node`: `rrfleet-sessions-<node>`, or, beyond the
 * 253-character limit of object names, its head plus a hash of the node name.
 */
export function renderSessionStatusName(node: string): string {
  return renderStatusName(STATUS_PREFIX, node);
}

/** The name of the CalicoNodeStatus reading `node`'s routes: `rrfleet-routes-<node>` (shortened like {@link renderSessionStatusName}). */
export function renderRouteStatusName(node: string): string {
  return renderStatusName(ROUTES_PREFIX, node);
}

function renderStatusName(prefix: string, node: string): string {
  const name = `${prefix}${node}`;
  if (name.length <= MAX_NAME_LENGTH) return name;
  const hash = createHash("sha256").update(node).digest("hex").slice(0, 10);
  return `${name.slice(0, MAX_NAME_LENGTH - hash.length - 1).replace(/[-.]+$/, "")}-${hash}`;
}

/**
 * A {@link SessionCheck} reading Calico's own session state. For each distinct watched node it
 * creates a `CalicoNodeStatus` (cluster-scoped, `calico.group/version`, labelled managed-by
 * rrfleet, `spec: {node, classes: ["BGP"], updatePeriodSeconds}`), then LISTs them by label every
 * `pollIntervalMs` until each pair's peer IPv4 (its Node annotation
 * `projectcalico.org/IPv4Address`, prefix length stripped) is `Established` in `peersV4` with a
 * type the pair asks for (`NodeMesh` for a mesh session, `NodePeer`/`GlobalPeer` for an explicit
 * one) in a report first seen `settleMs` after the call, or until `timeoutMs` (the rest are
 * `missing`). Sessions are symmetric: the watched nodes are picked greedily by how many pairs
 * they cover, at most `maxWatchedNodes` (normally the reflectors). Pairs whose peer has no IPv4 address
 * are `unverifiable`: the check then lasts at least `fallbackDelayMs`. A leftover status object of
 * rrfleet's with the same name is replaced; one that is not rrfleet's is a `Conflict`. Every object
 * created is deleted before returning, also after an error or abort. RBAC: get/list nodes;
 * create/list/get/delete caliconodestatuses.
 * Throws {@link KubeError} (when cleaning up fails as well: an AggregateError of both); an abort
 * rejects with `signal.reason`.
 */
export function createCalicoNodeStatusCheck(
  clients: CalicoNodeStatusCheckClients,
  calico: CalicoApi,
  options: CalicoNodeStatusCheckOptions = {},
): SessionCheck {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const updatePeriodSeconds = options.updatePeriodSeconds ?? 2;
  const fallbackDelayMs = options.fallbackDelayMs ?? 10_000;
  const settleMs = options.settleMs ?? 3_000;
  const maxWatchedNodes = options.maxWatchedNodes ?? 64;
  const sleep = options.sleep ?? sleepWithSignal;
  const now = options.now ?? (() => performance.now());
  const path = { group: calico.group, version: calico.version, plural: PLURAL };
  const resource = `${PLURAL}.${calico.group}`;
  const fencing = options.fencing;
  const maxRouteNodes = options.maxRouteNodes ?? 8;
  const maxRouteCheckClusterNodes = options.maxRouteCheckClusterNodes ?? 500;
  const random = options.random ?? Math.random;

  const send = async <T>(
    call: () => Promise<T>,
    context: KubeRequestContext,
    signal?: AbortSignal,
  ): Promise<T> => {
    try {
      return await call();
    } catch (err: unknown) {
      // An aborted fetch looks like a network error; the caller's reason is the truth.
      signal?.throwIfAborted();
      throw toKubeError(err, context);
    }
  };

  /** Each name's IPv4 address (undefined: none, or no such node); `"all"`: every node's. */
  const readAddresses = async (
    names: readonly string[] | "all",
    signal?: AbortSignal,
  ): Promise<Map<string, string | undefined>> => {
    const addresses = new Map<string, string | undefined>();
    const requestOptions = createRequestOptions(signal === undefined ? {} : { signal });
    if (names !== "all" && names.length <= MAX_NODE_GETS) {
      await forEachWithConcurrency(names, CONCURRENCY, async (name) => {
        try {
          const node = await send(
            () => clients.core.readNode({ name }, requestOptions),
            { verb: "get", resource: "nodes", name },
            signal,
          );
          addresses.set(name, parseAddress(node.metadata?.annotations));
        } catch (err: unknown) {
          if (!(err instanceof KubeError && err.code === "NotFound")) throw err;
          addresses.set(name, undefined);
        }
      });
      return addresses;
    }
    const wanted = names === "all" ? undefined : new Set(names);
    let continueToken: string | undefined;
    do {
      const page = await send(
        () =>
          clients.core.listNode(
            {
              limit: PAGE_SIZE,
              ...(continueToken === undefined ? {} : { _continue: continueToken }),
            },
            requestOptions,
          ),
        { verb: "list", resource: "nodes" },
        signal,
      );
      for (const node of page.items) {
        const name = node.metadata?.name;
        if (name !== undefined && (wanted === undefined || wanted.has(name))) {
          addresses.set(name, parseAddress(node.metadata?.annotations));
        }
      }
      continueToken = nonEmpty(page.metadata?._continue);
    } while (continueToken !== undefined);
    return addresses;
  };

  const createStatus = async (
    { name, node, classes }: { name: string; node: string; classes: readonly string[] },
    created: Map<string, string | undefined>,
    signal?: AbortSignal,
  ): Promise<void> => {
    const context = { verb: "create", resource, name };
    const body = {
      apiVersion: calico.apiVersion,
      kind: "CalicoNodeStatus",
      metadata: {
        name,
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
        ...(fencing === undefined
          ? {}
          : { annotations: { [FENCING_EPOCH_ANNOTATION]: String(fencing.epoch) } }),
      },
      spec: { node, classes, updatePeriodSeconds },
    };
    const create = async (): Promise<void> => {
      fencing?.assertCurrent();
      try {
        const object: unknown = await send(
          () =>
            clients.custom.createClusterCustomObject(
              { ...path, body },
              createRequestOptions(signal === undefined ? {} : { signal }),
            ),
          context,
          signal,
        );
        created.set(name, readUid(object));
      } catch (err: unknown) {
        // The object may exist although the answer was lost: delete it by name afterwards.
        if (!(err instanceof KubeError && err.code === "Conflict")) created.set(name, undefined);
        throw err;
      }
    };
    try {
      await create();
    } catch (err: unknown) {
      if (!(err instanceof KubeError && err.code === "Conflict")) throw err;
      // A leftover of a check that died before cleaning up: its status may be stale, replace it.
      const existing: unknown = await send(
        () => clients.custom.getClusterCustomObject({ ...path, name }),
        { verb: "get", resource, name },
        signal,
      );
      if (!isOwnedByRrfleet(readLabels(existing))) {
        throw new KubeError(
          "Conflict",
          `${context.verb} ${resource} "${name}": it already exists and is not rrfleet's`,
          { cause: err },
        );
      }
      const { fencingEpoch } = readFencingEpoch(readAnnotations(existing));
      if (fencing !== undefined && fencingEpoch !== undefined) {
        if (isWriteFenced(fencing.epoch, fencingEpoch)) {
          throw new KubeError(
            "Fenced",
            `${resource} "${name}" was created by fleet leader epoch ${fencingEpoch}, newer than this leader's ${fencing.epoch}: not replaced`,
            { cause: err },
          );
        }
      }
      await deleteStatus(name, readUid(existing));
      await create();
    }
  };

  const deleteStatus = async (name: string, uid: string | undefined): Promise<void> => {
    fencing?.assertCurrent();
    try {
      await send(
        () =>
          clients.custom.deleteClusterCustomObject({
            ...path,
            name,
            body: renderDeleteOptions({ uid }),
          }),
        { verb: "delete", resource, name },
      );
    } catch (err: unknown) {
      if (!(err instanceof KubeError && err.code === "NotFound")) throw err;
    }
  };

  /** Each of our status objects' latest report, by object name. */
  const listReports = async (signal?: AbortSignal): Promise<Map<string, StatusReport>> => {
    const reports = new Map<string, StatusReport>();
    let continueToken: string | undefined;
    do {
      const page: unknown = await send(
        () =>
          clients.custom.listClusterCustomObject(
            {
              ...path,
              labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
              limit: PAGE_SIZE,
              ...(continueToken === undefined ? {} : { _continue: continueToken }),
            },
            createRequestOptions(signal === undefined ? {} : { signal }),
          ),
        { verb: "list", resource },
        signal,
      );
      const items = isRecord(page) && Array.isArray(page["items"]) ? page["items"] : [];
      for (const item of items) {
        const name = readName(item);
        if (name !== undefined) reports.set(name, readReport(item));
      }
      const metadata = isRecord(page) ? page["metadata"] : undefined;
      const token = isRecord(metadata) ? metadata["continue"] : undefined;
      continueToken = typeof token === "string" ? nonEmpty(token) : undefined;
    } while (continueToken !== undefined);
    return reports;
  };

  /**
   * Lists rrfleet's status objects every `pollIntervalMs` until `outstanding` returns nothing or
   * `timeoutMs` after `started` has passed, and returns what it returned last. `outstanding` reads
   * reports through `fresh`, which gives a report only when it was first seen (this side's clock,
   * so clock skew with the nodes does not matter) `settleMs` after `started` or later.
   */
  const pollFreshReports = async <T>(
    started: number,
    outstanding: (fresh: (name: string) => StatusReport | undefined) => T[],
    signal?: AbortSignal,
  ): Promise<T[]> => {
    const deadline = started + timeoutMs;
    /** Status object → the report last seen and when it was first seen. */
    const seen = new Map<string, { lastUpdated: string; at: number }>();
    for (;;) {
      const reports = await listReports(signal);
      const at = now();
      for (const [name, report] of reports) {
        if (seen.get(name)?.lastUpdated !== report.lastUpdated)
          seen.set(name, { lastUpdated: report.lastUpdated, at });
      }
      const left = outstanding((name) =>
        (seen.get(name)?.at ?? -Infinity) >= started + settleMs ? reports.get(name) : undefined,
      );
      const remaining = deadline - now();
      if (left.length === 0 || remaining <= 0) return left;
      await sleep(Math.min(pollIntervalMs, remaining), signal);
    }
  };

  const check = async (
    pairs: readonly SessionPair[],
    created: Map<string, string | undefined>,
    signal?: AbortSignal,
  ): Promise<SessionCheckResult> => {
    const started = now();
    const { oriented, unchecked } = chooseWatchedNodes(pairs, maxWatchedNodes);
    const addresses = await readAddresses([...new Set(oriented.map((o) => o.remote))], signal);
    const verifiable = oriented.flatMap((o) => {
      const address = addresses.get(o.remote);
      return address === undefined
        ? []
        : [{ ...o, address, status: renderSessionStatusName(o.watched) }];
    });
    const unverifiable = oriented
      .filter((o) => addresses.get(o.remote) === undefined)
      .map((o) => o.pair);

    let waiting = verifiable;
    if (verifiable.length > 0) {
      await forEachWithConcurrency(
        [...new Set(verifiable.map((v) => v.watched))],
        CONCURRENCY,
        (node) =>
          createStatus(
            { name: renderSessionStatusName(node), node, classes: ["BGP"] },
            created,
            signal,
          ),
      );
      // Once seen Established, a pair is done: a later report need not show it again.
      waiting = await pollFreshReports(
        started,
        (fresh) =>
          (waiting = waiting.filter(
            (v) => !isEstablished(fresh(v.status), v.address, v.pair.kinds),
          )),
        signal,
      );
    }
    if (unverifiable.length > 0) {
      const left = started + fallbackDelayMs - now();
      if (left > 0) await sleep(left, signal);
    }
    return {
      established: verifiable.length - waiting.length,
      missing: waiting.map((v) => v.pair),
      unverifiable,
      unchecked,
    };
  };

  /**
   * Reads the watched handover nodes' routes until each has every route it has over sessions it
   * loses also over sessions it keeps (see route-handover.ts), or until `timeoutMs`.
   */
  const checkRoutes = async (
    request: RouteHandoverRequest,
    created: Map<string, string | undefined>,
    signal?: AbortSignal,
  ): Promise<RouteCheckResult> => {
    const started = now();
    const addresses = await readAddresses("all", signal);
    if (addresses.size > maxRouteCheckClusterNodes) {
      return {
        confirmed: 0,
        missing: [],
        unchecked: request.handovers.length,
        unverifiable: `the cluster has ${addresses.size} nodes, more than ${maxRouteCheckClusterNodes}: calico-node cannot report a node's routes in one object`,
      };
    }
    const nodeAddresses = new Set(
      [...addresses.values()].filter((a): a is string => a !== undefined),
    );
    const exemptAddresses = new Set(
      request.exempt.flatMap((name) => {
        const address = addresses.get(name);
        return address === undefined ? [] : [address];
      }),
    );
    const readable = request.handovers.filter((h) => addresses.get(h.node) !== undefined);
    if (readable.length === 0) {
      return {
        confirmed: 0,
        missing: [],
        unchecked: request.handovers.length,
        unverifiable: "no node the step takes sessions from has a Calico IPv4 address",
      };
    }
    const { chosen, unchecked } = sampleHandovers(readable, maxRouteNodes, random);
    const skipped = request.handovers.length - readable.length;
    const watched = chosen.map((handover) => ({
      node: handover.node,
      status: renderRouteStatusName(handover.node),
      keeps: new Map(
        handover.keeps.flatMap((k) => {
          const address = addresses.get(k.peer);
          return address === undefined ? [] : [[address, k.kinds] as const];
        }),
      ),
    }));
    await forEachWithConcurrency(watched, CONCURRENCY, (w) =>
      createStatus({ name: w.status, node: w.node, classes: ["Routes"] }, created, signal),
    );
    const gaps = await pollFreshReports(
      started,
      (fresh) =>
        watched.flatMap((w) => {
          const routes = fresh(w.status)?.routes;
          if (routes === undefined) return [{ node: w.node, destinations: [] }];
          const destinations = findRoutesNotHandedOver(
            routes,
            w.keeps,
            nodeAddresses,
            exemptAddresses,
          );
          return destinations.length === 0
            ? []
            : [{ node: w.node, destinations: destinations.slice(0, MAX_REPORTED_DESTINATIONS) }];
        }),
      signal,
    );
    return {
      confirmed: watched.length - gaps.length,
      missing: gaps,
      unchecked: unchecked + skipped,
    };
  };

  /**
   * Runs `work` with a map it records every status object it creates in, then deletes them all,
   * also after an error or abort (without the caller's signal: an aborted check must still leave
   * nothing behind).
   */
  const withStatusObjects = async <T>(
    work: (created: Map<string, string | undefined>) => Promise<T>,
  ): Promise<T> => {
    const created = new Map<string, string | undefined>();
    let outcome: { ok: true; result: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, result: await work(created) };
    } catch (err: unknown) {
      outcome = { ok: false, error: err };
    }
    const cleanup = await Promise.allSettled(
      [...created].map(([name, uid]) => deleteStatus(name, uid)),
    );
    // deleteStatus throws only KubeErrors (send maps everything, assertCurrent throws Fenced).
    const cleanupErrors = cleanup.flatMap((r) =>
      r.status === "rejected" ? [r.reason as KubeError] : [],
    );
    // The lease ended: what is left is the next leader's to replace, and the caller must see
    // Fenced (it steps down on that code), not an aggregate that hides it.
    const fenced = [outcome.ok ? undefined : outcome.error, ...cleanupErrors].find(
      (err): err is KubeError => err instanceof KubeError && err.code === "Fenced",
    );
    if (fenced !== undefined) throw fenced;
    if (!outcome.ok) {
      if (cleanupErrors.length === 0) throw outcome.error;
      throw new AggregateError(
        [outcome.error, ...cleanupErrors],
        `session check failed and ${cleanupErrors.length} ${resource} could not be deleted`,
      );
    }
    const [firstCleanupError] = cleanupErrors;
    if (firstCleanupError !== undefined) throw firstCleanupError;
    return outcome.result;
  };

  return {
    waitForSessions: async (input, signal) => {
      signal?.throwIfAborted();
      const pairs = uniqueSessionPairs(input);
      if (pairs.length === 0) return { established: 0, missing: [], unverifiable: [] };
      return withStatusObjects((created) => check(pairs, created, signal));
    },
    waitForRoutes: async (request, signal) => {
      signal?.throwIfAborted();
      if (request.handovers.length === 0) return { confirmed: 0, missing: [], unchecked: 0 };
      return withStatusObjects((created) => checkRoutes(request, created, signal));
    },
  };
}

/** Runs `work` on every item, `width` at a time; waits for all, then throws the first failure. */
async function forEachWithConcurrency<T>(
  items: readonly T[],
  width: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (err: unknown) {
        errors.push(err);
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
}

/**
 * Which node of each pair gets the status object: greedily the nodes covering the most pairs not
 * covered yet (reflectors, then mesh sample nodes), at most `max` of them; pairs left over are
 * counted, not checked.
 */
function chooseWatchedNodes(
  pairs: readonly SessionPair[],
  max: number,
): { oriented: { pair: SessionPair; watched: string; remote: string }[]; unchecked: number } {
  const degree = new Map<string, number>();
  /** Ties go to the node seen first, `node` before `peer` (the pairs' own orientation). */
  const firstSeen = new Map<string, number>();
  for (const pair of pairs) {
    degree.set(pair.node, (degree.get(pair.node) ?? 0) + 1);
    degree.set(pair.peer, (degree.get(pair.peer) ?? 0) + 1);
    if (!firstSeen.has(pair.node)) firstSeen.set(pair.node, firstSeen.size);
    if (!firstSeen.has(pair.peer)) firstSeen.set(pair.peer, firstSeen.size);
  }
  const byPair = new Map<string, SessionPair[]>();
  for (const pair of pairs) {
    for (const end of [pair.node, pair.peer]) {
      const list = byPair.get(end) ?? [];
      list.push(pair);
      byPair.set(end, list);
    }
  }
  const order = [...degree.keys()].sort(
    (a, b) =>
      (degree.get(b) ?? 0) - (degree.get(a) ?? 0) ||
      (firstSeen.get(a) ?? 0) - (firstSeen.get(b) ?? 0),
  );
  const covered = new Set<SessionPair>();
  const oriented: { pair: SessionPair; watched: string; remote: string }[] = [];
  let watched = 0;
  for (const node of order) {
    if (covered.size === pairs.length || watched >= max) break;
    const mine = (byPair.get(node) ?? []).filter((pair) => !covered.has(pair));
    if (mine.length === 0) continue;
    watched++;
    for (const pair of mine) {
      covered.add(pair);
      oriented.push({ pair, watched: node, remote: pair.node === node ? pair.peer : pair.node });
    }
  }
  return { oriented, unchecked: pairs.length - covered.size };
}

function parseAddress(
  annotations: Readonly<Record<string, string>> | undefined,
): string | undefined {
  const value = annotations?.[CALICO_IPV4_ADDRESS_ANNOTATION];
  const address = value?.split("/")[0]?.trim();
  return address !== undefined && parseIpv4(address) !== undefined ? address : undefined;
}

/** One status object's report: when calico-node wrote it, each peer entry, and its routes (when reported). */
interface StatusReport {
  readonly lastUpdated: string;
  readonly peers: readonly { peerIP: string; type: string; state: string }[];
  readonly routes?: readonly ReportedRoute[];
}

function readReport(item: unknown): StatusReport {
  const status = isRecord(item) ? item["status"] : undefined;
  const lastUpdated = isRecord(status) ? status["lastUpdated"] : undefined;
  const bgp = isRecord(status) ? status["bgp"] : undefined;
  const list = isRecord(bgp) ? bgp["peersV4"] : undefined;
  const peers: { peerIP: string; type: string; state: string }[] = [];
  if (Array.isArray(list)) {
    for (const peer of list) {
      if (!isRecord(peer) || typeof peer["peerIP"] !== "string") continue;
      peers.push({
        peerIP: peer["peerIP"],
        type: typeof peer["type"] === "string" ? peer["type"] : "",
        state: typeof peer["state"] === "string" ? peer["state"] : "",
      });
    }
  }
  const routes = readRoutes(isRecord(status) ? status["routes"] : undefined);
  return {
    lastUpdated: typeof lastUpdated === "string" ? lastUpdated : "",
    peers,
    ...(routes === undefined ? {} : { routes }),
  };
}

/** `status.routes.routesV4` (undefined: the report has no routes section yet). */
function readRoutes(section: unknown): ReportedRoute[] | undefined {
  if (!isRecord(section)) return undefined;
  const list = Array.isArray(section["routesV4"]) ? section["routesV4"] : [];
  return list.filter(isRecord).map((route) => {
    const learnedFrom = isRecord(route["learnedFrom"]) ? route["learnedFrom"] : {};
    const text = (value: unknown): string => (typeof value === "string" ? value : "");
    return {
      destination: text(route["destination"]),
      gateway: text(route["gateway"]),
      sourceType: text(learnedFrom["sourceType"]),
      peerIP: text(learnedFrom["peerIP"]),
    };
  });
}

/** Calico's peer types by the BIRD protocol they report: `Mesh_x` → NodeMesh, `Node_x`/`Global_x` → NodePeer/GlobalPeer. */
const TYPES_OF_KIND = { mesh: ["NodeMesh"], peer: ["NodePeer", "GlobalPeer"] } as const;

/** Whether the report shows a session to `address` Established, of one of `kinds` when given. */
function isEstablished(
  report: StatusReport | undefined,
  address: string,
  kinds: SessionPair["kinds"],
): boolean {
  return (
    report?.peers.some(
      (peer) =>
        peer.peerIP === address &&
        peer.state === "Established" &&
        (kinds === undefined ||
          kinds.some((kind) => (TYPES_OF_KIND[kind] as readonly string[]).includes(peer.type))),
    ) === true
  );
}

function readMetadata(object: unknown): Record<string, unknown> {
  const metadata = isRecord(object) ? object["metadata"] : undefined;
  return isRecord(metadata) ? metadata : {};
}

function readName(object: unknown): string | undefined {
  const name = readMetadata(object)["name"];
  return typeof name === "string" ? name : undefined;
}

function readUid(object: unknown): string | undefined {
  const uid = readMetadata(object)["uid"];
  return typeof uid === "string" && uid !== "" ? uid : undefined;
}

function readAnnotations(object: unknown): Readonly<Record<string, string>> {
  const annotations = readMetadata(object)["annotations"];
  return isRecord(annotations) ? (annotations as Record<string, string>) : {};
}

function readLabels(object: unknown): Readonly<Record<string, string>> {
  const labels = readMetadata(object)["labels"];
  return isRecord(labels) ? (labels as Record<string, string>) : {};
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
