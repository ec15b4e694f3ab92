/** Options of {@link stopOnSignals}. */
export interface StopOnSignalsOptions {
  /** Runs on the first SIGTERM or SIGINT, before the signal aborts (log that the process stops). */
  readonly onFirst?: (signal: NodeJS.Signals) => void;
  /** Exit code when a second signal arrives while stopping; default 1. */
  readonly secondSignalExitCode?: number;
}

/**
 * An AbortSignal that aborts on the first SIGTERM or SIGINT (reason: `Error("received SIGTERM")`)
 * so the process stops cleanly; a second signal while it is still stopping exits at once (an
 * operator who presses Ctrl-C twice, or a kubelet past the grace period, means it).
 */
export function stopOnSignals(options: StopOnSignalsOptions = {}): AbortSignal {
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) process.exit(options.secondSignalExitCode ?? 1);
    options.onFirst?.(signal);
    stop.abort(new Error(`received ${signal}`));
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return stop.signal;
}
