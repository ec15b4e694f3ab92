#!/usr/bin/env node
// Runs every check the project has — build, type check, lint, formatting and every package's
// tests — and ends with one line CI reads: "N passed, M failed". Each test counts once; each
// build, type check and lint of a package, and the formatting check, count as one check each.
// Exits non-zero when anything failed.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const run = (command, args) =>
  spawnSync(command, args, { cwd: root, stdio: "inherit", env: process.env }).status ?? 1;

let passed = 0;
let failed = 0;
const failures = [];
const count = (ok, label) => {
  if (ok) passed++;
  else {
    failed++;
    failures.push(label);
  }
};

// Stale reports must not be read as this run's results.
for (const dir of workspaceDirs())
  rmSync(join(root, dir, "reports"), { recursive: true, force: true });

// The e2e suite runs a real kube-apiserver and etcd: build them first (minutes on a new machine,
// instant from the cache after that), so the build does not eat the tests' time limits.
if (existsSync(join(root, "e2e", "tools", "build-binaries.sh"))) {
  count(run("bash", ["e2e/tools/build-binaries.sh"]) === 0, "e2e binaries (kube-apiserver, etcd)");
}

// Go tools the suites run — helm (the chart) and promtool (the alert rules) — built from the Go
// module proxy at the versions pinned in scripts/go-tools.json (minutes on a new machine, printed
// from ~/.cache/rrfleet/bin after that).
const goTools = JSON.parse(readFileSync(join(root, "scripts", "go-tools.json"), "utf8"));
for (const name of ["helm", "promtool"]) {
  const { package: pkg, version } = goTools[name];
  count(run("bash", ["scripts/build-go-tool.sh", name, pkg, version]) === 0, `${name} ${version}`);
}

const runsDir = join(root, ".turbo", "runs");
const before = new Set(existsSync(runsDir) ? readdirSync(runsDir) : []);
const turboStatus = run("npx", [
  "turbo",
  "run",
  "build",
  "typecheck",
  "lint",
  "test",
  "--continue",
  "--summarize",
  "--output-logs=new-only",
]);
const summaryFile = existsSync(runsDir)
  ? readdirSync(runsDir).find((f) => !before.has(f) && f.endsWith(".json"))
  : undefined;
const tasks =
  summaryFile === undefined
    ? []
    : JSON.parse(readFileSync(join(runsDir, summaryFile), "utf8")).tasks;
if (tasks.length === 0) count(turboStatus === 0, "turbo run (no summary)");

for (const task of tasks) {
  const ok = task.execution?.exitCode === 0;
  if (task.task !== "test") {
    count(ok, `${task.package}#${task.task}`);
    continue;
  }
  const report = join(root, task.directory, "reports", "vitest.json");
  if (!existsSync(report)) {
    count(false, `${task.package}#test (no report)`);
    continue;
  }
  const results = JSON.parse(readFileSync(report, "utf8"));
  passed += results.numPassedTests;
  failed += results.numFailedTests;
  if (results.numFailedTests > 0)
    failures.push(`${task.package}: ${results.numFailedTests} failing test(s)`);
  if (results.numTotalTests === 0) count(false, `${task.package}#test ran no test`);
  if (!ok && results.numFailedTests === 0)
    count(false, `${task.package}#test exited ${task.execution?.exitCode}`);
}

count(run("npx", ["prettier", "--check", "--log-level=warn", "."]) === 0, "prettier --check");

if (failures.length > 0) console.log(`\nFailed: ${failures.join("; ")}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

function workspaceDirs() {
  const dirs = [];
  for (const parent of ["packages"]) {
    for (const name of readdirSync(join(root, parent))) {
      if (statSync(join(root, parent, name)).isDirectory()) dirs.push(join(parent, name));
    }
  }
  if (existsSync(join(root, "e2e", "package.json"))) dirs.push("e2e");
  return dirs;
}
