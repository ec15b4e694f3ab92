import fc from "fast-check";
import { describe, expect, it } from "vitest";

import {
  allCalicoSelector,
  parseCalicoSelector,
  quoteCalicoValue,
  tryParseCalicoSelector,
} from "./calico-selector.js";
import { SelectorSyntaxError } from "./selector-syntax-error.js";

type Labels = Record<string, string>;

function syntaxError(run: () => unknown): SelectorSyntaxError {
  try {
    run();
  } catch (error) {
    if (error instanceof SelectorSyntaxError) {
      return error;
    }
    throw error;
  }
  throw new Error("expected a SelectorSyntaxError");
}

describe("parseCalicoSelector", () => {
  const matchRows: { name: string; selector: string; labels: Labels; wantMatch: boolean }[] = [
    { name: "the empty selector means all()", selector: "", labels: {}, wantMatch: true },
    { name: "a blank selector means all()", selector: " \t ", labels: { a: "b" }, wantMatch: true },
    { name: "all() selects a node without labels", selector: "all()", labels: {}, wantMatch: true },
    {
      name: "all() may have blanks inside",
      selector: "all( )",
      labels: { a: "b" },
      wantMatch: true,
    },
    { name: "!all() selects nothing", selector: "!all()", labels: {}, wantMatch: false },
    {
      name: "has() selects a node with the key",
      selector: "has(a)",
      labels: { a: "" },
      wantMatch: true,
    },
    {
      name: "has() rejects a node without the key",
      selector: "has(a)",
      labels: { b: "x" },
      wantMatch: false,
    },
    {
      name: "has() may have blanks inside",
      selector: "has( a\t)",
      labels: { a: "x" },
      wantMatch: true,
    },
    {
      name: "!has() selects a node without the key",
      selector: "!has(a)",
      labels: {},
      wantMatch: true,
    },
    {
      name: "!has() rejects a node with the key",
      selector: "!has(a)",
      labels: { a: "x" },
      wantMatch: false,
    },
    { name: "!! cancels out", selector: "!!has(a)", labels: { a: "x" }, wantMatch: true },
    {
      name: "! may be separated by blanks",
      selector: "! ! ! has(a)",
      labels: { a: "x" },
      wantMatch: false,
    },
    {
      name: "== with single quotes compares the value",
      selector: "a == 'b'",
      labels: { a: "b" },
      wantMatch: true,
    },
    {
      name: "== with double quotes compares the value",
      selector: 'a == "b"',
      labels: { a: "b" },
      wantMatch: true,
    },
    { name: "== needs no blanks", selector: "a=='b'", labels: { a: "b" }, wantMatch: true },
    {
      name: "== rejects another value",
      selector: "a == 'b'",
      labels: { a: "c" },
      wantMatch: false,
    },
    { name: "== rejects an absent key", selector: "a == 'b'", labels: {}, wantMatch: false },
    {
      name: "== '' selects the empty value",
      selector: "a == ''",
      labels: { a: "" },
      wantMatch: true,
    },
    { name: "== '' rejects an absent key", selector: "a == ''", labels: {}, wantMatch: false },
    { name: "!= rejects the value", selector: "a != 'b'", labels: { a: "b" }, wantMatch: false },
    { name: "!= selects another value", selector: "a != 'b'", labels: { a: "c" }, wantMatch: true },
    {
      name: "!= selects a node without the key",
      selector: "a != 'b'",
      labels: {},
      wantMatch: true,
    },
    {
      name: "! negates a comparison, so an absent key passes",
      selector: "!a == 'b'",
      labels: {},
      wantMatch: true,
    },
    {
      name: "in selects a listed value",
      selector: "a in {'x', 'y'}",
      labels: { a: "y" },
      wantMatch: true,
    },
    {
      name: "in rejects an unlisted value",
      selector: "a in {'x','y'}",
      labels: { a: "z" },
      wantMatch: false,
    },
    { name: "in rejects an absent key", selector: "a in {'x','y'}", labels: {}, wantMatch: false },
    {
      name: "in with one value compares it",
      selector: "a in {'x'}",
      labels: { a: "x" },
      wantMatch: true,
    },
    { name: "in {} selects nothing", selector: "a in {}", labels: { a: "" }, wantMatch: false },
    {
      name: "in accepts a trailing comma, as Calico does",
      selector: "a in {'x',}",
      labels: { a: "x" },
      wantMatch: true,
    },
    {
      name: "in needs no blank before the set",
      selector: "a in{'x'}",
      labels: { a: "x" },
      wantMatch: true,
    },
    {
      name: "in mixes quote styles",
      selector: `a in {"it's", 'say "hi"'}`,
      labels: { a: 'say "hi"' },
      wantMatch: true,
    },
    {
      name: "not in rejects a listed value",
      selector: "a not in {'x','y'}",
      labels: { a: "x" },
      wantMatch: false,
    },
    {
      name: "not in selects an unlisted value",
      selector: "a not in {'x','y'}",
      labels: { a: "z" },
      wantMatch: true,
    },
    {
      name: "not in selects a node without the key",
      selector: "a not in {'x','y'}",
      labels: {},
      wantMatch: true,
    },
    {
      name: "not in with one value selects an absent key",
      selector: "a not in {'x'}",
      labels: {},
      wantMatch: true,
    },
    {
      name: "not in {} selects everything",
      selector: "a not in {}",
      labels: { a: "x" },
      wantMatch: true,
    },
    {
      name: "notin is accepted, as Calico matches operator words as prefixes",
      selector: "a notin {'x'}",
      labels: { a: "y" },
      wantMatch: true,
    },
    {
      name: "contains selects a substring",
      selector: "a contains 'ell'",
      labels: { a: "hello" },
      wantMatch: true,
    },
    {
      name: "contains rejects a missing substring",
      selector: "a contains 'z'",
      labels: { a: "hello" },
      wantMatch: false,
    },
    {
      name: "contains rejects an absent key",
      selector: "a contains ''",
      labels: {},
      wantMatch: false,
    },
    {
      name: "contains '' selects any present value",
      selector: "a contains ''",
      labels: { a: "" },
      wantMatch: true,
    },
    {
      name: "starts with selects a prefix",
      selector: "a starts with 'he'",
      labels: { a: "hello" },
      wantMatch: true,
    },
    {
      name: "starts with rejects a non-prefix",
      selector: "a starts with 'lo'",
      labels: { a: "hello" },
      wantMatch: false,
    },
    {
      name: "starts with rejects an absent key",
      selector: "a starts with ''",
      labels: {},
      wantMatch: false,
    },
    {
      name: "starts  with allows several blanks",
      selector: "a starts \t with 'h'",
      labels: { a: "hello" },
      wantMatch: true,
    },
    {
      name: "startswith is accepted, as in Calico",
      selector: "a startswith 'h'",
      labels: { a: "hello" },
      wantMatch: true,
    },
    {
      name: "ends with selects a suffix",
      selector: "a ends with 'lo'",
      labels: { a: "hello" },
      wantMatch: true,
    },
    {
      name: "ends with rejects a non-suffix",
      selector: "a ends with 'he'",
      labels: { a: "hello" },
      wantMatch: false,
    },
    {
      name: "ends with rejects an absent key",
      selector: "a ends with ''",
      labels: {},
      wantMatch: false,
    },
    {
      name: "&& needs both sides",
      selector: "has(a) && has(b)",
      labels: { a: "" },
      wantMatch: false,
    },
    {
      name: "&& selects when both hold",
      selector: "has(a)&&has(b)",
      labels: { a: "", b: "" },
      wantMatch: true,
    },
    {
      name: "|| needs either side",
      selector: "has(a) || has(b)",
      labels: { b: "" },
      wantMatch: true,
    },
    {
      name: "|| rejects when neither holds",
      selector: "has(a)||has(b)",
      labels: { c: "" },
      wantMatch: false,
    },
    {
      name: "&& binds tighter than || (left operand holds)",
      selector: "has(a) || has(b) && has(c)",
      labels: { a: "" },
      wantMatch: true,
    },
    {
      name: "&& binds tighter than || (right conjunction fails)",
      selector: "has(a) || has(b) && has(c)",
      labels: { b: "" },
      wantMatch: false,
    },
    {
      name: "&& binds tighter than || on the left too",
      selector: "has(a) && has(b) || has(c)",
      labels: { c: "" },
      wantMatch: true,
    },
    {
      name: "parentheses override precedence",
      selector: "(has(a) || has(b)) && has(c)",
      labels: { a: "" },
      wantMatch: false,
    },
    {
      name: "! binds tighter than &&",
      selector: "!has(a) && has(b)",
      labels: { b: "" },
      wantMatch: true,
    },
    {
      name: "! applies to a parenthesised expression",
      selector: "!(has(a) && has(b))",
      labels: { a: "", b: "" },
      wantMatch: false,
    },
    { name: "nested parentheses", selector: "((has(a)))", labels: { a: "" }, wantMatch: true },
    {
      name: "a chain of || holds when the last operand holds",
      selector: "has(a) || has(b) || has(c) || has(d)",
      labels: { d: "" },
      wantMatch: true,
    },
    {
      name: "a chain of && fails when the last operand fails",
      selector: "has(a) && has(b) && has(c) && has(d)",
      labels: { a: "", b: "", c: "" },
      wantMatch: false,
    },
    {
      name: "keys may contain '/', '.', '-' and '_'",
      selector: "projectcalico.org/route-reflector_x == 'true'",
      labels: { "projectcalico.org/route-reflector_x": "true" },
      wantMatch: true,
    },
    {
      name: "keys may start with a digit",
      selector: "1a == 'x'",
      labels: { "1a": "x" },
      wantMatch: true,
    },
    {
      name: "all without parentheses is a key",
      selector: "all == 'x'",
      labels: { all: "x" },
      wantMatch: true,
    },
    {
      name: "has without an adjacent parenthesis is a key",
      selector: "has == 'x'",
      labels: { has: "x" },
      wantMatch: true,
    },
    {
      name: "an operator word at the start is a key",
      selector: "contains in {'x'}",
      labels: { contains: "x" },
      wantMatch: true,
    },
    {
      name: "string literals may hold operators and blanks",
      selector: "a == 'x && y || (z)'",
      labels: { a: "x && y || (z)" },
      wantMatch: true,
    },
    {
      name: "string literals may hold a newline",
      selector: "a == 'x\ny'",
      labels: { a: "x\ny" },
      wantMatch: true,
    },
    {
      name: "values are compared case-sensitively",
      selector: "a == 'B'",
      labels: { a: "b" },
      wantMatch: false,
    },
    {
      name: "an inherited object member is not a label for has()",
      selector: "has(constructor)",
      labels: {},
      wantMatch: false,
    },
    {
      name: "an inherited object member is absent for !=",
      selector: "constructor != 'x'",
      labels: {},
      wantMatch: true,
    },
    {
      name: "an inherited object member is absent for contains",
      selector: "toString contains ''",
      labels: {},
      wantMatch: false,
    },
    {
      name: "an inherited object member is absent for not in",
      selector: "toString not in {'a', 'b'}",
      labels: {},
      wantMatch: true,
    },
    {
      name: "__proto__ is absent on an ordinary object",
      selector: "has(__proto__)",
      labels: {},
      wantMatch: false,
    },
    {
      name: "an own __proto__ label is read",
      selector: "__proto__ == 'x'",
      labels: JSON.parse('{"__proto__": "x"}') as Labels,
      wantMatch: true,
    },
  ];
  it.each(matchRows)("$name", ({ selector, labels, wantMatch }) => {
    expect(parseCalicoSelector(selector).matches(labels)).toBe(wantMatch);
  });

  const errorRows: { name: string; selector: string; wantPosition: number; wantProblem: string }[] =
    [
      {
        name: "a key alone",
        selector: "a",
        wantPosition: 1,
        wantProblem: 'unexpected end of selector after label "a"',
      },
      {
        name: "a single =",
        selector: "a = 'b'",
        wantPosition: 2,
        wantProblem: 'unexpected "=" (expected "==")',
      },
      {
        name: "an unquoted value",
        selector: "a == b",
        wantPosition: 5,
        wantProblem: 'unexpected "b" (expected a quoted string after "==")',
      },
      {
        name: "an unterminated string",
        selector: "a == 'b",
        wantPosition: 5,
        wantProblem: "unterminated string literal",
      },
      {
        name: "an unterminated double-quoted string",
        selector: `a == "b'`,
        wantPosition: 5,
        wantProblem: "unterminated string literal",
      },
      {
        name: "a single &",
        selector: "has(a) & has(b)",
        wantPosition: 7,
        wantProblem: 'unexpected "&" (expected "&&")',
      },
      {
        name: "a single |",
        selector: "has(a) | has(b)",
        wantPosition: 7,
        wantProblem: 'unexpected "|" (expected "||")',
      },
      {
        name: "a dangling &&",
        selector: "a == 'b' && ",
        wantPosition: 12,
        wantProblem: "unexpected end of selector (expected a label, has(), all()",
      },
      {
        name: "a doubled &&",
        selector: "a == 'b' && && has(c)",
        wantPosition: 12,
        wantProblem: 'unexpected "&&"',
      },
      {
        name: "a leading ||",
        selector: "|| has(a)",
        wantPosition: 0,
        wantProblem: 'unexpected "||"',
      },
      {
        name: "an unclosed has(",
        selector: "has(a",
        wantPosition: 5,
        wantProblem: 'expected ")" to close "has("',
      },
      {
        name: "has() without a key",
        selector: "has()",
        wantPosition: 4,
        wantProblem: 'unexpected ")" (expected a label key after "has(")',
      },
      {
        name: "has() with two keys",
        selector: "has(a b)",
        wantPosition: 6,
        wantProblem: 'unexpected "b" (expected ")" to close "has("',
      },
      {
        name: "has with a blank before the parenthesis, which Calico reads as a key",
        selector: "has (a)",
        wantPosition: 4,
        wantProblem: 'unexpected "(" after label "has"',
      },
      {
        name: "all() with an argument",
        selector: "all(x)",
        wantPosition: 4,
        wantProblem: 'unexpected "x" (expected ")" after "all(")',
      },
      {
        name: "all without parentheses",
        selector: "all",
        wantPosition: 3,
        wantProblem: 'unexpected end of selector after label "all"',
      },
      {
        name: "global()",
        selector: "global()",
        wantPosition: 0,
        wantProblem: "global() is not supported in node selectors",
      },
      {
        name: "a negated global() inside an expression",
        selector: "has(a) || !global()",
        wantPosition: 11,
        wantProblem: "global() is not supported",
      },
      {
        name: "an unclosed global(",
        selector: "global(",
        wantPosition: 7,
        wantProblem: 'expected ")" after "global("',
      },
      {
        name: "an unclosed parenthesis",
        selector: "(has(a)",
        wantPosition: 7,
        wantProblem:
          'unexpected end of selector (expected "&&", "||" or ")" to close "(" at position 0)',
      },
      {
        name: "an extra closing parenthesis",
        selector: "has(a))",
        wantPosition: 6,
        wantProblem: 'unexpected ")" (expected "&&", "||" or end of selector)',
      },
      { name: "empty parentheses", selector: "()", wantPosition: 1, wantProblem: 'unexpected ")"' },
      {
        name: "two expressions without an operator",
        selector: "has(a) has(b)",
        wantPosition: 7,
        wantProblem: 'unexpected "has(b)"',
      },
      {
        name: "a word after a comparison",
        selector: "a == 'b' c",
        wantPosition: 9,
        wantProblem: 'unexpected "c" (expected "&&", "||" or end of selector)',
      },
      {
        name: "in without a set",
        selector: "a in 'x'",
        wantPosition: 5,
        wantProblem: `unexpected "'x'" (expected "{" after "in")`,
      },
      {
        name: "not in without a set",
        selector: "a not in ('x')",
        wantPosition: 9,
        wantProblem: 'expected "{" after "not in"',
      },
      {
        name: "set values without a comma",
        selector: "a in {'x' 'y'}",
        wantPosition: 10,
        wantProblem: `unexpected "'y'" (expected "," or "}")`,
      },
      {
        name: "a set of only a comma",
        selector: "a in {,}",
        wantPosition: 6,
        wantProblem: 'unexpected "," (expected a quoted string or "}")',
      },
      {
        name: "a doubled comma in a set",
        selector: "a in {'x',,}",
        wantPosition: 10,
        wantProblem: 'unexpected ","',
      },
      {
        name: "an unclosed set",
        selector: "a in {'x'",
        wantPosition: 9,
        wantProblem: 'unexpected end of selector (expected "," or "}")',
      },
      {
        name: "an unquoted set value",
        selector: "a in {x}",
        wantPosition: 6,
        wantProblem: 'unexpected "x" (expected a quoted string or "}")',
      },
      {
        name: "starts without with",
        selector: "a starts 'x'",
        wantPosition: 9,
        wantProblem: `unexpected "'" after "starts" (expected "with")`,
      },
      {
        name: "ends without with",
        selector: "a ends",
        wantPosition: 6,
        wantProblem: 'unexpected end of selector after "ends" (expected "with")',
      },
      {
        name: "not without in",
        selector: "a not {'x'}",
        wantPosition: 6,
        wantProblem: 'after "not" (expected "in")',
      },
      {
        name: "two keys in a row",
        selector: "a b == 'c'",
        wantPosition: 2,
        wantProblem: 'unexpected "b" after label "a" (expected "==", "!="',
      },
      {
        name: "an unknown operator character",
        selector: "a ~ 'b'",
        wantPosition: 2,
        wantProblem: 'unexpected "~" after label "a"',
      },
      {
        name: "a Kubernetes-style set",
        selector: "a in (x)",
        wantPosition: 5,
        wantProblem: 'unexpected "(" (expected "{" after "in")',
      },
      {
        name: "a Kubernetes-style comma",
        selector: "has(a), has(b)",
        wantPosition: 6,
        wantProblem: 'unexpected ","',
      },
      {
        name: "an unknown character",
        selector: "@",
        wantPosition: 0,
        wantProblem: 'unexpected "@"',
      },
      {
        name: "a non-ASCII key",
        selector: "zoné == 'a'",
        wantPosition: 3,
        wantProblem: 'unexpected "é" after label "zon"',
      },
      {
        name: "an astral character",
        selector: "😀",
        wantPosition: 0,
        wantProblem: 'unexpected "😀"',
      },
      {
        name: "a trailing newline, which Calico does not treat as whitespace",
        selector: "has(a)\n",
        wantPosition: 6,
        wantProblem: 'unexpected "\\n"',
      },
      {
        name: "a lone !",
        selector: "!",
        wantPosition: 1,
        wantProblem: "unexpected end of selector",
      },
      {
        name: "a lone operator",
        selector: "== 'a'",
        wantPosition: 0,
        wantProblem: 'unexpected "=="',
      },
      {
        name: "a comparison with no value",
        selector: "a contains",
        wantPosition: 10,
        wantProblem: 'unexpected end of selector (expected a quoted string after "contains")',
      },
      {
        name: "a set literal alone",
        selector: "{'a'}",
        wantPosition: 0,
        wantProblem: 'unexpected "{"',
      },
    ];
  it.each(errorRows)("rejects $name", ({ selector, wantPosition, wantProblem }) => {
    const error = syntaxError(() => parseCalicoSelector(selector));
    expect(error.source).toBe(selector);
    expect(error.position).toBe(wantPosition);
    expect(error.problem).toContain(wantProblem);
    expect(error.message).toBe(
      `${error.problem} at position ${wantPosition} in ${JSON.stringify(selector)}`,
    );
    expect(error.message).not.toContain("\n");
  });

  const keyRows: { name: string; selector: string; wantKeys: string[] }[] = [
    { name: "the empty selector reads no keys", selector: "", wantKeys: [] },
    { name: "all() reads no keys", selector: "all()", wantKeys: [] },
    {
      name: "every operator's key is listed",
      selector:
        "has(h) && e == 'x' && n != 'x' && i in {} && o not in {'x'} && c contains 'x' && s starts with 'x' && f ends with 'x'",
      wantKeys: ["c", "e", "f", "h", "i", "n", "o", "s"],
    },
    {
      name: "keys are sorted and deduplicated",
      selector: "has(b) && a == 'x' || !(c in {'y'}) && b != 'z'",
      wantKeys: ["a", "b", "c"],
    },
    {
      name: "keys are listed whole",
      selector: "projectcalico.org/rr == 'x' || has(kubernetes.io/hostname)",
      wantKeys: ["kubernetes.io/hostname", "projectcalico.org/rr"],
    },
  ];
  it.each(keyRows)("$name", ({ selector, wantKeys }) => {
    expect(parseCalicoSelector(selector).keys).toEqual(wantKeys);
  });

  it("reports the source it was parsed from", () => {
    expect(parseCalicoSelector(" has(a) ").source).toBe(" has(a) ");
  });

  it("returns a matcher that works detached from the selector object", () => {
    const { matches } = parseCalicoSelector("a == 'b'");
    expect([{ a: "b" }, { a: "c" }].filter(matches)).toEqual([{ a: "b" }]);
  });

  it("returns a frozen selector", () => {
    const selector = parseCalicoSelector("has(a)");
    expect(Object.isFrozen(selector)).toBe(true);
    expect(Object.isFrozen(selector.keys)).toBe(true);
  });
});

