/**
 * The behaviour every FleetState implementation must have, as one vitest suite. The memory
 * implementation runs it with a manual clock (`*.test.ts`), the Redis one against a real
 * redis-server with real time (`*.int.test.ts`), so the waits below are short.
 */
import { CLUSTER_ID_ANNOTATION, type ClusterSnapshot } from "@rrfleet/topology-core";
import {
  makeCluster,
  makeForeignPeer,
  makeNode,
  makeOwnedPeer,
} from "@rrfleet/topology-core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FleetState } from "../fleet-state.js";
import { FleetStateError, type FleetStateErrorCode } from "../fleet-state-error.js";
import type { ClusterStatus } from "../status-store.js";

/** Tuning the suite needs from the implementation under test. */
export interface FleetStateContractOptions {
  readonly dirtyVisibilityTimeoutMs: number;
  readonly dirtyTakeTimeoutMs: number;
}

/** Two clients of one shared state (two processes), and control over time and data. */
export interface FleetStateContractHarness {
  readonly first: FleetState;
  readonly second: FleetState;
  /** The clients' clock, epoch ms. */
  now(): number;
  /** Lets `ms` pass: advances a manual clock, or really waits. */
  advance(ms: number): Promise<void>;
  /** Drops all shared data, as FLUSHALL does. */
  flushAll(): Promise<void>;
  close(): Promise<void>;
}

/** Builds a fresh, empty harness for each test. */
export type FleetStateContractFactory = (
  options: FleetStateContractOptions,
) => Promise<FleetStateContractHarness>;

const VISIBILITY_MS = 1000;
const TAKE_TIMEOUT_MS = 300;
const SHORT_TTL_MS = 100;
/** Long enough to pass a short TTL with a margin for Redis's millisecond expiry. */
const PAST_SHORT_TTL_MS = 150;
const LONG_TTL_MS = 60_000;
const TRACE_1 = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const TRACE_2 = "00-1bf7651916cd43dd8448eb211c80319c-c7ad6b7169203331-01";
const TRACE_3 = "00-2cf7651916cd43dd8448eb211c80319c-d7ad6b7169203331-01";

