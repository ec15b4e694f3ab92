import { describe, expect, it } from "vitest";
import type { ReflectorIdentity } from "./allocate-identities.js";
import { assignClients, type ClientInput } from "./assign-clients.js";

const reflector = (key: string, zone: string, ready = true): ReflectorIdentity => ({
  node: `rr-${key}`,
  zone,
  ready,
  key,
  clusterId: `244.0.0.${key}`,
});
const clients = (count: number, zones: readonly string[]): ClientInput[] =>
  Array.from({ length: count }, (_, i) => ({
    name: `c-${i}`,
    zone: zones[i % zones.length] ?? "",
    currentKeys: [],
  }));
const zoneOfKey = (reflectors: readonly ReflectorIdentity[], key: string) =>
  reflectors.find((r) => r.key === key)?.zone;

describe("assignClients", () => {
  const zonedReflectors = [
    reflector("1", "a"),
    reflector("2", "a"),
    reflector("3", "b"),
    reflector("4", "b"),
    reflector("5", "c"),
    reflector("6", "c"),
  ];

  it("multi: honours reflectorsPerNode exactly, one reflector in the client's zone, spanning two zones", () => {
    const input = clients(300, ["a", "b", "c"]);
    for (const k of [1, 2, 3]) {
      const result = assignClients(input, zonedReflectors, {
        topology: "multi",
        reflectorsPerNode: k,
        maxLoadFactor: 1.25,
      });
      for (const client of input) {
        const keys = result.keysByClient.get(client.name) ?? [];
        expect(keys).toHaveLength(k);
        const zones = keys.map((key) => zoneOfKey(zonedReflectors, key));
        expect(zones).toContain(client.zone);
        expect(new Set(zones).size).toBe(Math.min(k, 3));
      }
    }
  });

  it("single: every client peers every reflector", () => {
    const result = assignClients(clients(10, ["a"]), zonedReflectors, {
      topology: "single",
      reflectorsPerNode: 2,
      maxLoadFactor: 1.25,
    });
    for (const keys of result.keysByClient.values())
      expect(keys).toEqual(["1", "2", "3", "4", "5", "6"]);
  });

  it("zoned: every reflector of the own zone plus all of one remote zone", () => {
    const input = clients(60, ["a", "b", "c"]);
    const result = assignClients(input, zonedReflectors, {
      topology: "zoned",
      reflectorsPerNode: 2,
      maxLoadFactor: 1.25,
    });
    for (const client of input) {
      const zones = (result.keysByClient.get(client.name) ?? []).map((key) =>
        zoneOfKey(zonedReflectors, key),
      );
      expect(zones.filter((z) => z === client.zone)).toHaveLength(2);
      const remote = zones.filter((z) => z !== client.zone);
      expect(remote).toHaveLength(2);
      expect(new Set(remote).size).toBe(1);
    }
  });

  it("keeps no reflector above ceil(1.25 × mean)", () => {
    const reflectors = [
      reflector("1", "a"),
      reflector("2", "b"),
      reflector("3", "c"),
      reflector("4", "c"),
    ];
    const input = clients(997, ["a", "a", "a", "b", "c"]);
    const result = assignClients(input, reflectors, {
      topology: "multi",
      reflectorsPerNode: 2,
      maxLoadFactor: 1.25,
    });
    expect(Math.max(...result.loadByKey.values())).toBeLessThanOrEqual(
      Math.ceil((1.25 * 997 * 2) / 4),
    );
  });

  it("keeps current choices, so a new client moves nobody", () => {
    const input = clients(200, ["a", "b", "c"]);
    const policy = { topology: "multi" as const, reflectorsPerNode: 2, maxLoadFactor: 1.25 };
    const first = assignClients(input, zonedReflectors, policy);
    const sticky = input.map((c) => ({ ...c, currentKeys: first.keysByClient.get(c.name) ?? [] }));
    const second = assignClients(
      [...sticky, { name: "newcomer", zone: "b", currentKeys: [] }],
      zonedReflectors,
      policy,
    );
    for (const c of input)
      expect(second.keysByClient.get(c.name)).toEqual(first.keysByClient.get(c.name));
  });

  it("never parks a client on a down reflector while an up one can take it", () => {
    const reflectors = [reflector("1", "a", false), reflector("2", "a")];
    const result = assignClients(clients(9, ["a"]), reflectors, {
      topology: "multi",
      reflectorsPerNode: 1,
      maxLoadFactor: 1.25,
    });
    for (const keys of result.keysByClient.values()) expect(keys).toEqual(["2"]);
  });
});
