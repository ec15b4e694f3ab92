import { describe, expect, it } from "vitest";
import { FleetStateError, toFleetStateError } from "./fleet-state-error.js";

function replyError(message: string): Error {
  const err = new Error(message);
  err.name = "ReplyError";
  return err;
}

describe("toFleetStateError", () => {
  const cases: { name: string; err: unknown; wantCode: string; wantRetryable: boolean }[] = [
    {
      name: "a Redis still loading its dataset is worth waiting for",
      err: replyError("LOADING Redis is loading the dataset in memory"),
      wantCode: "ServerError",
      wantRetryable: true,
    },
    {
      name: "a Redis out of memory may free some",
      err: replyError("OOM command not allowed when used memory > 'maxmemory'."),
      wantCode: "ServerError",
      wantRetryable: true,
    },
    {
      name: "a script error will fail again",
      err: replyError("ERR Error running script (call to f_x): @user_script:1: bad"),
      wantCode: "ServerError",
      wantRetryable: false,
    },
    {
      name: "a closed connection is a retryable outage",
      err: new Error("Connection is closed."),
      wantCode: "Unavailable",
      wantRetryable: true,
    },
    {
      name: "something thrown that is not an Error still maps",
      err: "boom",
      wantCode: "Unavailable",
      wantRetryable: true,
    },
  ];
  it.each(cases)("maps $name", ({ err, wantCode, wantRetryable }) => {
    const mapped = toFleetStateError(err, "mark c1 dirty");
    expect(mapped).toMatchObject({ code: wantCode, retryable: wantRetryable });
    expect(mapped.message).toMatch(/^mark c1 dirty: /);
    expect(mapped.cause).toBe(err);
  });

  it("returns a FleetStateError as it is", () => {
    const err = new FleetStateError("LeaseLost", "not the leader");
    expect(toFleetStateError(err, "publish")).toBe(err);
  });
});
