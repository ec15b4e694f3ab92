import {
  buildSessionGraph,
  compareStrings,
  countSessions,
  describeZone,
  REFLECTOR_LABEL,
  zoneOf,
  type Action,
  type ClusterSnapshot,
  type Decision,
  type NodeInfo,
  type Plan,
  type Policy,
  type StepReason,
} from "@rrfleet/topology-core";

/** A zone: a compound node of the drawing holding its reflectors and client groups. */
export interface ZoneView {
  /** Element id (`zone:<name>`). */
  readonly id: string;
  /** The zone label's value; `(none)` for nodes without it. */
  readonly name: string;
  readonly nodes: number;
  readonly readyNodes: number;
}

/** A node Calico treats as a route reflector (its cluster ID annotation is valid). */
export interface ReflectorView {
  /** Element id (`rr:<node>`). */
  readonly id: string;
  readonly node: string;
  readonly zone: string;
  readonly clusterId: string;
  /** Its `rrfleet.io/reflector` key; absent on a reflector rrfleet did not label (yet). */
  readonly key?: string;
  readonly ready: boolean;
  /** Non-reflector nodes it has a session with. */
  readonly clients: number;
}

/**
 * Non-reflector nodes of one zone with the same sessions (the same reflector set): drawn as one
 * node with a count, so a 5,000-node cluster is a few dozen elements.
 */
export interface ClientGroupView {
  /** Element id (`group:<zone>:<reflectors>`), stable while the group exists. */
  readonly id: string;
  readonly zone: string;
  /** Reflector nodes the group's members peer with, sorted; empty: none. */
  readonly reflectors: readonly string[];
  readonly size: number;
  readonly readyNodes: number;
  /** The first members by name, for people. */
  readonly sample: readonly string[];
}

/** BGP sessions between two drawn elements. */
export interface SessionEdgeView {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  /** `client`: group ↔ reflector; `reflector`: reflector ↔ reflector; `peer`: other node sessions. */
  readonly kind: "client" | "reflector" | "peer";
  /** Node-pair sessions the edge stands for. */
  readonly sessions: number;
}

/** The next step of the plan, summarised. */
export interface NextStepView {
  readonly description: string;
  readonly reason: StepReason;
  /** Before it runs, the controller confirms that the sessions it keeps are Established. */
  readonly requiresEstablishedSessions: boolean;
  readonly inAnyOrder: boolean;
  readonly actions: number;
  /** Actions by verb and kind, e.g. `{verb: "patch", kind: "Node", count: 120}`. */
  readonly actionCounts: readonly { verb: string; kind: string; count: number }[];
  /** The first actions, for people (verb, kind, object name). */
  readonly sampleActions: readonly { verb: string; kind: string; name: string }[];
  /** Steps in the plan, this one included. */
  readonly ofSteps: number;
}

/** Everything the page shows about one cluster. */
export interface ClusterView {
  readonly name: string;
  /** When the view was built, epoch ms (the server's clock). */
  readonly generatedAt: number;
  readonly topology: Policy["topology"];
  readonly meshEnabled: boolean;
  readonly counts: {
    readonly nodes: number;
    readonly readyNodes: number;
    readonly zones: number;
    readonly reflectors: number;
    readonly clientGroups: number;
    /** Node pairs with a configured BGP session now (mesh included). */
    readonly sessions: number;
  };
  readonly zones: readonly ZoneView[];
  readonly reflectors: readonly ReflectorView[];
  readonly groups: readonly ClientGroupView[];
  readonly edges: readonly SessionEdgeView[];
  /** `peer` edges left out to keep the drawing small (there were more than {@link MAX_PEER_EDGES}). */
  readonly omittedEdges: number;
  readonly plan: {
    readonly converged: boolean;
    readonly steps: number;
    readonly actions: number;
    readonly targetReflectors: number;
    readonly verdict: Plan["summary"]["analysis"]["verdict"];
    /** The step the interlock refused, if any (the plan stops before it). */
    readonly refused?: string;
    readonly nextStep?: NextStepView;
    /** Every decision of the plan, with its stable reason. */
    readonly decisions: readonly Decision[];
  };
}

/** Inputs of {@link buildClusterView}. */
export interface ClusterViewInput {
  readonly name: string;
  readonly snapshot: ClusterSnapshot;
  readonly policy: Policy;
  /** `planCluster(snapshot, policy, now)`. */
  readonly plan: Plan;
  /** Epoch ms. */
  readonly now: number;
}

/** At most this many `peer` edges (sessions outside rrfleet's design) are drawn. */
export const MAX_PEER_EDGES = 500;
/** Members named per client group. */
const SAMPLE_SIZE = 5;
/** Actions listed in the next step. */
const SAMPLE_ACTIONS = 20;

