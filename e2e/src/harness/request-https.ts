import { request } from "node:https";

/** A response read in full. */
export interface HttpsResponse {
  readonly status: number;
  readonly body: string;
}

/** TLS trust and credentials for {@link requestHttps}. */
export interface HttpsRequestOptions {
  /** PEM of the CA that signed the server certificate. */
  readonly ca: string;
  readonly bearerToken?: string;
  /** Default 5,000 ms. */
  readonly timeoutMs?: number;
}

/**
 * GETs `url` over TLS verified against `ca`, without keep-alive (each probe gets a fresh
 * connection, so a restarted server is never probed through a dead socket). Rejects on network
 * errors and timeouts; any HTTP status resolves.
 */
export function requestHttps(url: string, options: HttpsRequestOptions): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "GET",
        ca: options.ca,
        agent: false,
        timeout: options.timeoutMs ?? 5_000,
        headers:
          options.bearerToken === undefined
            ? {}
            : { authorization: `Bearer ${options.bearerToken}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.once("error", reject);
        res.once("end", () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
        });
      },
    );
    req.once("timeout", () => {
      req.destroy(new Error(`GET ${url} timed out`));
    });
    req.once("error", reject);
    req.end();
  });
}
