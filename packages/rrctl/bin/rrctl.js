#!/usr/bin/env node
// The file npm links as `rrctl`. It is committed, unlike dist/, because npm skips linking a bin
// whose file does not exist at install time (npm/cli#2632): pointing `bin` at dist/main.js would
// leave a fresh `npm ci` without `rrctl` on PATH (and `npx rrctl` would look in the registry).
import process from "node:process";
import { fileURLToPath, URL } from "node:url";

const entry = new URL("../dist/main.js", import.meta.url);
let cli;
try {
  cli = await import(entry.href);
} catch (err) {
  const missing =
    err?.code === "ERR_MODULE_NOT_FOUND" && String(err.message).includes(fileURLToPath(entry));
  if (!missing) throw err;
  process.stderr.write('rrctl: not built yet; run "npm run build" at the repository root first\n');
  process.exit(1);
}
await cli.main();
