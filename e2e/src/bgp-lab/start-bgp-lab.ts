/**
 * A BGP lab for one test cluster: real BIRD 1.6 speakers in network namespaces, configured by a
 * calico-node stand-in from what the cluster's API server shows, and a route judge reading the
 * kernels' routing tables. Stale labs of killed runs are swept first; {@link BgpLab.stop} removes
 * every namespace, veth and process the lab made.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import {
  LAB_POOL,
  neighborOf,
  startCalicoNodeStandIn,
  type CalicoNodeStandIn,
} from "./calico-node-standin.js";
import { waitFor } from "../harness/wait-for.js";
import { createLabNetwork, sweepStaleLabs, type LabNetwork } from "./lab-network.js";
import { createRouteJudge, type RouteJudge } from "./route-judge.js";

/** A running lab. */
export interface BgpLab {
  readonly network: LabNetwork;
  readonly judge: RouteJudge;
  readonly calicoNode: CalicoNodeStandIn;
  /**
   * Whether every running node has a route to every other running node's block (the kernel's
   * view; nodes marked down are left out).
   */
  isFullyRouted(): boolean;
  /** Node pairs (`a b`, sorted names) with an Established BGP session, whatever the protocol. */
  establishedPairs(): Promise<Set<string>>;
  /**
   * Whether every BGP protocol of every running BIRD toward another running BIRD is Established
   * (no Idle duplicates, nothing restarting); sessions to crashed nodes stay down, as they would.
   */
  allEstablished(): Promise<boolean>;
  /** The most BGP paths any running BIRD holds for another node's pod block (`birdc show route`). */
  maxPathsPerPrefix(): Promise<number>;
  /**
   * Waits until BGP is at rest: every session between running BIRDs Established, every node
   * routing every other's block, and no own-block window open or just closed (so the next gap
   * the judge sees counts).
   */
  waitUntilQuiet(timeoutMs?: number): Promise<void>;
  /** Everything the lab saw go wrong (monitors, rounds, configurations). */
  problems(): readonly string[];
  stop(): Promise<void>;
}

/** Starts a lab that follows the cluster `kubeConfig` points at. */
export async function startBgpLab(options: {
  readonly kubeConfig: KubeConfig;
  readonly calico?: { readonly group: string; readonly version: string };
  readonly pollMs?: number;
}): Promise<BgpLab> {
  await sweepStaleLabs();
  const network = await createLabNetwork();
  const judge = createRouteJudge(LAB_POOL, network.dir);
  let calicoNode: CalicoNodeStandIn;
  try {
    calicoNode = await startCalicoNodeStandIn({
      kubeConfig: options.kubeConfig,
      calico: options.calico ?? { group: "crd.projectcalico.org", version: "v1" },
      network,
      judge,
      ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
    });
  } catch (err: unknown) {
    await judge.stop();
    await network.destroy();
    throw err;
  }
  const isFullyRouted = (): boolean => {
    const up = calicoNode.nodes();
    return up.every((observer) => {
      const have = judge.blocksOf(observer);
      return up.every((owner) => owner === observer || have.has(calicoNode.blockOf(owner) ?? ""));
    });
  };
  const allEstablished = async (): Promise<boolean> => {
    const protocols = await calicoNode.protocols();
    const running = new Set(calicoNode.nodes());
    const addressOf = new Map(network.hosts().map((h) => [h.address, h.name]));
    return [...protocols.values()].every((list) =>
      list.every((p) => {
        const peer = addressOf.get(neighborOf(p.name));
        return p.bgpState === "Established" || peer === undefined || !running.has(peer);
      }),
    );
  };
  return {
    network,
    judge,
    calicoNode,
    isFullyRouted,
    allEstablished,
    async establishedPairs() {
      const protocols = await calicoNode.protocols();
      const addressOf = new Map(network.hosts().map((h) => [h.address, h.name]));
      const pairs = new Set<string>();
      for (const [node, list] of protocols) {
        for (const p of list) {
          if (p.bgpState !== "Established") continue;
          const peer = addressOf.get(neighborOf(p.name));
          if (peer !== undefined) pairs.add(node < peer ? `${node} ${peer}` : `${peer} ${node}`);
        }
      }
      return pairs;
    },
    async maxPathsPerPrefix() {
      let max = 0;
      for (const node of calicoNode.nodes()) {
        const own = calicoNode.blockOf(node);
        for (const [block, paths] of await calicoNode.routesPerBlock(node))
          if (block !== own && paths > max) max = paths;
      }
      return max;
    },
    async waitUntilQuiet(timeoutMs = 180_000) {
      await waitFor(
        async () =>
          (await allEstablished()) && isFullyRouted() && judge.isQuiet() ? true : undefined,
        { description: "BGP at rest in the lab", timeoutMs, intervalMs: 250 },
      );
    },
    problems: () => [...calicoNode.problems(), ...judge.problems()],
    async stop() {
      try {
        await calicoNode.stop();
        await judge.stop();
      } finally {
        await network.destroy();
      }
    },
  };
}
