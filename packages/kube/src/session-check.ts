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
  /**
   * Resolves once the routes each handover node has over sessions it loses also come over
   * sessions it keeps (checked for a sample of the nodes), or when the check gives up (then
   * `missing` lists the nodes); never rejects because a route is missing. Call it after
   * {@link waitForSessions} confirmed the kept sessions. An abort rejects with `signal.reason`.
   */
  waitForRoutes(request: RouteHandoverRequest, signal?: AbortSignal): Promise<RouteCheckResult>;
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

/**
 * A node that loses BGP sessions in a step and keeps others (topology-core's `RouteHandover`):
 * every route it has over a session it loses must already come over one it keeps.
 */
export interface RouteHandover {
  readonly node: string;
  /** The sessions it keeps: the peer's Node name and the protocols the pair has. */
  readonly keeps: readonly {
    readonly peer: string;
    readonly kinds?: readonly ("mesh" | "peer")[];
  }[];
}

/** What a {@link SessionCheck} must see in nodes' routing tables before a step. */
export interface RouteHandoverRequest {
  readonly handovers: readonly RouteHandover[];
  /** Nodes whose own blocks the step may take away (role changes, not Ready): not checked. */
  readonly exempt: readonly string[];
}

/** What {@link SessionCheck.waitForRoutes} saw when it returned. */
export interface RouteCheckResult {
  /** Nodes checked whose every route is handed over. */
  readonly confirmed: number;
  /** Nodes that still lacked some route over the sessions they keep when the timeout hit. */
  readonly missing: readonly RouteHandoverGap[];
  /** Handovers not checked: the check reads a bounded sample of nodes (see the check). */
  readonly unchecked: number;
  /** Why no node's routes could be read (the check cannot see routes); absent when it could. */
  readonly unverifiable?: string;
}

/** A node whose routes over the sessions it loses do not all come over the ones it keeps yet. */
export interface RouteHandoverGap {
  readonly node: string;
  /** The first few such destinations (e.g. `192.168.3.64/26`); empty: no route report came. */
  readonly destinations: readonly string[];
}
