import type { Action, Analysis, Decision, Plan, Step } from "@rrfleet/topology-core";
import { formatTable } from "./format-table.js";

/** Text is wrapped to this many columns where it is free prose (step descriptions). */
const WIDTH = 100;

/**
 * Renders a plan for people: header, reflector table, session and object counts, numbered steps
 * with their action counts, decisions and the safety verdict. Deterministic (no clock, no locale,
 * no colours), ends with a newline. For machines, use the JSON output instead.
 */
export function formatPlanText(plan: Plan): string {
  const { summary } = plan;
  const lines: string[] = [
    `Plan: ${summary.topology} topology, ${formatCount(summary.nodes)} nodes ` +
      `(${formatCount(summary.readyNodes)} Ready, ${formatCount(summary.eligibleNodes)} eligible as route reflectors)`,
    "",
    ...formatReflectors(plan),
    "",
    `BGP sessions: ${formatCount(summary.sessions)} (full mesh would be ` +
      `${formatCount(summary.fullMeshSessions)}, ${formatShare(summary.sessions, summary.fullMeshSessions)} of it)`,
    `BGP paths per prefix: up to ${formatCount(summary.pathsPerPrefix)} (calico-node runs ADD-PATH)`,
    `BGPPeers: rrfleet ${formatCount(summary.bgpPeers)} (bound ${formatCount(summary.reflectors + 2)}), ` +
      `foreign ${formatCount(summary.foreignBgpPeers)}`,
    `Mesh: ${summary.meshEnabled ? "on" : "off"} after the plan`,
    `Clients per reflector: min ${formatCount(summary.clientsPerReflector.min)}, ` +
      `max ${formatCount(summary.clientsPerReflector.max)}, bound ${formatCount(summary.clientsPerReflector.bound)}`,
    "",
    ...formatSteps(plan.steps, summary.actions),
    "",
    ...formatDecisions(plan.decisions),
    "",
    ...formatAnalysis(summary.analysis, summary.reflectors),
  ];
  return `${lines.join("\n")}\n`;
}

function formatReflectors(plan: Plan): string[] {
  if (plan.routeReflectors.length === 0) return ["Route reflectors: none"];
  return [
    `Route reflectors (${plan.routeReflectors.length}):`,
    ...formatTable(
      [
        { header: "NODE" },
        { header: "ZONE" },
        { header: "CLUSTER ID" },
        { header: "KEY", align: "right" },
        { header: "CLIENTS", align: "right" },
        { header: "READY" },
      ],
      plan.routeReflectors.map((r) => [
        r.node,
        r.zone === "" ? "(none)" : r.zone,
        r.clusterId,
        r.key,
        formatCount(r.clients),
        r.ready ? "yes" : "no",
      ]),
      "  ",
    ),
  ];
}

function formatSteps(steps: readonly Step[], actions: number): string[] {
  if (steps.length === 0) return ["Converged: nothing to do."];
  const lines = [`Steps (${steps.length}, ${formatCount(actions)} ${plural(actions, "action")}):`];
  const numberWidth = String(steps.length).length;
  steps.forEach((step, index) => {
    const label = `  ${String(index + 1).padStart(numberWidth)}. `;
    const hanging = " ".repeat(label.length);
    lines.push(...wrap(`${step.reason}: ${step.description}`, label, hanging));
    const counts = countActions(step.actions);
    const wait = step.requiresEstablishedSessions ? "; sessions it keeps confirmed first" : "";
    // The controller runs an any-order step's writes in parallel, any other step's one by one.
    const order =
      step.actions.length < 2 ? "" : step.inAnyOrder ? ", in any order" : ", in the order listed";
    lines.push(
      ...wrap(
        `${formatCount(step.actions.length)} ${plural(step.actions.length, "action")}${order}: ${counts}${wait}`,
        hanging,
        hanging,
      ),
    );
  });
  return lines;
}

/** "120 patch Node, 4 create BGPPeer", in order of first appearance. */
function countActions(actions: readonly Action[]): string {
  const counts = new Map<string, number>();
  for (const action of actions) {
    const key = `${action.verb} ${action.kind}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${formatCount(n)} ${key}`).join(", ");
}

