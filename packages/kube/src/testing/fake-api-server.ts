/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   client-node's model classes are plain data (the library itself fills them from JSON), so the
   fake hands stored objects back as object literals. */
import {
  ApiException,
  HttpMethod,
  RequestContext,
  type ConfigurationOptions,
  type V1Node,
  type V1NodeList,
} from "@kubernetes/client-node";
import type { CalicoNodeStatusCheckClients } from "../calico-node-status-check.js";
import type { ClusterWriterClients } from "../write-cluster.js";

/** A stored object: wire JSON with at least a name. */
export interface StoredObject {
  readonly metadata: {
    readonly name: string;
    readonly resourceVersion?: string;
    readonly uid?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

/** One request the fake answered (or failed), as a test reads it back. */
export interface RecordedRequest {
  /** `patch`, `get`, `create`, `update`, `delete`, `list`. */
  readonly verb: string;
  /** `nodes` or the custom plural (`bgppeers`, …). */
  readonly plural: string;
  readonly name?: string;
  readonly group?: string;
  readonly version?: string;
  readonly body?: unknown;
  readonly fieldManager?: string;
  readonly labelSelector?: string;
  /** The Content-Type the request's middleware set (client-node's default is JSON patch). */
  readonly contentType?: string;
  readonly signal?: AbortSignal;
}

/** What the API server does on the next requests, in order. */
export type Interference =
  /** Answer with this status (a Status body; `retry-after` header when given). */
  | { readonly status: number; readonly message?: string; readonly retryAfter?: string }
  /** Fail like undici does when the connection is refused. */
  | { readonly network: true }
  /** Let the request through, after running this first (another writer, a kubelet). */
  | { readonly before: () => void };

/**
 * An in-memory kube-apiserver with the semantics the writer and the session check rely on:
 * resourceVersions bump on every write; merge patches and PUTs carrying a stale
 * `metadata.resourceVersion`, and DELETEs with a stale precondition, answer 409; creates of an
 * existing name answer 409 AlreadyExists; missing objects 404. Records every request.
 */
export function makeFakeApiServer() {
  const objects = new Map<string, StoredObject>();
  const requests: RecordedRequest[] = [];
  const interferences: Interference[] = [];
  let revision = 100;
  let uids = 0;
  const key = (plural: string, name: string) => `${plural}/${name}`;

  const store = (plural: string, object: StoredObject): StoredObject => {
    revision += 1;
    const previous = objects.get(key(plural, object.metadata.name));
    const stored: StoredObject = structuredClone({
      ...object,
      metadata: {
        ...object.metadata,
        resourceVersion: String(revision),
        uid: previous?.metadata.uid ?? `uid-${String(++uids)}`,
      },
    });
    objects.set(key(plural, object.metadata.name), stored);
    return structuredClone(stored);
  };

  const status = (code: number, message: string, headers: Record<string, string> = {}) =>
    new ApiException(
      code,
      "Unknown API Status Code!",
      JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message, code }),
      headers,
    );

