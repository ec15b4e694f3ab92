import { describe, expect, it } from "vitest";
import { parseRouteLine } from "./bird-daemon.js";

describe("parseRouteLine (birdc show route, read as Calico's status reporter reads it)", () => {
  it("reads the best path and a further path of the same destination", () => {
    expect(
      parseRouteLine(
        "192.168.0.64/26    via 10.1.0.3 on eth0 [Mesh_10_1_0_3 12:00:01] * (100/0) [i]",
      ),
    ).toEqual({
      destination: "192.168.0.64/26",
      gateway: "10.1.0.3",
      protocol: "Mesh_10_1_0_3",
      primary: true,
    });
    expect(
      parseRouteLine(
        "                   via 10.1.0.3 on eth0 [Node_10_1_0_9 12:00:05 from 10.1.0.9] (100/0) [i]",
      ),
    ).toEqual({ gateway: "10.1.0.3", protocol: "Node_10_1_0_9", primary: false });
  });

  it("reads routes without a next hop and skips other lines", () => {
    expect(parseRouteLine("192.168.0.0/26     blackhole [static1 12:00:00] * (200)")).toEqual({
      destination: "192.168.0.0/26",
      gateway: "N/A",
      protocol: "static1",
      primary: true,
    });
    expect(parseRouteLine("BIRD 1.6.8 ready.")).toBeUndefined();
    expect(parseRouteLine("")).toBeUndefined();
  });
});
