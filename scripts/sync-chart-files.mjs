#!/usr/bin/env node
// Copies the files the Helm chart renders from into deploy/helm/rrfleet/files/, so each has one
// source of truth: the alert rules (deploy/monitoring/rrfleet.rules.yaml, which promtool tests)
// and the member-cluster ClusterRoles (deploy/kubernetes/clusterrole*.yaml, which the e2e
// suites run with). Helm reads only files inside the chart, hence copies, not references.
//
//   node scripts/sync-chart-files.mjs           # copy
//   node scripts/sync-chart-files.mjs --check   # exit 1 naming every copy that differs
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
/** Source (repository path) → copy (inside the chart). */
export const CHART_FILE_COPIES = [
  ["deploy/monitoring/rrfleet.rules.yaml", "deploy/helm/rrfleet/files/rrfleet.rules.yaml"],
  ["deploy/kubernetes/clusterrole.yaml", "deploy/helm/rrfleet/files/clusterrole.yaml"],
  [
    "deploy/kubernetes/clusterrole-watcher.yaml",
    "deploy/helm/rrfleet/files/clusterrole-watcher.yaml",
  ],
];

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const check = process.argv.includes("--check");
  const stale = [];
  for (const [source, copy] of CHART_FILE_COPIES) {
    const wanted = readFileSync(join(root, source));
    const current = existsSync(join(root, copy)) ? readFileSync(join(root, copy)) : undefined;
    if (current !== undefined && wanted.equals(current)) continue;
    if (check) stale.push(`${copy} differs from ${source}`);
    else copyFileSync(join(root, source), join(root, copy));
  }
  if (stale.length > 0) {
    console.error(`${stale.join("\n")}\nrun: node scripts/sync-chart-files.mjs`);
    process.exit(1);
  }
}
