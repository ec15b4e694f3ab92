/** A key that reads unambiguously after a dot: no dots, slashes, brackets or spaces. */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Renders a field path the way people write it: `clusters[3].policy.ratio`, and
 * `labels["topology.kubernetes.io/zone"]` for keys that would be ambiguous after a dot. An empty
 * path renders as the empty string. Never throws.
 */
export function formatFieldPath(segments: readonly PropertyKey[]): string {
  let path = "";
  for (const segment of segments) {
    if (typeof segment === "number") {
      path += `[${segment}]`;
      continue;
    }
    const key = String(segment);
    if (!PLAIN_KEY.test(key)) path += `[${JSON.stringify(key)}]`;
    else path += path === "" ? key : `.${key}`;
  }
  return path;
}
