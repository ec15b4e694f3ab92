import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { checkSessionStatusSupport } from "./check-session-status-support.js";
import type { CalicoApi } from "./detect-calico-api.js";
import { KubeError } from "./kube-error.js";

const V1: CalicoApi = {
  apiVersion: "crd.projectcalico.org/v1",
  group: "crd.projectcalico.org",
  version: "v1",
};
const served = { custom: { listClusterCustomObject: () => Promise.resolve({ items: [] }) } };
const notServed = {
  custom: {
    listClusterCustomObject: () =>
      Promise.reject(
        new ApiException(
          404,
          "Not Found",
          JSON.stringify({
            kind: "Status",
            status: "Failure",
            message: "the server could not find the requested resource",
            code: 404,
          }),
          {},
        ),
      ),
  },
};

describe("checkSessionStatusSupport", () => {
  it("passes when the resource is served and Calico is new enough", async () => {
    await expect(
      checkSessionStatusSupport(served, { ...V1, calicoVersion: "v3.32.1" }),
    ).resolves.toBeUndefined();
  });

  it("passes when the version is unknown but the resource is served", async () => {
    await expect(checkSessionStatusSupport(served, V1)).resolves.toBeUndefined();
  });

  it("refuses a Calico older than v3.22, naming the version", async () => {
    const error = await checkSessionStatusSupport(served, {
      ...V1,
      calicoVersion: "v3.21.4",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeError);
    expect((error as KubeError).code).toBe("Invalid");
    expect((error as KubeError).message).toMatch(/Calico v3\.21\.4 has no CalicoNodeStatus/);
  });

  it("refuses a cluster that does not serve caliconodestatuses, naming the resource", async () => {
    const error = await checkSessionStatusSupport(notServed, {
      ...V1,
      calicoVersion: "v3.32.1",
    }).catch((e: unknown) => e);
    expect((error as KubeError).code).toBe("NotFound");
    expect((error as KubeError).message).toMatch(
      /does not serve caliconodestatuses\.crd\.projectcalico\.org/,
    );
  });
});
