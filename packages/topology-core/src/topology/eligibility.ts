import type { NodeInfo } from "../model/cluster.js";
import type { LabelSelector } from "../selectors/label-selector.js";

/**
 * Taint keys of the node-lifecycle family (plus the cluster autoscaler's deletion mark): a node
 * carrying one with effect NoSchedule or NoExecute is on its way out or unhealthy.
 */
export const LIFECYCLE_TAINT_KEYS: ReadonlySet<string> = new Set([
  "node.kubernetes.io/not-ready",
  "node.kubernetes.io/unreachable",
  "node.kubernetes.io/memory-pressure",
  "node.kubernetes.io/disk-pressure",
  "node.kubernetes.io/pid-pressure",
  "node.kubernetes.io/network-unavailable",
  "node.kubernetes.io/unschedulable",
  "node.kubernetes.io/out-of-service",
  "node.cloudprovider.kubernetes.io/uninitialized",
  "ToBeDeletedByClusterAutoscaler",
]);

/** Taints the node lifecycle controller sets while it considers a node not Ready. */
const READINESS_TAINT_KEYS: ReadonlySet<string> = new Set([
  "node.kubernetes.io/not-ready",
  "node.kubernetes.io/unreachable",
]);

/** Why a node may not be chosen as a reflector; stable strings used in decisions and metrics. */
export type IneligibleReason = "NotReady" | "Cordoned" | "LifecycleTaint" | "Excluded";

/** Result of {@link assessEligibility}. */
export type Eligibility =
  | { readonly eligible: true; readonly preferred: boolean }
  | { readonly eligible: false; readonly reason: IneligibleReason; readonly message: string };

/**
 * Decides whether a node may serve as a route reflector: Ready (and no longer carrying the
 * lifecycle controller's not-ready or unreachable taint), not cordoned, no other lifecycle
 * NoSchedule/NoExecute taint, not matched by the policy's exclude selector. `preferred` tells
 * whether the prefer selector matches (dedicated reflector nodes are chosen first).
 */
export function assessEligibility(
  node: NodeInfo,
  exclude: LabelSelector | undefined,
  prefer: LabelSelector | undefined,
): Eligibility {
  if (!node.ready) {
    return { eligible: false, reason: "NotReady", message: `${node.name} is not Ready` };
  }
  // The node lifecycle controller's readiness taints lag the Ready condition by seconds both
  // ways; on a Ready node they still say "not ready", so they count as NotReady — and a reflector
  // that just came back keeps its NotReady grace instead of being replaced for a stale taint.
  const readiness = node.taints.find(
    (t) => t.effect !== "PreferNoSchedule" && READINESS_TAINT_KEYS.has(t.key),
  );
  if (readiness !== undefined) {
    return {
      eligible: false,
      reason: "NotReady",
      message: `${node.name} is Ready but still has taint ${readiness.key}:${readiness.effect}`,
    };
  }
  if (node.unschedulable) {
    return { eligible: false, reason: "Cordoned", message: `${node.name} is cordoned` };
  }
  const taint = node.taints.find(
    (t) => t.effect !== "PreferNoSchedule" && LIFECYCLE_TAINT_KEYS.has(t.key),
  );
  if (taint !== undefined) {
    return {
      eligible: false,
      reason: "LifecycleTaint",
      message: `${node.name} has taint ${taint.key}:${taint.effect}`,
    };
  }
  if (exclude?.matches(node.labels) === true) {
    return {
      eligible: false,
      reason: "Excluded",
      message: `${node.name} matches excludeNodeSelector "${exclude.source}"`,
    };
  }
  return { eligible: true, preferred: prefer?.matches(node.labels) === true };
}
