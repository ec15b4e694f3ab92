/**
 * The lab against topology-core's model of the same cluster state: the BGP sessions the model
 * says Calico opens versus the ones BIRD has Established, and the routes the model says every
 * Ready node learns versus the kernels' tables. Used at rest (after a scenario converged), where
 * both must agree exactly — and the BGP paths per prefix BIRD holds under ADD-PATH.
 */
import {
  buildSessionGraph,
  countPathsPerPrefix,
  findMissingRoutes,
  viewRoutes,
  type ClusterSnapshot,
} from "@rrfleet/topology-core";
import type { BgpLab } from "./start-bgp-lab.js";

/** Where the model and the lab disagree; empty lists when they agree. */
export interface ModelComparison {
  /** Pairs (`a b`, sorted) the model has a session for and BIRD has not Established. */
  readonly onlyInModel: readonly string[];
  /** Pairs BIRD has Established and the model has no session for. */
  readonly onlyInLab: readonly string[];
  /** Ordered pairs of Ready nodes the model says lack a route. */
  readonly modelMissingRoutes: number;
  /** Whether every running node's kernel has every other running node's block. */
  readonly labFullyRouted: boolean;
  /**
   * The most BGP paths a node holds for another node's block: what the model predicts under
   * ADD-PATH (countPathsPerPrefix) and what the BIRDs' tables hold (`birdc show route`).
   */
  readonly modelPathsPerPrefix: number;
  readonly labPathsPerPrefix: number;
}

/** Compares the model's sessions and routes for `snapshot` with what the lab shows now. */
export async function compareWithModel(
  lab: BgpLab,
  snapshot: ClusterSnapshot,
): Promise<ModelComparison> {
  const modelPairs = modelSessions(snapshot);
  const labPairs = await lab.establishedPairs();
  return {
    onlyInModel: [...modelPairs].filter((p) => !labPairs.has(p)).sort(),
    onlyInLab: [...labPairs].filter((p) => !modelPairs.has(p)).sort(),
    modelMissingRoutes: findMissingRoutes(viewRoutes(snapshot)).pairs,
    labFullyRouted: lab.isFullyRouted(),
    modelPathsPerPrefix: countPathsPerPrefix(buildSessionGraph(snapshot)).max,
    labPathsPerPrefix: await lab.maxPathsPerPrefix(),
  };
}

/** The model's sessions between Ready nodes, as sorted `a b` pairs. */
function modelSessions(snapshot: ClusterSnapshot): Set<string> {
  const graph = buildSessionGraph(snapshot);
  const n = graph.entities.length;
  const pairs = new Set<string>();
  snapshot.nodes.forEach((a, i) => {
    const ea = graph.entityOfIndex[i] ?? -1;
    if (ea < 0) return;
    snapshot.nodes.forEach((b, j) => {
      const eb = graph.entityOfIndex[j] ?? -1;
      if (j <= i || eb < 0 || graph.adjacency[ea * n + eb] !== 1) return;
      pairs.add(a.name < b.name ? `${a.name} ${b.name}` : `${b.name} ${a.name}`);
    });
  });
  return pairs;
}
