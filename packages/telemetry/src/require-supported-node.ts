/**
 * The Node.js version check every entry point (rrctl, rrfleet-watcher, rrfleet-applier) runs
 * before it loads anything else. It imports nothing: on an older Node the other modules fail
 * while loading (undici 8, client-node 2's HTTP client, throws inside its own index.js on
 * Node 20), so the check must run first, from a module that cannot fail to load, and the entry
 * point imports its real body only after it passed.
 */

/**
 * The oldest Node.js the entry points run on: undici 8.13 (through @kubernetes/client-node 2)
 * declares `node >=22.19.0`, OpenTelemetry JS 3.1 `>=22.15.0`. The root and the entry points'
 * package.json `engines` say the same (a test keeps them equal).
 */
export const MINIMUM_NODE_VERSION = "22.19.0";

/** The exit code of an entry point started on a Node.js that is too old: a configuration error. */
export const EXIT_UNSUPPORTED_NODE = 2;

/** What {@link describeUnsupportedNode} judges. */
export interface NodeRuntime {
  /** The program named in the message (`rrfleet-watcher`). */
  readonly program: string;
  /** `process.versions.node`: `20.20.2`, without the `v`. */
  readonly version: string;
  /** `process.execPath`: which node binary ran, so the user sees which one to replace. */
  readonly execPath: string;
  /** Default {@link MINIMUM_NODE_VERSION}. */
  readonly minimum?: string;
}

/**
 * The one-line message for a program running on a Node.js older than the minimum, or undefined
 * when the version is at least the minimum. A version that does not parse is unsupported. Pure;
 * throws only when `minimum` itself is not `x.y.z`.
 */
export function describeUnsupportedNode(runtime: NodeRuntime): string | undefined {
  const minimum = runtime.minimum ?? MINIMUM_NODE_VERSION;
  const have = parseVersion(runtime.version);
  const need = parseVersion(minimum);
  if (need === undefined) throw new Error(`minimum Node.js version "${minimum}" is not x.y.z`);
  if (have !== undefined && compareVersions(have, need) >= 0) return undefined;
  return `${runtime.program}: needs Node.js ${minimum} or newer, but runs on Node.js ${runtime.version === "" ? "(unknown version)" : `v${runtime.version}`} (${runtime.execPath}); use Node.js 24 (in the repository, npx and npm scripts put it first on PATH: node_modules/.bin/node)`;
}

/**
 * Checks the running Node.js for `program`: when it is too old, writes the one-line message to
 * stderr, sets `process.exitCode` to {@link EXIT_UNSUPPORTED_NODE} and returns false; the entry
 * point then returns without loading anything else. Returns true otherwise.
 */
export function requireSupportedNode(program: string): boolean {
  const message = describeUnsupportedNode({
    program,
    version: process.versions.node,
    execPath: process.execPath,
  });
  if (message === undefined) return true;
  process.stderr.write(`${message}\n`);
  process.exitCode = EXIT_UNSUPPORTED_NODE;
  return false;
}

function parseVersion(version: string): readonly [number, number, number] | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (match === null) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

function compareVersions(
  a: readonly [number, number, number],
  b: readonly [number, number, number],
): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}
