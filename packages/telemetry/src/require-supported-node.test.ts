import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MINIMUM_NODE_VERSION, describeUnsupportedNode } from "./require-supported-node.js";

describe("describeUnsupportedNode", () => {
  const rows = [
    { name: "the machines' Node 20 is refused", version: "20.20.2", wantOk: false },
    { name: "Node 22 before 22.19 is refused (undici 8)", version: "22.18.0", wantOk: false },
    { name: "exactly the minimum runs", version: "22.19.0", wantOk: true },
    { name: "the pinned Node 24 runs", version: "24.21.0", wantOk: true },
    { name: "a later major runs", version: "26.0.0", wantOk: true },
    { name: "a pre-release of a new enough version runs", version: "24.0.0-pre", wantOk: true },
    { name: "a version that does not parse is refused", version: "weird", wantOk: false },
  ] as const;
  for (const row of rows) {
    it(row.name, () => {
      const message = describeUnsupportedNode({
        program: "rrfleet-watcher",
        version: row.version,
        execPath: "/usr/bin/node",
      });
      expect(message === undefined).toBe(row.wantOk);
    });
  }

  it("says in one line what runs, what is needed, and which binary to replace", () => {
    const message = describeUnsupportedNode({
      program: "rrctl",
      version: "20.20.2",
      execPath: "/usr/bin/node",
    });
    expect(message).toBe(
      "rrctl: needs Node.js 22.19.0 or newer, but runs on Node.js v20.20.2 (/usr/bin/node); use Node.js 24 (in the repository, npx and npm scripts put it first on PATH: node_modules/.bin/node)",
    );
    expect(message).not.toContain("\n");
  });

  it("is the version every entry point's package and the repository declare in engines", () => {
    const engines = [
      "../../../package.json",
      "../../rrctl/package.json",
      "../../watcher/package.json",
      "../../applier/package.json",
    ].map((path) => {
      const manifest = JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8")) as {
        engines?: { node?: string };
      };
      return [path, manifest.engines?.node];
    });
    expect(engines).toEqual(engines.map(([path]) => [path, `>=${MINIMUM_NODE_VERSION}`]));
  });
});
