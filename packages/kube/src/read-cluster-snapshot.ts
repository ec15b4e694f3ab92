import type { CoreV1Api, CustomObjectsApi, V1Node } from "@kubernetes/client-node";
import {
  projectBgpConfiguration,
  projectBgpPeer,
  projectNode,
  type BgpConfigurationInfo,
  type BgpPeerInfo,
  type ClusterSnapshot,
  type NodeInfo,
  type Projection,
} from "@rrfleet/topology-core";
import { detectCalicoApi, type CalicoApi, type CalicoApiClients } from "./detect-calico-api.js";
import { KubeError, toKubeError } from "./kube-error.js";
import { toBgpConfigurationInput } from "./to-bgp-configuration-input.js";
import { isRecord } from "./is-record.js";

/** The client calls {@link readClusterSnapshot} makes (a {@link ClusterConnection} has them all). */
export interface SnapshotClients extends CalicoApiClients {
  readonly core: Pick<CoreV1Api, "listNode">;
  readonly custom: Pick<CustomObjectsApi, "listClusterCustomObject" | "getClusterCustomObject">;
}

/** Options of {@link readClusterSnapshot}. */
export interface ReadClusterSnapshotOptions {
  /** Objects per LIST page (`limit`); default 500, the page size kubectl and client-go use. */
  readonly pageSize?: number;
}

const DEFAULT_PAGE_SIZE = 500;
/** Issues listed per bad object; the first few say what is wrong. */
const MAX_LISTED_ISSUES = 5;

/**
 * Reads what the planner needs from a live cluster, read-only: LISTs Nodes page by page
 * (`limit` + `continue`), projecting each one on receipt so that no more than one page of raw
 * objects is ever held; detects Calico's API mode ({@link detectCalicoApi}); LISTs BGPPeers and
 * BGPConfigurations in that group/version. RBAC needed (cluster-scoped): list nodes, list
 * bgppeers and bgpconfigurations, get clusterinformations.
 * Throws {@link KubeError}: API errors mapped by {@link toKubeError}, and `Invalid` naming the
 * object and the field when an object cannot be projected (nothing is dropped silently).
 */
export async function readClusterSnapshot(
  clients: SnapshotClients,
  options: ReadClusterSnapshotOptions = {},
): Promise<ClusterSnapshot> {
  const limit = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const nodes = await listNodes(clients.core, limit);
  const calico = await detectCalicoApi(clients);
  const bgpPeers: BgpPeerInfo[] = [];
  await listCustomObjects(clients.custom, calico, "bgppeers", limit, (item) => {
    bgpPeers.push(projectOrThrow("BGPPeer", item, projectBgpPeer(item)));
  });
  let bgpConfiguration: BgpConfigurationInfo | undefined;
  await listCustomObjects(clients.custom, calico, "bgpconfigurations", limit, (item) => {
    const projected = projectOrThrow("BGPConfiguration", item, toBgpConfigurationInput(item));
    if (projected.name === "default") bgpConfiguration = projectBgpConfiguration(projected.object);
  });
  return {
    nodes,
    bgpPeers,
    bgpConfiguration: bgpConfiguration ?? projectBgpConfiguration(undefined),
    calicoApiVersion: calico.apiVersion,
  };
}

async function listNodes(core: SnapshotClients["core"], limit: number): Promise<NodeInfo[]> {
  const nodes: NodeInfo[] = [];
  let continueToken: string | undefined;
  do {
    let page;
    try {
      page = await core.listNode({
        limit,
        ...(continueToken === undefined ? {} : { _continue: continueToken }),
      });
    } catch (err: unknown) {
      throw toKubeError(err, { verb: "list", resource: "nodes" });
    }
    for (const node of page.items) {
      const wire = toWireNode(node);
      nodes.push(projectOrThrow("Node", wire, projectNode(wire)));
    }
    continueToken = nonEmpty(page.metadata?._continue);
  } while (continueToken !== undefined);
  return nodes;
}

async function listCustomObjects(
  custom: SnapshotClients["custom"],
  calico: CalicoApi,
  plural: string,
  limit: number,
  receive: (item: unknown) => void,
): Promise<void> {
  let continueToken: string | undefined;
  do {
    let page: unknown;
    try {
      page = await custom.listClusterCustomObject({
        group: calico.group,
        version: calico.version,
        plural,
        limit,
        ...(continueToken === undefined ? {} : { _continue: continueToken }),
      });
    } catch (err: unknown) {
      throw toKubeError(err, { verb: "list", resource: `${plural}.${calico.group}` });
    }
    const items = isRecord(page) ? page["items"] : undefined;
    if (!Array.isArray(items)) {
      throw new KubeError(
        "Invalid",
        `list ${plural}.${calico.group}: the response has no items array`,
      );
    }
    for (const item of items) receive(item);
    const metadata = isRecord(page) ? page["metadata"] : undefined;
    const token = isRecord(metadata) ? metadata["continue"] : undefined;
    continueToken = typeof token === "string" ? nonEmpty(token) : undefined;
  } while (continueToken !== undefined);
}

/**
 * client-node deserializes typed objects, turning timestamps into `Date`s; the projection reads
 * the wire format. `metav1.Time` is RFC 3339 with whole seconds, so format it back exactly.
 */
function toWireNode(node: V1Node): unknown {
  const { metadata, status } = node;
  // Plain copies on purpose: the projection reads data, not the client's model classes.
  return Object.assign({}, node, {
    ...(metadata === undefined
      ? {}
      : {
          metadata: Object.assign({}, metadata, {
            creationTimestamp: toWireTime(metadata.creationTimestamp),
          }),
        }),
    ...(status?.conditions === undefined
      ? {}
      : {
          status: Object.assign({}, status, {
            conditions: status.conditions.map((condition) =>
              Object.assign({}, condition, {
                lastTransitionTime: toWireTime(condition.lastTransitionTime),
                lastHeartbeatTime: toWireTime(condition.lastHeartbeatTime),
              }),
            ),
          }),
        }),
  });
}

function toWireTime(value: Date | undefined): string | undefined {
  return value?.toISOString().replace(/\.000Z$/, "Z");
}

function projectOrThrow<T>(kind: string, item: unknown, projection: Projection<T>): T {
  if (projection.ok) return projection.value;
  const metadata = isRecord(item) ? item["metadata"] : undefined;
  const name = isRecord(metadata) ? metadata["name"] : undefined;
  const object =
    typeof name === "string" && name !== "" ? `${kind} "${name}"` : `a ${kind} without a name`;
  const listed = projection.issues
    .slice(0, MAX_LISTED_ISSUES)
    .map((issue) => `${issue.path}: ${issue.message}`);
  const more = projection.issues.length - listed.length;
  throw new KubeError(
    "Invalid",
    `${object} cannot be read: ${listed.join("; ")}${more > 0 ? `; and ${more} more` : ""}`,
  );
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
