import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ClusterStatus, StoredSnapshot } from "@rrfleet/fleet-state";
import type { RouteResponse, TelemetryRoute } from "@rrfleet/telemetry";
import { planCluster, type Policy } from "@rrfleet/topology-core";
import { buildClusterView, type ClusterView } from "./build-cluster-view.js";
import { buildFleetView } from "./build-fleet-view.js";

/** A cluster the page shows, with the policy the applier plans it with. */
export interface StatusPageCluster {
  readonly name: string;
  readonly policy: Policy;
}

/**
 * Port: what the page reads. The fleet state's `StatusStore` and `SnapshotStore` fit the two
 * reads; `clusters` is the service's registry.
 */
export interface StatusPageSource {
  clusters(): readonly StatusPageCluster[];
  readStatuses(): Promise<Record<string, ClusterStatus>>;
  readSnapshot(cluster: string): Promise<StoredSnapshot | undefined>;
}

/** Options of {@link createStatusPageRoutes}. */
export interface StatusPageOptions {
  readonly source: StatusPageSource;
  /** Epoch ms (the wall clock in production): ages in the table, NotReady grace in plans. */
  readonly now: () => number;
  /**
   * A cluster's view is reused this long for the same snapshot and policy; default 5,000 ms.
   * Planning a 100,000-node cluster takes ~0.3 s of the service's event loop: viewers share it.
   */
  readonly cacheMs?: number;
  /** Called with every failed read before the page answers 503 (log it). */
  readonly onError?: (err: unknown, path: string) => void;
}

/** A browser file the page loads. */
interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

const SECURITY_HEADERS = {
  // Only this server's own files: no CDN, no inline script, nothing framed or posted.
  "content-security-policy":
    // Cytoscape sets inline styles on its canvas container; scripts stay our own files only.
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
} as const;

/**
 * The status page's routes for the telemetry server (`startTelemetryServer({ routes })`):
 * `GET /` (the page), `GET /assets/*` (its script, stylesheet, and Cytoscape.js with the fcose
 * layout from this package's node_modules — nothing is fetched from the internet), and
 * `GET /api/fleet`, `GET /api/clusters/<name>` (JSON view models). Read-only by construction:
 * the server answers any other method 405, and nothing here writes. Reads the files (about
 * 0.8 MB) once, now; throws when one is missing (a broken install).
 */
export function createStatusPageRoutes(options: StatusPageOptions): TelemetryRoute[] {
  const assets = loadAssets();
  const index = readFileSync(publicFile("index.html"));
  const cacheMs = options.cacheMs ?? 5_000;
  const cache = new Map<
    string,
    { hash: string; policy: Policy; at: number; view: ClusterView; body: string }
  >();

  const json = (status: number, value: unknown): RouteResponse => ({
    status,
    headers: {
      ...SECURITY_HEADERS,
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
    },
    body: typeof value === "string" ? value : JSON.stringify(value),
  });
  const failed = (err: unknown, path: string): RouteResponse => {
    options.onError?.(err, path);
    return json(503, { error: err instanceof Error ? err.message : String(err) });
  };

  const readCluster = async (name: string, path: string): Promise<RouteResponse> => {
    const cluster = options.source.clusters().find((c) => c.name === name);
    if (cluster === undefined) return json(404, { error: `no cluster named "${name}"` });
    try {
      const stored = await options.source.readSnapshot(name);
      if (stored === undefined) {
        return json(404, {
          error: `cluster "${name}" has no snapshot yet (its watch is starting)`,
        });
      }
      const now = options.now();
      const cached = cache.get(name);
      if (
        cached !== undefined &&
        cached.hash === stored.hash &&
        cached.policy === cluster.policy &&
        now - cached.at < cacheMs
      ) {
        return json(200, cached.body);
      }
      const plan = planCluster(stored.snapshot, cluster.policy, new Date(now));
      const view = buildClusterView({
        name,
        snapshot: stored.snapshot,
        policy: cluster.policy,
        plan,
        now,
      });
      const body = JSON.stringify(view);
      cache.set(name, { hash: stored.hash, policy: cluster.policy, at: now, view, body });
      return json(200, body);
    } catch (err: unknown) {
      return failed(err, path);
    }
  };

  return [
    {
      path: "/",
      handle: () => ({
        status: 200,
        headers: {
          ...SECURITY_HEADERS,
          "content-type": "text/html; charset=utf-8",
          "cache-control": "no-cache",
        },
        body: index,
      }),
    },
    {
      path: "/assets/",
      prefix: true,
      handle: (request) => {
        const asset = assets.get(request.path.slice("/assets/".length));
        if (asset === undefined) return json(404, { error: "no such asset" });
        return {
          status: 200,
          headers: {
            ...SECURITY_HEADERS,
            "content-type": asset.type,
            "cache-control": "no-cache",
          },
          body: asset.body,
        };
      },
    },
    {
      path: "/api/",
      prefix: true,
      handle: async (request) => {
        const path = request.path;
        if (path === "/api/fleet") {
          try {
            const statuses = await options.source.readStatuses();
            const names = options.source.clusters().map((c) => c.name);
            return json(200, buildFleetView(names, statuses, options.now()));
          } catch (err: unknown) {
            return failed(err, path);
          }
        }
        const match = /^\/api\/clusters\/([^/]+)$/.exec(path);
        if (match?.[1] !== undefined) {
          let name: string;
          try {
            name = decodeURIComponent(match[1]);
          } catch {
            return json(400, { error: "the cluster name is not valid percent-encoding" });
          }
          return readCluster(name, path);
        }
        return json(404, { error: "try /api/fleet or /api/clusters/<name>" });
      },
    },
  ];
}

/** The files in `public/`, next to `src/` and `dist/`. */
function publicFile(name: string): string {
  return join(dirname(fileURLToPath(import.meta.url)), "..", "public", name);
}

/**
 * The page's script and stylesheet, and the graph library's browser builds resolved through
 * node_modules: cytoscape, cytoscape-fcose and fcose's own dependencies (cose-base, layout-base),
 * each resolved from the package that depends on it.
 */
function loadAssets(): Map<string, Asset> {
  const require = createRequire(import.meta.url);
  const fcose = require.resolve("cytoscape-fcose");
  const coseBase = createRequire(fcose).resolve("cose-base");
  const layoutBase = createRequire(coseBase).resolve("layout-base");
  const script = "text/javascript; charset=utf-8";
  const files: [string, string, string][] = [
    ["status-page.js", publicFile("status-page.js"), script],
    ["status-page.css", publicFile("status-page.css"), "text/css; charset=utf-8"],
    ["cytoscape.min.js", require.resolve("cytoscape/dist/cytoscape.min.js"), script],
    ["layout-base.js", layoutBase, script],
    ["cose-base.js", coseBase, script],
    ["cytoscape-fcose.js", fcose, script],
  ];
  return new Map(files.map(([name, file, type]) => [name, { body: readFileSync(file), type }]));
}