describe("tryParseCalicoSelector", () => {
  it("returns the selector for a valid string", () => {
    expect(tryParseCalicoSelector("has(a)")?.matches({ a: "x" })).toBe(true);
  });

  it("returns undefined for a syntax error, as Calico ignores invalid selectors", () => {
    expect(tryParseCalicoSelector("a = 'b'")).toBeUndefined();
  });

  it("returns undefined for global()", () => {
    expect(tryParseCalicoSelector("global()")).toBeUndefined();
  });

  it("treats the empty string as all()", () => {
    expect(tryParseCalicoSelector("")?.matches({})).toBe(true);
  });
});

describe("allCalicoSelector", () => {
  it("is all(), reading no keys and selecting anything", () => {
    expect(allCalicoSelector.source).toBe("all()");
    expect(allCalicoSelector.keys).toEqual([]);
    expect(allCalicoSelector.matches({})).toBe(true);
    expect(allCalicoSelector.matches({ a: "b" })).toBe(true);
  });
});

describe("quoteCalicoValue", () => {
  const rows: { name: string; value: string; wantLiteral: string }[] = [
    { name: "a plain value gets single quotes", value: "rack-1", wantLiteral: "'rack-1'" },
    { name: "the empty value gets single quotes", value: "", wantLiteral: "''" },
    {
      name: "a value with a double quote gets single quotes",
      value: 'say "hi"',
      wantLiteral: `'say "hi"'`,
    },
    {
      name: "a value with a single quote gets double quotes",
      value: "it's",
      wantLiteral: `"it's"`,
    },
    {
      name: "a value with operators and blanks is kept verbatim",
      value: "a && b || !c",
      wantLiteral: "'a && b || !c'",
    },
  ];
  it.each(rows)("$name", ({ value, wantLiteral }) => {
    expect(quoteCalicoValue(value)).toBe(wantLiteral);
  });

  it.each(rows)("round-trips through parseCalicoSelector: $name", ({ value }) => {
    const quoted = quoteCalicoValue(value);
    expect(parseCalicoSelector(`k == ${quoted}`).matches({ k: value })).toBe(true);
    expect(parseCalicoSelector(`k in {${quoted}, 'other'}`).matches({ k: value })).toBe(true);
    expect(parseCalicoSelector(`k != ${quoted}`).matches({ k: value })).toBe(false);
  });

  it("throws a RangeError for a value holding both quote characters", () => {
    expect(() => quoteCalicoValue(`it's "x"`)).toThrow(RangeError);
    expect(() => quoteCalicoValue(`it's "x"`)).toThrow(/both ' and "/);
  });
});

describe("parseCalicoSelector properties", () => {
  const quotable = fc
    .string({ unit: "binary", maxLength: 12 })
    .filter((value) => !(value.includes("'") && value.includes('"')));
  const labelKey = fc.constantFrom("k", "j", "x.io/k");
  const labelMap = fc.dictionary(labelKey, fc.oneof(quotable, fc.constantFrom("", "x", "'", '"')));

  it("selects a node whose label equals a quoted value, and != is the negation of ==", () => {
    fc.assert(
      fc.property(quotable, labelMap, (value, labels) => {
        const equals = parseCalicoSelector(`k == ${quoteCalicoValue(value)}`);
        const notEquals = parseCalicoSelector(`k != ${quoteCalicoValue(value)}`);
        expect(equals.matches({ ...labels, k: value })).toBe(true);
        expect(notEquals.matches({ ...labels, k: value })).toBe(false);
        expect(notEquals.matches(labels)).toBe(!equals.matches(labels));
      }),
    );
  });

  it("round-trips values through contains, starts with and ends with", () => {
    fc.assert(
      fc.property(quotable, quotable, quotable, (before, value, after) => {
        const labels = { k: `${before}${value}${after}` };
        const quoted = quoteCalicoValue(value);
        expect(parseCalicoSelector(`k contains ${quoted}`).matches(labels)).toBe(true);
        expect(
          parseCalicoSelector(`k starts with ${quoteCalicoValue(before + value)}`).matches(labels),
        ).toBe(true);
        expect(
          parseCalicoSelector(`k ends with ${quoteCalicoValue(value + after)}`).matches(labels),
        ).toBe(true);
      }),
    );
  });

  type Expr =
    | { readonly op: "all" }
    | { readonly op: "has"; readonly key: string }
    | {
        readonly op: "==" | "!=" | "contains" | "starts with" | "ends with";
        readonly key: string;
        readonly value: string;
      }
    | { readonly op: "in" | "not in"; readonly key: string; readonly values: readonly string[] }
    | { readonly op: "!"; readonly operand: Expr }
    | { readonly op: "&&" | "||"; readonly operands: readonly Expr[] };

  /** A straightforward reference evaluator, independent of the compiled closures. */
  function evaluate(expr: Expr, labels: Labels): boolean {
    const present = Object.hasOwn(labels, "key" in expr ? expr.key : "");
    const actual = "key" in expr && present ? labels[expr.key] : undefined;
    switch (expr.op) {
      case "all":
        return true;
      case "has":
        return present;
      case "==":
        return actual === expr.value;
      case "!=":
        return actual !== expr.value;
      case "contains":
        return actual !== undefined && actual.includes(expr.value);
      case "starts with":
        return actual !== undefined && actual.startsWith(expr.value);
      case "ends with":
        return actual !== undefined && actual.endsWith(expr.value);
      case "in":
        return actual !== undefined && expr.values.includes(actual);
      case "not in":
        return actual === undefined || !expr.values.includes(actual);
      case "!":
        return !evaluate(expr.operand, labels);
      case "&&":
        return expr.operands.every((operand) => evaluate(operand, labels));
      case "||":
        return expr.operands.some((operand) => evaluate(operand, labels));
    }
  }

  /** Blanks to put between tokens: `symbol` around punctuation and symbolic operators (may be empty), `word` around word operators. */
  interface Gaps {
    readonly symbol: string;
    readonly word: string;
  }
  const singleSpaces: Gaps = { symbol: " ", word: " " };

  /** Renders with the fewest parentheses the precedence (! over && over ||) allows. */
  function render(expr: Expr, context: 0 | 1 | 2, gaps: Gaps = singleSpaces): string {
    const { symbol: s, word: w } = gaps;
    switch (expr.op) {
      case "all":
        return `all(${s})`;
      case "has":
        return `has(${s}${expr.key}${s})`;
      case "==":
      case "!=":
        return `${expr.key}${s}${expr.op}${s}${quoteCalicoValue(expr.value)}`;
      case "contains":
      case "starts with":
      case "ends with":
        return `${expr.key}${w}${expr.op.replace(" ", w)}${s}${quoteCalicoValue(expr.value)}`;
      case "in":
      case "not in": {
        const values = expr.values.map(quoteCalicoValue).join(`${s},${s}`);
        return `${expr.key}${w}${expr.op.replace(" ", w)}${s}{${s}${values}${s}}`;
      }
      case "!":
        return `!${s}${render(expr.operand, 2, gaps)}`;
      case "&&": {
        const text = expr.operands.map((operand) => render(operand, 1, gaps)).join(`${s}&&${s}`);
        return context > 1 ? `(${s}${text}${s})` : text;
      }
      case "||": {
        const text = expr.operands.map((operand) => render(operand, 0, gaps)).join(`${s}||${s}`);
        return context > 0 ? `(${s}${text}${s})` : text;
      }
    }
  }

  const key = fc.constantFrom("a", "b", "c");
  const value = fc.constantFrom("", "x", "y", "x y", "it's", 'say "x"');
  const { expr } = fc.letrec<{ expr: Expr; atom: Expr }>((tie) => ({
    atom: fc.oneof(
      fc.constant<Expr>({ op: "all" }),
      key.map((k): Expr => ({ op: "has", key: k })),
      fc
        .record({
          op: fc.constantFrom("==", "!=", "contains", "starts with", "ends with"),
          key,
          value,
        })
        .map((r): Expr => r),
      fc
        .record({
          op: fc.constantFrom("in", "not in"),
          key,
          values: fc.array(value, { maxLength: 3 }),
        })
        .map((r): Expr => r),
    ),
    expr: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      tie("atom"),
      tie("expr").map((operand): Expr => ({ op: "!", operand })),
      fc
        .record({
          op: fc.constantFrom("&&", "||"),
          operands: fc.array(tie("expr"), { minLength: 2, maxLength: 4 }),
        })
        .map((r): Expr => r),
    ),
  }));
  const labels = fc.dictionary(key, value);

  it("agrees with a reference evaluator on random expressions rendered with minimal parentheses", () => {
    fc.assert(
      fc.property(expr, fc.array(labels, { minLength: 1, maxLength: 5 }), (tree, labelSets) => {
        const selector = parseCalicoSelector(render(tree, 0));
        for (const set of labelSets) {
          expect(selector.matches(set)).toBe(evaluate(tree, set));
        }
      }),
    );
  });

  const blanks = fc.constantFrom(" ", "\t", "  ", " \t ");
  const gaps = fc.record({ symbol: fc.oneof(fc.constant(""), blanks), word: blanks });

  it("reads any spacing the same: none around symbols, any blanks around words", () => {
    fc.assert(
      fc.property(expr, gaps, blanks, labels, (tree, gap, edge, set) => {
        const selector = parseCalicoSelector(`${edge}${render(tree, 0, gap)}${edge}`);
        expect(selector.matches(set)).toBe(evaluate(tree, set));
      }),
    );
  });
});
