import { readFile } from "node:fs/promises";
import { request } from "node:https";
import type { TestCluster } from "./test-cluster.js";

/** A response of the API server, read in full, with its `Warning` headers. */
export interface KubeResponse {
  readonly status: number;
  readonly body: string;
  /** Warning headers (admission warnings such as Pod Security's), text only. */
  readonly warnings: readonly string[];
}

/** Who sends a {@link requestKube} request. */
export interface KubeRequestTarget {
  readonly cluster: Pick<TestCluster, "apiUrl" | "caFile" | "adminToken">;
  /** Bearer token; default the cluster's admin token. */
  readonly token?: string;
}

/**
 * Sends one request to a test cluster's API server over verified TLS, for what client-node does
 * not expose: query parameters such as `fieldValidation=Strict` and `dryRun=All`, and the
 * `Warning` headers of the answer. Any HTTP status resolves; network errors reject.
 */
export async function requestKube(
  target: KubeRequestTarget,
  method: string,
  path: string,
  body?: unknown,
  contentType = "application/json",
): Promise<KubeResponse> {
  const ca = await readFile(target.cluster.caFile, "utf8");
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${target.cluster.apiUrl}${path}`,
      {
        method,
        ca,
        agent: false,
        timeout: 30_000,
        headers: {
          authorization: `Bearer ${target.token ?? target.cluster.adminToken}`,
          accept: "application/json",
          ...(payload === undefined
            ? {}
            : { "content-type": contentType, "content-length": Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.once("error", reject);
        res.once("end", () => {
          const raw: string | string[] | undefined = res.headers["warning"];
          const headers: string[] = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            // `299 - "text"`: keep the text.
            warnings: headers
              .flatMap((h: string) => h.split(/,(?=\s*\d{3} )/))
              .map((h) => h.replace(/^\s*\d{3}\s+\S+\s+"?/, "").replace(/"\s*$/, "")),
          });
        });
      },
    );
    req.once("timeout", () => {
      req.destroy(new Error(`${method} ${path} timed out`));
    });
    req.once("error", reject);
    req.end(payload);
  });
}
