import { CliError } from "./cli-error.js";
import { readTextFile, type ReadFile } from "./read-text-file.js";

/**
 * Reads and parses a JSON file behind an option. `expected` says what should be in it (e.g.
 * `the output of "kubectl get nodes -o json"`) for the error message. Throws {@link CliError}
 * `InputError` when the file cannot be read, is empty, or is not JSON.
 */
export async function readJsonFile(
  subject: string,
  path: string,
  expected: string,
  readFile: ReadFile,
): Promise<unknown> {
  const text = await readTextFile(subject, path, readFile);
  if (text.trim() === "") {
    throw new CliError("InputError", `${subject}: the file is empty; expected ${expected}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err: unknown) {
    // V8 quotes the offending text, newlines and all; keep the message on one line.
    const reason = (err instanceof SyntaxError ? err.message : String(err)).replaceAll("\n", "\\n");
    throw new CliError(
      "InputError",
      `${subject}: not valid JSON (${reason}); expected ${expected}`,
      {
        cause: err,
      },
    );
  }
}
