import { applyActions, type Action, type ClusterSnapshot, type Step } from "@rrfleet/topology-core";
import type { ObservedObject, WriteResult } from "@rrfleet/kube";
import type { TokenBucket } from "./token-bucket.js";

/** The one write port the executor needs (`@rrfleet/kube`'s `ClusterWriter` fits it). */
export interface ActionWriter {
  apply(
    action: Action,
    observed: ObservedObject | undefined,
    signal?: AbortSignal,
  ): Promise<WriteResult>;
}

/** Dependencies of {@link executeStep}. */
export interface ExecuteStepDeps {
  readonly writer: ActionWriter;
  readonly bucket: TokenBucket;
  /** Writes in flight at once for steps whose actions may run in any order; default 8. */
  readonly concurrency?: number;
  /** Called after each write (metrics, logs). */
  readonly onWrite?: (action: Action, result: WriteResult, rateLimitWaitMs: number) => void;
  readonly signal?: AbortSignal;
}

/** What a step's execution did. */
export interface StepExecution {
  readonly results: readonly WriteResult[];
  /** Total time spent waiting for the write budget. */
  readonly rateLimitWaitMs: number;
}

const DEFAULT_CONCURRENCY = 8;

/**
 * Applies one planned step to a cluster. The planner verified that every prefix of the step in
 * its listed order keeps every route, so actions run one at a time in that order; only a step
 * marked `inAnyOrder` (every subset is safe) runs several writes at once. Each write first takes
 * a token from the cluster's bucket and carries the object as `snapshot` showed it (the
 * resourceVersion precondition). Throws the first write error: the caller re-plans from what the
 * cluster then shows (level-triggered), which the planner proves safe for any partial step.
 */
export async function executeStep(
  step: Step,
  snapshot: ClusterSnapshot,
  deps: ExecuteStepDeps,
): Promise<StepExecution> {
  const { observe, record } = createObservedLookup(snapshot);
  const results: WriteResult[] = [];
  let rateLimitWaitMs = 0;
  const write = async (action: Action): Promise<void> => {
    deps.signal?.throwIfAborted();
    const waited = await deps.bucket.take(deps.signal);
    rateLimitWaitMs += waited;
    const result = await deps.writer.apply(action, observe(action), deps.signal);
    record(action, result);
    results.push(result);
    deps.onWrite?.(action, result, waited);
  };
  // Two writes to one node (a demotion: cluster ID, then labels) must not race each other.
  const width =
    step.inAnyOrder && !writesOneNodeTwice(step.actions)
      ? (deps.concurrency ?? DEFAULT_CONCURRENCY)
      : 1;
  await runWithConcurrency(step.actions, width, write);
  return { results, rateLimitWaitMs };
}

/**
 * The object each action was planned against (undefined for creates) — for a node this step has
 * already written, the node as that write left it: the plan's second write to a node (a
 * demotion's labels after its cluster ID) was planned knowing the first, and sending the
 * snapshot's resourceVersion with it would only earn a conflict with our own write.
 */
function createObservedLookup(snapshot: ClusterSnapshot): {
  observe: (action: Action) => ObservedObject | undefined;
  record: (action: Action, result: WriteResult) => void;
} {
  const nodes = new Map(snapshot.nodes.map((node) => [node.name, node]));
  const peers = new Map(snapshot.bgpPeers.map((peer) => [peer.name, peer]));
  const record = (action: Action, result: WriteResult): void => {
    if (action.kind !== "Node") return;
    const node = nodes.get(action.name);
    if (node === undefined) return;
    const [written] = applyActions({ ...snapshot, nodes: [node] }, [action]).nodes;
    if (written === undefined) return;
    const { resourceVersion: _planned, ...rest } = written;
    nodes.set(
      action.name,
      result.resourceVersion === undefined
        ? rest
        : { ...rest, resourceVersion: result.resourceVersion },
    );
  };
  const observe = (action: Action): ObservedObject | undefined => {
    switch (action.kind) {
      case "Node": {
        const node = nodes.get(action.name);
        return node === undefined ? undefined : { kind: "Node", object: node };
      }
      case "BGPPeer": {
        if (action.verb === "create") return undefined;
        const name = action.verb === "delete" ? action.name : action.object.metadata.name;
        const peer = peers.get(name);
        return peer === undefined ? undefined : { kind: "BGPPeer", object: peer };
      }
      case "BGPConfiguration":
        return action.verb === "create" || !snapshot.bgpConfiguration.exists
          ? undefined
          : { kind: "BGPConfiguration", object: snapshot.bgpConfiguration };
    }
  };
  return { observe, record };
}

/** Whether two of `actions` patch the same node. */
function writesOneNodeTwice(actions: readonly Action[]): boolean {
  const seen = new Set<string>();
  for (const action of actions) {
    if (action.kind !== "Node") continue;
    if (seen.has(action.name)) return true;
    seen.add(action.name);
  }
  return false;
}

/** Runs `work` over `items`, at most `width` at once, stopping at the first failure. */
async function runWithConcurrency<T>(
  items: readonly T[],
  width: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (err: unknown) {
        failed = true;
        throw err;
      }
    }
  };
  const workers = Array.from({ length: Math.min(width, items.length) }, worker);
  const settled = await Promise.allSettled(workers);
  const rejection = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (rejection !== undefined) throw rejection.reason;
}
