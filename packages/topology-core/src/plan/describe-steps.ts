/**
 * The words of step descriptions (`rrctl plan` prints them, logs carry them): counts with their
 * noun, name lists cut to a readable length, clauses joined.
 */

/** `1 reflector`, `3 reflectors`. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** Up to six names in full; beyond that the first five and how many more. */
export function listNames(names: readonly string[]): string {
  return names.length <= 6
    ? names.join(", ")
    : `${names.slice(0, 5).join(", ")} and ${names.length - 5} more`;
}

/** The non-empty clauses joined with "; ". */
export function joinClauses(clauses: readonly string[]): string {
  const present = clauses.filter((c) => c !== "");
  return present.length === 0 ? "" : present.join("; ");
}
