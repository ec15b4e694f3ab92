#!/usr/bin/env node
// Runs every check the project has — build, type check, lint, formatting and every package's
// tests — and ends with one line CI reads: "N passed, M failed, K skipped". Each test counts
// once; each build, type check and lint of a package, and the formatting check, count as one
// check each. A skipped test is never counted as passed: skipped suites are listed by title (a
// suite that cannot run here says why in its title). Exits non-zero when anything failed.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const run = (command, args) =>
  spawnSync(command, args, { cwd: root, stdio: "inherit", env: process.env }).status ?? 1;

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
const skippedSuites = new Map();
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
// The BGP lab's speakers: Debian's BIRD 1.6, installed when missing (CI runs as root).
if (existsSync(join(root, "e2e", "tools", "ensure-bird.sh"))) {
  count(run("bash", ["e2e/tools/ensure-bird.sh"]) === 0, "BIRD for the BGP lab");
}

// The container suite (e2e/src/containers.e2e.test.ts) runs docker-compose.yml on images built
// here: build them (and their Go tools) before the tests too, when Docker answers. Without
// Docker the suite skips itself and shows up under "Skipped" below.
const docker = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], {
  encoding: "utf8",
  timeout: 30_000,
});
if (docker.status === 0) {
  count(
    run("bash", ["scripts/build-images.sh"]) === 0,
    "container images (scripts/build-images.sh)",
  );
} else {
  const why = (docker.stderr || docker.error?.message || "").trim().split("\n")[0];
  console.log(`container images: not built, Docker is not available (${why})`);
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
  skipped += results.numPendingTests + results.numTodoTests;
  for (const file of results.testResults ?? []) {
    for (const test of file.assertionResults ?? []) {
      if (!["pending", "skipped", "todo"].includes(test.status)) continue;
      const where = `${file.name.replace(root, "")}: ${test.ancestorTitles?.[0] ?? test.title}`;
      skippedSuites.set(where, (skippedSuites.get(where) ?? 0) + 1);
    }
  }
  if (results.numFailedTests > 0)
    failures.push(`${task.package}: ${results.numFailedTests} failing test(s)`);
  if (results.numTotalTests === 0) count(false, `${task.package}#test ran no test`);
  if (!ok && results.numFailedTests === 0)
    count(false, `${task.package}#test exited ${task.execution?.exitCode}`);
}

count(run("npx", ["prettier", "--check", "--log-level=warn", "."]) === 0, "prettier --check");

if (skippedSuites.size > 0) {
  console.log("\nSkipped (not run, not counted as passed):");
  for (const [where, n] of skippedSuites)
    console.log(`  ${where} (${n} test${n === 1 ? "" : "s"})`);
}
if (failures.length > 0) console.log(`\nFailed: ${failures.join("; ")}`);
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
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
