/**
 * The one error type the selector parsers throw, carrying where in the source the problem is.
 */

/** Thrown when a selector string does not parse or names an invalid key or value; never thrown for other reasons. */
export class SelectorSyntaxError extends Error {
  override readonly name = "SelectorSyntaxError";
  /** The complete selector string that failed to parse. */
  readonly source: string;
  /** 0-based offset (UTF-16 code units) in `source` where the problem starts; `source.length` means "at the end". */
  readonly position: number;
  /** The problem alone, without the position and source that `message` adds. */
  readonly problem: string;

  /** Builds the one-line message `<problem> at position <n> in "<source>"`; never throws. */
  constructor(problem: string, source: string, position: number) {
    super(`${problem} at position ${position} in ${JSON.stringify(source)}`);
    this.problem = problem;
    this.source = source;
    this.position = position;
  }
}
