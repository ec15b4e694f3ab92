/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node's RBAC
   models are plain data to its serializer; the harness writes them as object literals. */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import {
  RbacAuthorizationV1Api,
  type KubeConfig,
  type V1ClusterRole,
} from "@kubernetes/client-node";
import { parse as parseYaml } from "yaml";

/** Who a ClusterRoleBinding grants the role to. */
export interface RbacSubject {
  readonly kind: "User" | "Group";
  readonly name: string;
}

/**
 * Creates the ClusterRole this repository ships in `deploy/kubernetes/<file>` (exactly as
 * shipped) and binds it to `subject`, as admin through `kubeConfig`. Returns the role's name.
 */
export async function grantShippedClusterRole(
  kubeConfig: KubeConfig,
  file: string,
  subject: RbacSubject,
): Promise<string> {
  const path = fileURLToPath(new URL(`../../../deploy/kubernetes/${file}`, import.meta.url));
  const role = parseYaml(await readFile(path, "utf8")) as V1ClusterRole;
  const name = role.metadata?.name ?? file;
  const rbac = kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createClusterRole({ body: role });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: `${name}-${subject.kind.toLowerCase()}-${subject.name}` },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: [{ kind: subject.kind, name: subject.name, apiGroup: "rbac.authorization.k8s.io" }],
    },
  });
  return name;
}
