import { readFile } from "node:fs/promises";
import { isErrnoException } from "./is-errno-exception.js";

/**
 * The audit policy test clusters use when asked for an audit log: every mutating request on
 * the objects rrfleet writes, at level Request (the body carries the fencing-epoch annotation),
 * once the response is sent; nothing else.
 */
export const AUDIT_POLICY_YAML = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived", "ResponseStarted", "Panic"]
rules:
  - level: Request
    verbs: ["create", "update", "patch", "delete"]
    resources:
      - group: ""
        resources: ["nodes"]
      - group: "crd.projectcalico.org"
        resources: ["bgppeers", "bgpconfigurations"]
      - group: "projectcalico.org"
        resources: ["bgppeers", "bgpconfigurations"]
  - level: None
`;

/** One mutating request as the API server recorded it. */
export interface AuditedWrite {
  readonly user: string;
  readonly verb: string;
  readonly resource: string;
  readonly name: string;
  /** HTTP status of the response. */
  readonly code: number;
  /** When the API server received it, epoch ms. */
  readonly receivedAt: number;
  /** `rrfleet.io/fencing-epoch` in the request body, when it carried one (deletes do not). */
  readonly epoch?: number;
}

/** Every write in an API server's JSON audit log, in file order (absent file: none). */
export async function readAuditedWrites(logFile: string): Promise<AuditedWrite[]> {
  let text: string;
  try {
    text = await readFile(logFile, "utf8");
  } catch (err: unknown) {
    if (isErrnoException(err) && err.code === "ENOENT") return [];
    throw err;
  }
  const writes: AuditedWrite[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    const event = JSON.parse(line) as {
      user?: { username?: string };
      verb?: string;
      objectRef?: { resource?: string; name?: string };
      responseStatus?: { code?: number };
      requestReceivedTimestamp?: string;
      requestObject?: { metadata?: { annotations?: Record<string, string> } };
    };
    const epoch = event.requestObject?.metadata?.annotations?.["rrfleet.io/fencing-epoch"];
    writes.push({
      user: event.user?.username ?? "",
      verb: event.verb ?? "",
      resource: event.objectRef?.resource ?? "",
      name: event.objectRef?.name ?? "",
      code: event.responseStatus?.code ?? 0,
      receivedAt: Date.parse(event.requestReceivedTimestamp ?? ""),
      ...(epoch === undefined ? {} : { epoch: Number(epoch) }),
    });
  }
  return writes;
}

/** What {@link findStaleWrites} found. */
export interface StaleWrites {
  readonly count: number;
  /** Up to 5, for failure messages. */
  readonly examples: readonly string[];
}

/**
 * Counts the stale writes among one cluster's accepted applier writes: a write from an older
 * fencing epoch than one the cluster already accepted (deletes carry no epoch: their writer's
 * highest is used), or a write received more than 1 s after its writer was frozen (`frozenAt`,
 * by user; anything in flight at the freeze arrives within milliseconds).
 */
export function findStaleWrites(
  cluster: string,
  accepted: readonly AuditedWrite[],
  frozenAt: (user: string) => number | undefined,
): StaleWrites {
  const writes = [...accepted].sort((a, b) => a.receivedAt - b.receivedAt);
  const epochOf = new Map<string, number>();
  for (const w of writes) {
    if (w.epoch !== undefined) epochOf.set(w.user, Math.max(epochOf.get(w.user) ?? 0, w.epoch));
  }
  const examples: string[] = [];
  let count = 0;
  let newest = 0;
  for (const w of writes) {
    const epoch = w.epoch ?? epochOf.get(w.user) ?? 0;
    const frozen = frozenAt(w.user);
    const afterFreeze = frozen !== undefined && w.receivedAt > frozen + 1_000;
    if (epoch < newest || afterFreeze) {
      count += 1;
      if (examples.length < 5) {
        examples.push(
          `${cluster}: ${w.user} ${w.verb} ${w.resource}/${w.name} epoch ${epoch} (newest ${newest})${afterFreeze ? " after its freeze" : ""}`,
        );
      }
    }
    newest = Math.max(newest, epoch);
  }
  return { count, examples };
}
