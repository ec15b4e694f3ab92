// Regenerates nodes.json: a 120-node EKS-style cluster in eu-west-1, shaped like
// `kubectl get nodes -o json` output, trimmed to stay small: no capacity, allocatable, images,
// deprecated beta labels, or the memory and PID pressure conditions.
// Deterministic: same script, same bytes. Run: `npx node examples/sample-cluster/generate.mjs`.
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { URL } from "node:url";

const ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
const SUBNET = { "eu-west-1a": 32, "eu-west-1b": 48, "eu-west-1c": 64 };
const WORKER_TYPES = ["m6i.2xlarge", "m6i.4xlarge", "r6i.2xlarge", "c6i.4xlarge"];
const HEARTBEAT = "2026-11-27T23:59:31Z";

/** Per-node specials by index; everything else is a healthy worker. */
const CONTROL_PLANE = new Set([0, 1, 2]);
const DEDICATED = new Set([3, 4, 5]);
const NOT_READY = {
  41: { status: "Unknown", since: "2026-11-27T21:14:09Z", reason: "NodeStatusUnknown" },
  77: { status: "False", since: "2026-11-27T23:57:40Z", reason: "KubeletNotReady" },
  103: { status: "Unknown", since: "2026-11-26T08:02:51Z", reason: "NodeStatusUnknown" },
};
const CORDONED = new Set([58, 89]);
const DISK_PRESSURE = new Set([66]);

