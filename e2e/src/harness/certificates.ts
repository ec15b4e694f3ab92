import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Paths of the throwaway PKI of one test API server (PEM files). */
export interface Certificates {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  /** Serving certificate for 127.0.0.1, localhost and any extra addresses, signed by the CA. */
  readonly servingCert: string;
  readonly servingKey: string;
  /** Key pair that signs and verifies service-account tokens. */
  readonly serviceAccountKey: string;
  readonly serviceAccountPublicKey: string;
}

/** Subject alternative names of the serving certificate: loopback plus the in-cluster names. */
const SERVING_SANS = [
  "IP:127.0.0.1",
  "DNS:localhost",
  "DNS:kubernetes",
  "DNS:kubernetes.default",
  "DNS:kubernetes.default.svc",
  "IP:10.0.0.1",
].join(",");

/**
 * Creates a throwaway CA (valid 2 days), a serving certificate for 127.0.0.1/localhost (plus
 * `extraIpAddresses`, e.g. the address containers reach the host on) and a service-account key
 * pair in `dir` with the `openssl` CLI. Throws when openssl is missing or fails.
 */
export async function createCertificates(
  dir: string,
  extraIpAddresses: readonly string[] = [],
): Promise<Certificates> {
  await mkdir(dir, { recursive: true });
  const path = (name: string): string => join(dir, name);
  const certificates: Certificates = {
    dir,
    caCert: path("ca.crt"),
    caKey: path("ca.key"),
    servingCert: path("serving.crt"),
    servingKey: path("serving.key"),
    serviceAccountKey: path("sa.key"),
    serviceAccountPublicKey: path("sa.pub"),
  };
  const servingCsr = path("serving.csr");
  const servingExtensions = path("serving.ext");
  await writeFile(
    servingExtensions,
    [
      `subjectAltName=${[SERVING_SANS, ...extraIpAddresses.map((ip) => `IP:${ip}`)].join(",")}`,
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "",
    ].join("\n"),
  );

  // The three keys are independent; generating them concurrently halves the wait on 2 cores.
  await Promise.all([
    openssl([
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=rrfleet-e2e-ca",
      "-keyout",
      certificates.caKey,
      "-out",
      certificates.caCert,
    ]),
    openssl([
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=kube-apiserver",
      "-keyout",
      certificates.servingKey,
      "-out",
      servingCsr,
    ]),
    openssl(["genrsa", "-out", certificates.serviceAccountKey, "2048"]),
  ]);
  await Promise.all([
    openssl([
      "x509",
      "-req",
      "-in",
      servingCsr,
      "-CA",
      certificates.caCert,
      "-CAkey",
      certificates.caKey,
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      servingExtensions,
      "-out",
      certificates.servingCert,
    ]),
    openssl([
      "rsa",
      "-in",
      certificates.serviceAccountKey,
      "-pubout",
      "-out",
      certificates.serviceAccountPublicKey,
    ]),
  ]);
  return certificates;
}

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await execFileAsync("openssl", args, { timeout: 60_000 });
  } catch (err: unknown) {
    const stderr =
      typeof err === "object" && err !== null && "stderr" in err ? String(err.stderr) : "";
    throw new Error(`openssl ${args[0] ?? ""} failed: ${stderr.trim()}`, { cause: err });
  }
}
