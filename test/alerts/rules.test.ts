/**
 * The alert rules (deploy/alerts/rollout-doctor.rules.yaml): promtool lints them and runs their unit
 * tests (test/alerts/*.rules-test.yaml), every alert has a case where it fires and one where it stays
 * silent (a muted one when it reads check results), the conventions hold (severity, annotations, a
 * runbook_url that points at the alert's own section of docs/alerts.md, cluster kept in every
 * aggregation, no instance labels), and the VMRule and PrometheusRule are the source, rendered.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { renderRuleObjects, SOURCE_FILE, staleRuleObjects } from '../../deploy/alerts/render.js';
import { validateObject } from '../deploy/validate.js';
import type { KubeObject } from '../deploy/helpers.js';
import { ALERTS_DOC, expectedRunbookUrl, loadAlerts, loadRules } from '../helpers/alert-rules.js';
import { requireBinary } from '../helpers/binaries.js';
import { headings, readRepoFile } from '../helpers/markdown.js';

const TESTS_DIR = import.meta.dirname;
const promtool = requireBinary('promtool', 'the alert rule lint and unit tests');

interface UnitTestFile {
  tests: {
    name: string;
    interval?: string;
    input_series: { series: string; values: string }[];
    alert_rule_test?: { eval_time: string; alertname: string; exp_alerts?: { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[] }[];
  }[];
}

const unitTestFiles = readdirSync(TESTS_DIR)
  .filter((f) => f.endsWith('.rules-test.yaml'))
  .sort();
const unitTests = unitTestFiles.flatMap((file) => (parse(readFileSync(path.join(TESTS_DIR, file), 'utf8')) as UnitTestFile).tests);
const alerts = loadAlerts();

describe.skipIf(!promtool)('promtool', () => {
  it('check rules: the source file is valid for Prometheus (and so for vmalert)', () => {
    const out = execFileSync(promtool!, ['check', 'rules', SOURCE_FILE], { encoding: 'utf8' });
    expect(out).toContain(`SUCCESS: ${alerts.length} rules found`);
  });

  it('test rules: every unit test file passes', () => {
    let output = '';
    try {
      output = execFileSync(promtool!, ['test', 'rules', ...unitTestFiles], { cwd: TESTS_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      throw new Error(`promtool test rules failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
    expect(output.match(/SUCCESS/g)?.length).toBe(unitTestFiles.length);
  });
});

/** The check whose results an alert's verdict reads (`rollout_doctor_check_status{check="..."`), if any. */
const verdictCheck = (expr: string) => /rollout_doctor_check_status\{check="([^"]+)"/.exec(expr)?.[1];