const hex = (text) => createHash("sha256").update(text).digest("hex");
const uid = (text) => {
  const h = hex(text);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

function condition(type, status, since, reason, message) {
  return { lastHeartbeatTime: HEARTBEAT, lastTransitionTime: since, message, reason, status, type };
}

const usedIps = new Set();

function makeNode(index) {
  const zone = ZONES[index % 3];
  const h = parseInt(hex(`node-${index}`).slice(0, 8), 16);
  let ip;
  for (let probe = 0; ip === undefined || usedIps.has(ip); probe++) {
    ip = `10.0.${SUBNET[zone] + ((h + probe) % 16)}.${1 + ((h >>> 4) % 254)}`;
  }
  usedIps.add(ip);
  const name = `ip-${ip.replaceAll(".", "-")}.eu-west-1.compute.internal`;
  const controlPlane = CONTROL_PLANE.has(index);
  const dedicated = DEDICATED.has(index);
  const instanceType = controlPlane
    ? "m6i.xlarge"
    : dedicated
      ? "c6in.large"
      : WORKER_TYPES[(h >>> 12) % WORKER_TYPES.length];
  const nodegroup = controlPlane ? "control-plane" : dedicated ? "route-reflectors" : "workers";
  const created = controlPlane
    ? `2025-09-14T10:2${index}:07Z`
    : new Date(Date.UTC(2026, 5, 1) + (h % 178) * 86_400_000 + (h % 86_400) * 1000)
        .toISOString()
        .replace(".000", "");

  const labels = {
    "eks.amazonaws.com/capacityType": "ON_DEMAND",
    "eks.amazonaws.com/nodegroup": nodegroup,
    "kubernetes.io/arch": "amd64",
    "kubernetes.io/hostname": name,
    "kubernetes.io/os": "linux",
    "node.kubernetes.io/instance-type": instanceType,
    "topology.kubernetes.io/region": "eu-west-1",
    "topology.kubernetes.io/zone": zone,
  };
  if (controlPlane) labels["node-role.kubernetes.io/control-plane"] = "";
  if (dedicated) labels["network.example.com/route-reflector"] = "true";

  const taints = [];
  if (controlPlane)
    taints.push({ effect: "NoSchedule", key: "node-role.kubernetes.io/control-plane" });
  const notReady = NOT_READY[index];
  if (notReady?.status === "Unknown") {
    taints.push({
      effect: "NoSchedule",
      key: "node.kubernetes.io/unreachable",
      timeAdded: notReady.since,
    });
    taints.push({
      effect: "NoExecute",
      key: "node.kubernetes.io/unreachable",
      timeAdded: notReady.since,
    });
  } else if (notReady !== undefined) {
    taints.push({
      effect: "NoSchedule",
      key: "node.kubernetes.io/not-ready",
      timeAdded: notReady.since,
    });
  }
  if (CORDONED.has(index)) {
    taints.push({
      effect: "NoSchedule",
      key: "node.kubernetes.io/unschedulable",
      timeAdded: "2026-11-27T16:40:12Z",
    });
  }
  if (DISK_PRESSURE.has(index)) {
    taints.push({
      effect: "NoSchedule",
      key: "node.kubernetes.io/disk-pressure",
      timeAdded: "2026-11-27T23:12:55Z",
    });
  }

  const unknown = notReady?.status === "Unknown";
  const pressure = (type, reason, okMessage) =>
    unknown
      ? condition(
          type,
          "Unknown",
          notReady.since,
          "NodeStatusUnknown",
          "Kubelet stopped posting node status.",
        )
      : type === "DiskPressure" && DISK_PRESSURE.has(index)
        ? condition(
            type,
            "True",
            "2026-11-27T23:12:45Z",
            "KubeletHasDiskPressure",
            "kubelet has disk pressure",
          )
        : condition(type, "False", created, reason, okMessage);
  const ready =
    notReady === undefined
      ? condition("Ready", "True", created, "KubeletReady", "kubelet is posting ready status")
      : condition(
          "Ready",
          notReady.status,
          notReady.since,
          notReady.reason,
          unknown
            ? "Kubelet stopped posting node status."
            : "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized",
        );

  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      annotations: {
        "alpha.kubernetes.io/provided-node-ip": ip,
        "node.alpha.kubernetes.io/ttl": "0",
        "projectcalico.org/IPv4Address": `${ip}/20`,
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
      },
      creationTimestamp: created,
      labels: Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1))),
      name,
      resourceVersion: String(48_213_077 + index * 7919),
      uid: uid(name),
    },
    spec: {
      providerID: `aws:///${zone}/i-0${hex(name).slice(0, 16)}`,
      ...(taints.length === 0 ? {} : { taints }),
      ...(CORDONED.has(index) ? { unschedulable: true } : {}),
    },
    status: {
      addresses: [
        { address: ip, type: "InternalIP" },
        { address: name, type: "Hostname" },
      ],
      conditions: [
        pressure("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ready,
      ],
      nodeInfo: {
        containerRuntimeVersion: "containerd://2.1.4",
        kubeletVersion: "v1.34.2-eks-3025e55",
      },
    },
  };
}

const list = {
  apiVersion: "v1",
  items: Array.from({ length: 120 }, (_, i) => makeNode(i)),
  kind: "List",
  metadata: { resourceVersion: "" },
};

/** JSON with 2-space indentation, short objects on one line: the layout Prettier keeps. */
function format(value, indent = "", prefixLength = 0) {
  const flat = JSON.stringify(value)
    .replaceAll(/"(,|:)(?=["{[\dtfn-])/g, '"$1 ')
    .replaceAll(/([\]}\d]|true|false|null),(?=["{[])/g, "$1, ")
    .replaceAll(/\{(?=")/g, "{ ")
    .replaceAll(/(?<=["\d])\}/g, " }");
  if (typeof value !== "object" || value === null) return JSON.stringify(value);
  if (indent.length + prefixLength + flat.length <= 100 && indent.length > 4) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    return `[\n${value.map((v) => inner + format(v, inner, 0)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value).map(([k, v]) => {
    const key = `${JSON.stringify(k)}: `;
    return inner + key + format(v, inner, key.length + 1);
  });
  return `{\n${entries.join(",\n")}\n${indent}}`;
}

writeFileSync(new URL("nodes.json", import.meta.url), `${format(list)}\n`);
