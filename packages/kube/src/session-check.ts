/** Two nodes whose BGP session a step opened, by Node name. */
export interface SessionPair {
  readonly node: string;
  readonly peer: string;
}

/** What a {@link SessionCheck} saw when it returned. */
export interface SessionCheckResult {
  /** Pairs seen Established. */
  readonly established: number;
  /** Pairs not Established when the timeout hit. */
  readonly missing: readonly SessionPair[];
  /** Pairs with no address to check: the check fell back to a delay for them. */
  readonly unverifiable: readonly SessionPair[];
}

/** Waits until BGP sessions are up (make-before-break: nothing may remove what they replace before). */
export interface SessionCheck {
  /**
   * Resolves once every pair is Established, or when the check gives up (then `missing` lists
   * the rest); never rejects because a session is down. Duplicate pairs count once. An abort
   * rejects with `signal.reason`.
   */
  waitForSessions(pairs: readonly SessionPair[], signal?: AbortSignal): Promise<SessionCheckResult>;
}

/** `pairs` without repeats (same `node` and `peer`), in first-seen order. */
export function uniqueSessionPairs(pairs: readonly SessionPair[]): SessionPair[] {
  const seen = new Set<string>();
  const unique: SessionPair[] = [];
  for (const pair of pairs) {
    const key = `${pair.node}\u0000${pair.peer}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(pair);
  }
  return unique;
}
