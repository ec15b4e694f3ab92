import { describe, expect, it } from "vitest";

import { validateLabelKey, validateLabelValue } from "./label-names.js";

const name63 = "a".repeat(63);
const prefix253 = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`;

describe("validateLabelKey", () => {
  const rows: { name: string; key: string; wantProblem: string | undefined }[] = [
    { name: "a plain lowercase name is valid", key: "zone", wantProblem: undefined },
    {
      name: "a name may mix case, digits, '-', '_' and '.'",
      key: "My_label-1.x",
      wantProblem: undefined,
    },
    { name: "a single character name is valid", key: "a", wantProblem: undefined },
    { name: "a name may start with a digit", key: "1a", wantProblem: undefined },
    { name: "a 63 character name is valid", key: name63, wantProblem: undefined },
    {
      name: "a DNS subdomain prefix is valid",
      key: "topology.kubernetes.io/zone",
      wantProblem: undefined,
    },
    { name: "a single-label prefix is valid", key: "example/role", wantProblem: undefined },
    { name: "a 253 character prefix is valid", key: `${prefix253}/x`, wantProblem: undefined },
    { name: "the empty key is rejected", key: "", wantProblem: "name part must be non-empty" },
    {
      name: "a 64 character name is rejected",
      key: `${name63}a`,
      wantProblem: "name part must be no more than 63 characters",
    },
    {
      name: "a name starting with '-' is rejected",
      key: "-a",
      wantProblem: "name part must consist of",
    },
    {
      name: "a name ending with '.' is rejected",
      key: "a.",
      wantProblem: "name part must consist of",
    },
    {
      name: "a name with a space is rejected",
      key: "a b",
      wantProblem: "name part must consist of",
    },
    {
      name: "a name with non-ASCII letters is rejected",
      key: "zoné",
      wantProblem: "name part must consist of",
    },
    {
      name: "a prefix with an empty name is rejected",
      key: "example.com/",
      wantProblem: "name part must be non-empty",
    },
    {
      name: "an empty prefix is rejected",
      key: "/zone",
      wantProblem: "prefix part must be non-empty",
    },
    {
      name: "an uppercase prefix is rejected",
      key: "Example.com/zone",
      wantProblem: "prefix part must be a lowercase RFC 1123 subdomain",
    },
    {
      name: "a prefix with '_' is rejected",
      key: "ex_ample/zone",
      wantProblem: "prefix part must be a lowercase RFC 1123 subdomain",
    },
    {
      name: "a prefix with an empty DNS label is rejected",
      key: "a..b/zone",
      wantProblem: "prefix part must be a lowercase RFC 1123 subdomain",
    },
    {
      name: "a prefix DNS label ending in '-' is rejected",
      key: "a-.b/zone",
      wantProblem: "prefix part must be a lowercase RFC 1123 subdomain",
    },
    {
      name: "a prefix ending in '.' is rejected",
      key: "example.com./zone",
      wantProblem: "prefix part must be a lowercase RFC 1123 subdomain",
    },
    {
      name: "a 254 character prefix is rejected",
      key: `${prefix253}d/x`,
      wantProblem: "prefix part must be no more than 253 characters",
    },
    { name: "two slashes are rejected", key: "a/b/c", wantProblem: 'at most one "/"' },
    {
      name: "a lone slash is rejected for its empty prefix",
      key: "/",
      wantProblem: "prefix part must be non-empty",
    },
  ];
  it.each(rows)("$name", ({ key, wantProblem }) => {
    const problem = validateLabelKey(key);
    if (wantProblem === undefined) {
      expect(problem).toBeUndefined();
    } else {
      expect(problem).toContain(wantProblem);
      expect(problem).not.toContain("\n");
    }
  });
});

describe("validateLabelValue", () => {
  const rows: { name: string; value: string; wantProblem: string | undefined }[] = [
    { name: "the empty value is valid", value: "", wantProblem: undefined },
    { name: "a plain value is valid", value: "eu-west-1a", wantProblem: undefined },
    {
      name: "a value may mix case, digits, '-', '_' and '.'",
      value: "Rack_7.b-2",
      wantProblem: undefined,
    },
    { name: "a single character value is valid", value: "0", wantProblem: undefined },
    { name: "a 63 character value is valid", value: name63, wantProblem: undefined },
    {
      name: "a 64 character value is rejected",
      value: `${name63}a`,
      wantProblem: "must be no more than 63 characters",
    },
    {
      name: "a value starting with '_' is rejected",
      value: "_a",
      wantProblem: "must be empty or consist of",
    },
    {
      name: "a value ending with '-' is rejected",
      value: "a-",
      wantProblem: "must be empty or consist of",
    },
    {
      name: "a value with '/' is rejected",
      value: "a/b",
      wantProblem: "must be empty or consist of",
    },
    {
      name: "a value with a space is rejected",
      value: "a b",
      wantProblem: "must be empty or consist of",
    },
    {
      name: "a negative number is rejected because it starts with '-'",
      value: "-5",
      wantProblem: "must be empty or consist of",
    },
  ];
  it.each(rows)("$name", ({ value, wantProblem }) => {
    const problem = validateLabelValue(value);
    if (wantProblem === undefined) {
      expect(problem).toBeUndefined();
    } else {
      expect(problem).toContain(wantProblem);
    }
  });
});
