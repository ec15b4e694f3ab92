import type { ObjectIssue } from "@rrfleet/topology-core";
import { isRecord } from "./is-record.js";

/** The parts every Calico object rrfleet reads starts with, checked. */
export interface ObjectHeader {
  readonly name: string | undefined;
  readonly resourceVersion: string | undefined;
  /** `metadata.annotations` entries whose value is a string (others are not annotations). */
  readonly annotations: Readonly<Record<string, string>> | undefined;
  readonly spec: Record<string, unknown> | undefined;
}

/**
 * Reads `metadata.name` (required), `metadata.resourceVersion` and `spec` of a raw API object,
 * adding an issue naming the field to `issues` for each one of the wrong type. Never throws.
 */
export function readObjectHeader(raw: unknown, issues: ObjectIssue[]): ObjectHeader {
  const metadata = isRecord(raw) ? raw["metadata"] : undefined;
  const name = isRecord(metadata) ? metadata["name"] : undefined;
  const resourceVersion = isRecord(metadata) ? metadata["resourceVersion"] : undefined;
  const rawAnnotations = isRecord(metadata) ? metadata["annotations"] : undefined;
  const spec = isRecord(raw) ? raw["spec"] : undefined;
  if (typeof name !== "string" || name === "") {
    issues.push({ path: "metadata.name", message: "is required and must be a string" });
  }
  if (resourceVersion !== undefined && typeof resourceVersion !== "string") {
    issues.push({ path: "metadata.resourceVersion", message: "must be a string" });
  }
  if (spec !== undefined && !isRecord(spec)) {
    issues.push({ path: "spec", message: "must be an object" });
  }
  return {
    name: typeof name === "string" && name !== "" ? name : undefined,
    resourceVersion: typeof resourceVersion === "string" ? resourceVersion : undefined,
    annotations: isRecord(rawAnnotations)
      ? Object.fromEntries(
          Object.entries(rawAnnotations).filter(
            (entry): entry is [string, string] => typeof entry[1] === "string",
          ),
        )
      : undefined,
    spec: isRecord(spec) ? spec : undefined,
  };
}
