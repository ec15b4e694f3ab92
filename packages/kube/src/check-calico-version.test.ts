import { describe, expect, it } from "vitest";
import { checkCalicoVersion } from "./check-calico-version.js";
import type { CalicoApi } from "./detect-calico-api.js";
import { KubeError } from "./kube-error.js";

function v1(calicoVersion?: string): CalicoApi {
  return {
    apiVersion: "crd.projectcalico.org/v1",
    group: "crd.projectcalico.org",
    version: "v1",
    ...(calicoVersion === undefined ? {} : { calicoVersion }),
  };
}

describe("checkCalicoVersion", () => {
  it.each([
    { name: "the CRDs this repo tests with", version: "v3.32.1" },
    { name: "the first release with optional peerIP", version: "v3.17.0" },
    { name: "a version without the v", version: "3.29.4" },
  ])("accepts $name ($version)", ({ version }) => {
    expect(checkCalicoVersion(v1(version))).toEqual({ kind: "Supported", version });
  });

  it("refuses a Calico whose BGPPeer CRD rejects selector peers, naming the version", () => {
    expect(() => checkCalicoVersion(v1("v3.16.9"))).toThrow(KubeError);
    expect(() => checkCalicoVersion(v1("v3.16.9"))).toThrow(
      /Calico v3\.16\.9 is older than v3\.17\.0/,
    );
  });

  it("reports an unknown version rather than guessing", () => {
    expect(checkCalicoVersion(v1())).toEqual({ kind: "Unknown" });
    expect(checkCalicoVersion(v1("master"))).toEqual({ kind: "Unknown", version: "master" });
  });
});
