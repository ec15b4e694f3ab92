import { describe, expect, it } from "vitest";
import { parseTimestamp } from "./parse-timestamp.js";

describe("parseTimestamp", () => {
  const valid = [
    { name: "UTC with Z", text: "2026-11-28T00:00:00Z", wantIso: "2026-11-28T00:00:00.000Z" },
    { name: "lower-case z", text: "2026-11-28T00:00:00z", wantIso: "2026-11-28T00:00:00.000Z" },
    { name: "without seconds", text: "2026-11-28T07:30Z", wantIso: "2026-11-28T07:30:00.000Z" },
    {
      name: "fractional seconds beyond milliseconds",
      text: "2026-11-28T00:00:00.123456789Z",
      wantIso: "2026-11-28T00:00:00.123Z",
    },
    {
      name: "a positive offset",
      text: "2026-11-28T01:00:00+01:00",
      wantIso: "2026-11-28T00:00:00.000Z",
    },
    {
      name: "a negative offset across midnight",
      text: "2026-11-27T19:30:00-04:30",
      wantIso: "2026-11-28T00:00:00.000Z",
    },
    { name: "a leap day", text: "2028-02-29T12:00:00Z", wantIso: "2028-02-29T12:00:00.000Z" },
  ];
  it.each(valid)("accepts $name", ({ text, wantIso }) => {
    expect(parseTimestamp(text)?.toISOString()).toBe(wantIso);
  });

  const invalid = [
    { name: "words", text: "yesterday" },
    { name: "no time zone (local time differs per machine)", text: "2026-11-28T00:00:00" },
    { name: "a date only", text: "2026-11-28" },
    { name: "an impossible day", text: "2026-02-30T00:00:00Z" },
    { name: "a non-leap February 29", text: "2027-02-29T00:00:00Z" },
    { name: "month 13", text: "2026-13-01T00:00:00Z" },
    { name: "hour 24", text: "2026-11-28T24:00:00Z" },
    { name: "second 60", text: "2026-11-28T23:59:60Z" },
    { name: "a space instead of T", text: "2026-11-28 00:00:00Z" },
    { name: "an epoch number", text: "1795910400" },
    { name: "an empty string", text: "" },
  ];
  it.each(invalid)("rejects $name", ({ text }) => {
    expect(parseTimestamp(text)).toBeUndefined();
  });
});
