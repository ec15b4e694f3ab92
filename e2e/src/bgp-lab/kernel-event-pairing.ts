/**
 * Pairs one lab node's kernel route events with what its BIRD says it did to the kernel, prefix
 * by prefix in order, so that the route judge can tell BIRD 1.6's replacements (delete, then add)
 * from deletions. BIRD's side is its kernel protocol's log (`debug { states, routes, events,
 * packets }`):
 *
 * - **Notifications**, `kernel1 < added|replaced|removed PREFIX`: the routing table handed the
 *   kernel protocol a change. The table logs them (nest/rt-table.c, `do_rt_notify`) before the
 *   kernel protocol acts on them, and it logs them just the same while the kernel protocol does
 *   not write to the kernel yet: from its start until its first scan after its initial feed
 *   (sysdep/unix/krt.c: `if (p->initialized) krt_replace_rte(…)` — "Before first scan we don't
 *   touch the routes"). Under `bird -R` that feed waits until graceful-restart recovery ends,
 *   the kernel keeps the previous BIRD's routes meanwhile, and that first scan reconciles the two,
 *   logging each change it makes as a scan line. Notifications of that stretch changed nothing
 *   in the kernel and are dropped. Taken as operations, they were paired with the kernel events
 *   of later ones: on a restarted node the feed that ends recovery logged `< added` for routes
 *   the kernel still had, and the first real `< replaced` (a delete, then an add) then had its
 *   delete paired with that add and counted as a gap whenever the two halves came in different
 *   reads of the monitor file (2 ms to 780 ms apart on a loaded machine).
 *   The stretch is read from the protocol's own lines: `kernel1: Initializing` (BIRD started),
 *   `kernel1: State changed to up` (initial feed done), then `kernel1: Pruning table …` (the
 *   first scan's reconciliation; notifications after it reach the kernel).
 * - **Scan lines**, `kernel1: PREFIX: reinstalling|updating|deleting`: changes a scan makes; they
 *   always reach the kernel.
 *
 * BIRD writes a line before the netlink request it describes, so an event's operation is in the
 * log before the event is in the monitor's file. Pairing, per prefix in order:
 * - a replacement (`replaced`, `updating`) is a deletion and the addition that follows it: not a
 *   change of the table, however far apart the halves are (all lab nodes share one kernel's
 *   routing lock); a replacement whose addition never comes within {@link UNEXPLAINED_AFTER_MS}
 *   is a deletion;
 * - an addition or deletion BIRD logged is one kernel event of the same kind;
 * - an operation the next kernel event contradicts (BIRD added, the kernel deleted, or the
 *   reverse) never reached the kernel (a netlink request that failed): it explains nothing;
 * - a kernel event BIRD's log does not explain within {@link UNEXPLAINED_AFTER_MS} is taken at
 *   face value, and so is an operation with no kernel event dropped after that long.
 */

/** A kernel event BIRD's log has not explained after this long is taken as it is (ms). */
export const UNEXPLAINED_AFTER_MS = 3_000;

/** What the pairing concludes, reported in kernel order per prefix. */
export interface PairingSink {
  /** The kernel's route to `block` is there (`present`) or gone from `at` (wall-clock ms) on. */
  change(block: string, present: boolean, at: number): void;
  /** BIRD replaced the route to `block` (its deletion at `at`): the table did not change. */
  replaced(block: string, at: number): void;
}

/** One node's pairing of BIRD's kernel operations with the kernel's route events. */
export interface KernelEventPairing {
  /** One line of the node's BIRD log, read at `now` (wall-clock ms). */
  readLogLine(line: string, now: number): void;
  /** The kernel deleted (or added) a route to `block` at `at` (wall-clock ms). */
  addKernelEvent(block: string, deleted: boolean, at: number): void;
  /** Pairs what can be paired by `now`, telling `sink` what the kernel's table did. */
  settle(now: number, sink: PairingSink): void;
}

/** What BIRD's kernel protocol says it did to a prefix: add, replace (delete + add) or delete. */
type BirdOp = "add" | "replace" | "delete";

/** A kernel protocol line that matters here. */
type KernelProtocolLine =
  | { readonly kind: "start" | "fed" | "pruning" }
  | { readonly kind: "notify" | "scan"; readonly block: string; readonly op: BirdOp };

/**
 * Whether notifications reach the kernel: `synced` (the kernel protocol's first scan after its
 * feed has run), `starting` (BIRD started, feed not done) or `fed` (feed done, scan not yet).
 */
type SyncState = "synced" | "starting" | "fed";