/** Registers the contract suite for one implementation. */
export function describeFleetStateContract(name: string, factory: FleetStateContractFactory): void {
  describe(`${name}: FleetState contract`, () => {
    let h: FleetStateContractHarness;
    beforeEach(async () => {
      h = await factory({
        dirtyVisibilityTimeoutMs: VISIBILITY_MS,
        dirtyTakeTimeoutMs: TAKE_TIMEOUT_MS,
      });
    });
    afterEach(async () => {
      await h.close();
    });

    /** takeDirty that lets the take timeout pass when the queue stays empty. */
    const takeOrTimeOut = async (state: FleetState, max = 10) => {
      const taking = state.takeDirty(max);
      await h.advance(TAKE_TIMEOUT_MS);
      return taking;
    };

    describe("snapshots", () => {
      it("reads back what was published, nodes and peers sorted by name", async () => {
        const snapshot = makeOddSnapshot();
        const meta = { watcher: "watcher-1", observedAt: 1_780_000_000_123, traceparent: TRACE_1 };
        const published = await h.first.publishSnapshot("prod-eu", snapshot, meta);
        const read = await h.second.readSnapshot("prod-eu");
        expect(read).toEqual({
          snapshot: sortedByName(snapshot),
          hash: published.hash,
          meta,
          bytes: published.bytes,
        });
        expect(published.changed).toBe(true);
      });

      it("reads nothing for a cluster nobody published", async () => {
        await h.first.publishSnapshot("a", makeOddSnapshot(), { watcher: "w", observedAt: 1 });
        expect(await h.second.readSnapshot("b")).toBeUndefined();
      });

      it("marks the cluster dirty once, with the change's traceparent, when the content changes", async () => {
        const meta = { watcher: "w1", observedAt: 1, traceparent: TRACE_1 };
        await h.first.publishSnapshot("c1", makeOddSnapshot(), meta);
        const entry = only(await h.second.takeDirty(10));
        expect(entry).toMatchObject({
          cluster: "c1",
          reason: "SnapshotChanged",
          traceparent: TRACE_1,
          marks: 1,
        });
      });

      it("does not count a publish of the same content in another order as a change", async () => {
        const snapshot = makeOddSnapshot();
        const first = await h.first.publishSnapshot("c1", snapshot, {
          watcher: "w1",
          observedAt: 1,
          traceparent: TRACE_1,
        });
        const entry = only(await h.second.takeDirty(10));
        expect(await h.second.ackDirty(entry)).toBe(true);

        const again = await h.first.publishSnapshot("c1", reordered(snapshot), {
          watcher: "w2",
          observedAt: 2,
          traceparent: TRACE_2,
        });

        expect(again).toEqual({ changed: false, hash: first.hash, bytes: first.bytes });
        expect(await takeOrTimeOut(h.second)).toEqual([]);
        // Freshness moves on; the traceparent stays the one of the change that is stored.
        expect((await h.second.readSnapshot("c1"))?.meta).toEqual({
          watcher: "w2",
          observedAt: 2,
          traceparent: TRACE_1,
        });
      });

      it("counts a changed node as a change and replaces the stored snapshot", async () => {
        const before = makeCluster([makeNode("n1").inZone("a"), makeNode("n2").inZone("b")]);
        const after = makeCluster([
          makeNode("n1").inZone("a"),
          makeNode("n2").inZone("b").cordoned(),
        ]);
        const meta = { watcher: "w", observedAt: 1 };
        const one = await h.first.publishSnapshot("c1", before, meta);
        const two = await h.first.publishSnapshot("c1", after, meta);
        expect(two.changed).toBe(true);
        expect(two.hash).not.toBe(one.hash);
        expect((await h.second.readSnapshot("c1"))?.snapshot).toEqual(after);
        const entry = only(await h.second.takeDirty(10));
        expect(entry).toMatchObject({ cluster: "c1", marks: 2 });
      });
    });

    describe("dirty queue", () => {
      it("coalesces many marks of a cluster into one entry with the latest traceparent", async () => {
        await h.first.markDirty("c1", { reason: "SnapshotChanged", traceparent: TRACE_1 });
        await h.second.markDirty("c2", { reason: "PolicyChanged" });
        await h.first.markDirty("c1", { reason: "SnapshotChanged", traceparent: TRACE_2 });
        await h.second.markDirty("c1", { reason: "Resync" });

        const entries = await h.first.takeDirty(10);

        expect(entries.map((e) => e.cluster)).toEqual(["c1", "c2"]);
        expect(entries[0]).toMatchObject({
          reason: "Resync",
          traceparent: TRACE_2,
          marks: 3,
          deliveries: 1,
        });
        expect(itemAt(entries, 0).lastMarkedAt).toBeGreaterThanOrEqual(
          itemAt(entries, 0).firstMarkedAt,
        );
        expect(entries[1]).toMatchObject({ reason: "PolicyChanged", marks: 1 });
        expect(entries[1]).not.toHaveProperty("traceparent");
      });

      it("counts queued clusters, taken ones included, until they are acked", async () => {
        expect(await h.first.countDirty()).toBe(0);
        for (const cluster of ["c1", "c2", "c3"])
          await h.first.markDirty(cluster, { reason: "Resync" });
        await h.first.markDirty("c1", { reason: "Resync" });
        const [taken] = await h.second.takeDirty(1);
        expect(await h.first.countDirty()).toBe(3);
        if (taken === undefined) throw new Error("nothing taken");
        expect(await h.second.ackDirty(taken)).toBe(true);
        expect(await h.first.countDirty()).toBe(2);
      });

      it("requeues every taken entry at once for a new leader, keeping due ones due", async () => {
        for (const cluster of ["c1", "c2", "c3"])
          await h.first.markDirty(cluster, { reason: "Resync" });
        expect(await h.first.takeDirty(2)).toHaveLength(2);

        expect(await h.second.requeueTaken()).toBe(2);

        const again = await h.second.takeDirty(10);
        expect(again.map((e) => e.cluster).sort()).toEqual(["c1", "c2", "c3"]);
        expect(again.find((e) => e.cluster === "c1")?.deliveries).toBe(2);
        expect(await h.second.requeueTaken()).toBe(3);
      });

      it("hands out at most max entries per take", async () => {
        for (const cluster of ["c1", "c2", "c3"])
          await h.first.markDirty(cluster, { reason: "Resync" });
        expect(await h.second.takeDirty(2)).toHaveLength(2);
        expect((await h.second.takeDirty(2)).map((e) => e.cluster)).toEqual(["c3"]);
      });

      it("waits for a mark when the queue is empty", async () => {
        const taking = h.second.takeDirty(10);
        await h.first.markDirty("c1", { reason: "Resync", traceparent: TRACE_1 });
        expect((await taking).map((e) => e.cluster)).toEqual(["c1"]);
      });

      it("resolves empty after the take timeout when nothing is marked", async () => {
        expect(await takeOrTimeOut(h.first)).toEqual([]);
      });

      it("rejects a waiting take with the signal's reason when it aborts", async () => {
        const controller = new AbortController();
        const taking = h.first.takeDirty(10, controller.signal);
        controller.abort(new Error("shutting down"));
        await expect(taking).rejects.toThrow("shutting down");
      });

      it("hides a taken entry, then delivers it again when its taker never acknowledges", async () => {
        await h.first.markDirty("c1", { reason: "Resync", traceparent: TRACE_1 });
        const taken = only(await h.first.takeDirty(10));
        expect(await takeOrTimeOut(h.second)).toEqual([]);

        await h.advance(VISIBILITY_MS);
        const redelivered = only(await h.second.takeDirty(10));

        expect(redelivered).toMatchObject({
          cluster: "c1",
          traceparent: TRACE_1,
          generation: taken.generation,
          deliveries: 2,
        });
        expect(await h.second.ackDirty(redelivered)).toBe(true);
        await h.advance(VISIBILITY_MS);
        expect(await takeOrTimeOut(h.first)).toEqual([]);
      });

      it("keeps a mark that arrives while the cluster is being planned", async () => {
        await h.first.markDirty("c1", { reason: "Resync", traceparent: TRACE_1 });
        const taken = only(await h.second.takeDirty(10));
        await h.first.markDirty("c1", { reason: "SnapshotChanged", traceparent: TRACE_2 });
        expect(await takeOrTimeOut(h.first)).toEqual([]); // still being planned

        expect(await h.second.ackDirty(taken)).toBe(false);
        const again = only(await h.second.takeDirty(10));

        expect(again).toMatchObject({ cluster: "c1", traceparent: TRACE_2, marks: 2 });
        expect(await h.second.ackDirty(again)).toBe(true);
        expect(await takeOrTimeOut(h.first)).toEqual([]);
      });

      it("ignores a late ack from a taker whose entry was redelivered and re-marked", async () => {
        await h.first.markDirty("c1", { reason: "Resync" });
        const slow = only(await h.first.takeDirty(10));
        await h.advance(VISIBILITY_MS);
        const fast = only(await h.second.takeDirty(10));
        expect(await h.second.ackDirty(fast)).toBe(true);
        await h.second.markDirty("c1", { reason: "SnapshotChanged", traceparent: TRACE_3 });

        expect(await h.first.ackDirty(slow)).toBe(false);

        const pending = only(await h.second.takeDirty(10));
        expect(pending).toMatchObject({ cluster: "c1", traceparent: TRACE_3, marks: 1 });
      });

      it("answers false to an ack of a cluster that is not queued", async () => {
        expect(await h.first.ackDirty({ cluster: "c1", generation: 1 })).toBe(false);
      });
    });

    describe("membership", () => {
      it("lists live watchers sorted by id and drops one whose heartbeat expired", async () => {
        await h.first.heartbeat("watcher-b", { ttlMs: LONG_TTL_MS });
        await h.second.heartbeat("watcher-a", { ttlMs: SHORT_TTL_MS, capacity: 5000 });
        const listed = await h.first.listMembers(h.now());
        expect(listed.map((m) => [m.watcherId, m.capacity])).toEqual([
          ["watcher-a", 5000],
          ["watcher-b", undefined],
        ]);
        expect(itemAt(listed, 0).expiresAt).toBeGreaterThan(h.now());

        await h.advance(PAST_SHORT_TTL_MS);

        expect((await h.first.listMembers(h.now())).map((m) => m.watcherId)).toEqual(["watcher-b"]);
        await h.second.heartbeat("watcher-a", { ttlMs: SHORT_TTL_MS });
        expect((await h.first.listMembers(h.now())).map((m) => m.watcherId)).toEqual([
          "watcher-a",
          "watcher-b",
        ]);
      });

      it("judges expiry at the now it is given", async () => {
        await h.first.heartbeat("w1", { ttlMs: LONG_TTL_MS });
        expect(await h.second.listMembers(h.now() + LONG_TTL_MS + 1000)).toEqual([]);
      });

      it("forgets a watcher that leaves at once", async () => {
        await h.first.heartbeat("w1", { ttlMs: LONG_TTL_MS });
        await h.first.heartbeat("w2", { ttlMs: LONG_TTL_MS });
        await h.first.leave("w1");
        expect((await h.second.listMembers(h.now())).map((m) => m.watcherId)).toEqual(["w2"]);
      });
    });

    describe("leader lease", () => {
      it("gives the lease to one of many concurrent candidates", async () => {
        const candidates = Array.from({ length: 12 }, (_, i) => `candidate-${i}`);
        const results = await Promise.all(
          candidates.map((id, i) =>
            (i % 2 === 0 ? h.first : h.second).acquireOrRenew(id, LONG_TTL_MS),
          ),
        );
        const winners = results.filter((r) => r.held);
        expect(winners).toHaveLength(1);
        expect(new Set(results.map((r) => `${r.holder}@${r.epoch}`)).size).toBe(1);
      });

      it("keeps the epoch on renewal and reports the holder to others", async () => {
        const acquired = await h.first.acquireOrRenew("a", LONG_TTL_MS);
        const renewed = await h.first.acquireOrRenew("a", LONG_TTL_MS);
        const other = await h.second.acquireOrRenew("b", LONG_TTL_MS);
        expect(acquired).toMatchObject({ held: true, holder: "a" });
        expect(renewed).toMatchObject({ held: true, holder: "a", epoch: acquired.epoch });
        expect(other).toMatchObject({ held: false, holder: "a", epoch: acquired.epoch });
        expect(acquired.expiresAt).toBeGreaterThan(h.now());
        expect(acquired.expiresAt).toBeLessThanOrEqual(h.now() + LONG_TTL_MS);
        expect(acquired.ttlMs).toBeGreaterThan(0);
        expect(acquired.ttlMs).toBeLessThanOrEqual(LONG_TTL_MS);
      });

      it("raises the epoch by one on every change of holder, also after the lease key expired", async () => {
        const epochs: number[] = [];
        const a1 = await h.first.acquireOrRenew("a", SHORT_TTL_MS);
        epochs.push(a1.epoch);
        await h.advance(PAST_SHORT_TTL_MS);
        const b = await h.second.acquireOrRenew("b", LONG_TTL_MS);
        epochs.push(b.epoch);
        expect(await h.second.release("b", b.epoch)).toBe(true);
        const a2 = await h.first.acquireOrRenew("a", SHORT_TTL_MS);
        epochs.push(a2.epoch);
        await h.advance(PAST_SHORT_TTL_MS);
        // The same candidate after its lease lapsed: someone may have led in between.
        const a3 = await h.first.acquireOrRenew("a", LONG_TTL_MS);
        epochs.push(a3.epoch);

        expect([a1, b, a2, a3].every((r) => r.held)).toBe(true);
        expect(epochs).toEqual([a1.epoch, a1.epoch + 1, a1.epoch + 2, a1.epoch + 3]);
        expect(a1.epoch).toBeGreaterThan(0);
      });

      it("lets a stale holder neither renew nor publish a shard map after a takeover", async () => {
        const stale = await h.first.acquireOrRenew("a", SHORT_TTL_MS);
        await h.advance(PAST_SHORT_TTL_MS);
        const leader = await h.second.acquireOrRenew("b", LONG_TTL_MS);
        await h.second.publishShardMap(
          { epoch: leader.epoch, assignments: { c1: "w1" } },
          { holder: "b", epoch: leader.epoch },
        );

        const renewal = await h.first.acquireOrRenew("a", SHORT_TTL_MS);
        const publishing = h.first.publishShardMap(
          { epoch: stale.epoch, assignments: { c1: "w2" } },
          { holder: "a", epoch: stale.epoch },
        );

        expect(renewal).toMatchObject({ held: false, holder: "b", epoch: leader.epoch });
        await expectCode(publishing, "LeaseLost");
        expect(await h.first.readShardMap()).toEqual({
          epoch: leader.epoch,
          assignments: { c1: "w1" },
          publishedBy: "b",
          leaderEpoch: leader.epoch,
        });
      });

      it("refuses a holder's token from an earlier term of its own", async () => {
        const first = await h.first.acquireOrRenew("a", SHORT_TTL_MS);
        await h.advance(PAST_SHORT_TTL_MS);
        const second = await h.first.acquireOrRenew("a", LONG_TTL_MS);
        expect(second.epoch).toBe(first.epoch + 1);
        await expectCode(
          h.first.publishShardMap(
            { epoch: 1, assignments: {} },
            { holder: "a", epoch: first.epoch },
          ),
          "LeaseLost",
        );
      });

      it("refuses a shard map from a candidate that never held the lease", async () => {
        await expectCode(
          h.first.publishShardMap(
            { epoch: 1, assignments: { c1: "w1" } },
            { holder: "x", epoch: 1 },
          ),
          "LeaseLost",
        );
        expect(await h.second.readShardMap()).toBeUndefined();
      });

      it("lets an onlooker read the holder, its epoch and what is left of the lease, without taking part", async () => {
        expect(await h.second.readLease()).toBeUndefined();
        const lease = await h.first.acquireOrRenew("a", LONG_TTL_MS);

        const read = await h.second.readLease();

        expect(read).toMatchObject({ holder: "a", epoch: lease.epoch });
        expect(read?.ttlMs).toBeGreaterThan(0);
        expect(read?.ttlMs).toBeLessThanOrEqual(LONG_TTL_MS);
        await h.first.release("a", lease.epoch);
        expect(await h.second.readLease()).toBeUndefined();
        // Reading took no part: the next candidate gets the lease at once, one epoch up.
        expect(await h.second.acquireOrRenew("b", LONG_TTL_MS)).toMatchObject({
          held: true,
          epoch: lease.epoch + 1,
        });
      });

      it("reads no lease once it expired", async () => {
        await h.first.acquireOrRenew("a", SHORT_TTL_MS);
        await h.advance(PAST_SHORT_TTL_MS);
        expect(await h.second.readLease()).toBeUndefined();
      });

      it("keeps a watch problem until it is cleared or its TTL passes", async () => {
        const problem = {
          watcher: "w1",
          reason: "Unavailable",
          message: "list nodes: cannot reach the API server (ECONNREFUSED 10.0.0.1:6443)",
          attempts: 3,
          at: h.now(),
        };
        expect(await h.second.readWatchProblem("east")).toBeUndefined();

        await h.first.reportWatchProblem("east", problem, LONG_TTL_MS);
        expect(await h.second.readWatchProblem("east")).toEqual(problem);
        await h.first.clearWatchProblem("east");
        expect(await h.second.readWatchProblem("east")).toBeUndefined();

        await h.first.reportWatchProblem("west", problem, SHORT_TTL_MS);
        await h.advance(PAST_SHORT_TTL_MS);
        expect(await h.second.readWatchProblem("west")).toBeUndefined();
      });

      it("releases only for the holder at its epoch", async () => {
        const lease = await h.first.acquireOrRenew("a", LONG_TTL_MS);
        expect(await h.second.release("b", lease.epoch)).toBe(false);
        expect(await h.first.release("a", lease.epoch + 1)).toBe(false);
        expect(await h.first.release("a", lease.epoch)).toBe(true);
        expect(await h.second.acquireOrRenew("b", LONG_TTL_MS)).toMatchObject({
          held: true,
          epoch: lease.epoch + 1,
        });
      });
    });

    describe("rate-limit buckets", () => {
      it("holds one budget across two clients", async () => {
        const bucket = { ratePerSecond: 0.5, burst: 3 };
        expect(await h.first.takeTokens("cluster:c1", { ...bucket, n: 3 })).toBe(0);
        const secondWait = await h.second.takeTokens("cluster:c1", bucket);
        const thirdWait = await h.first.takeTokens("cluster:c1", bucket);
        // Each further token is 2 s later than the one before, minus the time that passed.
        expect(secondWait).toBeGreaterThan(0);
        expect(secondWait).toBeLessThanOrEqual(2000);
        expect(thirdWait).toBeGreaterThan(2000);
        expect(thirdWait).toBeLessThanOrEqual(4000);
        expect(await h.second.takeTokens("cluster:c2", bucket)).toBe(0);
      });

      it("refills over time up to the burst", async () => {
        const bucket = { ratePerSecond: 10, burst: 2 };
        expect(await h.first.takeTokens("global", { ...bucket, n: 2 })).toBe(0);
        expect(await h.second.takeTokens("global", bucket)).toBeGreaterThan(0);
        await h.advance(400); // 4 tokens' worth: back to the burst of 2, not 3
        expect(await h.first.takeTokens("global", { ...bucket, n: 2 })).toBe(0);
        expect(await h.second.takeTokens("global", bucket)).toBeGreaterThan(0);
      });
    });

    describe("cluster status", () => {
      it("reads back the latest status of every cluster", async () => {
        const progressing: ClusterStatus = {
          phase: "Progressing",
          reason: "StepApplied",
          message: "step 2 of 5",
          updatedAt: 1_780_000_000_000,
          nodes: 5000,
          reflectors: 30,
          pendingSteps: 3,
          pendingActions: 40,
          lastStep: { reason: "AddClientPeerings", message: "add peerings", at: 1_779_999_999_000 },
          failures: 2,
          lastError: { reason: "Conflict", message: "409", at: 1_779_999_998_000 },
          lastConvergedAt: 1_779_000_000_000,
          leaderEpoch: 4,
          traceparent: TRACE_1,
        };
        const converged: ClusterStatus = {
          phase: "Converged",
          reason: "NothingToDo",
          message: "",
          updatedAt: 1_780_000_001_000,
          convergedSince: 1_780_000_000_500,
          lastConvergedAt: 1_780_000_001_000,
        };
        expect(await h.second.readStatuses()).toEqual({});
        await h.first.writeStatus("b", progressing);
        await h.first.writeStatus("a", progressing);
        await h.first.writeStatus("a", converged);
        const statuses = await h.second.readStatuses();
        expect(statuses).toEqual({ a: converged, b: progressing });
        expect(Object.keys(statuses)).toEqual(["a", "b"]);
      });
    });

    describe("after FLUSHALL", () => {
      it("reads nothing, frees the lease and issues epochs above every one the client saw", async () => {
        await h.first.publishSnapshot("c1", makeOddSnapshot(), { watcher: "w", observedAt: 1 });
        await h.first.heartbeat("w", { ttlMs: LONG_TTL_MS });
        await h.first.writeStatus("c1", {
          phase: "Converged",
          reason: "NothingToDo",
          message: "",
          updatedAt: 1,
        });
        const a1 = await h.first.acquireOrRenew("a", SHORT_TTL_MS);
        await h.advance(PAST_SHORT_TTL_MS);
        const b = await h.second.acquireOrRenew("b", LONG_TTL_MS);
        await h.second.publishShardMap({ epoch: 1, assignments: { c1: "w" } }, b);
        const seenByFirst = await h.first.acquireOrRenew("a", LONG_TTL_MS);
        expect(seenByFirst).toMatchObject({ held: false, epoch: a1.epoch + 1 });

        await h.flushAll();

        expect(await h.second.readSnapshot("c1")).toBeUndefined();
        expect(await h.second.readShardMap()).toBeUndefined();
        expect(await h.second.listMembers(h.now())).toEqual([]);
        expect(await h.second.readStatuses()).toEqual({});
        expect(await takeOrTimeOut(h.second)).toEqual([]);
        const after = await h.first.acquireOrRenew("a", LONG_TTL_MS);
        expect(after).toMatchObject({ held: true, holder: "a", epoch: b.epoch + 1 });
        expect(await h.first.release("a", after.epoch)).toBe(true);
        // Epochs seen elsewhere (an annotation in a cluster) lift the floor too.
        expect(await h.second.acquireOrRenew("b", LONG_TTL_MS, { minEpoch: 41 })).toMatchObject({
          held: true,
          epoch: 42,
        });
      });
    });

    describe("input checks", () => {
      const cases: {
        name: string;
        call: (state: FleetState) => Promise<unknown>;
      }[] = [
        {
          name: "a cluster name with a brace would break the hash tag",
          call: (s) => s.markDirty("a{b}", { reason: "Resync" }),
        },
        { name: "an empty cluster name", call: (s) => s.readSnapshot("") },
        { name: "a lease without a TTL", call: (s) => s.acquireOrRenew("a", 0) },
        { name: "a heartbeat with a negative TTL", call: (s) => s.heartbeat("w", { ttlMs: -1 }) },
        {
          name: "a bucket that never refills",
          call: (s) => s.takeTokens("b", { ratePerSecond: 0, burst: 1 }),
        },
        {
          name: "a bucket smaller than one token",
          call: (s) => s.takeTokens("b", { ratePerSecond: 1, burst: 0.5 }),
        },
        { name: "a take of nothing", call: (s) => s.takeDirty(0) },
      ];
      it.each(cases)("rejects $name as Invalid", async ({ call }) => {
        await expectCode(call(h.first), "Invalid");
      });
    });
  });
}