function formatDecisions(decisions: readonly Decision[]): string[] {
  if (decisions.length === 0) return ["Decisions: none"];
  return [
    `Decisions (${decisions.length}):`,
    ...formatTable(
      [{ header: "KIND" }, { header: "NODE" }, { header: "REASON" }, { header: "MESSAGE" }],
      decisions.map((d) => [describeKind(d), nodeOf(d), d.reason, d.message]),
      "  ",
    ),
  ];
}

function describeKind(decision: Decision): string {
  switch (decision.kind) {
    case "keep":
    case "promote":
    case "demote":
      return decision.kind;
    case "mesh":
      return decision.enabled ? "mesh on" : "mesh off";
    case "size":
      return "size";
  }
}

function nodeOf(decision: Decision): string {
  switch (decision.kind) {
    case "keep":
    case "promote":
    case "demote":
      return decision.node;
    case "mesh":
    case "size":
      return "-";
  }
}

const VERDICT_MEANING: Readonly<Record<Analysis["verdict"], string>> = {
  Safe: "every step keeps every route, and any single reflector can fail",
  Degraded: "every route is there, but losing one reflector would cut some",
  Unsafe: "routes are or would be missing",
};

function formatAnalysis(analysis: Analysis, reflectors: number): string[] {
  const yesNo = (value: boolean) => (value ? "yes" : "no");
  const lines = [
    `Analysis: ${analysis.verdict} (${VERDICT_MEANING[analysis.verdict]})`,
    `  every step keeps every route:                  ${yesNo(analysis.everyStepKeepsRoutes)}`,
    `  every Ready node has every route at the end:   ${yesNo(analysis.finalReachable)}`,
    `  survives the loss of any single reflector:     ${yesNo(analysis.survivesAnySingleReflectorLoss)}`,
  ];
  const missing = analysis.missingRoutes;
  if (missing.pairs > 0) {
    const example =
      missing.example === undefined
        ? ""
        : `, e.g. ${missing.example.from} -> ${missing.example.to}`;
    lines.push(
      `  missing routes: ${formatCount(missing.pairs)} node ${plural(missing.pairs, "pair")}${example}`,
    );
  }
  if (analysis.fragileReflectors.length > 0) {
    lines.push(
      ...wrap(
        `fragile reflectors (their loss alone cuts routes): ${analysis.fragileReflectors.join(", ")}`,
        "  ",
        "    ",
      ),
    );
  } else if (!analysis.survivesAnySingleReflectorLoss) {
    lines.push(
      `  only ${reflectors} ${plural(reflectors, "reflector")}: nothing takes over if one fails`,
    );
  }
  const refused = analysis.refusedStep;
  if (refused !== undefined) {
    const lost = refused.lost;
    const example =
      lost.example === undefined ? "" : `, e.g. ${lost.example.from} -> ${lost.example.to}`;
    lines.push(
      ...wrap(
        `refused step (${refused.reason}): ${refused.description}; it would lose ` +
          `${formatCount(lost.pairs)} route ${plural(lost.pairs, "pair")}${example}. The plan stops before it.`,
        "  ",
        "    ",
      ),
    );
  }
  return lines;
}

/**
 * Greedy word wrap to {@link WIDTH}; a word longer than a line gets a line of its own. A bare
 * number stays with the word after it ("4 BGPPeers" is never split).
 */
function wrap(text: string, first: string, rest: string): string[] {
  const words: string[] = [];
  let carry = "";
  for (const word of text.split(" ")) {
    if (/^\d[\d,]*$/.test(word)) {
      carry += `${word} `;
    } else {
      words.push(carry + word);
      carry = "";
    }
  }
  if (carry !== "") words.push(carry.trimEnd());
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of words) {
    if (!empty && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = rest;
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines;
}

/** 7140 → "7,140": grouped by hand, so the output does not depend on the machine's locale. */
function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** `part` as a percentage of `whole`: "3.4%", "<0.1%", or "n/a" when `whole` is 0. */
function formatShare(part: number, whole: number): string {
  if (whole === 0) return "n/a";
  const percent = (part / whole) * 100;
  if (percent > 0 && percent < 0.1) return "<0.1%";
  return `${percent.toFixed(percent >= 10 ? 0 : 1)}%`;
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}
