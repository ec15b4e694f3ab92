import { dirname, resolve } from "node:path";
import type { Policy } from "@rrfleet/topology-core";
import { validateLabelKey, validateLabelValue } from "@rrfleet/topology-core";
import { parseDocument } from "yaml";
import { z } from "zod";
import { describeSchemaIssues } from "./describe-schema-issues.js";
import { isRecord } from "../is-record.js";
import { formatFieldPath } from "./format-field-path.js";
import { mergePolicyOverrides, type PolicyOverrides } from "./merge-policy-overrides.js";
import type { ClusterRole } from "./registered-cluster.js";
import type { RegistryProblem } from "./registry-problem.js";

/** Where one role's credentials for a fleet-file cluster are: a kubeconfig and its context. */
export interface FleetFileCredentials {
  /** Absolute: relative paths are resolved against the fleet file's folder. */
  readonly kubeconfigPath: string;
  /** Default: the kubeconfig's `current-context`. */
  readonly context?: string;
  /** Where the entry says so, for problems: `clusters[3]` or `clusters[3].credentials.watcher`. */
  readonly field: string;
}

/** One valid cluster entry of a fleet file, its policy merged; credentials not read yet. */
export interface FleetFileCluster {
  readonly name: string;
  /**
   * Each role's kubeconfig: the entry's `kubeconfig`/`context` for both, or its
   * `credentials.watcher` (read-only) and `credentials.applier` (write) apart.
   */
  readonly credentials: Readonly<Record<ClusterRole, FleetFileCredentials>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly policy: Policy;
  /** The entry's position in `clusters`, for problems found later (`clusters[3].kubeconfig`). */
  readonly index: number;
}

/**
 * Result of {@link parseFleetFile}. `ok: false` is a whole-file problem (not YAML, not a mapping,
 * no `clusters` list, unknown top-level fields, invalid `defaults.policy`): the caller keeps its
 * previous good registry. `ok: true` may still carry problems: each names a skipped entry.
 */
export type FleetFileParse =
  | {
      readonly ok: true;
      /** `defaults.policy` as written (validated): what Secret clusters' overrides apply on. */
      readonly defaults: PolicyOverrides;
      readonly clusters: readonly FleetFileCluster[];
      readonly problems: readonly RegistryProblem[];
    }
  | { readonly ok: false; readonly problems: readonly RegistryProblem[] };

/** Options of {@link parseFleetFile}. */
export interface ParseFleetFileOptions {
  /** The file's path: names it in problems and anchors relative kubeconfig paths. */
  readonly path: string;
}

/** RFC 1123 label: what cluster names must be (they end up in metric labels, logs and keys). */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const requiredString = (what: string) =>
  z.string({
    error: (issue) => (issue.input === undefined ? `is required: ${what}` : "must be a string"),
  });

const labelsSchema = z
  .record(z.string(), z.unknown(), { error: "must be a mapping of label keys to values" })
  .superRefine((labels, ctx) => {
    // One pass over keys and values, so a bad key and a bad value are both reported.
    for (const [key, value] of Object.entries(labels)) {
      const keyProblem = validateLabelKey(key);
      if (keyProblem !== undefined) {
        ctx.addIssue({ code: "custom", path: [key], message: `label key ${keyProblem}` });
      }
      if (typeof value !== "string") {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: "must be a string (quote numbers and booleans)",
        });
        continue;
      }
      const valueProblem = validateLabelValue(value);
      if (valueProblem !== undefined) {
        ctx.addIssue({ code: "custom", path: [key], message: `label value ${valueProblem}` });
      }
    }
  })
  .transform((labels) => labels as Record<string, string>);

const ENTRY_FIELDS = ["name", "kubeconfig", "context", "credentials", "labels", "policy"] as const;
const ROLE_FIELDS = ["watcher", "applier"] as const;
const CREDENTIALS_FIELDS = ["kubeconfig", "context"] as const;

