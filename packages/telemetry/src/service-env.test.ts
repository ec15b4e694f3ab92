import { z } from "zod";
import { describe, expect, it } from "vitest";
import {
  booleanEnvSchema,
  formatEnvIssues,
  listenAddressSchema,
  logLevelSchema,
  otlpEndpointSchema,
  positiveSecondsSchema,
} from "./service-env.js";

describe("service env schemas", () => {
  it.each([
    ["0.0.0.0:9464", { host: "0.0.0.0", port: 9464 }],
    ["127.0.0.1:0", { host: "127.0.0.1", port: 0 }],
    [":8080", { host: "0.0.0.0", port: 8080 }],
    ["[::1]:9000", { host: "::1", port: 9000 }],
    ["watcher:65535", { host: "watcher", port: 65535 }],
  ])("reads listen address %s", (value, want) => {
    expect(listenAddressSchema.parse(value)).toEqual(want);
  });

  it.each(["9464", "host:", "host:65536", "a:b:c", "host:-1"])(
    "refuses listen address %s",
    (value) => {
      expect(listenAddressSchema.safeParse(value).success).toBe(false);
    },
  );

  it("reads booleans and positive seconds, refusing anything else", () => {
    expect(["true", "TRUE", "1", "false", "0"].map((v) => booleanEnvSchema.parse(v))).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(booleanEnvSchema.safeParse("yes").success).toBe(false);
    expect(positiveSecondsSchema.parse("0.5")).toBe(0.5);
    for (const bad of ["0", "-1", "", "ten", "Infinity"]) {
      expect(positiveSecondsSchema.safeParse(bad).success).toBe(false);
    }
  });

  it("reads log levels and OTLP endpoints", () => {
    expect(logLevelSchema.parse("debug")).toBe("debug");
    expect(logLevelSchema.safeParse("verbose").success).toBe(false);
    expect(otlpEndpointSchema.parse("http://collector:4318")).toBe("http://collector:4318");
    expect(otlpEndpointSchema.safeParse("collector:4318").success).toBe(false);
  });

  it("formats one VARIABLE: message line per problem, saying which are missing", () => {
    const schema = z.object({
      REDIS_URL: z.string(),
      LISTEN_ADDRESS: listenAddressSchema,
      LOG_LEVEL: logLevelSchema,
    });
    const result = schema.safeParse({ LISTEN_ADDRESS: "x", LOG_LEVEL: "loud" });
    if (result.success) throw new Error("expected failure");
    expect(formatEnvIssues(result.error).split("\n")).toEqual([
      "REDIS_URL: is required",
      'LISTEN_ADDRESS: must be HOST:PORT with a port from 0 to 65535, got "x"',
      "LOG_LEVEL: must be one of trace, debug, info, warn, error, fatal, silent",
    ]);
  });
});
