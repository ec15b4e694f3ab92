/** The lease as one acquire-or-renew call left it. */
export interface LeaseState {
  /** Whether the caller holds the lease now. */
  readonly held: boolean;
  /** Fencing epoch of the current holder: +1 on every new acquisition, never lower. */
  readonly epoch: number;
  /** Current holder's candidate id. */
  readonly holder: string;
  /**
   * When the holder must stop acting, epoch milliseconds on the caller's clock: the time the
   * request was sent plus the TTL the store reported, so never later than the store's expiry.
   */
  readonly expiresAt: number;
  /**
   * What was left of the lease when the store answered, in milliseconds (Redis PTTL). Added to
   * the caller's monotonic time of sending, it bounds how long the holder may act without
   * trusting the wall clock.
   */
  readonly ttlMs: number;
}

/** The lease as an onlooker reads it (`rrctl status`). */
export interface LeaseView {
  readonly holder: string;
  readonly epoch: number;
  /** What was left of it when read, ms (Redis PTTL); 0 for a lease without expiry. */
  readonly ttlMs: number;
}

/** Port: who holds the lease now, read without taking part in the election. */
export interface LeaseReader {
  /** The live lease, or undefined when nobody holds it (expired, released, or the store was flushed). */
  readLease(): Promise<LeaseView | undefined>;
}

/** Options of {@link LeaderLease.acquireOrRenew}. */
export interface AcquireOptions {
  /**
   * An epoch the caller saw elsewhere (in an object's annotation, say). A new acquisition gets
   * an epoch above it, and above any the caller's client saw, even if the store lost its
   * counter (FLUSHALL, a restart without persistence).
   */
  readonly minEpoch?: number;
}

/**
 * Port: one leader, with a fencing epoch. Candidate ids must be unique per process
 * incarnation (a restarted process with the same id would renew its predecessor's lease).
 */
export interface LeaderLease {
  /**
   * Atomically: renews the lease if `candidateId` holds it (the epoch stays), acquires it if it
   * is free (the epoch goes up by one), or reports the other holder. Expiry is measured by the
   * store (Redis PX), not by the caller. Throws `Invalid` on an empty id or ttlMs <= 0.
   */
  acquireOrRenew(candidateId: string, ttlMs: number, options?: AcquireOptions): Promise<LeaseState>;
  /** Frees the lease if `candidateId` holds it at `epoch`; resolves whether it did. */
  release(candidateId: string, epoch: number): Promise<boolean>;
}