/**
 * Builds the page's view of one cluster from its snapshot and plan. Sessions come from the core's
 * session model (`buildSessionGraph`, NotReady nodes included: configured sessions), whose classes
 * of interchangeable nodes, split by zone, are the client groups; the node-to-node mesh is shown
 * as a flag, not as edges. Pure; O(nodes + groups × reflectors).
 */
export function buildClusterView(input: ClusterViewInput): ClusterView {
  const { snapshot, policy, plan } = input;
  const graph = buildSessionGraph(snapshot, { includeNotReady: true });
  const byName = new Map<string, NodeInfo>(snapshot.nodes.map((node) => [node.name, node]));
  const zoneName = (node: NodeInfo | undefined): string =>
    describeZone(node === undefined ? "" : zoneOf(node, policy.zoneLabel));

  const zones = new Map<string, { nodes: number; ready: number }>();
  for (const node of snapshot.nodes) {
    const zone = zoneName(node);
    const entry = zones.get(zone) ?? { nodes: 0, ready: 0 };
    entry.nodes++;
    if (node.ready) entry.ready++;
    zones.set(zone, entry);
  }

  const n = graph.entities.length;
  const adjacent = (i: number, j: number): boolean => graph.adjacency[i * n + j] === 1;
  const reflectorIndexes: number[] = [];
  const classIndexes: number[] = [];
  graph.entities.forEach((entity, i) => {
    (entity.kind === "reflector" ? reflectorIndexes : classIndexes).push(i);
  });
  const reflectorNode = (i: number): string => {
    const entity = graph.entities[i];
    return entity?.kind === "reflector" ? entity.node : "";
  };

  const meshEnabled = snapshot.bgpConfiguration.nodeToNodeMeshEnabled;
  // Classes with the same sessions as drawn (the same reflectors, and the same other sessions
  // unless the mesh links every class anyway) are one group: labels can differ mid-plan.
  const merged = new Map<string, { classes: number[]; reflectors: string[] }>();
  for (const c of classIndexes) {
    const reflectors = reflectorIndexes
      .filter((r) => adjacent(c, r))
      .map(reflectorNode)
      .sort(compareStrings);
    const others = meshEnabled ? [] : classIndexes.filter((o) => adjacent(c, o));
    const key = `${reflectors.join(",")}|${others.join(",")}`;
    const entry = merged.get(key);
    if (entry === undefined) merged.set(key, { classes: [c], reflectors });
    else entry.classes.push(c);
  }

  // Client groups: each merged class split by zone.
  const groups: ClientGroupView[] = [];
  const groupsOfClass = new Map<number, ClientGroupView[]>();
  const usedIds = new Set<string>();
  for (const { classes, reflectors } of merged.values()) {
    const byZone = new Map<string, NodeInfo[]>();
    for (const c of classes) {
      const entity = graph.entities[c];
      if (entity?.kind !== "class") continue;
      for (const member of entity.members) {
        const node = byName.get(member);
        if (node === undefined) continue;
        const zone = zoneName(node);
        const list = byZone.get(zone);
        if (list === undefined) byZone.set(zone, [node]);
        else list.push(node);
      }
    }
    const made: ClientGroupView[] = [];
    for (const [zone, members] of [...byZone].sort((a, b) => compareStrings(a[0], b[0]))) {
      const base = `group:${zone}:${reflectors.join(",")}`;
      let id = base;
      for (let k = 2; usedIds.has(id); k++) id = `${base}#${k}`;
      usedIds.add(id);
      const names = members.map((m) => m.name).sort(compareStrings);
      const group: ClientGroupView = {
        id,
        zone,
        reflectors,
        size: members.length,
        readyNodes: members.filter((m) => m.ready).length,
        sample: names.slice(0, SAMPLE_SIZE),
      };
      made.push(group);
      groups.push(group);
    }
    // Every class of the merge maps to all of its groups; edges below are per first class.
    classes.forEach((c, i) => groupsOfClass.set(c, i === 0 ? made : []));
  }

  const edges: SessionEdgeView[] = [];
  const clientsOf = new Map<string, number>();
  for (const [c, made] of groupsOfClass) {
    for (const r of reflectorIndexes) {
      if (!adjacent(c, r)) continue;
      const node = reflectorNode(r);
      for (const group of made) {
        clientsOf.set(node, (clientsOf.get(node) ?? 0) + group.size);
        edges.push({
          id: `s:${group.id}|rr:${node}`,
          source: group.id,
          target: `rr:${node}`,
          kind: "client",
          sessions: group.size,
        });
      }
    }
  }
  reflectorIndexes.forEach((a, ai) => {
    for (const b of reflectorIndexes.slice(ai + 1)) {
      if (!adjacent(a, b)) continue;
      edges.push({
        id: `s:rr:${reflectorNode(a)}|rr:${reflectorNode(b)}`,
        source: `rr:${reflectorNode(a)}`,
        target: `rr:${reflectorNode(b)}`,
        kind: "reflector",
        sessions: 1,
      });
    }
  });
  // Sessions between non-reflectors that rrfleet did not design (foreign BGPPeers). While the
  // mesh is on every pair peers: that is the flag, not a drawing.
  let omittedEdges = 0;
  if (!meshEnabled) {
    const peerEdges = new Map<string, SessionEdgeView>();
    const firsts = [...merged.values()].map((m) => m.classes);
    firsts.forEach((left, li) => {
      firsts.slice(li).forEach((right, offset) => {
        const same = offset === 0;
        if (!left.some((a) => right.some((b) => adjacent(a, b)))) return;
        const xs = groupsOfClass.get(left[0] ?? -1) ?? [];
        const ys = groupsOfClass.get(right[0] ?? -1) ?? [];
        xs.forEach((x, xi) => {
          for (const y of same ? xs.slice(xi + 1) : ys) {
            const id = `s:${x.id}|${y.id}`;
            peerEdges.set(id, {
              id,
              source: x.id,
              target: y.id,
              kind: "peer",
              sessions: x.size * y.size,
            });
          }
        });
      });
    });
    omittedEdges = Math.max(0, peerEdges.size - MAX_PEER_EDGES);
    edges.push(...[...peerEdges.values()].slice(0, MAX_PEER_EDGES));
  }

  const reflectors: ReflectorView[] = reflectorIndexes.map((r) => {
    const name = reflectorNode(r);
    const node = byName.get(name);
    const key = node?.labels[REFLECTOR_LABEL];
    return {
      id: `rr:${name}`,
      node: name,
      zone: zoneName(node),
      clusterId: node?.routeReflectorClusterId ?? "",
      ...(key === undefined ? {} : { key }),
      ready: node?.ready === true,
      clients: clientsOf.get(name) ?? 0,
    };
  });

  groups.sort((a, b) => compareStrings(a.zone, b.zone) || compareStrings(a.id, b.id));
  const step = plan.steps[0];
  const refused = plan.summary.analysis.refusedStep;
  return {
    name: input.name,
    generatedAt: input.now,
    topology: policy.topology,
    meshEnabled,
    counts: {
      nodes: snapshot.nodes.length,
      readyNodes: snapshot.nodes.filter((node) => node.ready).length,
      zones: zones.size,
      reflectors: reflectors.length,
      clientGroups: groups.length,
      sessions: countSessions(graph),
    },
    zones: [...zones]
      .sort((a, b) => compareStrings(a[0], b[0]))
      .map(([name, z]) => ({ id: `zone:${name}`, name, nodes: z.nodes, readyNodes: z.ready })),
    reflectors,
    groups,
    edges,
    omittedEdges,
    plan: {
      converged: plan.summary.converged,
      steps: plan.steps.length,
      actions: plan.summary.actions,
      targetReflectors: plan.summary.reflectors,
      verdict: plan.summary.analysis.verdict,
      ...(refused === undefined ? {} : { refused: describeRefusal(refused) }),
      ...(step === undefined
        ? {}
        : {
            nextStep: {
              description: step.description,
              reason: step.reason,
              requiresEstablishedSessions: step.requiresEstablishedSessions,
              inAnyOrder: step.inAnyOrder,
              actions: step.actions.length,
              actionCounts: countActions(step.actions),
              sampleActions: step.actions
                .slice(0, SAMPLE_ACTIONS)
                .map((a) => ({ verb: a.verb, kind: a.kind, name: nameOf(a) })),
              ofSteps: plan.steps.length,
            },
          }),
      decisions: plan.decisions,
    },
  };
}

function countActions(actions: readonly Action[]): { verb: string; kind: string; count: number }[] {
  const counts = new Map<string, { verb: string; kind: string; count: number }>();
  for (const action of actions) {
    const key = `${action.verb} ${action.kind}`;
    const entry = counts.get(key);
    if (entry === undefined) counts.set(key, { verb: action.verb, kind: action.kind, count: 1 });
    else entry.count++;
  }
  return [...counts.values()];
}

function nameOf(action: Action): string {
  return "name" in action ? action.name : action.object.metadata.name;
}

function describeRefusal(refusal: NonNullable<Plan["summary"]["analysis"]["refusedStep"]>): string {
  return `${refusal.reason}: ${refusal.description} (${refusal.lost.pairs} node pairs would lose routes)`;
}
