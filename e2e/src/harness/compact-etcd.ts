/**
 * etcd's HTTP/JSON gateway (`/v3/...`, served on the client URL by etcd 3.6) is enough to read
 * the revision and compact: no etcd client library needed. int64 fields travel as strings.
 */

/** Reads etcd's current revision (the header of a one-key range request). Throws on an HTTP error. */
export async function readEtcdRevision(etcdUrl: string): Promise<number> {
  // Any key will do: the response header carries the store's revision either way.
  const body = await postJson(etcdUrl, "/v3/kv/range", {
    key: Buffer.from("/").toString("base64"),
    limit: "1",
    keys_only: true,
  });
  return readRevision(body);
}

/**
 * Compacts etcd's history up to `revision` (default: the current one) and waits until the
 * compaction is physically applied; watches and LISTs from an older revision then fail with
 * `mvcc: required revision has been compacted` (410 Gone from kube-apiserver). Returns the
 * revision compacted to. Throws on an HTTP error (e.g. a revision compacted already).
 */
export async function compactEtcd(etcdUrl: string, revision?: number): Promise<number> {
  const target = revision ?? (await readEtcdRevision(etcdUrl));
  await postJson(etcdUrl, "/v3/kv/compaction", { revision: String(target), physical: true });
  return target;
}

async function postJson(etcdUrl: string, path: string, body: object): Promise<unknown> {
  const response = await fetch(new URL(path, etcdUrl), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`etcd ${path}: HTTP ${response.status}: ${text.trim()}`);
  return JSON.parse(text) as unknown;
}

function readRevision(body: unknown): number {
  const header =
    typeof body === "object" && body !== null ? (body as { header?: unknown }).header : undefined;
  const revision =
    typeof header === "object" && header !== null
      ? (header as { revision?: unknown }).revision
      : undefined;
  const value =
    typeof revision === "string" || typeof revision === "number" ? Number(revision) : NaN;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`etcd returned no revision: ${JSON.stringify(body)}`);
  }
  return value;
}