const roleCredentialsSchema = (role: string) =>
  z.strictObject(
    {
      kubeconfig: requiredString(`the path of the ${role}s' kubeconfig`).min(1, {
        error: "must not be empty",
      }),
      context: z
        .string({ error: "must be a string" })
        .min(1, { error: "must not be empty" })
        .optional(),
    },
    {
      error: (issue) =>
        issue.input === undefined
          ? `is required: the ${role}s' credentials ({ kubeconfig, context? })`
          : "must be a mapping with kubeconfig and optionally context",
    },
  );

const entrySchema = z
  .strictObject(
    {
      name: requiredString("the cluster's name")
        .max(63, { error: "must be at most 63 characters" })
        .regex(DNS_LABEL, {
          error:
            "must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit",
        }),
      kubeconfig: z
        .string({ error: "must be a string" })
        .min(1, { error: "must not be empty" })
        .optional(),
      context: z
        .string({ error: "must be a string" })
        .min(1, { error: "must not be empty" })
        .optional(),
      // Watchers never write: a cluster may give them read-only credentials of their own.
      credentials: z
        .strictObject(
          { watcher: roleCredentialsSchema("watcher"), applier: roleCredentialsSchema("applier") },
          { error: "must be a mapping with watcher and applier" },
        )
        .optional(),
      labels: labelsSchema.optional(),
      policy: z.unknown().optional(),
    },
    {
      error:
        "must be a mapping with name, kubeconfig (or credentials) and optionally context, labels, policy",
    },
  )
  .superRefine((entry, ctx) => {
    if (
      entry.credentials !== undefined &&
      (entry.kubeconfig !== undefined || entry.context !== undefined)
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["credentials"],
        message: "give kubeconfig (both roles) or credentials (one per role), not both",
      });
    } else if (entry.credentials === undefined && entry.kubeconfig === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["kubeconfig"],
        message:
          "is required: the path of the cluster's kubeconfig (or credentials: { watcher, applier })",
      });
    }
  });

const TOP_FIELDS = ["defaults", "clusters"] as const;

const fleetFileSchema = z.strictObject(
  {
    defaults: z
      .strictObject({ policy: z.unknown().optional() }, { error: "must be a mapping" })
      .nullable()
      .optional(),
    clusters: z.array(z.unknown(), {
      error: (issue) =>
        issue.input === undefined
          ? "is required: the list of clusters (write `clusters: []` for none)"
          : "must be a list of clusters (write `clusters: []` for none)",
    }),
  },
  { error: "the fleet file must be a mapping with a clusters list" },
);

/**
 * Parses and validates a fleet file (YAML; JSON is YAML):
 * `{ defaults?: { policy? }, clusters: [{ name, kubeconfig, context?, labels?, policy? }] }`;
 * instead of `kubeconfig`/`context` (one kubeconfig for both roles) an entry may give
 * `credentials: { watcher: { kubeconfig, context? }, applier: { kubeconfig, context? } }`, so
 * watchers hold read-only credentials apart from the appliers' write ones.
 * Every problem is reported with its path (`clusters[3].policy.ratio`) and unknown fields are
 * rejected. An invalid entry is reported and skipped while the others load; an entry whose name
 * an earlier entry already has is skipped (even when the earlier one is invalid: the file is
 * ambiguous about that name). Reads nothing from disk. Never throws.
 */
