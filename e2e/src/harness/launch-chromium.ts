import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** Debian's Chromium (`apt-get install chromium`); CHROMIUM_BIN points elsewhere. */
export const CHROMIUM_BIN = process.env["CHROMIUM_BIN"] ?? "/usr/bin/chromium";

/**
 * Flags for a headless Chromium on a machine without internet: without the background-networking
 * ones it keeps dialling Google's services (updates, sync, field trials) and floods the network.
 */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
] as const;

/**
 * Launches the system Chromium through playwright-core (which downloads no browser). Throws,
 * naming the fix, when it is not installed: a browser suite must fail here, not skip quietly.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_BIN)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_BIN}: install it with "apt-get install -y chromium" (.ci/run does) or set CHROMIUM_BIN`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_BIN, args: [...CHROMIUM_FLAGS] });
}
