/**
 * The one error type rrctl reports to people. Everything a user can get wrong (arguments, files,
 * their contents) becomes a `CliError`; anything else is an internal error (exit 1).
 */

/**
 * What kind of mistake: `UsageError` for arguments, `InputError` for files and their contents,
 * `ClusterError` for a live cluster the user must fix access to (kubeconfig, context, RBAC,
 * reachability) or whose objects cannot be read.
 */
export type CliErrorCode = "UsageError" | "InputError" | "ClusterError";

/** One problem at a field path (the shape topology-core's parsers return). */
export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

/** Issues listed after the first line; more would drown the terminal, not help. */
const MAX_LISTED_ISSUES = 50;

/** Paths topology-core uses for "the whole document": the message alone says it better. */
const WHOLE_DOCUMENT_PATHS = new Set(["", "(document)", "(policy)"]);

/**
 * A user mistake, with a message fit to print after `rrctl <command>: ` (possibly several lines,
 * never a stack trace). Every code exits with status 2.
 */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /**
   * An `InputError` about `subject` (e.g. `--policy policy.yaml`): one line for one issue,
   * otherwise a first line naming the subject and one indented line per issue (at most 50).
   */
  static fromIssues(subject: string, issues: readonly FieldIssue[]): CliError {
    const lines = issues.map(describeIssue);
    if (lines.length === 1) return new CliError("InputError", `${subject}: ${lines[0] ?? ""}`);
    const listed = lines.slice(0, MAX_LISTED_ISSUES).map((line) => `  ${line}`);
    if (lines.length > MAX_LISTED_ISSUES) {
      listed.push(`  ... and ${lines.length - MAX_LISTED_ISSUES} more`);
    }
    return new CliError(
      "InputError",
      [`${subject}: ${lines.length} problems:`, ...listed].join("\n"),
    );
  }
}

function describeIssue(issue: FieldIssue): string {
  return WHOLE_DOCUMENT_PATHS.has(issue.path) ? issue.message : `${issue.path}: ${issue.message}`;
}
