import { describe, expect, it } from "vitest";
import { isWriteFenced } from "./is-write-fenced.js";

describe("isWriteFenced", () => {
  const rows: { name: string; writeEpoch: number; currentEpoch: number; wantFenced: boolean }[] = [
    {
      name: "the current leader's write passes",
      writeEpoch: 3,
      currentEpoch: 3,
      wantFenced: false,
    },
    {
      name: "a deposed leader's write is refused",
      writeEpoch: 2,
      currentEpoch: 3,
      wantFenced: true,
    },
    {
      name: "a write from a newer leader than the object last saw passes",
      writeEpoch: 4,
      currentEpoch: 3,
      wantFenced: false,
    },
    {
      name: "the first write ever (epoch 0 recorded) passes",
      writeEpoch: 1,
      currentEpoch: 0,
      wantFenced: false,
    },
    {
      name: "an unparseable write epoch fails closed",
      writeEpoch: Number.NaN,
      currentEpoch: 3,
      wantFenced: true,
    },
    {
      name: "an unparseable current epoch fails closed",
      writeEpoch: 3,
      currentEpoch: Number.NaN,
      wantFenced: true,
    },
    { name: "a negative epoch fails closed", writeEpoch: 3, currentEpoch: -1, wantFenced: true },
    { name: "a fractional epoch fails closed", writeEpoch: 2.5, currentEpoch: 2, wantFenced: true },
    {
      name: "an infinite epoch fails closed",
      writeEpoch: Infinity,
      currentEpoch: 2,
      wantFenced: true,
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(isWriteFenced(row.writeEpoch, row.currentEpoch)).toBe(row.wantFenced);
    });
  }
});
