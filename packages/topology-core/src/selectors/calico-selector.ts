/**
 * Calico selector expressions (BGPPeer `nodeSelector`/`peerSelector`, IPPool `nodeSelector`, ...).
 * The tokenizer and grammar follow libcalico-go's `selector/tokenizer` and `selector/parser`,
 * corners included: only space and tab are whitespace, string literals have no escapes, operator
 * words after a label are matched as prefixes (so `notin` and `startswith` are accepted), a set may
 * end with a trailing comma, and an empty selector means `all()`. The one deliberate difference:
 * `global()` is rejected, because it has no meaning for the node selectors modelled here.
 */

import type { Selector } from "./selector.js";
import { SelectorSyntaxError } from "./selector-syntax-error.js";

/** A parsed Calico selector, compiled; its members never throw. */
export type CalicoSelector = Selector;

type Labels = Readonly<Record<string, string>>;
type Matcher = (labels: Labels) => boolean;

type TokenKind =
  | "label"
  | "string"
  | "{"
  | "}"
  | ","
  | "=="
  | "!="
  | "in"
  | "not in"
  | "contains"
  | "starts with"
  | "ends with"
  | "!"
  | "all"
  | "has"
  | "global"
  | "("
  | ")"
  | "&&"
  | "||"
  | "end";

interface Token {
  readonly kind: TokenKind;
  /** The label name for `label` and `has`, the unquoted text for `string`, otherwise "". */
  readonly value: string;
  readonly start: number;
  readonly end: number;
}

const OPERATOR_LIST = '"==", "!=", "in", "not in", "contains", "starts with" or "ends with"';

function isWhitespace(ch: string): boolean {
  return ch === " " || ch === "\t";
}

function isLabelCharacter(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x5f || // _
    code === 0x2e || // .
    code === 0x2f || // /
    code === 0x2d // -
  );
}

function skipWhitespace(source: string, from: number): number {
  let i = from;
  while (i < source.length && isWhitespace(source.charAt(i))) {
    i++;
  }
  return i;
}

function labelAt(source: string, from: number): string {
  let i = from;
  while (i < source.length && isLabelCharacter(source.charCodeAt(i))) {
    i++;
  }
  return source.slice(from, i);
}

/** The word (or single character) at `from`, quoted, for error messages. */
function quoteAt(source: string, from: number): string {
  const word = labelAt(source, from);
  if (word.length > 0) {
    return JSON.stringify(word);
  }
  const codePoint = source.codePointAt(from);
  return codePoint === undefined
    ? "end of selector"
    : JSON.stringify(String.fromCodePoint(codePoint));
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const fail = (problem: string, position: number): SelectorSyntaxError =>
    new SelectorSyntaxError(problem, source, position);
  const push = (kind: TokenKind, start: number, end: number, value = ""): number => {
    tokens.push({ kind, value, start, end });
    return end;
  };
  let i = 0;
  for (;;) {
    i = skipWhitespace(source, i);
    if (i >= source.length) {
      push("end", source.length, source.length);
      return tokens;
    }
    const ch = source.charAt(i);
    const nextCh = source.charAt(i + 1);
    switch (ch) {
      case "(":
      case ")":
      case "{":
      case "}":
      case ",":
        i = push(ch, i, i + 1);
        break;
      case '"':
      case "'": {
        const close = source.indexOf(ch, i + 1);
        if (close === -1) {
          throw fail("unterminated string literal", i);
        }
        i = push("string", i, close + 1, source.slice(i + 1, close));
        break;
      }
      case "=":
        if (nextCh !== "=") {
          throw fail('unexpected "=" (expected "==")', i);
        }
        i = push("==", i, i + 2);
        break;
      case "!":
        i = nextCh === "=" ? push("!=", i, i + 2) : push("!", i, i + 1);
        break;
      case "&":
        if (nextCh !== "&") {
          throw fail('unexpected "&" (expected "&&")', i);
        }
        i = push("&&", i, i + 2);
        break;
      case "|":
        if (nextCh !== "|") {
          throw fail('unexpected "|" (expected "||")', i);
        }
        i = push("||", i, i + 2);
        break;
      default:
        i = tokenizeWord(source, i, tokens.at(-1), push, fail);
    }
  }
}

