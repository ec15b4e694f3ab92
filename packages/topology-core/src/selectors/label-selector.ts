/**
 * Kubernetes label selectors in their string form (`kubectl -l`, apimachinery `labels.Parse`):
 * comma-separated requirements that must all hold. The lexer and grammar follow apimachinery's,
 * corners included: `key=` means "equals the empty string", `key in ()` means "in {''}", `in` and
 * `notin` are ordinary words where a key or value is expected, and `key>n`/`key<n` compare 64-bit
 * integers (a label whose value is not an integer does not match).
 */

import { validateLabelKey, validateLabelValue } from "./label-names.js";
import type { Selector } from "./selector.js";
import { SelectorSyntaxError } from "./selector-syntax-error.js";

/** A parsed Kubernetes label selector, compiled; its members never throw. */
export type LabelSelector = Selector;

type Labels = Readonly<Record<string, string>>;
type Matcher = (labels: Labels) => boolean;

type TokenKind =
  "identifier" | "in" | "notin" | "=" | "==" | "!=" | "!" | "(" | ")" | "," | ">" | "<" | "end";

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly start: number;
}

type Operator = "=" | "==" | "!=" | "in" | "notin" | ">" | "<";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** What Go's `strconv.ParseInt(s, 10, 64)` accepts, before the range check. */
const DECIMAL_INTEGER = /^[+-]?[0-9]+$/;

function isWhitespace(ch: string): boolean {
  return ch === " " || ch === "\t" || ch === "\r" || ch === "\n";
}

function isSpecial(ch: string): boolean {
  return (
    ch === "=" || ch === "!" || ch === "(" || ch === ")" || ch === "," || ch === ">" || ch === "<"
  );
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = source.length;
  for (;;) {
    while (i < n && isWhitespace(source.charAt(i))) {
      i++;
    }
    if (i >= n) {
      tokens.push({ kind: "end", text: "", start: n });
      return tokens;
    }
    const ch = source.charAt(i);
    if (isSpecial(ch)) {
      const two = source.slice(i, i + 2);
      if (two === "==" || two === "!=") {
        tokens.push({ kind: two, text: two, start: i });
        i += 2;
      } else {
        tokens.push({ kind: ch as TokenKind, text: ch, start: i });
        i += 1;
      }
      continue;
    }
    const start = i;
    while (i < n && !isWhitespace(source.charAt(i)) && !isSpecial(source.charAt(i))) {
      i++;
    }
    const text = source.slice(start, i);
    const kind: TokenKind = text === "in" || text === "notin" ? text : "identifier";
    tokens.push({ kind, text, start });
  }
}

function describe(token: Token): string {
  return token.kind === "end" ? "end of selector" : JSON.stringify(token.text);
}

