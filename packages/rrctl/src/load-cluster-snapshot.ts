import {
  projectBgpConfigurationList,
  projectBgpPeerList,
  projectNodeList,
  type BgpConfigurationInfo,
  type ClusterSnapshot,
  type Projection,
} from "@rrfleet/topology-core";
import { CliError } from "./cli-error.js";
import { readJsonFile } from "./read-json-file.js";
import type { ReadFile } from "./read-text-file.js";

/** The files a snapshot is read from; undefined means "the cluster has none of these". */
export interface SnapshotFiles {
  /** `kubectl get nodes -o json`. */
  readonly nodes: string;
  /** `kubectl get bgppeers.crd.projectcalico.org -o json`; undefined: no BGPPeers. */
  readonly bgpPeers: string | undefined;
  /** `kubectl get bgpconfigurations.crd.projectcalico.org -o json`; undefined: none (mesh on). */
  readonly bgpConfigurations: string | undefined;
}

/** Calico's API group when no BGPPeer says otherwise. */
const DEFAULT_CALICO_API_VERSION = "crd.projectcalico.org/v1";

/** Calico's defaults when there is no BGPConfiguration at all: the node-to-node mesh is on. */
const NO_BGP_CONFIGURATION: BgpConfigurationInfo = {
  exists: false,
  nodeToNodeMeshEnabled: true,
  specFields: [],
};

/**
 * Reads the Kubernetes List files and projects them into the core's snapshot. The Calico API
 * version to write with comes from the BGPPeers' apiVersion, else the BGPConfigurations', else
 * `crd.projectcalico.org/v1`.
 * Throws {@link CliError} `InputError` naming the option, the file and every bad field.
 */
export async function loadClusterSnapshot(
  files: SnapshotFiles,
  readFile: ReadFile,
): Promise<ClusterSnapshot> {
  const nodes = await loadList(
    "--nodes",
    files.nodes,
    "Node",
    "kubectl get nodes -o json",
    projectNodeList,
    readFile,
  );
  const peers =
    files.bgpPeers === undefined
      ? { peers: [], apiVersion: undefined }
      : await loadList(
          "--bgppeers",
          files.bgpPeers,
          "BGPPeer",
          "kubectl get bgppeers.crd.projectcalico.org -o json",
          projectBgpPeerList,
          readFile,
        );
  const configurations =
    files.bgpConfigurations === undefined
      ? { configuration: NO_BGP_CONFIGURATION, apiVersion: undefined }
      : await loadList(
          "--bgpconfigurations",
          files.bgpConfigurations,
          "BGPConfiguration",
          "kubectl get bgpconfigurations.crd.projectcalico.org -o json",
          projectBgpConfigurationList,
          readFile,
        );
  return {
    nodes,
    bgpPeers: peers.peers,
    bgpConfiguration: configurations.configuration,
    calicoApiVersion: peers.apiVersion ?? configurations.apiVersion ?? DEFAULT_CALICO_API_VERSION,
  };
}

async function loadList<T>(
  flag: string,
  path: string,
  itemKind: string,
  command: string,
  project: (input: unknown) => Projection<T>,
  readFile: ReadFile,
): Promise<T> {
  const subject = `${flag} ${path}`;
  const expected = `the output of "${command}"`;
  const json = await readJsonFile(subject, path, expected, readFile);
  const mixUp = describeMixUp(json, itemKind);
  if (mixUp !== undefined) {
    throw new CliError("InputError", `${subject}: ${mixUp}; expected ${expected}`);
  }
  const result = project(json);
  if (!result.ok) throw CliError.fromIssues(subject, result.issues);
  return result.value;
}

/**
 * The two mix-ups worth one sentence instead of an issue per item: a single object instead of a
 * List (`kubectl get node n1 -o json`), and a List of some other kind (the wrong file).
 */
function describeMixUp(json: unknown, itemKind: string): string | undefined {
  if (!isRecord(json)) return undefined;
  if (json["kind"] === itemKind) return `a single ${itemKind} object, not a List`;
  const items = json["items"];
  if (!Array.isArray(items) || items.length === 0) return undefined;
  const kinds = new Set(items.map((item) => (isRecord(item) ? item["kind"] : undefined)));
  const [kind] = kinds;
  if (kinds.size !== 1 || typeof kind !== "string" || kind === itemKind) return undefined;
  return `a List of ${kind} objects, not ${itemKind} objects`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
