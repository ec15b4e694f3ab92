/**
 * The applier's leader election on the shared lease, after client-go's (same timing rule, see
 * topology-core's `checkLeaseTiming`), plus what client-go leaves out: a fencing epoch.
 *
 *   standby ──acquired──▶ leader ──renew fails past RenewDeadline, or another holder──▶ lost
 *
 * A candidate tries every RetryPeriod (jittered up to 1.2×). The leader renews every RetryPeriod;
 * it may act only while `assertCurrent` passes: before both the lease's TTL as the store
 * reported it and RenewDeadline, each counted from when its last successful renewal was SENT,
 * on the monotonic clock (`clock.monotonicNow`): a wall clock stepped back (NTP, an operator)
 * must not lengthen the window, nor one stepped forward shorten it. Once lost, it never
 * becomes leader again in this process: the service exits and its orchestrator starts a fresh
 * standby (whose full resync on takeover is the one recovery path).
 */
import { KubeError } from "@rrfleet/kube";
import type { ApplierLogger } from "../applier-logger.js";
import type { Clock, LeaderLease } from "@rrfleet/fleet-state";
import { RETRY_JITTER_FACTOR, type LeaseTiming } from "@rrfleet/topology-core";

/** Options of {@link campaignForLeadership}. */
export interface LeaderElectionOptions {
  readonly lease: LeaderLease;
  /** Unique per process incarnation. */
  readonly candidateId: string;
  readonly timing: LeaseTiming;
  readonly clock: Clock;
  readonly logger: ApplierLogger;
  /** [0, 1) for the retry jitter; default Math.random. */
  readonly random?: () => number;
  /**
   * An epoch seen outside the store (the highest fencing annotation in the clusters): a new
   * acquisition takes an epoch above it even if the store lost its counter.
   */
  readonly minEpoch?: number;
  /** Called whenever the known holder or epoch changes (metrics). */
  readonly onObserved?: (observed: { readonly holder: string; readonly epoch: number }) => void;
}

/** Why leadership ended; stable strings for logs and exit reasons. */
export type LeadershipLossReason = "RenewDeadlineExceeded" | "HeldByOther" | "Released";

/** Held leadership: the fencing token and the signal that aborts when it ends. */
export interface Leadership {
  readonly holder: string;
  readonly epoch: number;
  /** Aborts (reason: a KubeError `Fenced` naming the {@link LeadershipLossReason}) when leadership ends. */
  readonly signal: AbortSignal;
  /**
   * Throws KubeError `Fenced` unless this process may still act as leader now. Writers call it
   * right before every request. A plain function: it can be passed around unbound.
   */
  readonly assertCurrent: () => void;
  /** Resolves with the reason once leadership has ended. */
  readonly ended: Promise<LeadershipLossReason>;
  /** Gives the lease up at once (clean shutdown) so a standby takes over without waiting. */
  release(): Promise<void>;
}

/**
 * Campaigns until this candidate holds the lease, then keeps renewing it in the background.
 * Resolves with the {@link Leadership}; rejects with the signal's reason when `signal` aborts
 * first. Store errors while campaigning are logged and retried; while leading they count against
 * RenewDeadline.
 */
export async function campaignForLeadership(
  options: LeaderElectionOptions,
  signal: AbortSignal,
): Promise<Leadership> {
  const { lease, candidateId, timing, clock, logger } = options;
  const random = options.random ?? Math.random;
  const retryDelay = (): number =>
    Math.round(timing.retryPeriodMs * (1 + random() * (RETRY_JITTER_FACTOR - 1)));
  let lastObserved = "";
  const observe = (holder: string, epoch: number): void => {
    const key = `${holder}@${epoch}`;
    if (key === lastObserved) return;
    lastObserved = key;
    options.onObserved?.({ holder, epoch });
  };

  for (;;) {
    signal.throwIfAborted();
    const sentAt = clock.monotonicNow();
    try {
      const state = await lease.acquireOrRenew(
        candidateId,
        timing.leaseDurationMs,
        options.minEpoch === undefined ? {} : { minEpoch: options.minEpoch },
      );
      observe(state.holder, state.epoch);
      if (state.held) {
        logger.info({ epoch: state.epoch }, "acquired the leader lease");
        return lead(
          options,
          state.epoch,
          sentAt,
          sentAt + Math.min(state.ttlMs, timing.renewDeadlineMs),
          observe,
          retryDelay,
        );
      }
    } catch (err: unknown) {
      logger.warn({ err: errorMessage(err) }, "could not reach the lease store; retrying");
    }
    await clock.sleep(retryDelay(), signal);
  }
}

