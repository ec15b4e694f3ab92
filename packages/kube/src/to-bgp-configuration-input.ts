import type { ObjectIssue, Projection } from "@rrfleet/topology-core";
import { readObjectHeader } from "./read-object-header.js";

/**
 * Checks a raw BGPConfiguration (as a LIST or watch returns it) and reduces it to what
 * `projectBgpConfiguration` takes, which trusts its input's shape: issues name the field
 * (`metadata.name`, `spec.nodeToNodeMeshEnabled`). Never throws.
 */
export function toBgpConfigurationInput(item: unknown): Projection<{
  name: string;
  object: {
    metadata: { resourceVersion?: string; annotations?: Readonly<Record<string, string>> };
    spec?: Record<string, unknown>;
  };
}> {
  const issues: ObjectIssue[] = [];
  const { name, resourceVersion, annotations, spec } = readObjectHeader(item, issues);
  const mesh = spec?.["nodeToNodeMeshEnabled"];
  if (mesh !== undefined && typeof mesh !== "boolean") {
    issues.push({ path: "spec.nodeToNodeMeshEnabled", message: "must be true or false" });
  }
  if (issues.length > 0 || name === undefined) return { ok: false, issues };
  return {
    ok: true,
    value: {
      name,
      object: {
        metadata: {
          ...(resourceVersion === undefined ? {} : { resourceVersion }),
          ...(annotations === undefined ? {} : { annotations }),
        },
        ...(spec === undefined ? {} : { spec }),
      },
    },
  };
}
