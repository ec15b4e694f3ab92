import { readFileSync } from "node:fs";
import { it } from "vitest";
import { computeReachability } from "../analysis/compute-reachability.js";
import { findMissingRoutes, viewRoutes } from "../analysis/reachability-report.js";
import { ARBITRARY_NOW, simulateSteps } from "../testing/index.js";
import { planCluster } from "./plan-cluster.js";

it("scratch", () => {
  const [cluster, policy] = JSON.parse(readFileSync(process.env["CE"] ?? "/tmp/scratch/ce1.json", "utf8"));
  const plan = planCluster(cluster, policy, ARBITRARY_NOW);
  console.log(JSON.stringify(plan.routeReflectors), JSON.stringify(plan.summary.analysis));
  const states = simulateSteps(cluster, plan.steps);
  plan.steps.forEach((s, i) => {
    console.log(i, s.description, JSON.stringify(s.actions));
    console.log("   missing after:", JSON.stringify(findMissingRoutes(viewRoutes(states[i + 1]!))));
  });
  const final = states[states.length - 1]!;
  for (const n of final.nodes) console.log(n.name, JSON.stringify(n.labels), n.routeReflectorClusterId);
  console.log(JSON.stringify(final.bgpPeers.map((p) => [p.name, p.nodeSelector, p.peerSelector])), final.bgpConfiguration);
  const view = viewRoutes(final);
  view.graph.entities.forEach((e, i) => {
    if (e.kind !== "reflector") return;
    const down = new Set([i]);
    console.log("down", e.node, JSON.stringify(findMissingRoutes({ graph: view.graph, reach: computeReachability(view.graph, down) }, down)));
  });
  console.log(JSON.stringify(view.graph.entities), Array.from(view.graph.adjacency).join(""));
  const again = planCluster(final, policy, ARBITRARY_NOW);
  console.log("replan:", JSON.stringify(again.steps));
});
