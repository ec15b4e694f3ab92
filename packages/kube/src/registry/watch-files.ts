/**
 * Change detection for a set of files, two ways at once:
 *
 *   fs.watch on each file's folder ──any event──▶ ┐
 *                                                 ├─▶ debounce (debounceMs) ─▶ onChange()
 *   every pollIntervalMs: stat each file, ────────┘
 *   compare with the signature recorded by track()
 *
 * Folders, not files, are watched: an editor's or a ConfigMap volume's atomic update renames a
 * new file (or the `..data` symlink) over the old one, and a watch on the old inode would go
 * deaf. Any event in a watched folder triggers a reload: the caller's reload is cheap and finds
 * out itself whether anything it uses changed. The poll catches what fs.watch misses (network
 * file systems, a folder created after start, a watcher that errored) and only fires when a
 * signature (device, inode, size, mtime, ctime; or "missing") differs from the recorded one.
 */
import { watch as watchFolder, type FSWatcher } from "node:fs";
import { stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { WatchLogger } from "../watch-resource.js";

/** Options of {@link watchFiles}. */
export interface WatchFilesOptions {
  /** Called (debounced) when a tracked file may have changed. Must not throw. */
  readonly onChange: () => void;
  readonly logger: WatchLogger;
  /** Events within this window after the first one make one call. */
  readonly debounceMs: number;
  /** How often the tracked files are stat'ed. */
  readonly pollIntervalMs: number;
  /** Use fs.watch on the folders; false: poll only (file systems without inotify). */
  readonly watchFolders: boolean;
}

/** A running file watch. */
export interface FileWatch {
  /**
   * Makes `signatures` (path → {@link readFileSignature} taken before the caller read the file)
   * the tracked set: the poll fires when a file's signature differs from this, and the folders of
   * these paths are the ones watched (opened or closed to match).
   */
  track(signatures: ReadonlyMap<string, string>): void;
  /** Closes the folder watches and timers; no `onChange` after it. Idempotent. */
  stop(): void;
}

/**
 * What identifies a file's current content without reading it: device, inode, size, mtime and
 * ctime in nanoseconds (following symlinks), `missing` when absent, `error:<code>` when it cannot
 * be stat'ed. Never rejects.
 */
export async function readFileSignature(path: string): Promise<string> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch (err: unknown) {
    const code = typeof err === "object" && err !== null && "code" in err ? err.code : undefined;
    if (code === "ENOENT" || code === "ENOTDIR") return "missing";
    return `error:${typeof code === "string" ? code : "unknown"}`;
  }
}

/** Starts watching (nothing is tracked until {@link FileWatch.track}); throws nothing. */
export function watchFiles(options: WatchFilesOptions): FileWatch {
  const { logger } = options;
  const folders = new Map<string, FSWatcher>();
  let tracked: ReadonlyMap<string, string> = new Map();
  let debounce: NodeJS.Timeout | undefined;
  let polling = false;
  let stopped = false;

  const fire = (): void => {
    if (stopped || debounce !== undefined) return;
    debounce = setTimeout(() => {
      debounce = undefined;
      if (!stopped) options.onChange();
    }, options.debounceMs);
    debounce.unref();
  };

  const open = (folder: string): void => {
    try {
      const watcher = watchFolder(folder, { persistent: false }, fire);
      watcher.on("error", (err: unknown) => {
        // The folder went away or the watch broke: the poll covers it until the next track().
        logger.warn(
          { folder, err },
          "a folder watch failed; relying on polling until it is reopened",
        );
        watcher.close();
        if (folders.get(folder) === watcher) folders.delete(folder);
        fire();
      });
      folders.set(folder, watcher);
    } catch (err: unknown) {
      logger.debug({ folder, err }, "cannot watch a folder (yet); polling it");
    }
  };

  const poll = async (): Promise<void> => {
    if (polling || stopped) return;
    polling = true;
    try {
      for (const [path, recorded] of tracked) {
        if ((await readFileSignature(path)) !== recorded) {
          fire();
          return;
        }
      }
    } finally {
      polling = false;
    }
  };
  const timer = setInterval(() => {
    void poll();
  }, options.pollIntervalMs);
  timer.unref();

  return {
    track(signatures) {
      if (stopped) return;
      tracked = new Map(signatures);
      if (!options.watchFolders) return;
      // Reopened every time: a watch on a folder that was deleted and created again stays silent
      // without an error. A change between the caller's read and this is still caught: the poll
      // compares against signatures taken before the read.
      for (const watcher of folders.values()) watcher.close();
      folders.clear();
      for (const folder of new Set([...signatures.keys()].map((path) => dirname(path)))) {
        open(folder);
      }
    },
    stop() {
      stopped = true;
      clearInterval(timer);
      if (debounce !== undefined) clearTimeout(debounce);
      for (const watcher of folders.values()) watcher.close();
      folders.clear();
    },
  };
}