describe.skipIf(!promtool)('one incident, one page', () => {
  it('every alert that reads check results stays silent when another incident explains them: its firing unit test, with rollout_doctor_check_explained_by added, fires nothing', () => {
    const tests = alerts.flatMap((alert) => {
      const check = verdictCheck(alert.expr);
      if (!check) return [];
      const isFiring = (c: { alertname: string; exp_alerts?: unknown[] }) => c.alertname === alert.alert && (c.exp_alerts ?? []).length > 0;
      const firing = unitTests.find((t) => (t.alert_rule_test ?? []).some(isFiring))!;
      // The same results, each explained by a root elsewhere (what /metrics writes for an effect).
      const explained = new Map<string, string>();
      for (const input of firing.input_series) {
        if (!input.series.startsWith('rollout_doctor_check_status{') || !input.series.includes(`check="${check}"`)) continue;
        const series = input.series
          .replace('rollout_doctor_check_status{', 'rollout_doctor_check_explained_by{')
          .replace(/,\s*status="[^"]*"/, '')
          .replace(/\}$/, ', root_check="kube-api", root_target="homelab"}');
        explained.set(series, input.values);
      }
      return [
        {
          name: `${alert.alert} stays silent for results another incident explains`,
          interval: firing.interval,
          input_series: [...firing.input_series, ...[...explained].map(([series, values]) => ({ series, values }))],
          alert_rule_test: firing.alert_rule_test!.filter(isFiring).map((c) => ({ eval_time: c.eval_time, alertname: c.alertname, exp_alerts: [] })),
        },
      ];
    });
    expect(tests.length).toBe(alerts.filter((a) => verdictCheck(a.expr)).length);
    expect(tests.length).toBeGreaterThan(15);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rollout-doctor-explained-'));
    try {
      writeFileSync(path.join(dir, 'explained.rules-test.yaml'), stringify({ rule_files: [SOURCE_FILE], evaluation_interval: '1m', tests }));
      let output = '';
      try {
        output = execFileSync(promtool!, ['test', 'rules', 'explained.rules-test.yaml'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (error) {
        const e = error as { stdout?: string; stderr?: string };
        throw new Error(`promtool test rules failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
      }
      expect(output).toContain('SUCCESS');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('unit test coverage', () => {
  it.each(alerts.map((a) => [a.alert, a] as const))('%s has a firing case with labels and annotations, and a silent case', (name, alert) => {
    const cases = unitTests.flatMap((t) => (t.alert_rule_test ?? []).filter((c) => c.alertname === name).map((c) => ({ test: t, check: c })));
    const firing = cases.filter((c) => (c.check.exp_alerts ?? []).length > 0);
    expect(firing.length, `${name}: no test where it fires`).toBeGreaterThan(0);
    for (const { check } of firing) {
      for (const expected of check.exp_alerts!) {
        expect(expected.exp_labels?.severity, `${name}: a firing case without the expected severity`).toBe(alert.labels.severity);
        expect(Object.keys(expected.exp_annotations ?? {}).sort(), `${name}: a firing case without the expected annotations`).toEqual(['description', 'runbook_url', 'summary']);
      }
    }
    const silent = cases.filter((c) => (c.check.exp_alerts ?? []).length === 0);
    expect(silent.length, `${name}: no test where it stays silent`).toBeGreaterThan(0);
    // An alert that reads check results is silent when they are muted.
    const mutedCheck = /rollout_doctor_check_muted\{check="([^"]+)"\}/.exec(alert.expr)?.[1];
    if (mutedCheck) {
      const hasMutedCase = silent.some(({ test }) =>
        test.input_series.some((s) => s.series.startsWith('rollout_doctor_check_muted{') && s.series.includes(`check="${mutedCheck}"`) && /^1/.test(s.values)),
      );
      expect(hasMutedCase, `${name}: no silent case with a muted ${mutedCheck} result`).toBe(true);
    }
  });
});

describe('conventions', () => {
  const docAnchors = new Set(headings(readRepoFile(ALERTS_DOC)).map((h) => h.anchor));

  it.each(alerts.map((a) => [a.alert, a] as const))('%s: severity, annotations naming the object, a runbook_url to its own section of docs/alerts.md', (name, alert) => {
    expect(['critical', 'warning', 'info']).toContain(alert.labels.severity);
    for (const key of ['summary', 'description', 'runbook_url']) expect(alert.annotations[key], key).toBeTruthy();
    expect(alert.annotations.runbook_url).toBe(expectedRunbookUrl(name));
    const anchor = alert.annotations.runbook_url!.slice(alert.annotations.runbook_url!.indexOf('#') + 1);
    expect(docAnchors.has(anchor), `${ALERTS_DOC} has no section #${anchor}`).toBe(true);
    // The summary names the object (a label) and the cluster when there is one.
    expect(alert.annotations.summary).toMatch(/\$labels\.\w+/);
    expect(alert.annotations.summary).toContain('{{ with $labels.cluster }}');
  });

  it.each(alerts.map((a) => [a.alert, a] as const))('%s: keeps cluster in every aggregation and join, aggregates instance labels away', (_, alert) => {
    const groupings = [...alert.expr.matchAll(/\b(by|on)\s*\(([^)]*)\)/g)].map((m) => ({ kind: m[1], labels: m[2]!.split(',').map((l) => l.trim()) }));
    expect(groupings.length).toBeGreaterThan(0);
    for (const grouping of groupings) {
      expect(grouping.labels, `${grouping.kind} (${grouping.labels.join(', ')})`).toContain('cluster');
      for (const label of ['instance', 'pod']) expect(grouping.labels).not.toContain(label);
    }
    // Every selector of a rollout-doctor series sits inside an aggregation (or a range function inside one).
    const bare = alert.expr.replace(/\b(max|min|sum|count) by \(/g, 'AGG(');
    expect(bare).not.toMatch(/(^|[^(\w])rollout_doctor_\w+\{[^}]*\}\s*(==|>|<|and|unless|or|$)/m);
  });

  it('uses keep_firing_for on every alert that reads check results, and a for on all but the one about a short window', () => {
    for (const alert of alerts) {
      if (alert.expr.includes('rollout_doctor_check_status')) expect(alert.keep_firing_for, alert.alert).toBeDefined();
      if (alert.alert !== 'ArgoRolloutAnalysisAboutToAbort') expect(alert.for, alert.alert).toBeDefined();
    }
  });
});

describe('deploy/alerts: VMRule and PrometheusRule', () => {
  it('are rendered from the source (run npm run alerts:render after editing rollout-doctor.rules.yaml)', () => {
    expect(staleRuleObjects(), 'stale generated files: run npm run alerts:render').toEqual([]);
  });

  it('carry exactly the source groups and validate', () => {
    const source = loadRules();
    for (const [file, text] of Object.entries(renderRuleObjects())) {
      const object = parse(text) as KubeObject & { spec: { groups: unknown } };
      expect(object.spec.groups, file).toEqual(source.groups);
      expect(validateObject(object), file).toEqual([]);
    }
  });

});
