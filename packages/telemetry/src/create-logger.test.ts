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