export function parseFleetFile(text: string, options: ParseFleetFileOptions): FleetFileParse {
  const origin = options.path;
  const problem = (path: string, message: string, cluster?: string): RegistryProblem => ({
    source: "file",
    origin,
    path,
    message,
    ...(cluster === undefined ? {} : { cluster }),
  });

  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (document.errors.length > 0) {
    return {
      ok: false,
      problems: document.errors.map((error) => {
        const position = error.linePos?.[0];
        return problem(
          position === undefined ? "" : `line ${position.line}, column ${position.col}`,
          `not valid YAML: ${firstYamlLine(error.message)}`,
        );
      }),
    };
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 100 });
  } catch (err: unknown) {
    // yaml throws a ReferenceError for alias bombs and unresolved aliases.
    return {
      ok: false,
      problems: [
        problem("", `cannot be read: ${err instanceof Error ? err.message : String(err)}`),
      ],
    };
  }

  const top = fleetFileSchema.safeParse(value ?? undefined);
  if (!top.success) {
    return {
      ok: false,
      problems: describeSchemaIssues(top.error, (path) =>
        path.length === 0 ? TOP_FIELDS : ["policy"],
      ).map((issue) => problem(formatFieldPath(issue.path), issue.message)),
    };
  }
  const defaultsMerge = mergePolicyOverrides({}, top.data.defaults?.policy, "defaults.policy");
  if (!defaultsMerge.ok) {
    return {
      ok: false,
      problems: defaultsMerge.issues.map((issue) => problem(issue.path, issue.message)),
    };
  }
  const defaults = defaultsMerge.overrides;

  const folder = dirname(options.path);
  const problems: RegistryProblem[] = [];
  const clusters: FleetFileCluster[] = [];
  const firstIndexOf = new Map<string, number>();
  top.data.clusters.forEach((raw, index) => {
    const at = `clusters[${index}]`;
    const name = readName(raw);
    if (name !== undefined) {
      const first = firstIndexOf.get(name);
      if (first !== undefined) {
        problems.push(
          problem(
            `${at}.name`,
            `duplicate cluster name "${name}" (first in clusters[${first}]); this entry is skipped`,
            name,
          ),
        );
        return;
      }
      firstIndexOf.set(name, index);
    }
    const entry = entrySchema.safeParse(raw);
    const entryProblems: RegistryProblem[] = [];
    if (!entry.success) {
      for (const issue of describeSchemaIssues(entry.error, (path) =>
        path.length === 0 ? ENTRY_FIELDS : path.length === 1 ? ROLE_FIELDS : CREDENTIALS_FIELDS,
      )) {
        entryProblems.push(
          problem(formatFieldPath(["clusters", index, ...issue.path]), issue.message, name),
        );
      }
    }
    const rawPolicy = isRecord(raw) ? raw["policy"] : undefined;
    const merged = mergePolicyOverrides(defaults, rawPolicy, `${at}.policy`);
    if (!merged.ok) {
      for (const issue of merged.issues)
        entryProblems.push(problem(issue.path, issue.message, name));
    }
    if (!entry.success || !merged.ok) {
      problems.push(...entryProblems);
      return;
    }
    const { kubeconfig, context, credentials, labels } = entry.data;
    const locate = (
      given: { readonly kubeconfig: string; readonly context?: string | undefined },
      field: string,
    ): FleetFileCredentials => ({
      kubeconfigPath: resolve(folder, given.kubeconfig),
      ...(given.context === undefined ? {} : { context: given.context }),
      field,
    });
    const shared = kubeconfig === undefined ? undefined : locate({ kubeconfig, context }, at);
    clusters.push({
      name: entry.data.name,
      credentials: {
        watcher:
          shared ?? locate(credentials?.watcher ?? { kubeconfig: "" }, `${at}.credentials.watcher`),
        applier:
          shared ?? locate(credentials?.applier ?? { kubeconfig: "" }, `${at}.credentials.applier`),
      },
      labels: labels ?? {},
      policy: merged.policy,
      index,
    });
  });
  return { ok: true, defaults, clusters, problems };
}

function readName(raw: unknown): string | undefined {
  if (!isRecord(raw)) return undefined;
  const name = raw["name"];
  return typeof name === "string" && DNS_LABEL.test(name) && name.length <= 63 ? name : undefined;
}

/** yaml's pretty messages end with " at line L, column C:" and an excerpt; the position is reported apart. */
function firstYamlLine(message: string): string {
  return (message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
}
