/**
 * The lab's verdict on routes, read from the kernel: every node's routing table
 * (`ip -n NS -j route show` once, then `ip -n NS -ts monitor route`) says which pod blocks the
 * node has a route to. A *gap* is a time a node lacked a route to another node's block after it
 * had one, while both nodes were up (the lab marks nodes down before it kills or deletes them).
 *
 * Gaps are split into
 * - **own-block**: the gap started while one of the two nodes was starting its sessions afresh —
 *   its route-reflector cluster ID appeared, went or changed (which restarts all its BGP
 *   sessions), or it just joined the cluster — from the first configuration that carried the
 *   change (or BIRD's start) until BIRD has shown all of its BGP sessions Established for 5 s
 *   without a break (a collision can still drop a session right after it first comes up), plus
 *   a short settle for the kernel; unavoidable, reported;
 * - **other**: everything else, which a rollout must never cause.
 *
 * Replacements. BIRD 1.6 changes a kernel route by deleting it and adding the new one
 * (`krt_replace_rte`: two netlink requests back to back) — on every change of any path of a
 * prefix, since calico-node's kernel protocol merges paths. On one machine, every lab node shares
 * the kernel's routing lock, so under load the two halves can be hundreds of milliseconds apart:
 * a lab artefact, since each real node has its own kernel. The judge therefore pairs the
 * kernel's events with what BIRD says it did to the kernel (its kernel protocol's log lines),
 * prefix by prefix in order (kernel-event-pairing.ts): a deletion that is the first half of a
 * replacement is not a gap; a deletion BIRD made because it had no route left starts one. BIRD
 * also logs route notifications its kernel protocol does not pass on to the kernel — after each
 * start, until its first scan (under `bird -R`, the end of graceful-restart recovery) — and the
 * pairing leaves those out: paired with the kernel events of later operations, they made
 * replacements on restarted nodes look like gaps. A kernel event BIRD's log does not explain
 * within a few seconds is taken at face value. The monitors run with real-time priority and
 * write to files (never a pipe a busy test process could stall), so their timestamps are when
 * the kernel announced each change.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  createKernelEventPairing,
  type KernelEventPairing,
  type PairingSink,
} from "./kernel-event-pairing.js";
import { runCommand } from "./run-command.js";

/** One time a node lacked a route to another node's block. */
export interface RouteGap {
  readonly observer: string;
  readonly owner: string;
  readonly block: string;
  /** Wall-clock milliseconds. */
  readonly start: number;
  /** Wall-clock milliseconds; the report time for gaps still open. */
  readonly end: number;
  readonly open: boolean;
  readonly ownBlock: boolean;
}

/** What {@link RouteJudge.report} found in a time window. */
export interface GapReport {
  /** Longest and total (summed over gaps) milliseconds of gaps that are not own-block. */
  readonly longestMs: number;
  readonly totalMs: number;
  /** The same for own-block gaps. */
  readonly longestOwnBlockMs: number;
  readonly totalOwnBlockMs: number;
  /** Every gap in the window (clipped to it), worst first. */
  readonly gaps: readonly RouteGap[];
  /** Kernel route replacements (BIRD's delete-and-add) in the window: not gaps. */
  readonly replacements: number;
}

/** The judge of one lab. */
export interface RouteJudge {
  /** Starts reading a node's routing table and its BIRD's log (call when its namespace exists). */
  watch(node: string, namespace: string, birdLog: string): Promise<void>;
  /** Stops reading a node's table (its namespace is about to go). */
  unwatch(node: string): Promise<void>;
  /** Declares which node originates `block`. */
  setOwner(block: string, node: string): void;
  /** The node is down (killed, NotReady, deleted) from `at` on: its pairs do not count. */
  markDown(node: string, at?: number): void;
  /** The node is up again from `at` on. */
  markUp(node: string, at?: number): void;
  /**
   * `node` starts its sessions afresh: its cluster ID changed in the configuration BIRD got (a
   * role change restarts every session), or it joined.
   */
  openRoleChange(node: string, at?: number): void;
  /** That ended: all its BGP sessions are Established. */
  closeRoleChange(node: string, at?: number): void;
  /** Whether the node has such a window open. */
  isChangingRole(node: string): boolean;
  /**
   * Whether gaps starting now would count like any other: no window is open and the last one
   * closed longer ago than the settle time.
   */
  isQuiet(at?: number): boolean;
  /** The blocks `node` has a route to now. */
  blocksOf(node: string): ReadonlySet<string>;
  /** Gaps between `from` and `to` (default now), wall-clock milliseconds. */
  report(from: number, to?: number): GapReport;
  /** Problems reading the tables (a monitor that died, lost events). */
  problems(): readonly string[];
  stop(): Promise<void>;
}

/** Milliseconds after a role change ends during which a gap that starts still counts as own-block. */
const ROLE_CHANGE_SETTLE_MS = 3_000;

interface Interval {
  readonly start: number;
  end: number; // Infinity while open
}

/** An incrementally read text file. */
interface Tail {
  readonly file: string;
  offset: number;
  rest: string;
}

