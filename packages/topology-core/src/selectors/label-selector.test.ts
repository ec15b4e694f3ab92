import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { parseLabelSelector } from "./label-selector.js";
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

describe("parseLabelSelector", () => {
  const matchRows: { name: string; selector: string; labels: Labels; wantMatch: boolean }[] = [
    {
      name: "the empty selector selects a node without labels",
      selector: "",
      labels: {},
      wantMatch: true,
    },
    {
      name: "the empty selector selects a labelled node",
      selector: "",
      labels: { a: "b" },
      wantMatch: true,
    },
    { name: "a blank selector is empty", selector: " \t\r\n", labels: { a: "b" }, wantMatch: true },
    { name: "a bare key requires the key", selector: "a", labels: { a: "x" }, wantMatch: true },
    {
      name: "a bare key accepts an empty value",
      selector: "a",
      labels: { a: "" },
      wantMatch: true,
    },
    {
      name: "a bare key rejects a node without it",
      selector: "a",
      labels: { b: "x" },
      wantMatch: false,
    },
    {
      name: "!key selects a node without the key",
      selector: "!a",
      labels: { b: "x" },
      wantMatch: true,
    },
    {
      name: "!key rejects a node with the key",
      selector: "!a",
      labels: { a: "" },
      wantMatch: false,
    },
    { name: "! may be followed by whitespace", selector: "! a", labels: {}, wantMatch: true },
    { name: "= compares the value", selector: "a=b", labels: { a: "b" }, wantMatch: true },
    { name: "= rejects another value", selector: "a=b", labels: { a: "c" }, wantMatch: false },
    { name: "= rejects an absent key", selector: "a=b", labels: {}, wantMatch: false },
    { name: "== is the same as =", selector: "a==b", labels: { a: "b" }, wantMatch: true },
    {
      name: "whitespace around operators is allowed",
      selector: " a == b ",
      labels: { a: "b" },
      wantMatch: true,
    },
    { name: "!= rejects the value", selector: "a!=b", labels: { a: "b" }, wantMatch: false },
    { name: "!= accepts another value", selector: "a!=b", labels: { a: "c" }, wantMatch: true },
    { name: "!= accepts an absent key", selector: "a!=b", labels: {}, wantMatch: true },
    {
      name: "= with no value means the empty value",
      selector: "a=",
      labels: { a: "" },
      wantMatch: true,
    },
    {
      name: "= with no value rejects a non-empty value",
      selector: "a=",
      labels: { a: "x" },
      wantMatch: false,
    },
    {
      name: "= with no value rejects an absent key",
      selector: "a=,b",
      labels: { b: "x" },
      wantMatch: false,
    },
    {
      name: "!= with no value accepts an absent key",
      selector: "a!=",
      labels: {},
      wantMatch: true,
    },
    {
      name: "in accepts a listed value",
      selector: "a in (b, c)",
      labels: { a: "c" },
      wantMatch: true,
    },
    {
      name: "in rejects an unlisted value",
      selector: "a in (b,c)",
      labels: { a: "d" },
      wantMatch: false,
    },
    { name: "in rejects an absent key", selector: "a in (b,c)", labels: {}, wantMatch: false },
    {
      name: "in with one value compares it",
      selector: "a in (b)",
      labels: { a: "b" },
      wantMatch: true,
    },
    {
      name: "in () means the empty value",
      selector: "a in ()",
      labels: { a: "" },
      wantMatch: true,
    },
    {
      name: "in () rejects a non-empty value",
      selector: "a in ()",
      labels: { a: "x" },
      wantMatch: false,
    },
    {
      name: "a trailing comma in a set adds the empty value",
      selector: "a in (b,)",
      labels: { a: "" },
      wantMatch: true,
    },
    {
      name: "a leading comma in a set adds the empty value",
      selector: "a in (,b)",
      labels: { a: "" },
      wantMatch: true,
    },
    {
      name: "an empty slot in a set adds the empty value",
      selector: "a in (b,,c)",
      labels: { a: "" },
      wantMatch: true,
    },
    {
      name: "notin rejects a listed value",
      selector: "a notin (b,c)",
      labels: { a: "b" },
      wantMatch: false,
    },
    {
      name: "notin accepts an unlisted value",
      selector: "a notin (b,c)",
      labels: { a: "d" },
      wantMatch: true,
    },
    { name: "notin accepts an absent key", selector: "a notin (b,c)", labels: {}, wantMatch: true },
    {
      name: "notin with one value accepts an absent key",
      selector: "a notin (b)",
      labels: {},
      wantMatch: true,
    },
    {
      name: "set parentheses need no surrounding whitespace",
      selector: "a in(b)",
      labels: { a: "b" },
      wantMatch: true,
    },
    {
      name: "in and notin are plain words as keys and values",
      selector: "in in (in,notin)",
      labels: { in: "notin" },
      wantMatch: true,
    },
    {
      name: "notin is a plain word as a key",
      selector: "notin notin (in)",
      labels: { notin: "x" },
      wantMatch: true,
    },
    {
      name: "in is a plain word as an exact value",
      selector: "a=in",
      labels: { a: "in" },
      wantMatch: true,
    },
    {
      name: "commas join requirements with AND (all hold)",
      selector: "a=1, b!=2, !c",
      labels: { a: "1", b: "3" },
      wantMatch: true,
    },
    {
      name: "commas join requirements with AND (one fails)",
      selector: "a=1,b!=2,!c",
      labels: { a: "1", c: "" },
      wantMatch: false,
    },
    {
      name: "four requirements must all hold",
      selector: "a,b,c,d",
      labels: { a: "", b: "", c: "", d: "" },
      wantMatch: true,
    },
    {
      name: "four requirements fail on the last",
      selector: "a,b,c,d",
      labels: { a: "", b: "", c: "" },
      wantMatch: false,
    },
    {
      name: "contradictory requirements select nothing",
      selector: "a=b,a=c",
      labels: { a: "b" },
      wantMatch: false,
    },
    {
      name: "a prefixed key is matched whole",
      selector: "topology.kubernetes.io/zone in (z1,z2)",
      labels: { "topology.kubernetes.io/zone": "z2" },
      wantMatch: true,
    },
    {
      name: "a key is matched case-sensitively",
      selector: "Zone=a",
      labels: { zone: "a" },
      wantMatch: false,
    },
    { name: "> accepts a larger integer", selector: "a>5", labels: { a: "6" }, wantMatch: true },
    { name: "> rejects an equal integer", selector: "a>5", labels: { a: "5" }, wantMatch: false },
    {
      name: "> rejects a non-integer value",
      selector: "a>5",
      labels: { a: "six" },
      wantMatch: false,
    },
    { name: "> rejects an absent key", selector: "a>5", labels: {}, wantMatch: false },
    {
      name: "> parses a signed label value like Go's ParseInt",
      selector: "a>5",
      labels: { a: "+6" },
      wantMatch: true,
    },
    {
      name: "> rejects a label value beyond int64",
      selector: "a>5",
      labels: { a: "9223372036854775808" },
      wantMatch: false,
    },
    {
      name: "> compares beyond 2^53 exactly",
      selector: "a>9007199254740992",
      labels: { a: "9007199254740993" },
      wantMatch: true,
    },
    {
      name: "< accepts a negative label value",
      selector: "a<0",
      labels: { a: "-1" },
      wantMatch: true,
    },
    {
      name: "< rejects a larger integer",
      selector: "a < 10",
      labels: { a: "10" },
      wantMatch: false,
    },
    {
      name: "an inherited object member is not a label",
      selector: "constructor",
      labels: {},
      wantMatch: false,
    },
    {
      name: "!key treats an inherited member as absent",
      selector: "!constructor",
      labels: {},
      wantMatch: true,
    },
    {
      name: "!= treats an inherited member as absent",
      selector: "toString!=x",
      labels: {},
      wantMatch: true,
    },
    {
      name: "in treats an inherited member as absent",
      selector: "toString in (a,b)",
      labels: {},
      wantMatch: false,
    },
    {
      name: "a label named like an inherited member is read",
      selector: "constructor=x",
      labels: { constructor: "x" },
      wantMatch: true,
    },
  ];
  it.each(matchRows)("$name", ({ selector, labels, wantMatch }) => {
    expect(parseLabelSelector(selector).matches(labels)).toBe(wantMatch);
  });

  const errorRows: { name: string; selector: string; wantPosition: number; wantProblem: string }[] =
    [
      {
        name: "two words without an operator",
        selector: "a b",
        wantPosition: 2,
        wantProblem: 'unexpected "b" after label key "a"',
      },
      {
        name: "a selector starting with an operator",
        selector: "=a",
        wantPosition: 0,
        wantProblem: 'unexpected "=" (expected a label key or "!")',
      },
      {
        name: "a selector starting with !=",
        selector: "!=a",
        wantPosition: 0,
        wantProblem: 'unexpected "!="',
      },
      {
        name: "a selector starting with a comma",
        selector: ",a",
        wantPosition: 0,
        wantProblem: 'unexpected ","',
      },
      {
        name: "a trailing comma",
        selector: "a,",
        wantPosition: 2,
        wantProblem: 'unexpected end of selector (expected a label key or "!" after ",")',
      },
      { name: "a doubled comma", selector: "a,,b", wantPosition: 2, wantProblem: 'unexpected ","' },
      {
        name: "a lone !",
        selector: "!",
        wantPosition: 1,
        wantProblem: 'expected a label key after "!"',
      },
      {
        name: "!key with an operator",
        selector: "!a=b",
        wantPosition: 2,
        wantProblem: 'unexpected "=" (expected "," or end of selector)',
      },
      {
        name: "in without a set",
        selector: "a in b",
        wantPosition: 5,
        wantProblem: 'unexpected "b" (expected "(" after "in")',
      },
      {
        name: "notin at the end",
        selector: "a notin",
        wantPosition: 7,
        wantProblem: "unexpected end of selector",
      },
      {
        name: "an unclosed set",
        selector: "a in (b",
        wantPosition: 7,
        wantProblem: 'unexpected end of selector (expected "," or ")")',
      },
      {
        name: "set values without a comma",
        selector: "a in (b c)",
        wantPosition: 8,
        wantProblem: 'unexpected "c" (expected "," or ")")',
      },
      {
        name: "an operator inside a set",
        selector: "a in (=)",
        wantPosition: 6,
        wantProblem: 'unexpected "=" (expected a value, "," or ")")',
      },
      {
        name: "a set closed twice",
        selector: "a in (b))",
        wantPosition: 8,
        wantProblem: 'unexpected ")"',
      },
      {
        name: "a parenthesis after =",
        selector: "a==(b)",
        wantPosition: 3,
        wantProblem: 'unexpected "(" (expected a value)',
      },
      { name: "a chained =", selector: "a=b=c", wantPosition: 3, wantProblem: 'unexpected "="' },
      {
        name: "a value followed by a word",
        selector: "a=b c",
        wantPosition: 4,
        wantProblem: 'unexpected "c" (expected "," or end of selector)',
      },
      {
        name: "a tripled =",
        selector: "a===b",
        wantPosition: 3,
        wantProblem: 'unexpected "=" (expected a value)',
      },
      {
        name: "!== is != followed by =",
        selector: "a!==b",
        wantPosition: 3,
        wantProblem: 'unexpected "="',
      },
      {
        name: "a leading parenthesis",
        selector: "(a)",
        wantPosition: 0,
        wantProblem: 'unexpected "("',
      },
      {
        name: "a comma then !",
        selector: "a=b,!",
        wantPosition: 5,
        wantProblem: 'expected a label key after "!"',
      },
      {
        name: "an uppercase key prefix",
        selector: "Example.com/zone=a",
        wantPosition: 0,
        wantProblem: 'invalid label key "Example.com/zone": prefix part',
      },
      {
        name: "an invalid key after !",
        selector: "!-a",
        wantPosition: 1,
        wantProblem: 'invalid label key "-a"',
      },
      {
        name: "an invalid key in the second requirement",
        selector: "a, b/c/d",
        wantPosition: 3,
        wantProblem: 'invalid label key "b/c/d"',
      },
      {
        name: "an overlong key",
        selector: `${"k".repeat(64)}=v`,
        wantPosition: 0,
        wantProblem: "name part must be no more than 63 characters",
      },
      {
        name: "a quoted value is not a valid value",
        selector: "a='b'",
        wantPosition: 2,
        wantProblem: `invalid label value "'b'" for key "a"`,
      },
      {
        name: "an invalid value",
        selector: "a = b_",
        wantPosition: 4,
        wantProblem: 'invalid label value "b_" for key "a": must be empty or consist of',
      },
      {
        name: "an invalid value inside a set",
        selector: "a in (x,-y)",
        wantPosition: 8,
        wantProblem: 'invalid label value "-y" for key "a"',
      },
      {
        name: "an overlong value",
        selector: `a=${"v".repeat(64)}`,
        wantPosition: 2,
        wantProblem: "must be no more than 63 characters",
      },
      {
        name: "a non-integer > operand",
        selector: "a>x",
        wantPosition: 2,
        wantProblem: 'value "x" for ">" must be a 64-bit decimal integer',
      },
      {
        name: "a missing > operand",
        selector: "a>",
        wantPosition: 2,
        wantProblem: 'value "" for ">" must be a 64-bit decimal integer',
      },
      {
        name: "a missing < operand before a comma",
        selector: "a<,b",
        wantPosition: 2,
        wantProblem: 'value "" for "<"',
      },
      {
        name: "a > operand beyond int64",
        selector: "a>9223372036854775808",
        wantPosition: 2,
        wantProblem: "must be a 64-bit decimal integer",
      },
      {
        name: "a negative > operand, which is not a valid label value",
        selector: "a>-5",
        wantPosition: 2,
        wantProblem: 'invalid label value "-5"',
      },
      {
        name: "a >= operator, which Kubernetes does not have",
        selector: "a>=5",
        wantPosition: 2,
        wantProblem: 'unexpected "=" (expected a value)',
      },
      {
        name: "a Calico-style selector",
        selector: "a == 'b'",
        wantPosition: 5,
        wantProblem: `invalid label value "'b'"`,
      },
    ];
  it.each(errorRows)("rejects $name", ({ selector, wantPosition, wantProblem }) => {
    const error = syntaxError(() => parseLabelSelector(selector));
    expect(error.source).toBe(selector);
    expect(error.position).toBe(wantPosition);
    expect(error.problem).toContain(wantProblem);
    expect(error.message).toBe(
      `${error.problem} at position ${wantPosition} in ${JSON.stringify(selector)}`,
    );
  });

  it("reports the source it was parsed from", () => {
    expect(parseLabelSelector(" a = b ").source).toBe(" a = b ");
  });

  it("lists every key it reads, sorted and deduplicated", () => {
    expect(parseLabelSelector("b, a=1, !c, a in (x), z.io/d notin (y), e>1").keys).toEqual([
      "a",
      "b",
      "c",
      "e",
      "z.io/d",
    ]);
  });

  it("lists no keys for the empty selector", () => {
    expect(parseLabelSelector("").keys).toEqual([]);
  });

  it("returns a matcher that works detached from the selector object", () => {
    const { matches } = parseLabelSelector("a=b");
    expect([{ a: "b" }, { a: "c" }].filter(matches)).toEqual([{ a: "b" }]);
  });

  it("returns a frozen selector", () => {
    const selector = parseLabelSelector("a,b");
    expect(Object.isFrozen(selector)).toBe(true);
    expect(Object.isFrozen(selector.keys)).toBe(true);
  });

  const labelValue = fc.stringMatching(/^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,8}[A-Za-z0-9])?)?$/);
  const labelMap = fc.dictionary(fc.constantFrom("k", "j", "x.io/k"), labelValue);

  it("selects a node whose label equals the value, and != is the negation of =", () => {
    fc.assert(
      fc.property(labelValue, labelMap, (value, labels) => {
        const equals = parseLabelSelector(`k=${value}`);
        const notEquals = parseLabelSelector(`k != ${value}`);
        expect(equals.matches({ ...labels, k: value })).toBe(true);
        expect(notEquals.matches(labels)).toBe(!equals.matches(labels));
      }),
    );
  });

  it("treats in as a disjunction of = and notin as its negation", () => {
    fc.assert(
      fc.property(
        fc.array(labelValue, { minLength: 1, maxLength: 4 }),
        labelMap,
        (values, labels) => {
          const inSet = parseLabelSelector(`k in (${values.join(",")})`);
          const notInSet = parseLabelSelector(`k notin (${values.join(", ")})`);
          const anyEqual = values.some((value) =>
            parseLabelSelector(`k==${value}`).matches(labels),
          );
          expect(inSet.matches(labels)).toBe(anyEqual);
          expect(notInSet.matches(labels)).toBe(!anyEqual);
        },
      ),
    );
  });
});
