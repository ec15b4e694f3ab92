import { parseArgs, type ParseArgsConfig } from "node:util";
import { CliError } from "./cli-error.js";

/** A `parseArgs` configuration that always reports tokens, so repeated options can be caught. */
export type CommandLineConfig = ParseArgsConfig & { readonly tokens: true; readonly strict: true };

/**
 * `node:util` `parseArgs` (strict), with its errors turned into `UsageError`s a person can act
 * on, plus one rule it lacks: an option given twice is an error, not "the last one wins".
 * Throws {@link CliError} `UsageError`; rethrows anything that is not a parse error.
 */
export function parseCommandLine<T extends CommandLineConfig>(
  config: T,
): ReturnType<typeof parseArgs<T>> {
  let result: ReturnType<typeof parseArgs<T>>;
  try {
    result = parseArgs(config);
  } catch (err: unknown) {
    throw toUsageError(err, Object.keys(config.options ?? {}));
  }
  const seen = new Set<string>();
  for (const token of result.tokens ?? []) {
    if (token.kind !== "option") continue;
    // Options declared `multiple` are meant to repeat (`--context a --context b`).
    if (config.options?.[token.name]?.multiple === true) continue;
    if (seen.has(token.name))
      throw new CliError("UsageError", `--${token.name} given more than once`);
    seen.add(token.name);
  }
  return result;
}

function toUsageError(err: unknown, known: readonly string[]): unknown {
  const code = err instanceof Error && "code" in err ? err.code : undefined;
  const message = err instanceof Error ? err.message : "";
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? "";
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return new CliError("UsageError", `unknown option "${quoted}"${suggest(quoted, known)}`, {
        cause: err,
      });
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const option = /--[\w-]+/.exec(quoted)?.[0] ?? quoted;
      return new CliError(
        "UsageError",
        message.includes("does not take an argument")
          ? `${option} does not take a value`
          : `${option} needs a value${message.includes("ambiguous") ? ` (write ${option}=VALUE if the value starts with "-")` : ""}`,
        { cause: err },
      );
    }
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return new CliError("UsageError", `unexpected argument "${quoted}"`, { cause: err });
    default:
      return err;
  }
}

/** ` (did you mean --x?)` for a near miss of a known long option, else "". */
function suggest(given: string, known: readonly string[]): string {
  const name = given.replace(/^-+/, "").split("=")[0] ?? "";
  if (name.length < 2) return "";
  const near = known.find((option) => option.startsWith(name) || editDistance(option, name) <= 2);
  return near === undefined ? "" : ` (did you mean --${near}?)`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
