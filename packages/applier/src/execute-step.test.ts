import type { WriteResult } from "@rrfleet/kube";
import { makeCluster, makeNodes } from "@rrfleet/topology-core/testing";
import type { Action, Step } from "@rrfleet/topology-core";
import { describe, expect, it } from "vitest";
import { executeStep, type ActionWriter } from "./execute-step.js";
import { createFakeClock } from "./testing/fake-clock.js";
import { createMemoryFleetState, type Clock } from "@rrfleet/fleet-state";
import { createSharedTokenBucket } from "./fleet/shared-token-bucket.js";

/** A write budget shared through the in-memory state, as embedded mode uses it. */
function createBucket(ratePerSecond: number, burst: number, clock: Clock) {
  const state = createMemoryFleetState({ clock });
  return createSharedTokenBucket(
    state,
    [{ key: "cluster/test", shape: { ratePerSecond, burst } }],
    clock,
  );
}

function labelPatch(name: string): Action {
  return {
    verb: "patch",
    kind: "Node",
    name,
    patch: { metadata: { labels: { "rrfleet.io/peer-a": "true" } } },
  };
}

function stepOf(actions: Action[], inAnyOrder: boolean): Step {
  return {
    description: "test",
    reason: "AddClientPeerings",
    requiresEstablishedSessions: false,
    inAnyOrder,
    actions,
  };
}

/** A writer that records the order and the largest number of writes in flight. */
function createRecordingWriter(): ActionWriter & { order: string[]; maxInFlight: number } {
  let inFlight = 0;
  const writer = {
    order: [] as string[],
    maxInFlight: 0,
    async apply(action: Action): Promise<WriteResult> {
      inFlight += 1;
      writer.maxInFlight = Math.max(writer.maxInFlight, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
      const name = action.kind === "Node" ? action.name : "other";
      writer.order.push(name);
      if (name === "node-00003" && writer.failOn) throw new Error("boom");
      return { kind: "Node", name, deleted: false, resourceVersion: "1", attempts: 1 };
    },
    failOn: false,
  };
  return writer;
}

describe("executeStep", () => {
  const snapshot = makeCluster(makeNodes(12));
  const actions = snapshot.nodes.map((node) => labelPatch(node.name));
  const bucket = () => createBucket(1000, 1000, createFakeClock());

  it("writes one at a time, in the listed order, when only prefixes were proven safe", async () => {
    const writer = createRecordingWriter();
    await executeStep(stepOf(actions, false), snapshot, { writer, bucket: bucket() });
    expect(writer.maxInFlight).toBe(1);
    expect(writer.order).toEqual(snapshot.nodes.map((node) => node.name));
  });

  it("runs several writes at once when any subset of the step is safe", async () => {
    const writer = createRecordingWriter();
    const execution = await executeStep(stepOf(actions, true), snapshot, {
      writer,
      bucket: bucket(),
      concurrency: 4,
    });
    expect(writer.maxInFlight).toBe(4);
    expect(execution.results).toHaveLength(12);
  });

  it("hands each write the object as the plan saw it, for the precondition", async () => {
    const seen: unknown[] = [];
    const writer: ActionWriter = {
      apply(action, observed) {
        seen.push(observed);
        return Promise.resolve({ kind: "Node", name: "x", deleted: false, attempts: 1 });
      },
    };
    await executeStep(stepOf([labelPatch("node-00002")], false), snapshot, {
      writer,
      bucket: bucket(),
    });
    expect(seen).toEqual([{ kind: "Node", object: snapshot.nodes[2] }]);
  });

  it("sends a node's second write in one step against its first write's result, not the snapshot", async () => {
    // An API server's optimistic concurrency in miniature: a patch must carry the node's
    // current resourceVersion, and each accepted patch bumps it.
    let state = snapshot;
    const versions = new Map(snapshot.nodes.map((n) => [n.name, Number(n.resourceVersion ?? 1)]));
    const writer: ActionWriter = {
      apply(action, observed) {
        if (action.kind !== "Node" || observed?.kind !== "Node")
          throw new Error("node writes only");
        const current = versions.get(action.name) ?? 0;
        if (Number(observed.object.resourceVersion ?? 1) !== current) {
          return Promise.reject(new Error(`409 on ${action.name}`));
        }
        versions.set(action.name, current + 1);
        return Promise.resolve({
          kind: "Node",
          name: action.name,
          deleted: false,
          resourceVersion: String(current + 1),
          attempts: 1,
        });
      },
    };
    const demotion: Action[] = [
      {
        verb: "patch",
        kind: "Node",
        name: "node-00001",
        patch: { metadata: { annotations: { "projectcalico.org/RouteReflectorClusterID": null } } },
      },
      {
        verb: "patch",
        kind: "Node",
        name: "node-00001",
        patch: { metadata: { labels: { "rrfleet.io/reflector": null } } },
      },
    ];
    for (const inAnyOrder of [false, true]) {
      const execution = await executeStep(stepOf(demotion, inAnyOrder), state, {
        writer,
        bucket: bucket(),
      });
      expect(execution.results.map((r) => r.resourceVersion)).toHaveLength(2);
      // Start the next round from the server's state, as a new plan would.
      state = {
        ...state,
        nodes: state.nodes.map((n) =>
          n.name === "node-00001" ? { ...n, resourceVersion: String(versions.get(n.name)) } : n,
        ),
      };
    }
    expect(versions.get("node-00001")).toBe(5);
  });

  it("stops at the first failed write and reports it", async () => {
    const writer = Object.assign(createRecordingWriter(), { failOn: true });
    await expect(
      executeStep(stepOf(actions, false), snapshot, { writer, bucket: bucket() }),
    ).rejects.toThrow("boom");
    expect(writer.order).toEqual(snapshot.nodes.slice(0, 4).map((node) => node.name));
  });

  it("takes a token per write and sums the wait", async () => {
    const clock = createFakeClock();
    const writer = createRecordingWriter();
    const execution = await executeStep(stepOf(actions.slice(0, 5), false), snapshot, {
      writer,
      bucket: createBucket(10, 2, clock),
    });
    expect(execution.rateLimitWaitMs).toBe(300);
  });
});