/**
 * Creates the pairing of one node; `track` says which prefixes to pair (pod blocks). It starts as
 * if BIRD were running already: the lab watches a node before it starts BIRD there, so BIRD's
 * `Initializing` line comes first.
 */
export function createKernelEventPairing(track: (prefix: string) => boolean): KernelEventPairing {
  let sync: SyncState = "synced";
  /** Per block: kernel events and BIRD operations not paired yet, in order. */
  const events = new Map<string, { deleted: boolean; at: number }[]>();
  const ops = new Map<string, { op: BirdOp; seenAt: number }[]>();

  const follow = (kind: "start" | "fed" | "pruning"): void => {
    if (kind === "start") sync = "starting";
    else if (kind === "fed" && sync === "starting") sync = "fed";
    else if (kind === "pruning" && sync === "fed") sync = "synced";
  };

  const settleBlock = (block: string, now: number, sink: PairingSink): void => {
    const pending = events.get(block) ?? [];
    const logged = ops.get(block) ?? [];
    for (;;) {
      const event = pending[0];
      if (event === undefined) break;
      const op = logged[0]?.op;
      if ((op === "add" && event.deleted) || (op === "delete" && !event.deleted)) {
        logged.shift(); // it never reached the kernel
        continue;
      }
      if (op === "replace" && event.deleted) {
        const added = pending[1];
        if (added === undefined) {
          if (now - event.at < UNEXPLAINED_AFTER_MS) break; // the add is on its way
          sink.change(block, false, event.at); // never re-added: a real deletion
          pending.shift();
          logged.shift();
          continue;
        }
        pending.splice(0, 2);
        logged.shift();
        sink.replaced(block, event.at);
        if (added.deleted) sink.change(block, false, added.at);
        continue;
      }
      if (op !== undefined) {
        // add ↔ an added route; delete ↔ a deletion; a replacement of a route that was not
        // installed is an add.
        pending.shift();
        logged.shift();
        sink.change(block, !event.deleted, event.at);
        continue;
      }
      if (now - event.at < UNEXPLAINED_AFTER_MS) break; // BIRD's log may not be read yet
      pending.shift();
      sink.change(block, !event.deleted, event.at);
    }
    // Operations with no kernel event (a route BIRD never installed) explain nothing.
    while (
      pending.length === 0 &&
      logged[0] !== undefined &&
      now - logged[0].seenAt >= UNEXPLAINED_AFTER_MS
    )
      logged.shift();
    if (pending.length === 0) events.delete(block);
    if (logged.length === 0) ops.delete(block);
  };

  return {
    readLogLine(line, now) {
      const parsed = parseKernelProtocolLine(line);
      if (parsed === undefined) return;
      if (parsed.kind !== "notify" && parsed.kind !== "scan") {
        follow(parsed.kind);
        return;
      }
      // Before the kernel protocol's first scan, notifications changed nothing in the kernel.
      if (parsed.kind === "notify" && sync !== "synced") return;
      if (!track(parsed.block)) return;
      const list = ops.get(parsed.block) ?? [];
      list.push({ op: parsed.op, seenAt: now });
      ops.set(parsed.block, list);
    },
    addKernelEvent(block, deleted, at) {
      const list = events.get(block) ?? [];
      list.push({ deleted, at });
      events.set(block, list);
    },
    settle(now, sink) {
      for (const block of new Set([...events.keys(), ...ops.keys()])) settleBlock(block, now, sink);
    },
  };
}

/** BIRD's kernel-protocol lines → what they say; other lines → undefined. */
function parseKernelProtocolLine(line: string): KernelProtocolLine | undefined {
  const notify = /kernel\d* < (added|replaced|removed) (\S+)/.exec(line);
  if (notify !== null) {
    const op = notify[1] === "added" ? "add" : notify[1] === "replaced" ? "replace" : "delete";
    return { kind: "notify", block: notify[2] ?? "", op };
  }
  const text = line.trim();
  if (/kernel\d*: Initializing/.test(text)) return { kind: "start" };
  if (/kernel\d*: State changed to up$/.test(text)) return { kind: "fed" };
  if (/kernel\d*: Pruning table \S+$/.test(text)) return { kind: "pruning" };
  const scan =
    /kernel\d*: (\S+): (installing|reinstalling|updating|deleting|\[redirect\] deleting)$/.exec(
      text,
    );
  if (scan === null) return undefined;
  const op =
    scan[2] === "updating" ? "replace" : scan[2]?.endsWith("deleting") === true ? "delete" : "add";
  return { kind: "scan", block: scan[1] ?? "", op };
}
