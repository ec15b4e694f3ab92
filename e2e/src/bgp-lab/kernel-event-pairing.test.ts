import { describe, expect, it } from "vitest";
import { createKernelEventPairing, UNEXPLAINED_AFTER_MS } from "./kernel-event-pairing.js";

const BLOCK = "192.168.3.128/26";
/** BIRD's log lines as BIRD 1.6.8 writes them (timestamps left out: the pairing ignores them). */
const line = (text: string) => `2026-12-03 13:52:38 <TRACE> ${text}`;
const started = line("kernel1: Initializing");
const fed = line("kernel1: State changed to up");
const pruning = line("kernel1: Pruning table master");
const added = line(`kernel1 < added ${BLOCK} via 10.1.0.15 on eth0`);
const replaced = line(`kernel1 < replaced ${BLOCK} via 10.1.0.15 on eth0`);
const removed = line(`kernel1 < removed ${BLOCK} via 10.1.0.15 on eth0`);
const seen = line(`kernel1: ${BLOCK}: seen`);
const deleting = line(`kernel1: ${BLOCK}: deleting`);
const reinstalling = line(`kernel1: ${BLOCK}: reinstalling`);

/** One step: a log line read, a kernel event, or a settle, each at a wall-clock time (ms). */
type Step =
  | { readonly log: string; readonly at: number }
  | { readonly kernel: "deleted" | "added"; readonly at: number }
  | { readonly settle: number };

/** Runs `steps` through a pairing; what it concluded, in order (`absent @t`, `replaced @t`, …). */
function runSteps(steps: readonly Step[]): string[] {
  const pairing = createKernelEventPairing((prefix) => prefix.startsWith("192.168."));
  const seenBySink: string[] = [];
  const sink = {
    change: (block: string, present: boolean, at: number) => {
      seenBySink.push(`${block} ${present ? "present" : "absent"} @${String(at)}`);
    },
    replaced: (block: string, at: number) => {
      seenBySink.push(`${block} replaced @${String(at)}`);
    },
  };
  for (const step of steps) {
    if ("log" in step) pairing.readLogLine(step.log, step.at);
    else if ("kernel" in step) pairing.addKernelEvent(BLOCK, step.kernel === "deleted", step.at);
    else pairing.settle(step.settle, sink);
  }
  return seenBySink;
}

const LATE = 1_000 + UNEXPLAINED_AFTER_MS;

const cases: readonly { name: string; steps: readonly Step[]; want: readonly string[] }[] = [
  {
    // node-0002 of a failed CI run: recovery ended, the feed logged `< added` for a route the
    // kernel kept from the killed BIRD, the first scan saw it, and the first real replacement's
    // halves were 780 ms apart, read in different polls.
    name: "a restarted BIRD's notifications before its first scan are no operations: its first replacement is no gap",
    steps: [
      { log: started, at: 0 },
      { log: added, at: 100 },
      { log: fed, at: 100 },
      { log: seen, at: 100 },
      { log: pruning, at: 100 },
      { log: replaced, at: 150 },
      { kernel: "deleted", at: 160 },
      { settle: 200 },
      { kernel: "added", at: 940 },
      { settle: 1_000 },
    ],
    want: [`${BLOCK} replaced @160`],
  },
  {
    name: "scans before the initial feed ends do not end the stretch",
    steps: [
      { log: started, at: 0 },
      { log: pruning, at: 10 },
      { log: added, at: 20 },
      { log: fed, at: 30 },
      { log: pruning, at: 40 },
      { log: replaced, at: 50 },
      { kernel: "deleted", at: 60 },
      { settle: 70 },
      { kernel: "added", at: 500 },
      { settle: 600 },
    ],
    want: [`${BLOCK} replaced @60`],
  },
  {
    name: "a route the first scan deletes after a restart is gone (a real gap)",
    steps: [
      { log: started, at: 0 },
      { log: added, at: 10 },
      { log: removed, at: 20 },
      { log: fed, at: 30 },
      { log: pruning, at: 40 },
      { log: deleting, at: 40 },
      { kernel: "deleted", at: 45 },
      { settle: 50 },
    ],
    want: [`${BLOCK} absent @45`],
  },
  {
    name: "a route a scan reinstalls during the feed is there (scan lines always reach the kernel)",
    steps: [
      { log: started, at: 0 },
      { log: reinstalling, at: 10 },
      { kernel: "added", at: 15 },
      { settle: 20 },
    ],
    want: [`${BLOCK} present @15`],
  },
  {
    name: "a withdrawal BIRD logs is a gap until the route is added again",
    steps: [
      { log: removed, at: 0 },
      { kernel: "deleted", at: 5 },
      { settle: 10 },
      { log: added, at: 20 },
      { kernel: "added", at: 25 },
      { settle: 30 },
    ],
    want: [`${BLOCK} absent @5`, `${BLOCK} present @25`],
  },
  {
    name: "a replacement whose addition never comes is a deletion",
    steps: [
      { log: replaced, at: 0 },
      { kernel: "deleted", at: 5 },
      { settle: 1_000 },
      { settle: 5 + UNEXPLAINED_AFTER_MS },
    ],
    want: [`${BLOCK} absent @5`],
  },
  {
    name: "an addition that never reached the kernel explains nothing: the replacement after it is paired",
    steps: [
      { log: added, at: 0 },
      { log: replaced, at: 10 },
      { kernel: "deleted", at: 15 },
      { settle: 20 },
      { kernel: "added", at: 300 },
      { settle: 400 },
    ],
    want: [`${BLOCK} replaced @15`],
  },
  {
    name: "a withdrawal is no replacement when an addition before it never reached the kernel",
    steps: [
      { log: added, at: 0 },
      { log: removed, at: 10 },
      { kernel: "deleted", at: 15 },
      { log: added, at: 200 },
      { kernel: "added", at: 205 },
      { settle: 300 },
    ],
    want: [`${BLOCK} absent @15`, `${BLOCK} present @205`],
  },
  {
    name: "a kernel event BIRD's log does not explain is taken at face value, late",
    steps: [{ kernel: "deleted", at: 1_000 }, { settle: 1_100 }, { settle: LATE }],
    want: [`${BLOCK} absent @1000`],
  },
];

describe("createKernelEventPairing (BIRD 1.6 kernel protocol log ↔ kernel route events)", () => {
  it.each(cases)("$name", ({ steps, want }) => {
    expect(runSteps(steps)).toEqual(want);
  });

  it("leaves prefixes it does not track alone", () => {
    const pairing = createKernelEventPairing((prefix) => prefix.startsWith("192.168."));
    const changes: string[] = [];
    pairing.readLogLine(line("kernel1 < removed 10.1.0.0/16 dev eth0"), 0);
    pairing.addKernelEvent(BLOCK, false, 5);
    pairing.settle(LATE + 5, {
      change: (block, present) => changes.push(`${block} ${String(present)}`),
      replaced: (block) => changes.push(`${block} replaced`),
    });
    expect(changes).toEqual([`${BLOCK} true`]);
  });
});
