/**
 * The leader lease as a pure state machine. The Redis Lua script and the in-memory store both
 * apply exactly this decision atomically, reading `nowMs` from the store's own clock (Redis TIME),
 * so every candidate is judged against one clock.
 *
 *   free (no holder) ──────────── any candidate ───────────→ acquire: epoch + 1
 *   held, expired (now >= expiry) ─ any candidate, the old
 *                                   holder included ───────→ acquire: epoch + 1
 *   held by the candidate, live ──────────────────────────→ renew: same epoch, new expiry
 *   held by someone else, live ───────────────────────────→ wait: nothing changes
 *
 * The epoch is the fencing token: it grows by one on every acquisition and never otherwise, so a
 * holder whose lease lapsed comes back under a new epoch (and resyncs as after any takeover), and
 * anything written under an older epoch is refused (see isWriteFenced).
 */

/** The stored lease. `expiresAtMs` is on the store's clock (ms since the epoch). */
export interface LeaseState {
  readonly holder?: string;
  /** Fencing epoch: 0 before the first acquisition. */
  readonly epoch: number;
  readonly expiresAtMs?: number;
}

/** A lease that someone holds. */
export interface HeldLease {
  readonly holder: string;
  readonly epoch: number;
  readonly expiresAtMs: number;
}

/** Why a candidate takes the lease. */
export type LeaseAcquireReason = "LeaseFree" | "LeaseExpired";

/** Why the holder extends the lease. */
export type LeaseRenewReason = "HeldByCandidate";

/** Why a candidate waits. */
export type LeaseWaitReason = "HeldByOther";

/** What the store does for a candidate; `lease` is the state to store (acquire, renew) or in force (wait). */
export type LeaseDecision =
  | {
      readonly kind: "acquire";
      readonly reason: LeaseAcquireReason;
      readonly lease: HeldLease;
      /** The holder whose expired lease this replaces, if any. */
      readonly previousHolder?: string;
      readonly message: string;
    }
  | {
      readonly kind: "renew";
      readonly reason: LeaseRenewReason;
      readonly lease: HeldLease;
      readonly message: string;
    }
  | {
      readonly kind: "wait";
      readonly reason: LeaseWaitReason;
      readonly lease: HeldLease;
      /** Until the lease in force expires, unless its holder renews it first (ms, > 0). */
      readonly remainingMs: number;
      readonly message: string;
    };

/**
 * Decides what `candidate` gets at `nowMs` (store clock, ms) with a lease lasting `ttlMs`
 * (normally LEASE_DURATION_MS): acquire when the lease is free or expired (epoch + 1; a held
 * lease without an expiry counts as expired, since nothing could ever free it), renew when the
 * candidate holds it and it has not expired (same epoch), wait otherwise. A lease expires at
 * `expiresAtMs` exactly.
 *
 * @throws RangeError when `candidate` is empty, `nowMs` is not finite, `ttlMs` is not a finite
 *   number > 0, or `state.epoch` is not a non-negative safe integer.
 */
export function decideLease(
  state: LeaseState,
  candidate: string,
  nowMs: number,
  ttlMs: number,
): LeaseDecision {
  if (candidate === "") throw new RangeError("decideLease: candidate must not be empty");
  if (!Number.isFinite(nowMs)) throw new RangeError(`decideLease: nowMs ${nowMs} is not finite`);
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`decideLease: ttlMs must be a finite number > 0, got ${ttlMs}`);
  }
  if (!Number.isSafeInteger(state.epoch) || state.epoch < 0) {
    throw new RangeError(
      `decideLease: epoch must be a non-negative safe integer, got ${state.epoch}`,
    );
  }
  const { holder, epoch, expiresAtMs } = state;
  const renewed: HeldLease = { holder: candidate, epoch, expiresAtMs: nowMs + ttlMs };
  if (holder === undefined) {
    return {
      kind: "acquire",
      reason: "LeaseFree",
      lease: { ...renewed, epoch: epoch + 1 },
      message: `${candidate} acquires the free lease under epoch ${epoch + 1}`,
    };
  }
  if (expiresAtMs === undefined || nowMs >= expiresAtMs) {
    return {
      kind: "acquire",
      reason: "LeaseExpired",
      lease: { ...renewed, epoch: epoch + 1 },
      previousHolder: holder,
      message: `${candidate} acquires the lease ${holder} let expire, under epoch ${epoch + 1}`,
    };
  }
  if (holder === candidate) {
    return {
      kind: "renew",
      reason: "HeldByCandidate",
      lease: renewed,
      message: `${candidate} renews its lease under epoch ${epoch}`,
    };
  }
  return {
    kind: "wait",
    reason: "HeldByOther",
    lease: { holder, epoch, expiresAtMs },
    remainingMs: expiresAtMs - nowMs,
    message: `${candidate} waits: ${holder} holds the lease under epoch ${epoch} for ${expiresAtMs - nowMs} ms more`,
  };
}
