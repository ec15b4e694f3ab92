import type { ObjectIssue, Projection } from "@rrfleet/topology-core";
import { isRecord } from "./is-record.js";

/**
 * Checks a raw BGPConfiguration (as a LIST or watch returns it) and reduces it to what
 * `projectBgpConfiguration` takes, which trusts its input's shape: issues name the field
 * (`metadata.name`, `spec.nodeToNodeMeshEnabled`). Never throws.
 */
export function toBgpConfigurationInput(item: unknown): Projection<{
  name: string;
  object: { metadata: { resourceVersion?: string }; spec?: Record<string, unknown> };
}> {
  const issues: ObjectIssue[] = [];
  const metadata = isRecord(item) ? item["metadata"] : undefined;
  const name = isRecord(metadata) ? metadata["name"] : undefined;
  const resourceVersion = isRecord(metadata) ? metadata["resourceVersion"] : undefined;
  const spec = isRecord(item) ? item["spec"] : undefined;
  if (typeof name !== "string" || name === "") {
    issues.push({ path: "metadata.name", message: "is required and must be a string" });
  }
  if (resourceVersion !== undefined && typeof resourceVersion !== "string") {
    issues.push({ path: "metadata.resourceVersion", message: "must be a string" });
  }
  if (spec !== undefined && !isRecord(spec)) {
    issues.push({ path: "spec", message: "must be an object" });
  }
  const mesh = isRecord(spec) ? spec["nodeToNodeMeshEnabled"] : undefined;
  if (mesh !== undefined && typeof mesh !== "boolean") {
    issues.push({ path: "spec.nodeToNodeMeshEnabled", message: "must be true or false" });
  }
  if (issues.length > 0 || typeof name !== "string") return { ok: false, issues };
  return {
    ok: true,
    value: {
      name,
      object: {
        metadata: typeof resourceVersion === "string" ? { resourceVersion } : {},
        ...(isRecord(spec) ? { spec } : {}),
      },
    },
  };
}
