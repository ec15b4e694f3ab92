import { describe, expect, it } from "vitest";

import { SelectorSyntaxError } from "./selector-syntax-error.js";

describe("SelectorSyntaxError", () => {
  it("carries the source, the position and the bare problem", () => {
    const error = new SelectorSyntaxError('unexpected "&&"', "a == 'b' && && c", 12);
    expect(error.source).toBe("a == 'b' && && c");
    expect(error.position).toBe(12);
    expect(error.problem).toBe('unexpected "&&"');
  });

  it("renders a one-line message naming the problem, the position and the quoted source", () => {
    const error = new SelectorSyntaxError('unexpected "&&"', "a == 'b' && && c", 12);
    expect(error.message).toBe(`unexpected "&&" at position 12 in "a == 'b' && && c"`);
  });

  it("keeps the message on one line even when the source spans lines", () => {
    const error = new SelectorSyntaxError("unexpected end of selector", "a ==\n", 5);
    expect(error.message).not.toContain("\n");
    expect(error.message).toBe('unexpected end of selector at position 5 in "a ==\\n"');
  });

  it("is an Error named SelectorSyntaxError", () => {
    const error = new SelectorSyntaxError("bad", "x", 0);
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(SelectorSyntaxError);
    expect(error.name).toBe("SelectorSyntaxError");
    expect(String(error)).toBe('SelectorSyntaxError: bad at position 0 in "x"');
  });
});
