import type { z } from "zod";

/** One schema problem: where (path segments) and what, in words. */
export interface SchemaIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * Turns a zod error into one issue per problem. An unrecognized-keys issue becomes one issue per
 * unknown key (path ending in that key) naming the fields `knownFieldsAt(objectPath)` lists, so a
 * typo is reported where it is, with what was meant. Never throws.
 */
export function describeSchemaIssues(
  error: z.ZodError,
  knownFieldsAt: (objectPath: readonly PropertyKey[]) => readonly string[],
): SchemaIssue[] {
  return error.issues.flatMap((issue): SchemaIssue[] => {
    if (issue.code !== "unrecognized_keys") return [{ path: issue.path, message: issue.message }];
    const known = [...knownFieldsAt(issue.path)].sort();
    const hint = known.length === 0 ? "" : ` (known fields: ${known.join(", ")})`;
    return issue.keys.map((key) => ({
      path: [...issue.path, key],
      message: `unknown field${hint}`,
    }));
  });
}
