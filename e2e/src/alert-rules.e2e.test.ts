import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { buildGoTool, runCommand } from "./harness/index.js";

/**
 * deploy/monitoring/rrfleet.rules.yaml, judged by promtool (Prometheus v3.16's own checker and
 * rule unit tests, built from its Go module): the rules are valid, every alert fires on the
 * series it is for, and a normal rollout fires nothing. Around that: every alert has a severity,
 * a summary, a description and a runbook section; the tests cover every alert; and the tests
 * bite — rules loosened on purpose make them fail.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MONITORING = join(ROOT, "deploy/monitoring");
const RULES = join(MONITORING, "rrfleet.rules.yaml");

interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}
interface RuleFile {
  readonly groups: readonly { readonly name: string; readonly rules: readonly Rule[] }[];
}
interface RuleTestFile {
  readonly tests: readonly {
    readonly name: string;
    readonly input_series: readonly { readonly series: string }[];
    readonly alert_rule_test?: readonly {
      readonly alertname: string;
      readonly exp_alerts?: readonly unknown[];
    }[];
  }[];
}

describe("deploy/monitoring/rrfleet.rules.yaml", () => {
  let promtool: string;
  let rules: RuleFile;
  let alerts: Rule[];
  const testFiles = new Map<string, RuleTestFile>();
  const work: string[] = [];

  /** Runs `promtool test rules` on every test file, against `rulesText` (default: the real rules). */
  async function testRules(rulesText?: string) {
    let dir = MONITORING;
    if (rulesText !== undefined) {
      dir = await mkdtemp(join(tmpdir(), "rrfleet-rules-"));
      work.push(dir);
      await cp(join(MONITORING, "tests"), join(dir, "tests"), { recursive: true });
      await writeFile(join(dir, "rrfleet.rules.yaml"), rulesText);
    }
    return runCommand(
      promtool,
      ["test", "rules", ...[...testFiles.keys()].map((f) => join("tests", f))],
      { cwd: dir },
    );
  }

  beforeAll(async () => {
    promtool = await buildGoTool("promtool");
    rules = parseYaml(await readFile(RULES, "utf8")) as RuleFile;
    alerts = rules.groups.flatMap((g) => g.rules.filter((r) => r.alert !== undefined));
    for (const file of (await readdir(join(MONITORING, "tests"))).sort()) {
      if (!file.endsWith(".test.yaml")) continue;
      const text = await readFile(join(MONITORING, "tests", file), "utf8");
      testFiles.set(file, parseYaml(text) as RuleTestFile);
    }
  });

  afterAll(async () => {
    await Promise.all(work.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it("passes promtool check rules", async () => {
    const result = await runCommand(promtool, ["check", "rules", RULES]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it("passes promtool test rules: each alert fires on its series, and a normal rollout fires none", async () => {
    const result = await testRules();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout.match(/SUCCESS/g)).toHaveLength(testFiles.size);
  });

  it("labels and annotates every alert the kubernetes-mixin way, with a runbook section for each", async () => {
    const runbook = await readFile(join(ROOT, "docs/runbook.md"), "utf8");
    const anchors = new Set(
      [...runbook.matchAll(/^## (.+)$/gm)].map((m) =>
        (m[1] ?? "")
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, "")
          .replace(/ /g, "-"),
      ),
    );
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    for (const alert of alerts) {
      const name = alert.alert ?? "";
      expect(name, "alert names are CamelCase with the project prefix").toMatch(
        /^Rrfleet[A-Z]\w+$/,
      );
      expect(["critical", "warning", "info"], name).toContain(alert.labels?.["severity"]);
      expect(alert.annotations?.["summary"], name).toMatch(/\.$/);
      expect(alert.annotations?.["description"], name).toBeTruthy();
      const url = alert.annotations?.["runbook_url"] ?? "";
      expect(url, name).toBe(
        `https://github.com/rrfleet/rrfleet/blob/main/docs/runbook.md#${name.toLowerCase()}`,
      );
      expect(anchors, `docs/runbook.md has no "## ${name}" section`).toContain(name.toLowerCase());
    }
  });

  it("has a firing test for every alert, and checks every alert during the normal rollout", () => {
    const firing = new Set<string>();
    const quiet = new Map<string, number>();
    for (const [file, tests] of testFiles) {
      for (const test of tests.tests) {
        for (const check of test.alert_rule_test ?? []) {
          if ((check.exp_alerts ?? []).length > 0) firing.add(check.alertname);
          else if (file === "normal-rollout.test.yaml") {
            quiet.set(check.alertname, (quiet.get(check.alertname) ?? 0) + 1);
          }
        }
      }
    }
    for (const alert of alerts) {
      const name = alert.alert ?? "";
      expect(firing, `no test shows ${name} firing`).toContain(name);
      expect(quiet.get(name) ?? 0, `${name} during the normal rollout`).toBeGreaterThanOrEqual(3);
    }
  });

  it("feeds the normal rollout every metric the rules read, so its silence means something", () => {
    const rollout = testFiles.get("normal-rollout.test.yaml");
    const fed = new Set(
      (rollout?.tests ?? []).flatMap((t) =>
        t.input_series.map((s) => /^[a-z_:]+/.exec(s.series)?.[0]),
      ),
    );
    const read = new Set(
      rules.groups.flatMap((g) =>
        g.rules.flatMap((r) =>
          [...r.expr.matchAll(/\b(rrfleet_[a-z_]+|up)\b(?=\s*[{[)])/g)].map((m) => m[1] ?? ""),
        ),
      ),
    );
    expect(read.size).toBeGreaterThanOrEqual(12);
    for (const metric of read)
      expect(fed, `${metric} is not in the normal rollout`).toContain(metric);
  });

  it.each([
    {
      name: "a not-converged alert that ignores the interlock",
      edit: (text: string) =>
        text.replace(
          /unless on \(namespace, job, cluster\)\n\s+max by \(namespace, job, cluster\) \(rrfleet_plan_blocked\) == 1\n/,
          "\n",
        ),
      fails: "RrfleetClusterNotConverged",
    },
    {
      name: "a session alert without its 15 minutes of patience",
      edit: (text: string) =>
        text.replace(
          /(expr: max by \(namespace, job, cluster\) \(rrfleet_unconfirmed_sessions\) > 0\n\s+)for: 15m/,
          "$1for: 1m",
        ),
      fails: "RrfleetSessionsNotEstablished",
    },
    {
      name: "a flapping alert that counts a rolling update",
      edit: (text: string) =>
        text.replace(
          "changes(namespace:rrfleet_leader_epoch:max[1h]) > 3",
          "changes(namespace:rrfleet_leader_epoch:max[1h]) > 1",
        ),
      fails: "RrfleetLeaderFlapping",
    },
    {
      name: "conflicts alerting on the first few",
      edit: (text: string) =>
        text.replace(
          "[15m])\n          ) > 10\n        for: 15m",
          "[15m])\n          ) > 1\n        for: 1m",
        ),
      fails: "RrfleetWriteConflicts",
    },
  ])("fails when the rules are loosened: $name", async ({ edit, fails }) => {
    const original = await readFile(RULES, "utf8");
    const edited = edit(original);
    expect(edited, "the edit must change the rules").not.toBe(original);
    const result = await testRules(edited);
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toContain(`alertname: ${fails}`);
  });
});
