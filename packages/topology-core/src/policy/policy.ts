import { z } from "zod";
import { isValidClusterId } from "../model/ipv4.js";
import { validateLabelKey } from "../selectors/label-names.js";
import { parseLabelSelector } from "../selectors/label-selector.js";
import { SelectorSyntaxError } from "../selectors/selector-syntax-error.js";

/** The three reflector layouts (DESIGN.md "Topologies"). */
export type Topology = "single" | "multi" | "zoned";

const labelSelectorString = z.string().superRefine((value, ctx) => {
  try {
    parseLabelSelector(value);
  } catch (err: unknown) {
    if (!(err instanceof SelectorSyntaxError)) throw err;
    ctx.addIssue({
      code: "custom",
      message: `not a valid Kubernetes label selector: ${err.message}`,
    });
  }
});

const labelKeyString = z.string().superRefine((value, ctx) => {
  const problem = validateLabelKey(value);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

const int = (min: number, max: number) =>
  z
    .number({ error: "must be a number" })
    .int({ error: "must be a whole number" })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

/**
 * The policy schema. Every field has a default, so `{}` is a valid policy. Unknown fields are
 * rejected: a typo must not silently fall back to a default on a production cluster.
 */
export const policySchema = z
  .strictObject({
    /** Reflector layout. Default `multi`. */
    topology: z.enum(["single", "multi", "zoned"], {
      error: 'must be one of "single", "multi", "zoned"',
    }),
    /** Fewest reflectors (if that many nodes are eligible). Default 3. */
    min: int(1, 1000),
    /** Most reflectors. Default 10. */
    max: int(1, 1000),
    /** Reflectors per eligible node, before clamping to [min, max]. Default 0.005. */
    ratio: z
      .number({ error: "must be a number" })
      .gt(0, { error: "must be greater than 0" })
      .max(1, { error: "must be at most 1" }),
    /** `multi`: how many reflectors each client peers with. Default 2. */
    reflectorsPerNode: int(1, 16),
    /** Node label holding the zone. Default `topology.kubernetes.io/zone`. */
    zoneLabel: labelKeyString,
    /** Nodes matching this Kubernetes label selector are never reflectors. */
    excludeNodeSelector: labelSelectorString.optional(),
    /** Nodes matching this Kubernetes label selector are chosen first (dedicated reflector nodes). */
    preferNodeSelector: labelSelectorString.optional(),
    /** A NotReady reflector is replaced only after this many seconds. Default 300. */
    notReadyGraceSeconds: int(0, 86_400 * 7),
    /** Bounded load: no reflector serves more than ceil(maxLoadFactor × mean) clients. Default 1.25. */
    maxLoadFactor: z
      .number({ error: "must be a number" })
      .min(1, { error: "must be at least 1" })
      .max(4, { error: "must be at most 4" }),
    /** Cluster IDs are allocated upwards from this IPv4 address (exclusive). Default 244.0.0.0. */
    clusterIdBase: z
      .string()
      .refine(isValidClusterId, { error: "must be an IPv4 address other than 0.0.0.0" }),
    /** The mesh fail-safe (mesh back on when no reflector can serve) applies up to this many nodes. Default 500. */
    meshFailsafeMaxNodes: int(0, 1_000_000),
    /**
     * Fewer reflectors when the design would give a node more BGP paths to one prefix than this
     * (calico-node runs ADD-PATH, so reflectors with distinct cluster IDs pass on every path: see
     * countPathsPerPrefix). Default 32.
     */
    maxPathsPerPrefix: int(1, 100_000),
  })
  .partial()
  .superRefine((policy, ctx) => {
    const min = policy.min ?? DEFAULT_POLICY.min;
    const max = policy.max ?? DEFAULT_POLICY.max;
    if (min > max) {
      ctx.addIssue({
        code: "custom",
        path: ["min"],
        message: `must not exceed max (min is ${min}, max is ${max})`,
      });
    }
  });

/** A complete, validated policy. */
export interface Policy {
  readonly topology: Topology;
  readonly min: number;
  readonly max: number;
  readonly ratio: number;
  readonly reflectorsPerNode: number;
  readonly zoneLabel: string;
  readonly excludeNodeSelector?: string;
  readonly preferNodeSelector?: string;
  readonly notReadyGraceSeconds: number;
  readonly maxLoadFactor: number;
  readonly clusterIdBase: string;
  readonly meshFailsafeMaxNodes: number;
  readonly maxPathsPerPrefix: number;
}

/** The defaults applied to every field a policy leaves out. */
export const DEFAULT_POLICY: Policy = {
  topology: "multi",
  min: 3,
  max: 10,
  ratio: 0.005,
  reflectorsPerNode: 2,
  zoneLabel: "topology.kubernetes.io/zone",
  notReadyGraceSeconds: 300,
  maxLoadFactor: 1.25,
  clusterIdBase: "244.0.0.0",
  meshFailsafeMaxNodes: 500,
  maxPathsPerPrefix: 32,
};

/** One problem in a policy, with the dotted path of the field it concerns. */
export interface PolicyIssue {
  readonly path: string;
  readonly message: string;
}

/** Result of {@link parsePolicy}: a complete policy, or every problem found. */
export type PolicyResult =
  | { readonly ok: true; readonly policy: Policy }
  | { readonly ok: false; readonly issues: readonly PolicyIssue[] };

/**
 * Validates a policy document (already parsed from YAML or JSON) and fills in defaults.
 * Never throws on bad input: every problem is returned with its field path.
 */
export function parsePolicy(input: unknown): PolicyResult {
  const result = policySchema.safeParse(input ?? {});
  if (!result.success) {
    // zod skips the object-level min/max check once a field fails; report it anyway.
    const extra: PolicyIssue[] = [];
    if (typeof input === "object" && input !== null && !Array.isArray(input)) {
      const { min, max } = input as { min?: unknown; max?: unknown };
      if (
        typeof min === "number" &&
        typeof max === "number" &&
        min > max &&
        !result.error.issues.some((i) => i.path[0] === "min")
      ) {
        extra.push({ path: "min", message: `must not exceed max (min is ${min}, max is ${max})` });
      }
    }
    return {
      ok: false,
      issues: [
        ...extra,
        ...result.error.issues.flatMap((issue) =>
          issue.code === "unrecognized_keys"
            ? issue.keys.map((key) => ({
                path: [...issue.path.map(String), key].join("."),
                message: describeUnknownKey(),
              }))
            : [
                {
                  path: issue.path.length === 0 ? "(policy)" : issue.path.map(String).join("."),
                  message: issue.message,
                },
              ],
        ),
      ],
    };
  }
  const policy: Policy = { ...DEFAULT_POLICY };
  for (const [key, value] of Object.entries(result.data)) {
    if (value !== undefined) Object.assign(policy, { [key]: value });
  }
  return { ok: true, policy };
}

function describeUnknownKey(): string {
  const known = [
    ...Object.keys(DEFAULT_POLICY),
    "excludeNodeSelector",
    "preferNodeSelector",
  ].sort();
  return `unknown field (known fields: ${known.join(", ")})`;
}
