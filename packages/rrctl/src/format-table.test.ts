import { describe, expect, it } from "vitest";
import { formatTable } from "./format-table.js";

describe("formatTable", () => {
  it("pads every column to its widest cell, two spaces apart", () => {
    const lines = formatTable(
      [{ header: "NODE" }, { header: "ZONE" }],
      [
        ["node-a", "eu-west-1a"],
        ["n", "b"],
      ],
    );
    expect(lines).toEqual(["NODE    ZONE", "node-a  eu-west-1a", "n       b"]);
  });

  it("right-aligns numeric columns", () => {
    const lines = formatTable(
      [{ header: "NODE" }, { header: "CLIENTS", align: "right" }],
      [
        ["a", "7"],
        ["b", "1,234"],
      ],
    );
    expect(lines).toEqual(["NODE  CLIENTS", "a           7", "b       1,234"]);
  });

  it("indents every line and never leaves trailing spaces", () => {
    const lines = formatTable(
      [{ header: "A" }, { header: "MESSAGE" }],
      [
        ["x", ""],
        ["long", "text"],
      ],
      "  ",
    );
    expect(lines).toEqual(["  A     MESSAGE", "  x", "  long  text"]);
  });
});
