import { CliError } from "./cli-error.js";

/** Reads a whole file as UTF-8 text; rejects like `fs.promises.readFile` on failure. */
export type ReadFile = (path: string) => Promise<string>;

/**
 * Reads the file behind an option (`subject` names both, e.g. `--nodes nodes.json`), dropping a
 * UTF-8 byte-order mark. Throws {@link CliError} `InputError` when the file cannot be read.
 */
export async function readTextFile(
  subject: string,
  path: string,
  readFile: ReadFile,
): Promise<string> {
  let text: string;
  try {
    text = await readFile(path);
  } catch (err: unknown) {
    throw new CliError(
      "InputError",
      `${subject}: cannot read the file: ${describeReadError(err)}`,
      {
        cause: err,
      },
    );
  }
  return text.startsWith("\uFEFF") ? text.slice(1) : text;
}

function describeReadError(err: unknown): string {
  const code = err instanceof Error && "code" in err ? err.code : undefined;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "it is a directory";
    default:
      return err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err);
  }
}
