const DECIMAL = /^\d+$/;

/**
 * Decides whether a cache that holds an object at `seen` reflects a write that returned
 * `wanted`. Kubernetes calls resourceVersions opaque, but etcd-backed API servers hand out the
 * etcd revision as a decimal integer that only grows, so two decimal strings compare as numbers
 * (any length, leading zeros ignored); anything else must be equal. Never throws.
 */
export function isResourceVersionAtLeast(seen: string, wanted: string): boolean {
  if (!DECIMAL.test(seen) || !DECIMAL.test(wanted)) return seen === wanted;
  const a = stripLeadingZeros(seen);
  const b = stripLeadingZeros(wanted);
  // Equal-length digit strings order like the numbers they spell; no BigInt needed.
  return a.length !== b.length ? a.length > b.length : a >= b;
}

function stripLeadingZeros(digits: string): string {
  const stripped = digits.replace(/^0+/, "");
  return stripped === "" ? "0" : stripped;
}

/**
 * Whether a cache entry `seen` (undefined: the object is absent) shows a write described by
 * `ref`: gone after a delete, else present at `ref.resourceVersion` or later (or at all, when
 * the write returned none). Shared by every view that waits for its own writes.
 */
export function showsWrite(
  seen: { readonly resourceVersion?: string | undefined } | undefined,
  ref: { readonly resourceVersion?: string; readonly deleted?: boolean },
): boolean {
  if (ref.deleted === true) return seen === undefined;
  if (seen === undefined) return false;
  if (ref.resourceVersion === undefined) return true;
  return (
    seen.resourceVersion !== undefined &&
    isResourceVersionAtLeast(seen.resourceVersion, ref.resourceVersion)
  );
}