/** The one item of `items`; throws (failing the test) when there are none or more. */
function only<T>(items: readonly T[]): T {
  if (items.length !== 1) throw new Error(`expected exactly one item, got ${items.length}`);
  return items[0] as T;
}

/** `items[index]`; throws (failing the test) when it is missing. */
function itemAt<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined)
    throw new Error(`expected an item at ${index}, got ${items.length} items`);
  return item;
}

async function expectCode(promise: Promise<unknown>, code: FleetStateErrorCode): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(FleetStateError);
  expect((error as FleetStateError).code).toBe(code);
}

/** Every field the codec has a special case for. */
function makeOddSnapshot(): ClusterSnapshot {
  const nodes = [
    makeNode("zeta-2")
      .inZone("b")
      .withLabels({ "rrfleet.io/reflector": "2", "self-ref": "zeta-2", empty: "" })
      .reflector("244.0.0.2")
      .ready("2026-03-01T10:00:00Z")
      .createdAt("2026-01-01T00:00:00Z")
      .build(),
    {
      ...makeNode("alpha-1")
        .inZone("a")
        .withLabels({ "rrfleet.io/peer-2": "", "team.example.com/owner": "netzwerk-ä-🚀" })
        .notReady("2026-03-01T10:00:00.123Z")
        .createdAt("2026-01-01T02:00:00+02:00")
        .cordoned()
        .tainted("node.kubernetes.io/unreachable", "NoExecute")
        .tainted("spot", "PreferNoSchedule")
        .build(),
      resourceVersion: "0012",
    },
    {
      ...makeNode("mid-3").withAnnotation(CLUSTER_ID_ANNOTATION, "not-an-ip").build(),
      resourceVersion: "987654321",
    },
    { ...makeNode("bare-4").build(), labels: {} },
  ];
  return {
    ...makeCluster(nodes, {
      mesh: false,
      bgpPeers: [
        makeOwnedPeer("rrfleet-reflector-2", {
          nodeSelector: "has(rrfleet.io/peer-2)",
          peerSelector: "rrfleet.io/reflector == '2'",
          resourceVersion: "77",
        }),
        makeForeignPeer("tor-switch", { peerIP: "192.0.2.1", asNumber: 64512, node: "zeta-2" }),
      ],
    }),
    bgpConfiguration: {
      exists: true,
      nodeToNodeMeshEnabled: false,
      specFields: ["nodeToNodeMeshEnabled", "asNumber"],
      resourceVersion: "55",
    },
    calicoApiVersion: "projectcalico.org/v3",
  };
}

function sortedByName(snapshot: ClusterSnapshot): ClusterSnapshot {
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : 1);
  return {
    ...snapshot,
    nodes: [...snapshot.nodes].sort(byName),
    bgpPeers: [...snapshot.bgpPeers].sort(byName),
  };
}

/** The same content with nodes, peers and label keys in reverse order. */
function reordered(snapshot: ClusterSnapshot): ClusterSnapshot {
  const reverseKeys = (labels: Readonly<Record<string, string>>) =>
    Object.fromEntries(Object.entries(labels).reverse());
  return {
    ...snapshot,
    nodes: [...snapshot.nodes].reverse().map((n) => ({ ...n, labels: reverseKeys(n.labels) })),
    bgpPeers: [...snapshot.bgpPeers]
      .reverse()
      .map((p) => ({ ...p, labels: reverseKeys(p.labels) })),
  };
}
