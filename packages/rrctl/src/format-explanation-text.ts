import type { NodeExplanation, StepChangeExplanation } from "@rrfleet/topology-core";

/**
 * `rrctl explain`'s text: what the node is now, may it be a reflector, why it is or is not one,
 * whom it peers with and why, and what the plan writes to it. Every reason is the planner's
 * stable PascalCase string, in brackets.
 */
export function formatExplanationText(e: NodeExplanation): string {
  const lines: string[] = [];
  const c = e.current;
  lines.push(`Node ${e.node} (zone ${e.zone}, topology ${e.topology})`);
  lines.push(
    `  now: ${c.ready ? "Ready" : "NotReady"}, ` +
      (c.reflector
        ? `a route reflector (cluster ID ${c.clusterId ?? ""}${c.key === undefined ? "" : `, key ${c.key}`})`
        : c.peersWith.length > 0
          ? `a client of ${c.peersWith.join(", ")}`
          : "no reflector peerings") +
      `; the node-to-node mesh is ${c.meshEnabled ? "on" : "off"}`,
  );
  lines.push("");

  const el = e.eligibility;
  lines.push(
    el.eligible
      ? `Eligibility: ${el.message}`
      : `Eligibility: not eligible [${el.reason}]: ${el.message}`,
  );
  lines.push("");

  const s = e.selection;
  lines.push(`Selection: ${describeSelectionKind(s.kind)} [${s.reason}]: ${s.message}`);
  lines.push(
    `  the cluster wants ${s.sizing.wanted} reflectors: min(clamp(ceil(${s.sizing.eligible} eligible × ratio ${s.sizing.ratio}), min ${s.sizing.min}, max ${s.sizing.max}), eligible)`,
  );
  lines.push(
    `  zone ${s.zone.name} gets ${s.zone.target}: ${s.zone.reflectors.length === 0 ? "none designed" : s.zone.reflectors.join(", ")}`,
  );
  lines.push("");

  const t = e.target;
  if (t.role === "reflector") {
    lines.push(
      `Target: a route reflector, key ${t.key}, cluster ID ${t.clusterId}, ${t.clients} clients; meshed with ${t.meshedWith.length === 0 ? "no other reflector" : t.meshedWith.join(", ")}`,
    );
  } else {
    lines.push(
      `Target: a client of ${t.peers.length === 0 ? "no reflector" : t.peers.map((p) => p.reflector.node).join(", ")} (load bound ${t.maxLoad} clients per reflector)`,
    );
    for (const p of t.peers) {
      lines.push(
        `  ${p.reflector.node} (key ${p.reflector.key}, zone ${p.reflector.zone}${p.reflector.ready ? "" : ", NotReady"}) [${p.reason}]: ${p.message}`,
      );
      for (const o of p.passedOver ?? []) {
        lines.push(`    passed over ${o.reflector.node} [${o.reason}]: ${o.message}`);
      }
    }
    for (const r of t.released) {
      lines.push(
        `  gave up ${r.reflectors.map((x) => x.node).join(", ")} [${r.reason}]: ${r.message}`,
      );
    }
  }
  lines.push("");

  if (e.nextStep === undefined) {
    lines.push("Next step: none, the cluster is converged (or the interlock stopped the plan).");
  } else {
    lines.push(...formatStep("Next step", e.nextStep, e.planSteps));
  }
  for (const step of e.laterSteps) lines.push(...formatStep("Later", step, e.planSteps));
  return `${lines.join("\n")}\n`;
}

function describeSelectionKind(kind: NodeExplanation["selection"]["kind"]): string {
  switch (kind) {
    case "keep":
      return "stays a reflector";
    case "promote":
      return "becomes a reflector";
    case "demote":
      return "stops being a reflector";
    case "none":
      return "not a reflector";
  }
}

function formatStep(label: string, step: StepChangeExplanation, of: number): string[] {
  const lines = [`${label}: step ${step.step} of ${of} [${step.reason}] ${step.description}`];
  if (step.changes.length === 0 && step.related.length === 0) {
    lines.push("  writes nothing that concerns this node");
  }
  for (const change of step.changes) lines.push(`  ${change}`);
  for (const related of step.related) lines.push(`  also ${related}`);
  return lines;
}
