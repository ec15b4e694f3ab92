import type { Action, NodePatch, StepReason } from "../model/actions.js";
import { CLUSTER_ID_ANNOTATION } from "../model/names.js";
import type { StepDraft } from "./order-step.js";

/** Collects one step's writes; see {@link createStepBuilder}. */
export interface StepBuilder {
  label(node: string, key: string, value: string | null): void;
  /** Sets several labels from a record the builder may share between nodes (never mutates it). */
  labelAll(node: string, labels: Readonly<Record<string, string>>): void;
  /** Sets (a cluster ID) or removes (null) the node's route-reflector annotation. */
  annotate(node: string, clusterId: string | null): void;
  action(action: Action): void;
  /** The step, or undefined when nothing was collected. */
  build(reason: StepReason, description: string): StepDraft | undefined;
}

/**
 * Collects a step's writes in a stable order: other actions first, then per node (in the order the
 * step first touched it) one merge patch for its cluster ID and one for its labels, so that
 * orderStep can order a role change apart from a session change. Equal label records handed to
 * `labelAll` become one shared patch object (a step labelling thousands of nodes alike allocates
 * one patch).
 */
export function createStepBuilder(): StepBuilder {
  type Labels = Readonly<Record<string, string | null>>;
  const labels = new Map<string, Labels>();
  const annotations = new Map<string, Record<string, string | null>>();
  /** Label records handed in by labelAll: copied before any change, never mutated. */
  const shared = new Set<Labels>();
  /** One patch object per shared record, so equal patches are one object. */
  const patches = new Map<Labels, NodePatch>();
  const others: Action[] = [];
  const order: string[] = []; // nodes in the order the step first touched them (deterministic)
  const touch = (node: string) => {
    if (!labels.has(node) && !annotations.has(node)) order.push(node);
  };
  const own = (node: string): Record<string, string | null> => {
    const record = labels.get(node);
    if (record !== undefined && !shared.has(record)) return record;
    touch(node);
    const copy = { ...record };
    labels.set(node, copy);
    return copy;
  };
  return {
    label(node, key, value) {
      own(node)[key] = value;
    },
    labelAll(node, record) {
      if (labels.has(node)) {
        Object.assign(own(node), record);
        return;
      }
      touch(node);
      shared.add(record);
      labels.set(node, record);
    },
    annotate(node, clusterId) {
      let record = annotations.get(node);
      if (record === undefined) {
        touch(node);
        annotations.set(node, (record = {}));
      }
      record[CLUSTER_ID_ANNOTATION] = clusterId;
    },
    action(action) {
      others.push(action);
    },
    build(reason, description) {
      const actions: Action[] = [...others];
      for (const name of order) {
        const a = annotations.get(name);
        const l = labels.get(name);
        if (a !== undefined)
          actions.push({
            verb: "patch",
            kind: "Node",
            name,
            patch: { metadata: { annotations: a } },
          });
        if (l === undefined) continue;
        let patch = shared.has(l) ? patches.get(l) : undefined;
        if (patch === undefined) {
          patch = { metadata: { labels: l } };
          if (shared.has(l)) patches.set(l, patch);
        }
        actions.push({ verb: "patch", kind: "Node", name, patch });
      }
      if (actions.length === 0) return undefined;
      return { description, reason, actions };
    },
  };
}