  const handle = async <T>(
    request: RecordedRequest,
    options: ConfigurationOptions | undefined,
    answer: () => T,
  ): Promise<T> => {
    // Run the request's middleware the way client-node does, to see what it sets.
    const context = new RequestContext("https://fake.invalid/", HttpMethod.GET);
    for (const middleware of options?.middleware ?? []) await middleware.pre(context).toPromise();
    const contentType = context.getHeaders()["Content-Type"];
    const signal = context.getSignal();
    requests.push({
      ...request,
      ...(contentType === undefined ? {} : { contentType }),
      ...(signal === undefined ? {} : { signal }),
    });
    if (signal?.aborted === true) {
      throw new DOMException("This operation was aborted", "AbortError");
    }
    const interference = interferences.shift();
    if (interference !== undefined) {
      if ("before" in interference) interference.before();
      else if ("network" in interference) {
        throw new TypeError("fetch failed", {
          cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), {
            code: "ECONNREFUSED",
          }),
        });
      } else {
        throw status(
          interference.status,
          interference.message ?? `HTTP ${String(interference.status)}`,
          interference.retryAfter === undefined ? {} : { "retry-after": interference.retryAfter },
        );
      }
    }
    return answer();
  };

  const get = (plural: string, name: string): StoredObject => {
    const object = objects.get(key(plural, name));
    if (object === undefined) throw status(404, `${plural} "${name}" not found`);
    return structuredClone(object);
  };

  const checkVersion = (plural: string, name: string, wanted: unknown): StoredObject => {
    const current = get(plural, name);
    if (wanted !== undefined && wanted !== current.metadata.resourceVersion) {
      throw status(
        409,
        `Operation cannot be fulfilled on ${plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    return current;
  };

  const create = (plural: string, body: unknown): StoredObject => {
    const object = body as StoredObject;
    if (objects.has(key(plural, object.metadata.name))) {
      throw status(409, `${plural} "${object.metadata.name}" already exists`);
    }
    return store(plural, object);
  };

  const replace = (plural: string, name: string, body: unknown): StoredObject => {
    const object = body as StoredObject;
    checkVersion(plural, name, object.metadata.resourceVersion);
    return store(plural, object);
  };

  const patch = (plural: string, name: string, body: unknown): StoredObject => {
    const metadata = (body as { metadata?: { resourceVersion?: string } }).metadata;
    const current = checkVersion(plural, name, metadata?.resourceVersion);
    return store(plural, mergePatch(current, body) as StoredObject);
  };

  const remove = (plural: string, name: string, body: unknown): StoredObject => {
    const preconditions = (body as { preconditions?: { resourceVersion?: string; uid?: string } })
      .preconditions;
    const current = checkVersion(plural, name, preconditions?.resourceVersion);
    if (preconditions?.uid !== undefined && preconditions.uid !== current.metadata.uid) {
      throw status(409, `Precondition failed: UID in precondition: ${preconditions.uid}`);
    }
    objects.delete(key(plural, name));
    return current;
  };

  const list = (plural: string, labelSelector: string | undefined): StoredObject[] =>
    [...objects.entries()]
      .filter(([k]) => k.startsWith(`${plural}/`))
      .map(([, object]) => structuredClone(object))
      .filter((object) => matchesEquality(object.metadata.labels ?? {}, labelSelector));

  /** Pages of `limit` items; the continue token is the next offset. */
  const page = <T>(items: readonly T[], limit: number | undefined, token: string | undefined) => {
    const start = token === undefined ? 0 : Number(token);
    const end = limit === undefined ? items.length : start + limit;
    return { items: items.slice(start, end), next: end < items.length ? String(end) : undefined };
  };

  const core: ClusterWriterClients["core"] & CalicoNodeStatusCheckClients["core"] = {
    patchNode: (param, options) =>
      handle(
        {
          verb: "patch",
          plural: "nodes",
          name: param.name,
          body: param.body,
          ...(param.fieldManager === undefined ? {} : { fieldManager: param.fieldManager }),
        },
        options,
        () => patch("nodes", param.name, param.body) as V1Node,
      ),
    readNode: (param, options) =>
      handle({ verb: "get", plural: "nodes", name: param.name }, options, () => {
        return get("nodes", param.name);
      }),
    listNode: (param, options) =>
      handle({ verb: "list", plural: "nodes" }, options, () => {
        const { items, next } = page(list("nodes", undefined), param?.limit, param?._continue);
        const result: V1NodeList = {
          items,
          metadata: next === undefined ? {} : { _continue: next },
        };
        return result;
      }),
  };

  const custom: ClusterWriterClients["custom"] & CalicoNodeStatusCheckClients["custom"] = {
    getClusterCustomObject: (param, options) =>
      handle({ verb: "get", ...where(param), name: param.name }, options, (): unknown =>
        get(param.plural, param.name),
      ),
    createClusterCustomObject: (param, options) =>
      handle(
        {
          verb: "create",
          ...where(param),
          name: (param.body as StoredObject).metadata.name,
          body: param.body,
          ...(param.fieldManager === undefined ? {} : { fieldManager: param.fieldManager }),
        },
        options,
        (): unknown => create(param.plural, param.body),
      ),
    replaceClusterCustomObject: (param, options) =>
      handle(
        {
          verb: "update",
          ...where(param),
          name: param.name,
          body: param.body,
          ...(param.fieldManager === undefined ? {} : { fieldManager: param.fieldManager }),
        },
        options,
        (): unknown => replace(param.plural, param.name, param.body),
      ),
    patchClusterCustomObject: (param, options) =>
      handle(
        {
          verb: "patch",
          ...where(param),
          name: param.name,
          body: param.body,
          ...(param.fieldManager === undefined ? {} : { fieldManager: param.fieldManager }),
        },
        options,
        (): unknown => patch(param.plural, param.name, param.body),
      ),
    deleteClusterCustomObject: (param, options) =>
      handle(
        { verb: "delete", ...where(param), name: param.name, body: param.body },
        options,
        (): unknown => remove(param.plural, param.name, param.body ?? {}),
      ),
    listClusterCustomObject: (param, options) =>
      handle(
        {
          verb: "list",
          ...where(param),
          ...(param.labelSelector === undefined ? {} : { labelSelector: param.labelSelector }),
        },
        options,
        (): unknown => {
          const { items, next } = page(
            list(param.plural, param.labelSelector),
            param.limit,
            param._continue,
          );
          return { items, metadata: next === undefined ? {} : { continue: next } };
        },
      ),
  };

  return {
    core,
    custom,
    requests,
    /** Adds or replaces an object as if another client wrote it (bumps its resourceVersion). */
    put: (plural: string, object: StoredObject): StoredObject => store(plural, object),
    /** The stored object, or undefined. */
    read: (plural: string, name: string): StoredObject | undefined => {
      const object = objects.get(key(plural, name));
      return object === undefined ? undefined : structuredClone(object);
    },
    names: (plural: string): string[] => list(plural, undefined).map((o) => o.metadata.name),
    /** Queues what happens to the next requests, one entry per request. */
    interfere: (...next: Interference[]): void => {
      interferences.push(...next);
    },
    /** `verb plural/name` of every request so far. */
    log: (): string[] =>
      requests.map((r) => `${r.verb} ${r.plural}${r.name === undefined ? "" : `/${r.name}`}`),
  };
}

/** The fake's type, for helpers in tests. */
export type FakeApiServer = ReturnType<typeof makeFakeApiServer>;

function where(param: { group: string; version: string; plural: string }) {
  return { group: param.group, version: param.version, plural: param.plural };
}

/** RFC 7386: objects merge recursively, null deletes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return patch;
  const result: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) Reflect.deleteProperty(result, field);
    else result[field] = mergePatch(result[field], value);
  }
  return result;
}

/** `a=b,c=d` equality selectors only: what the code under test sends. */
function matchesEquality(labels: Readonly<Record<string, string>>, selector: string | undefined) {
  if (selector === undefined || selector === "") return true;
  return selector.split(",").every((term) => {
    const [label, value] = term.split("=");
    return label !== undefined && labels[label] === value;
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
