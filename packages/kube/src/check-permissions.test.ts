import { V1SelfSubjectAccessReview, V1SubjectAccessReviewStatus } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  checkPermissions,
  listControllerPermissions,
  type AccessReviewClient,
} from "./check-permissions.js";
import type { CalicoApi } from "./detect-calico-api.js";
import { KubeError } from "./kube-error.js";

const V1: CalicoApi = {
  apiVersion: "crd.projectcalico.org/v1",
  group: "crd.projectcalico.org",
  version: "v1",
};

/** An API server that allows everything except `denied` ("verb resource"). */
function createReviewer(denied: readonly string[]): AccessReviewClient & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    createSelfSubjectAccessReview: (request) => {
      const attributes = request.body.spec.resourceAttributes;
      const key = `${attributes?.verb ?? ""} ${attributes?.resource ?? ""}`;
      asked.push(key);
      const review = new V1SelfSubjectAccessReview();
      review.spec = request.body.spec;
      review.status = Object.assign(new V1SubjectAccessReviewStatus(), {
        allowed: !denied.includes(key),
      });
      return Promise.resolve(review);
    },
  };
}

describe("checkPermissions", () => {
  it("passes when every permission is granted, having asked about each one", async () => {
    const reviewer = createReviewer([]);
    const permissions = listControllerPermissions(V1, { sessionCheck: true });
    await checkPermissions(reviewer, permissions);
    expect(reviewer.asked).toHaveLength(permissions.length);
    expect(reviewer.asked).toContain("patch nodes");
    expect(reviewer.asked).toContain("create caliconodestatuses");
  });

  it("names every missing verb and resource in one Forbidden error", async () => {
    const reviewer = createReviewer(["patch nodes", "delete bgppeers"]);
    const error = await checkPermissions(
      reviewer,
      listControllerPermissions(V1, { sessionCheck: false }),
    ).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(KubeError);
    expect(error).toMatchObject({ code: "Forbidden" });
    expect((error as Error).message).toMatch(
      /lack 2 permissions rrfleet needs: patch nodes, delete bgppeers\.crd\.projectcalico\.org;.*nothing was written/,
    );
  });

  it("asks for CalicoNodeStatus rights only when the session check uses them", () => {
    const without = listControllerPermissions(V1, { sessionCheck: false });
    expect(without.some((p) => p.resource === "caliconodestatuses")).toBe(false);
  });

  it("asks in the group Calico is served from", () => {
    const v3 = listControllerPermissions(
      { apiVersion: "projectcalico.org/v3", group: "projectcalico.org", version: "v3" },
      { sessionCheck: false },
    );
    expect(new Set(v3.filter((p) => p.resource !== "nodes").map((p) => p.group))).toEqual(
      new Set(["projectcalico.org"]),
    );
  });
});