/** Tokenizes an operator word after a label, a function call, or a label; returns the new offset. */
function tokenizeWord(
  source: string,
  i: number,
  previous: Token | undefined,
  push: (kind: TokenKind, start: number, end: number, value?: string) => number,
  fail: (problem: string, position: number) => SelectorSyntaxError,
): number {
  if (previous?.kind === "label") {
    // Like Calico, operator words are matched as prefixes, with optional whitespace inside.
    if (source.startsWith("contains", i)) {
      return push("contains", i, i + "contains".length);
    }
    for (const [first, second, kind] of [
      ["starts", "with", "starts with"],
      ["ends", "with", "ends with"],
      ["not", "in", "not in"],
    ] as const) {
      if (source.startsWith(first, i)) {
        const j = skipWhitespace(source, i + first.length);
        if (!source.startsWith(second, j)) {
          throw fail(`unexpected ${quoteAt(source, j)} after "${first}" (expected "${second}")`, j);
        }
        return push(kind, i, j + second.length);
      }
    }
    if (source.startsWith("in", i)) {
      return push("in", i, i + 2);
    }
    throw fail(
      `unexpected ${quoteAt(source, i)} after label ${JSON.stringify(previous.value)} (expected ${OPERATOR_LIST})`,
      i,
    );
  }
  if (source.startsWith("has(", i)) {
    const j = skipWhitespace(source, i + 4);
    const label = labelAt(source, j);
    if (label.length === 0) {
      throw fail(`unexpected ${quoteAt(source, j)} (expected a label key after "has(")`, j);
    }
    const k = skipWhitespace(source, j + label.length);
    if (source.charAt(k) !== ")") {
      throw fail(`unexpected ${quoteAt(source, k)} (expected ")" to close "has(")`, k);
    }
    return push("has", i, k + 1, label);
  }
  for (const name of ["all", "global"] as const) {
    if (source.startsWith(`${name}(`, i)) {
      const j = skipWhitespace(source, i + name.length + 1);
      if (source.charAt(j) !== ")") {
        throw fail(`unexpected ${quoteAt(source, j)} (expected ")" after "${name}(")`, j);
      }
      return push(name, i, j + 1);
    }
  }
  const label = labelAt(source, i);
  if (label.length === 0) {
    throw fail(`unexpected ${quoteAt(source, i)}`, i);
  }
  return push("label", i, i + label.length, label);
}

const always: Matcher = () => true;
const never: Matcher = () => false;

function anyOf(matchers: readonly Matcher[]): Matcher {
  const [first, second] = matchers;
  if (first === undefined) {
    return never;
  }
  if (second === undefined) {
    return first;
  }
  if (matchers.length === 2) {
    return (labels) => first(labels) || second(labels);
  }
  return (labels) => {
    for (const matcher of matchers) {
      if (matcher(labels)) {
        return true;
      }
    }
    return false;
  };
}

