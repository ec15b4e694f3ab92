import { parsePolicy, type Policy } from "@rrfleet/topology-core";
import { isRecord } from "../is-record.js";

/** Policy fields as written (YAML/JSON), before defaults and validation. */
export type PolicyOverrides = Readonly<Record<string, unknown>>;

/** A problem with a merged policy; `path` is written under the caller's `at`. */
export interface PolicyMergeIssue {
  readonly path: string;
  readonly message: string;
}

/** Result of {@link mergePolicyOverrides}. */
export type PolicyMerge =
  | { readonly ok: true; readonly policy: Policy; readonly overrides: PolicyOverrides }
  | { readonly ok: false; readonly issues: readonly PolicyMergeIssue[] };

/**
 * Decides a cluster's policy: `DEFAULT_POLICY`, then `defaults` (the fleet's overrides), then
 * `overrides` (the cluster's), field by field (policy fields are scalars, so the last writer of a
 * field wins; an override cannot unset a selector the defaults set). The result is validated by
 * topology-core's `parsePolicy`: unknown fields are rejected, cross-field rules (min ≤ max) are
 * checked on the merged policy. `overrides` undefined or null means none; anything but a mapping
 * is an issue. Issue paths are `at` plus the field (`clusters[3].policy.ratio`). Never throws.
 */
export function mergePolicyOverrides(
  defaults: PolicyOverrides,
  overrides: unknown,
  at: string,
): PolicyMerge {
  if (overrides !== undefined && overrides !== null && !isRecord(overrides)) {
    return {
      ok: false,
      issues: [{ path: at, message: "must be a mapping of policy fields (topology, ratio, …)" }],
    };
  }
  const own: PolicyOverrides = overrides ?? {};
  const result = parsePolicy({ ...defaults, ...own });
  if (result.ok) return { ok: true, policy: result.policy, overrides: own };
  return {
    ok: false,
    issues: result.issues.map((issue) => ({
      path: issue.path === "(policy)" ? at : `${at}.${issue.path}`,
      message: issue.message,
    })),
  };
}
