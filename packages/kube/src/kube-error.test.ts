import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { KubeError, toKubeError, type KubeErrorCode } from "./kube-error.js";

/** An ApiException as client-node 2.x builds it for a non-2xx status: the body is the raw text. */
function makeApiException(
  code: number,
  status: { message?: string; retryAfterSeconds?: number } = {},
  headers: Record<string, string> = {},
): ApiException<unknown> {
  const body = JSON.stringify({
    kind: "Status",
    apiVersion: "v1",
    status: "Failure",
    ...(status.message === undefined ? {} : { message: status.message }),
    ...(status.retryAfterSeconds === undefined
      ? {}
      : { details: { retryAfterSeconds: status.retryAfterSeconds } }),
    code,
  });
  return new ApiException(code, "Unknown API Status Code!", body, headers);
}

/** undici's connection failure: `TypeError: fetch failed` with the socket error as cause. */
function makeFetchFailure(code: string): TypeError {
  const cause = Object.assign(new Error(`connect ${code} 127.0.0.1:6443`), { code });
  return new TypeError("fetch failed", { cause });
}

const LIST_NODES = { verb: "list", resource: "nodes" } as const;

describe("toKubeError", () => {
  const cases: {
    name: string;
    err: unknown;
    wantCode: KubeErrorCode;
    wantRetryable: boolean;
    wantRetryAfterSeconds?: number;
    wantMessage: string | RegExp;
  }[] = [
    {
      name: "401 (client-node passes no body)",
      err: new ApiException(401, "Unauthorized", undefined, {}),
      wantCode: "Unauthorized",
      wantRetryable: false,
      wantMessage:
        /^list nodes: unauthorized: the API server rejected the kubeconfig's credentials/,
    },
    {
      name: "403 names the RBAC verb and resource",
      err: makeApiException(403, {
        message: 'nodes is forbidden: User "viewer" cannot list resource "nodes"',
      }),
      wantCode: "Forbidden",
      wantRetryable: false,
      wantMessage:
        'forbidden: rrfleet needs "list" on "nodes" (cluster-scoped) — grant it in the ClusterRole ' +
        '(nodes is forbidden: User "viewer" cannot list resource "nodes")',
    },
    {
      name: "404",
      err: makeApiException(404, { message: 'nodes "n1" not found' }),
      wantCode: "NotFound",
      wantRetryable: false,
      wantMessage: 'list nodes: not found (nodes "n1" not found)',
    },
    {
      name: "409 is retried after a re-read",
      err: makeApiException(409, { message: "the object has been modified" }),
      wantCode: "Conflict",
      wantRetryable: true,
      wantMessage: /conflict: re-read and retry/,
    },
    {
      name: "410 asks for a new list",
      err: makeApiException(410, { message: "too old resource version" }),
      wantCode: "Gone",
      wantRetryable: true,
      wantMessage: /gone: the resourceVersion expired/,
    },
    {
      name: "429 with Retry-After",
      err: makeApiException(429, { message: "slow down" }, { "retry-after": "7" }),
      wantCode: "TooManyRequests",
      wantRetryable: true,
      wantRetryAfterSeconds: 7,
      wantMessage: "list nodes: too many requests, retry after 7s (slow down)",
    },
    {
      name: "429 with the delay only in the Status details",
      err: makeApiException(429, { retryAfterSeconds: 3 }),
      wantCode: "TooManyRequests",
      wantRetryable: true,
      wantRetryAfterSeconds: 3,
      wantMessage: "list nodes: too many requests, retry after 3s (HTTP 429)",
    },
    {
      name: "422",
      err: makeApiException(422, { message: "spec.x: Invalid value" }),
      wantCode: "Invalid",
      wantRetryable: false,
      wantMessage: "list nodes: invalid (spec.x: Invalid value)",
    },
    {
      name: "500",
      err: makeApiException(500, { message: "etcdserver: request timed out" }),
      wantCode: "ServerError",
      wantRetryable: true,
      wantMessage: "list nodes: server error 500 (etcdserver: request timed out)",
    },
    {
      name: "503 with a non-JSON body",
      err: new ApiException(503, "Unknown API Status Code!", "upstream down\n", {}),
      wantCode: "ServerError",
      wantRetryable: true,
      wantMessage: "list nodes: server error 503 (upstream down)",
    },
    {
      name: "an unexpected 418",
      err: makeApiException(418),
      wantCode: "Unknown",
      wantRetryable: false,
      wantMessage: "list nodes: unexpected HTTP 418 (HTTP 418)",
    },
    {
      name: "connection refused",
      err: makeFetchFailure("ECONNREFUSED"),
      wantCode: "Unavailable",
      wantRetryable: true,
      wantMessage:
        "list nodes: cannot reach the API server (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:6443)",
    },
    {
      name: "connection reset",
      err: makeFetchFailure("ECONNRESET"),
      wantCode: "Unavailable",
      wantRetryable: true,
      wantMessage: /ECONNRESET/,
    },
    {
      name: "an undici connect timeout",
      err: makeFetchFailure("UND_ERR_CONNECT_TIMEOUT"),
      wantCode: "Unavailable",
      wantRetryable: true,
      wantMessage: /UND_ERR_CONNECT_TIMEOUT/,
    },
    {
      name: "an AbortSignal timeout",
      err: new DOMException("The operation was aborted due to timeout", "TimeoutError"),
      wantCode: "Unavailable",
      wantRetryable: true,
      wantMessage: /timed out/,
    },
    {
      name: "an untrusted server certificate (not retryable)",
      err: makeFetchFailure("SELF_SIGNED_CERT_IN_CHAIN"),
      wantCode: "Unavailable",
      wantRetryable: false,
      wantMessage: /TLS SELF_SIGNED_CERT_IN_CHAIN: .*certificate-authority/,
    },
    {
      name: "anything else",
      err: new RangeError("bad\nsecond line"),
      wantCode: "Unknown",
      wantRetryable: false,
      wantMessage: "list nodes: bad",
    },
  ];

  it.each(cases)(
    "maps $name",
    ({ err, wantCode, wantRetryable, wantRetryAfterSeconds, wantMessage }) => {
      const got = toKubeError(err, LIST_NODES);
      expect(got).toBeInstanceOf(KubeError);
      expect(got.code).toBe(wantCode);
      expect(got.retryable).toBe(wantRetryable);
      expect(got.retryAfterSeconds).toBe(wantRetryAfterSeconds);
      if (typeof wantMessage === "string") expect(got.message).toBe(wantMessage);
      else expect(got.message).toMatch(wantMessage);
      expect(got.cause).toBe(err);
    },
  );

  it("returns a KubeError unchanged", () => {
    const err = new KubeError("Gone", "already mapped", { retryable: true });
    expect(toKubeError(err, LIST_NODES)).toBe(err);
  });

  it("names the object and namespace in the request, and a Role for a namespaced 403", () => {
    const got = toKubeError(makeApiException(403), {
      verb: "get",
      resource: "leases.coordination.k8s.io",
      name: "rrfleet",
      namespace: "kube-system",
    });
    expect(got.message).toBe(
      'forbidden: rrfleet needs "get" on "leases.coordination.k8s.io" in namespace "kube-system" ' +
        "— grant it in a Role there (HTTP 403)",
    );
    const notFound = toKubeError(makeApiException(404), {
      verb: "get",
      resource: "leases.coordination.k8s.io",
      name: "rrfleet",
      namespace: "kube-system",
    });
    expect(notFound.message).toBe(
      'get leases.coordination.k8s.io "rrfleet" in namespace "kube-system": not found (HTTP 404)',
    );
  });
});