/** Creates a judge for pod blocks inside `pool` (e.g. `192.168.0.0/16`); monitors write under `dir`. */
export function createRouteJudge(pool: string, dir: string): RouteJudge {
  const inPool = createPoolTest(pool);
  const owners = new Map<string, string>();
  /** observer → blocks present */
  const tables = new Map<string, Set<string>>();
  /** observer → block → start of the open gap */
  const openGaps = new Map<string, Map<string, number>>();
  const closedGaps: { observer: string; block: string; start: number; end: number }[] = [];
  const downs = new Map<string, Interval[]>();
  const roleChanges = new Map<string, Interval[]>();
  const replacements: number[] = [];
  const problems: string[] = [];

  interface Watched {
    readonly child: ChildProcess;
    readonly routes: Tail;
    readonly log: Tail;
    /** Kernel events stamped before the initial snapshot are in it already. */
    since: number;
    readonly pairing: KernelEventPairing;
    /** Where the pairing's conclusions go: the node's table. */
    readonly sink: PairingSink;
  }
  const watched = new Map<string, Watched>();

  const openInterval = (map: Map<string, Interval[]>, node: string, at: number): void => {
    const list = map.get(node) ?? [];
    const last = list.at(-1);
    if (last !== undefined && last.end === Infinity) return;
    list.push({ start: at, end: Infinity });
    map.set(node, list);
  };
  const closeInterval = (map: Map<string, Interval[]>, node: string, at: number): void => {
    const last = map.get(node)?.at(-1);
    if (last !== undefined && last.end === Infinity) last.end = at;
  };
  const overlaps = (list: readonly Interval[] | undefined, start: number, end: number) =>
    list?.some((i) => i.start <= end && i.end >= start) ?? false;
  const startsWithin = (list: readonly Interval[] | undefined, at: number) =>
    list?.some((i) => i.start <= at && at <= i.end + ROLE_CHANGE_SETTLE_MS) ?? false;

  const apply = (observer: string, block: string, present: boolean, at: number): void => {
    const table = tables.get(observer);
    if (table === undefined) return;
    const gaps = openGaps.get(observer) ?? new Map<string, number>();
    openGaps.set(observer, gaps);
    if (present) {
      table.add(block);
      const start = gaps.get(block);
      if (start !== undefined) {
        gaps.delete(block);
        closedGaps.push({ observer, block, start, end: at });
      }
    } else if (table.delete(block)) {
      gaps.set(block, at);
    }
  };

  const readTail = (tail: Tail): string[] => {
    let size: number;
    try {
      size = statSync(tail.file).size;
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    if (size <= tail.offset) return [];
    const buffer = Buffer.alloc(size - tail.offset);
    const fd = openSync(tail.file, "r");
    try {
      readSync(fd, buffer, 0, buffer.length, tail.offset);
    } finally {
      closeSync(fd);
    }
    tail.offset = size;
    const lines = (tail.rest + buffer.toString("utf8")).split("\n");
    tail.rest = lines.pop() ?? "";
    return lines;
  };

  const read = (): void => {
    const now = Date.now();
    for (const [node, w] of watched) {
      // The log first: BIRD logs an operation before the kernel event it causes.
      for (const line of readTail(w.log)) w.pairing.readLogLine(line, now);
      for (const line of readTail(w.routes)) {
        if (line.includes("No buffer space")) problems.push(`route monitor of ${node}: ${line}`);
        const parsed = parseMonitorLine(line);
        if (parsed === undefined || parsed.at < w.since || !inPool(parsed.block)) continue;
        w.pairing.addKernelEvent(parsed.block, parsed.deleted, parsed.at);
      }
      w.pairing.settle(now, w.sink);
    }
  };
  const timer = setInterval(() => {
    try {
      read();
    } catch (err: unknown) {
      problems.push(`reading the route monitors failed: ${String(err)}`);
    }
  }, 200);

  const unwatch = async (node: string): Promise<void> => {
    read();
    const w = watched.get(node);
    watched.delete(node);
    tables.delete(node);
    openGaps.delete(node);
    const child = w?.child;
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }
  };

  return {
    async watch(node, namespace, birdLog) {
      if (watched.has(node)) return;
      tables.set(node, new Set());
      const file = join(dir, `${node}.routes`);
      const fd = openSync(file, "w");
      const child = spawn("chrt", ["-f", "50", "ip", "-n", namespace, "-ts", "monitor", "route"], {
        stdio: ["ignore", fd, fd],
      });
      closeSync(fd);
      let logOffset = 0;
      try {
        logOffset = statSync(birdLog).size;
      } catch (err: unknown) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
      watched.set(node, {
        child,
        routes: { file, offset: 0, rest: "" },
        log: { file: birdLog, offset: logOffset, rest: "" },
        since: Infinity,
        pairing: createKernelEventPairing(inPool),
        sink: {
          change: (block, present, at) => {
            apply(node, block, present, at);
          },
          replaced: (_block, at) => {
            replacements.push(at);
          },
        },
      });
      child.once("exit", (code, signal) => {
        if (watched.get(node)?.child === child)
          problems.push(`route monitor of ${node} exited (${String(code ?? signal)})`);
      });
      const { stdout } = await runCommand("ip", ["-n", namespace, "-j", "route", "show"]);
      const at = Date.now();
      const routes = JSON.parse(stdout) as { dst?: string; type?: string }[];
      for (const route of routes) {
        if (route.dst !== undefined && (route.type ?? "unicast") === "unicast" && inPool(route.dst))
          apply(node, route.dst, true, at);
      }
      const w = watched.get(node);
      if (w !== undefined) w.since = at;
    },
    unwatch,
    setOwner: (block, node) => {
      owners.set(block, node);
    },
    markDown: (node, at = Date.now()) => {
      openInterval(downs, node, at);
    },
    markUp: (node, at = Date.now()) => {
      closeInterval(downs, node, at);
    },
    openRoleChange: (node, at = Date.now()) => {
      openInterval(roleChanges, node, at);
    },
    closeRoleChange: (node, at = Date.now()) => {
      closeInterval(roleChanges, node, at);
    },
    isChangingRole: (node) => roleChanges.get(node)?.at(-1)?.end === Infinity,
    isQuiet: (at = Date.now()) =>
      [...roleChanges.values()].every((list) =>
        list.every((i) => i.end + ROLE_CHANGE_SETTLE_MS < at),
      ),
    blocksOf: (node) => {
      read();
      return tables.get(node) ?? new Set();
    },
    report(from, to = Date.now()) {
      read();
      const all = [
        ...closedGaps.map((g) => ({ ...g, open: false })),
        ...[...openGaps].flatMap(([observer, gaps]) =>
          [...gaps].map(([block, start]) => ({ observer, block, start, end: to, open: true })),
        ),
      ];
      const gaps: RouteGap[] = [];
      for (const gap of all) {
        const owner = owners.get(gap.block);
        if (owner === undefined || owner === gap.observer) continue;
        const start = Math.max(gap.start, from);
        const end = Math.min(gap.end, to);
        if (end < start) continue;
        // Pairs count only while both nodes are up.
        if (
          overlaps(downs.get(owner), gap.start, gap.end) ||
          overlaps(downs.get(gap.observer), gap.start, gap.end)
        )
          continue;
        const ownBlock =
          startsWithin(roleChanges.get(owner), gap.start) ||
          startsWithin(roleChanges.get(gap.observer), gap.start);
        gaps.push({
          observer: gap.observer,
          owner,
          block: gap.block,
          start,
          end,
          open: gap.open,
          ownBlock,
        });
      }
      gaps.sort((a, b) => b.end - b.start - (a.end - a.start));
      const summarize = (list: readonly RouteGap[]) => ({
        longest: Math.max(0, ...list.map((g) => g.end - g.start)),
        total: list.reduce((sum, g) => sum + g.end - g.start, 0),
      });
      const other = summarize(gaps.filter((g) => !g.ownBlock));
      const own = summarize(gaps.filter((g) => g.ownBlock));
      return {
        longestMs: other.longest,
        totalMs: other.total,
        longestOwnBlockMs: own.longest,
        totalOwnBlockMs: own.total,
        gaps,
        replacements: replacements.filter((at) => at >= from && at <= to).length,
      };
    },
    problems: () => problems,
    async stop() {
      clearInterval(timer);
      await Promise.all([...watched.keys()].map((node) => unwatch(node)));
    },
  };
}

