import { connectCluster, detectCalicoApi, watchCluster } from "@rrfleet/kube";
import {
  findLostRoutes,
  findMissingRoutes,
  viewRoutes,
  type ClusterSnapshot,
  compareStrings,
} from "@rrfleet/topology-core";

/** What {@link startRouteObserver} saw. */
export interface RouteObserver {
  /** States observed (one per change of what the planner reads). */
  states(): number;
  /** Routes between nodes Ready before and after a change that the change lost, summed. */
  lostRoutes(): number;
  /** Up to 10 descriptions of losses, for failure messages. */
  losses(): readonly string[];
  /** Ready pairs without a route in the state where the mesh went off (undefined: it never did). */
  missingWhenMeshWentOff(): number | undefined;
  /** The latest observed state. */
  snapshot(): ClusterSnapshot;
  stop(): Promise<void>;
}

/** Options of {@link startRouteObserver}. */
export interface RouteObserverOptions {
  readonly kubeconfigPath: string;
  readonly context: string;
}

/**
 * Watches a cluster as an independent observer (its own connection and watch) and runs the
 * core's iBGP analysis on every state the API server passes through: a change must not cut a
 * route between two nodes that are Ready on both sides of it. Nodes that appear, disappear or
 * change readiness are left out of that comparison (their routes come and go for reasons of
 * their own), so the count is exactly the routes rrfleet's writes lost.
 */
export async function startRouteObserver(options: RouteObserverOptions): Promise<RouteObserver> {
  const connection = connectCluster({
    kubeconfigPath: options.kubeconfigPath,
    context: options.context,
  });
  const calico = await detectCalicoApi(connection);
  const watch = watchCluster(connection, { calico });
  await watch.waitForSync();
  let previous = watch.snapshot();
  let states = 1;
  let lost = 0;
  let meshOffMissing: number | undefined;
  const losses: string[] = [];
  const unsubscribe = watch.subscribe(() => {
    const current = watch.snapshot();
    states += 1;
    const [before, after] = restrictToSteadyNodes(previous, current);
    const missing = findLostRoutes(viewRoutes(before), viewRoutes(after));
    if (missing.pairs > 0) {
      lost += missing.pairs;
      if (losses.length < 10) {
        const example = missing.example;
        losses.push(
          `state ${states}: ${missing.pairs} routes lost` +
            (example === undefined ? "" : `, e.g. ${example.from} → ${example.to}`),
        );
      }
    }
    const wasOn = previous.bgpConfiguration.nodeToNodeMeshEnabled;
    if (wasOn && !current.bgpConfiguration.nodeToNodeMeshEnabled) {
      meshOffMissing = findMissingRoutes(viewRoutes(current)).pairs;
    }
    previous = current;
  });
  return {
    states: () => states,
    lostRoutes: () => lost,
    losses: () => losses,
    missingWhenMeshWentOff: () => meshOffMissing,
    snapshot: () => watch.snapshot(),
    stop: async () => {
      unsubscribe();
      await watch.stop();
    },
  };
}

/** Both states reduced to the nodes that exist and are Ready in both, in the same order. */
function restrictToSteadyNodes(
  before: ClusterSnapshot,
  after: ClusterSnapshot,
): [ClusterSnapshot, ClusterSnapshot] {
  const readyAfter = new Set(after.nodes.filter((n) => n.ready).map((n) => n.name));
  const steady = new Set(
    before.nodes.filter((n) => n.ready && readyAfter.has(n.name)).map((n) => n.name),
  );
  const restrict = (state: ClusterSnapshot): ClusterSnapshot => ({
    ...state,
    nodes: state.nodes
      .filter((n) => steady.has(n.name))
      .sort((a, b) => compareStrings(a.name, b.name)),
  });
  return [restrict(before), restrict(after)];
}
