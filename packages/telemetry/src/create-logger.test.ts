import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, isLogLevel } from "./create-logger.js";

function collect(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe("createLogger", () => {
  it("writes JSON lines with the service, the level name and structured fields", () => {
    const out = collect();
    const logger = createLogger({ service: "rrctl-run", destination: out.stream });
    logger.child({ component: "controller", cluster: "a" }).info({ steps: 3 }, "planned");
    expect(out.lines()).toEqual([
      expect.objectContaining({
        service: "rrctl-run",
        level: "info",
        component: "controller",
        cluster: "a",
        steps: 3,
        msg: "planned",
      }),
    ]);
  });

  it("redacts credentials wherever a logged object carries them", () => {
    const out = collect();
    const logger = createLogger({ service: "t", destination: out.stream });
    logger.info({ user: { token: "s3cret", name: "admin" }, authorization: "Bearer s3cret" }, "x");
    const text = JSON.stringify(out.lines());
    expect(text).not.toContain("s3cret");
    expect(text).toContain("admin");
  });

  it("redacts a cluster Secret's credentials (bearerToken, certData, keyData, caData) up to three levels deep", () => {
    const out = collect();
    const logger = createLogger({ service: "t", destination: out.stream });
    const config = {
      bearerToken: "tok-1",
      tlsClientConfig: { caData: "ca-2", certData: "cert-3", keyData: "key-4" },
    };
    logger.info({ ...config }, "top level");
    logger.info({ config }, "one level down");
    logger.info({ cluster: { name: "east", config } }, "two levels down");
    logger.info({ "client-certificate-data": "cert-5", "client-key-data": "key-6" }, "kubeconfig");
    const text = JSON.stringify(out.lines());
    for (const secret of ["tok-1", "ca-2", "cert-3", "key-4", "cert-5", "key-6"]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain("east");
  });

  it("redacts the password of any URL in the message and in string fields", () => {
    const out = collect();
    const logger = createLogger({ service: "t", destination: out.stream });
    logger.warn(
      {
        err: "cannot connect to redis://rrfleet:s3cret@redis:6379/0 (ECONNREFUSED)",
        nested: { url: "rediss://:only-pass@redis.example:6380" },
        list: ["http://u:p%40ss@host/x"],
      },
      "Redis at redis://rrfleet:s3cret@redis:6379 is not reachable",
    );
    const text = JSON.stringify(out.lines());
    for (const secret of ["s3cret", "only-pass", "p%40ss"]) expect(text).not.toContain(secret);
    expect(out.lines()[0]).toMatchObject({
      msg: "Redis at redis://rrfleet:***@redis:6379 is not reachable",
      err: "cannot connect to redis://rrfleet:***@redis:6379/0 (ECONNREFUSED)",
      nested: { url: "rediss://:***@redis.example:6380" },
      list: ["http://u:***@host/x"],
    });
  });

  it("redacts URL passwords inside a logged Error's message and stack", () => {
    const out = collect();
    const logger = createLogger({ service: "t", destination: out.stream });
    logger.error({ err: new Error("connect redis://u:s3cret@h:1 failed") }, "failed");
    const [line] = out.lines();
    expect(JSON.stringify(line)).not.toContain("s3cret");
    expect(line?.["err"]).toMatchObject({ message: "connect redis://u:***@h:1 failed" });
  });

  it("drops lines below the chosen level", () => {
    const out = collect();
    const logger = createLogger({ service: "t", level: "warn", destination: out.stream });
    logger.info("hidden");
    logger.warn("shown");
    expect(out.lines().map((line) => line["msg"])).toEqual(["shown"]);
  });

  it("knows the level names a user may pass", () => {
    expect([isLogLevel("debug"), isLogLevel("verbose")]).toEqual([true, false]);
  });
});