function lead(
  options: LeaderElectionOptions,
  epoch: number,
  acquiredAt: number,
  firstDeadline: number,
  observe: (holder: string, epoch: number) => void,
  retryDelay: () => number,
): Leadership {
  const { lease, candidateId, timing, clock, logger } = options;
  const controller = new AbortController();
  /**
   * The end of the acting window, monotonic ms: last renewal sent + min(TTL reported,
   * RenewDeadline). Measured from the sending, not the answer: the store started the TTL at
   * some instant after we sent, so this end is never later than the store's own expiry.
   */
  let actUntil = firstDeadline;
  let lastRenewSentAt = acquiredAt;
  /** For logs: monotonic times mean nothing outside this process, durations do. */
  const sinceLastRenewal = (): { msSinceLastRenewalSent: number } => ({
    msSinceLastRenewalSent: Math.round(clock.monotonicNow() - lastRenewSentAt),
  });
  let lossReason: LeadershipLossReason | undefined;
  let resolveEnded: (reason: LeadershipLossReason) => void = () => undefined;
  const ended = new Promise<LeadershipLossReason>((resolve) => {
    resolveEnded = resolve;
  });

  const lose = (reason: LeadershipLossReason, detail: object): void => {
    if (lossReason !== undefined) return;
    lossReason = reason;
    const log = reason === "Released" ? logger.info.bind(logger) : logger.error.bind(logger);
    log({ epoch, reason, ...detail }, "leadership ended");
    controller.abort(
      new KubeError(
        "Fenced",
        `leadership at epoch ${epoch} ended (${reason}); writing nothing more`,
      ),
    );
    resolveEnded(reason);
  };

  // A function, not the variable inline: TypeScript narrows it after the loop test and cannot
  // see `lose` running during an await.
  const isOver = (): boolean => lossReason !== undefined;
  const renewLoop = async (): Promise<void> => {
    while (!isOver()) {
      try {
        await clock.sleep(
          Math.min(retryDelay(), Math.max(0, actUntil - clock.monotonicNow())),
          controller.signal,
        );
      } catch {
        return;
      }
      if (isOver()) return;
      if (clock.monotonicNow() >= actUntil) {
        lose("RenewDeadlineExceeded", sinceLastRenewal());
        return;
      }
      const sentAt = clock.monotonicNow();
      try {
        const state = await lease.acquireOrRenew(candidateId, timing.leaseDurationMs);
        observe(state.holder, state.epoch);
        if (!state.held || state.epoch !== epoch) {
          lose("HeldByOther", { holder: state.holder, holderEpoch: state.epoch });
          return;
        }
        lastRenewSentAt = sentAt;
        actUntil = sentAt + Math.min(state.ttlMs, timing.renewDeadlineMs);
      } catch (err: unknown) {
        logger.warn(
          { err: errorMessage(err), actForMs: Math.max(0, actUntil - clock.monotonicNow()) },
          "could not renew the leader lease; acting until the renew deadline",
        );
      }
    }
  };
  void renewLoop();

  return {
    holder: candidateId,
    epoch,
    signal: controller.signal,
    ended,
    assertCurrent: () => {
      if (lossReason !== undefined || clock.monotonicNow() >= actUntil) {
        if (lossReason === undefined) lose("RenewDeadlineExceeded", sinceLastRenewal());
        throw new KubeError(
          "Fenced",
          `leadership at epoch ${epoch} is over (${lossReason ?? "RenewDeadlineExceeded"}); not writing`,
        );
      }
    },
    release: async () => {
      if (lossReason !== undefined) return;
      lose("Released", {});
      try {
        await lease.release(candidateId, epoch);
      } catch (err: unknown) {
        logger.warn(
          { err: errorMessage(err) },
          "could not release the leader lease; it will expire",
        );
      }
    },
  };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
