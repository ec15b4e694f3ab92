import { DEFAULT_POLICY, parsePolicy, type Policy } from "@rrfleet/topology-core";
import { parseDocument } from "yaml";
import { CliError } from "./cli-error.js";
import { readTextFile, type ReadFile } from "./read-text-file.js";

/**
 * Reads a policy file (YAML or JSON; JSON is YAML) and validates it with topology-core's schema.
 * No path means {@link DEFAULT_POLICY}; an empty file means the defaults too. Throws
 * {@link CliError} `InputError` listing every syntax or schema problem with its line or field.
 */
export async function loadPolicy(path: string | undefined, readFile: ReadFile): Promise<Policy> {
  if (path === undefined) return DEFAULT_POLICY;
  const subject = `--policy ${path}`;
  const text = await readTextFile(subject, path, readFile);
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (document.errors.length > 0) {
    throw CliError.fromIssues(
      subject,
      document.errors.map((error) => {
        const position = error.linePos?.[0];
        return {
          path: position === undefined ? "" : `line ${position.line}, column ${position.col}`,
          message: `not valid YAML: ${firstLine(error.message)}`,
        };
      }),
    );
  }
  const result = parsePolicy(document.toJS());
  if (!result.ok) throw CliError.fromIssues(subject, result.issues);
  return result.policy;
}

/** yaml's pretty messages end with " at line L, column C:" and a source excerpt; the position is reported separately. */
function firstLine(message: string): string {
  return (message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
}