/** `[2026-12-03T07:05:15.419415] Deleted 192.168.4.192/26 via …` → the block, deleted or not, when. */
function parseMonitorLine(
  line: string,
): { block: string; deleted: boolean; at: number } | undefined {
  const match = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d+)\]\s(Deleted\s)?(\S+)(.*)$/.exec(line);
  if (match === null) return undefined; // continuation lines
  const [, seconds = "", fraction = "0", deleted, first = "", rest = ""] = match;
  // Unicast routes start with the prefix; other types (blackhole, local, …) with their type;
  // other tables are not the node's routes.
  if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(first) || / table /.test(rest)) return undefined;
  return {
    block: first,
    deleted: deleted !== undefined,
    at: Date.parse(seconds) + Number(`0.${fraction}`) * 1000,
  };
}

/** A test for "inside this IPv4 CIDR" on route prefixes like `192.168.3.64/26`. */
function createPoolTest(pool: string): (prefix: string) => boolean {
  const [base = "", bits = "0"] = pool.split("/");
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  const network = (toNumber(base) & mask) >>> 0;
  return (prefix) => {
    const [address = "", length = "32"] = prefix.split("/");
    const value = toNumber(address);
    return (
      Number.isFinite(value) && Number(length) >= Number(bits) && (value & mask) >>> 0 === network
    );
  };
}

function toNumber(address: string): number {
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return NaN;
  return (
    (((parts[0] ?? 0) << 24) |
      ((parts[1] ?? 0) << 16) |
      ((parts[2] ?? 0) << 8) |
      (parts[3] ?? 0)) >>>
    0
  );
}
