/**
 * Two nodes whose BGP session must be Established, by Node name. `kinds` are the BIRD protocols
 * the pair has (Calico keeps a node-to-node mesh session and an explicit BGPPeer session to the
 * same neighbour apart: `Mesh_x` and `Node_x`); a status entry counts only when its type is one
 * of them. Absent: any type counts.
 */
export interface SessionPair {
  readonly node: string;
  readonly peer: string;
  readonly kinds?: readonly ("mesh" | "peer")[];
}

/** What a {@link SessionCheck} saw when it returned. */
export interface SessionCheckResult {
  /** Pairs seen Established. */
  readonly established: number;
  /** Pairs not Established when the timeout hit. */
  readonly missing: readonly SessionPair[];
  /** Pairs with no address to check: the check fell back to a delay for them. */
  readonly unverifiable: readonly SessionPair[];
  /** Pairs not checked because the check watches a bounded number of nodes (see the check). */
  readonly unchecked?: number;
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
