import { createHash } from "node:crypto";

/**
 * Hashes what defines a cluster (any JSON-like value) into a stable fingerprint: SHA-256 over
 * canonical JSON (object keys sorted, `undefined` fields dropped), 32 hex characters. Equal input
 * gives equal output across processes, so replicas agree on what changed. Credentials may be part
 * of the input: only the hash comes out. Never throws for JSON-like input.
 */
export function fingerprintCluster(definition: unknown): string {
  return createHash("sha256").update(toCanonicalJson(definition)).digest("hex").slice(0, 32);
}

function toCanonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(toCanonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    const fields = Object.keys(record)
      .filter((key) => record[key] !== undefined && typeof record[key] !== "function")
      .sort()
      .map((key) => `${JSON.stringify(key)}:${toCanonicalJson(record[key])}`);
    return `{${fields.join(",")}}`;
  }
  // What JSON cannot hold reads as null, as JSON.stringify writes it inside arrays.
  if (value === undefined || typeof value === "function" || typeof value === "symbol") {
    return "null";
  }
  return JSON.stringify(value);
}
