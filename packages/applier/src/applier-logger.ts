import type { WatchLogger } from "@rrfleet/kube";

/** The log calls the applier makes: the same four as the watches' (a pino logger fits both). */
export type ApplierLogger = WatchLogger;