function allOf(matchers: readonly Matcher[]): Matcher {
  const [first, second] = matchers;
  if (first === undefined) {
    return always;
  }
  if (second === undefined) {
    return first;
  }
  if (matchers.length === 2) {
    return (labels) => first(labels) && second(labels);
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

/** `labels[key]` is only trusted when it is a string, so inherited members like `constructor` read as absent. */
function compileComparison(
  kind: "==" | "!=" | "contains" | "starts with" | "ends with",
  key: string,
  value: string,
): Matcher {
  switch (kind) {
    case "==":
      return (labels) => labels[key] === value;
    case "!=":
      return (labels) => labels[key] !== value;
    case "contains":
      return (labels) => {
        const actual: unknown = labels[key];
        return typeof actual === "string" && actual.includes(value);
      };
    case "starts with":
      return (labels) => {
        const actual: unknown = labels[key];
        return typeof actual === "string" && actual.startsWith(value);
      };
    case "ends with":
      return (labels) => {
        const actual: unknown = labels[key];
        return typeof actual === "string" && actual.endsWith(value);
      };
  }
}

function compileSetMembership(key: string, values: readonly string[], negated: boolean): Matcher {
  const [only] = values;
  if (only === undefined) {
    return negated ? always : never;
  }
  if (values.length === 1) {
    return negated ? (labels) => labels[key] !== only : (labels) => labels[key] === only;
  }
  // The set holds strings only, so an absent key (undefined) is never a member.
  const set = new Set<string | undefined>(values);
  return negated ? (labels) => !set.has(labels[key]) : (labels) => set.has(labels[key]);
}

/** Parses a Calico selector (empty or blank means `all()`); throws SelectorSyntaxError on bad syntax and on `global()`, which node selectors do not support. */
export function parseCalicoSelector(source: string): CalicoSelector {
  const tokens = tokenize(source);
  const endToken: Token = { kind: "end", value: "", start: source.length, end: source.length };
  const keys = new Set<string>();
  let index = 0;

  function peek(): Token {
    return tokens[index] ?? endToken;
  }
  function next(): Token {
    const token = peek();
    if (token.kind !== "end") {
      index++;
    }
    return token;
  }
  function describe(token: Token): string {
    return token.kind === "end"
      ? "end of selector"
      : JSON.stringify(source.slice(token.start, token.end));
  }
  function fail(problem: string, position: number): never {
    throw new SelectorSyntaxError(problem, source, position);
  }

  function parseOr(): Matcher {
    const operands = [parseAnd()];
    while (peek().kind === "||") {
      next();
      operands.push(parseAnd());
    }
    return anyOf(operands);
  }

  function parseAnd(): Matcher {
    const operands = [parseOperation()];
    while (peek().kind === "&&") {
      next();
      operands.push(parseOperation());
    }
    return allOf(operands);
  }

  function parseSet(key: string, operator: Token): string[] {
    const open = next();
    if (open.kind !== "{") {
      fail(`unexpected ${describe(open)} (expected "{" after ${describe(operator)})`, open.start);
    }
    const values: string[] = [];
    let afterValue = false;
    // Calico's grammar: `{` [ string { `,` string } [ `,` ] ] `}`.
    while (peek().kind === "string") {
      values.push(next().value);
      afterValue = true;
      if (peek().kind !== ",") {
        break;
      }
      next();
      afterValue = false;
    }
    const close = next();
    if (close.kind !== "}") {
      const expected = afterValue ? '"," or "}"' : 'a quoted string or "}"';
      fail(`unexpected ${describe(close)} (expected ${expected})`, close.start);
    }
    keys.add(key);
    return values;
  }

  function parseOperation(): Matcher {
    let negated = false;
    while (peek().kind === "!") {
      next();
      negated = !negated;
    }
    const token = next();
    let matcher: Matcher;
    switch (token.kind) {
      case "has": {
        const key = token.value;
        keys.add(key);
        matcher = (labels) => typeof labels[key] === "string";
        break;
      }
      case "all":
        matcher = always;
        break;
      case "global":
        return fail("global() is not supported in node selectors", token.start);
      case "label": {
        const key = token.value;
        const operator = next();
        switch (operator.kind) {
          case "==":
          case "!=":
          case "contains":
          case "starts with":
          case "ends with": {
            const literal = next();
            if (literal.kind !== "string") {
              fail(
                `unexpected ${describe(literal)} (expected a quoted string after ${describe(operator)})`,
                literal.start,
              );
            }
            keys.add(key);
            matcher = compileComparison(operator.kind, key, literal.value);
            break;
          }
          case "in":
          case "not in":
            matcher = compileSetMembership(
              key,
              parseSet(key, operator),
              operator.kind === "not in",
            );
            break;
          default:
            return fail(
              `unexpected ${describe(operator)} after label ${JSON.stringify(key)} (expected ${OPERATOR_LIST})`,
              operator.start,
            );
        }
        break;
      }
      case "(": {
        matcher = parseOr();
        const close = next();
        if (close.kind !== ")") {
          fail(
            `unexpected ${describe(close)} (expected "&&", "||" or ")" to close "(" at position ${token.start})`,
            close.start,
          );
        }
        break;
      }
      default:
        return fail(
          `unexpected ${describe(token)} (expected a label, has(), all(), "!" or "(")`,
          token.start,
        );
    }
    if (!negated) {
      return matcher;
    }
    const inner = matcher;
    return (labels) => !inner(labels);
  }

  let matches: Matcher = always;
  if (peek().kind !== "end") {
    matches = parseOr();
    const rest = next();
    if (rest.kind !== "end") {
      fail(`unexpected ${describe(rest)} (expected "&&", "||" or end of selector)`, rest.start);
    }
  }

  return Object.freeze({
    source,
    keys: Object.freeze([...keys].sort()),
    matches,
  });
}

/** Parses like parseCalicoSelector but returns undefined for an invalid selector, as Calico silently ignores one; never throws SelectorSyntaxError. */
export function tryParseCalicoSelector(source: string): CalicoSelector | undefined {
  try {
    return parseCalicoSelector(source);
  } catch (error) {
    if (error instanceof SelectorSyntaxError) {
      return undefined;
    }
    throw error;
  }
}

/** Renders `value` as a Calico string literal (single quotes, or double quotes if it holds a `'`); throws RangeError if it holds both quote characters, which Calico cannot express. */
export function quoteCalicoValue(value: string): string {
  if (!value.includes("'")) {
    return `'${value}'`;
  }
  if (!value.includes('"')) {
    return `"${value}"`;
  }
  throw new RangeError(
    `cannot quote ${JSON.stringify(value)} as a Calico string literal: it contains both ' and " and Calico strings have no escapes`,
  );
}

/** The Calico selector `all()`, which selects every resource. */
export const allCalicoSelector: CalicoSelector = parseCalicoSelector("all()");