function parseInt64(text: string): bigint | undefined {
  if (!DECIMAL_INTEGER.test(text)) {
    return undefined;
  }
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

function compileRequirement(key: string, operator: Operator, values: readonly string[]): Matcher {
  switch (operator) {
    case "=":
    case "==":
    case "in": {
      const only = values[0];
      if (values.length === 1 && only !== undefined) {
        return (labels) => labels[key] === only;
      }
      const set = new Set<string | undefined>(values);
      // The set holds strings only, so an absent key (undefined) never matches.
      return (labels) => set.has(labels[key]);
    }
    case "!=":
    case "notin": {
      const only = values[0];
      if (values.length === 1 && only !== undefined) {
        return (labels) => labels[key] !== only;
      }
      const set = new Set<string | undefined>(values);
      return (labels) => !set.has(labels[key]);
    }
    case ">":
    case "<": {
      const bound = parseInt64(values[0] ?? "");
      if (bound === undefined) {
        return () => false;
      }
      const greater = operator === ">";
      return (labels) => {
        const raw: unknown = labels[key];
        if (typeof raw !== "string") {
          return false;
        }
        const value = parseInt64(raw);
        if (value === undefined) {
          return false;
        }
        return greater ? value > bound : value < bound;
      };
    }
  }
}

function conjunction(matchers: readonly Matcher[]): Matcher {
  const [first, second, third] = matchers;
  if (first === undefined) {
    return () => true;
  }
  if (second === undefined) {
    return first;
  }
  if (third === undefined) {
    return (labels) => first(labels) && second(labels);
  }
  if (matchers.length === 3) {
    return (labels) => first(labels) && second(labels) && third(labels);
  }
  return (labels) => {
    for (const matcher of matchers) {
      if (!matcher(labels)) {
        return false;
      }
    }
    return true;
  };
}

/** Parses a Kubernetes label selector string (empty selects everything); throws SelectorSyntaxError on bad syntax, an invalid key or value, or a non-integer `>`/`<` operand. */
export function parseLabelSelector(source: string): LabelSelector {
  const tokens = tokenize(source);
  let index = 0;
  const matchers: Matcher[] = [];
  const keys = new Set<string>();

  function fail(problem: string, position: number): never {
    throw new SelectorSyntaxError(problem, source, position);
  }
  const endToken: Token = { kind: "end", text: "", start: source.length };
  const peek = (): Token => tokens[index] ?? endToken;
  const next = (): Token => {
    const token = peek();
    if (token.kind !== "end") {
      index++;
    }
    return token;
  };
  /** Where a key or value is expected, `in` and `notin` are plain words. */
  const isWord = (token: Token): boolean =>
    token.kind === "identifier" || token.kind === "in" || token.kind === "notin";

  const checkValue = (key: string, value: string, position: number): void => {
    const problem = validateLabelValue(value);
    if (problem !== undefined) {
      fail(
        `invalid label value ${JSON.stringify(value)} for key ${JSON.stringify(key)}: ${problem}`,
        position,
      );
    }
  };

  const parseRequirement = (): void => {
    let token = next();
    let negated = false;
    if (token.kind === "!") {
      negated = true;
      token = next();
      if (!isWord(token)) {
        fail(`unexpected ${describe(token)} (expected a label key after "!")`, token.start);
      }
    }
    const key = token.text;
    const keyProblem = validateLabelKey(key);
    if (keyProblem !== undefined) {
      fail(`invalid label key ${JSON.stringify(key)}: ${keyProblem}`, token.start);
    }
    keys.add(key);
    const after = peek();
    if (negated || after.kind === "end" || after.kind === ",") {
      // `!key` takes no operator; anything after it is reported by the caller.
      matchers.push(
        negated
          ? (labels) => typeof labels[key] !== "string"
          : (labels) => typeof labels[key] === "string",
      );
      return;
    }
    const operatorToken = next();
    switch (operatorToken.kind) {
      case "in":
      case "notin": {
        const open = next();
        if (open.kind !== "(") {
          fail(
            `unexpected ${describe(open)} (expected "(" after "${operatorToken.text}")`,
            open.start,
          );
        }
        const values: string[] = [];
        // `( [v] {, [v]} )`: every slot may be empty, and an empty slot is the value "".
        for (;;) {
          const slot = peek();
          if (isWord(slot)) {
            next();
            checkValue(key, slot.text, slot.start);
            values.push(slot.text);
          } else if (slot.kind === "," || slot.kind === ")") {
            values.push("");
          } else {
            fail(`unexpected ${describe(slot)} (expected a value, "," or ")")`, slot.start);
          }
          const separator = next();
          if (separator.kind === ")") {
            break;
          }
          if (separator.kind !== ",") {
            fail(`unexpected ${describe(separator)} (expected "," or ")")`, separator.start);
          }
        }
        matchers.push(compileRequirement(key, operatorToken.kind, [...new Set(values)]));
        return;
      }
      case "=":
      case "==":
      case "!=":
      case ">":
      case "<": {
        const valueToken = peek();
        let value = "";
        if (isWord(valueToken)) {
          next();
          value = valueToken.text;
        } else if (valueToken.kind !== "end" && valueToken.kind !== ",") {
          fail(`unexpected ${describe(valueToken)} (expected a value)`, valueToken.start);
        }
        if (
          (operatorToken.kind === ">" || operatorToken.kind === "<") &&
          parseInt64(value) === undefined
        ) {
          fail(
            `value ${JSON.stringify(value)} for "${operatorToken.kind}" must be a 64-bit decimal integer`,
            valueToken.start,
          );
        }
        checkValue(key, value, valueToken.start);
        matchers.push(compileRequirement(key, operatorToken.kind, [value]));
        return;
      }
      case "identifier":
      case "!":
      case "(":
      case ")":
      case ",":
      case "end":
        return fail(
          `unexpected ${describe(operatorToken)} after label key ${JSON.stringify(key)} (expected "=", "==", "!=", "in", "notin", ">", "<", "," or end of selector)`,
          operatorToken.start,
        );
    }
  };

  const first = peek();
  if (first.kind !== "end") {
    if (!isWord(first) && first.kind !== "!") {
      fail(`unexpected ${describe(first)} (expected a label key or "!")`, first.start);
    }
    for (;;) {
      parseRequirement();
      const separator = next();
      if (separator.kind === "end") {
        break;
      }
      if (separator.kind !== ",") {
        fail(
          `unexpected ${describe(separator)} (expected "," or end of selector)`,
          separator.start,
        );
      }
      const following = peek();
      if (!isWord(following) && following.kind !== "!") {
        fail(
          `unexpected ${describe(following)} (expected a label key or "!" after ",")`,
          following.start,
        );
      }
    }
  }

  return Object.freeze({
    source,
    keys: Object.freeze([...keys].sort()),
    matches: conjunction(matchers),
  });
}
