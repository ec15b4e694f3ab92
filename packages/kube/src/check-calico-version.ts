import type { CalicoApi } from "./detect-calico-api.js";
import { KubeError } from "./kube-error.js";

/**
 * The oldest Calico rrfleet writes to: before v3.17 the BGPPeer CRD required `peerIP` and
 * `asNumber` even on selector peers, so the node-selector BGPPeers rrfleet renders are rejected.
 */
export const MINIMUM_CALICO_VERSION = "v3.17.0";

/** What {@link checkCalicoVersion} found. */
export type CalicoVersionCheck =
  | { readonly kind: "Supported"; readonly version: string }
  /** No `ClusterInformation default`, or a version string that is not `vX.Y.Z` (dev builds). */
  | { readonly kind: "Unknown"; readonly version?: string };

/**
 * Gates writing on the Calico version `ClusterInformation default` reports. Throws
 * {@link KubeError} `Invalid` naming the version and the reason for a Calico older than
 * {@link MINIMUM_CALICO_VERSION}; an unknown version is reported as such (the caller logs it).
 */
export function checkCalicoVersion(calico: CalicoApi): CalicoVersionCheck {
  const version = calico.calicoVersion;
  const parsed = version === undefined ? undefined : parseVersion(version);
  if (version === undefined || parsed === undefined) {
    return version === undefined ? { kind: "Unknown" } : { kind: "Unknown", version };
  }
  const minimum = parseVersion(MINIMUM_CALICO_VERSION) ?? [0, 0, 0];
  if (compareVersions(parsed, minimum) < 0) {
    throw new KubeError(
      "Invalid",
      `Calico ${version} is older than ${MINIMUM_CALICO_VERSION}: its BGPPeer CRD requires peerIP ` +
        `and asNumber even on node-selector peers, which rrfleet writes; upgrade Calico first`,
    );
  }
  return { kind: "Supported", version };
}

/** Whether `version` (`vX.Y.Z`) is older than `minimum`; undefined when it does not parse (dev builds). */
export function isCalicoOlderThan(version: string, minimum: string): boolean | undefined {
  const parsed = parseVersion(version);
  if (parsed === undefined) return undefined;
  return compareVersions(parsed, parseVersion(minimum) ?? [0, 0, 0]) < 0;
}

function parseVersion(version: string): [number, number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  if (match === null) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? "0")];
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
