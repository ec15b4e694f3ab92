// No relative imports here: the benchmark loads this folder's files with Node's type stripping.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** PEM files {@link makeTlsFiles} wrote. */
export interface TlsFiles {
  /** The CA that signed the server's and the client's certificates. */
  readonly caFile: string;
  /** The server's certificate (SAN IP 127.0.0.1, DNS localhost) and key. */
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  /** A client certificate (CN rrfleet) and key, signed by the CA. */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** Another CA, which signed nothing here: trusting it must fail. */
  readonly otherCaFile: string;
}

/**
 * Makes a throwaway CA, a server certificate for 127.0.0.1 and a client certificate with openssl
 * (EC P-256, one day) in `dir`. Rejects with openssl's output when openssl fails.
 */
export async function makeTlsFiles(dir: string): Promise<TlsFiles> {
  const at = (name: string): string => join(dir, name);
  const openssl = (args: readonly string[]): Promise<unknown> => run("openssl", [...args]);
  const key = (name: string) =>
    openssl([
      "genpkey",
      "-algorithm",
      "EC",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-out",
      at(name),
    ]);
  const selfSigned = async (name: string, subject: string) => {
    await key(`${name}.key`);
    await openssl([
      "req",
      "-x509",
      "-new",
      "-key",
      at(`${name}.key`),
      "-subj",
      subject,
      "-days",
      "1",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign",
      "-out",
      at(`${name}.crt`),
    ]);
  };
  const signed = async (name: string, subject: string, extensions: string) => {
    await key(`${name}.key`);
    await openssl([
      "req",
      "-new",
      "-key",
      at(`${name}.key`),
      "-subj",
      subject,
      "-out",
      at(`${name}.csr`),
    ]);
    await run(
      "sh",
      [
        "-c",
        `printf '%s\\n' "$EXT" > "$OUT.ext" && openssl x509 -req -in "$OUT.csr" -CA "$CA.crt" -CAkey "$CA.key" -CAcreateserial -days 1 -extfile "$OUT.ext" -out "$OUT.crt"`,
      ],
      { env: { ...process.env, EXT: extensions, OUT: at(name), CA: at("ca") } },
    );
  };
  await selfSigned("ca", "/CN=rrfleet test CA");
  await selfSigned("other-ca", "/CN=someone else's CA");
  await signed(
    "server",
    "/CN=redis",
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth",
  );
  await signed("client", "/CN=rrfleet", "extendedKeyUsage=clientAuth");
  return {
    caFile: at("ca.crt"),
    serverCertFile: at("server.crt"),
    serverKeyFile: at("server.key"),
    clientCertFile: at("client.crt"),
    clientKeyFile: at("client.key"),
    otherCaFile: at("other-ca.crt"),
  };
}
