/**
 * Incidents on whole clusters: each case of test/fixtures/incidents/ is the homelab (its `_base/`,
 * a copy of the demo scenario) with one or two things broken, run through the simulator with every
 * check, and its expected.yaml says exactly which incidents form, with their effects and summaries
 * (`variants`: the same folder under another config, such as a muted root). The config is the case's
 * rollout-doctor.yaml, else the base's (the demo's: its endpoints and analysis-preflight's
 * allowedHosts), with `config` merged over it. Each case's /health document is recorded in
 * test/golden/incidents/ like the check cases'.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig, resolvePaths } from '../../src/config/load.js';
import { demoScenarioDir, runCheckOnce, type CheckOutput } from '../../src/main.js';
import { assertIncidents, assertResults, type CaseFile, type ExpectedIncident, fixtureCases, FIXTURE_ROOT } from '../helpers/cases.js';
import { runCli } from '../helpers/cli.js';
import { expectGolden } from '../helpers/golden.js';

interface IncidentCase extends CaseFile {
  /** The same folder under another config. */
  variants?: { name: string; config: Record<string, unknown>; incidents: ExpectedIncident[] }[];
}

const ROOT = path.join(FIXTURE_ROOT, 'incidents');

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
    out[key] = isObject(value) && isObject(current) ? merge(current as Record<string, unknown>, value as Record<string, unknown>) : value;
  }
  return out;
}

/** One cycle of every check on `dir`, with its config (or the base's) and `config` merged over it. */
async function runCase(dir: string, expected: CaseFile, config: Record<string, unknown> = {}): Promise<CheckOutput> {
  const own = path.join(dir, 'rollout-doctor.yaml');
  const file = existsSync(own) ? own : path.join(ROOT, '_base', 'rollout-doctor.yaml');
  const raw = (parse(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
  const merged = merge(merge(raw, expected.config ?? {}), config);
  const parsed = resolvePaths(parseConfig(merged, file), path.dirname(file));
  return runCheckOnce({
    config: { config: parsed, file, baseDir: path.dirname(file) },
    simulate: { dir, now: expected.now ? new Date(expected.now) : undefined, ephemeralAppPorts: true, shuffleLists: true, faults: expected.faults },
    only: expected.checks,
    logLevel: 'silent',
  });
}

describe('incident fixtures', () => {
  for (const fixture of fixtureCases('incidents')) {
    const expected = fixture.expected as IncidentCase;
    it(`${fixture.name}: ${expected.description ?? ''}`, async () => {
      const output = await runCase(fixture.dir, expected);
      assertIncidents(output.body, expected.incidents ?? []);
      for (const [check, results] of Object.entries(expected.also ?? {})) assertResults(check, output.body.checks, { results });
      expectGolden('incidents', fixture.name, output.body);
    });
    for (const variant of expected.variants ?? []) {
      it(`${fixture.name}, ${variant.name}`, async () => {
        assertIncidents((await runCase(fixture.dir, expected, variant.config)).body, variant.incidents);
      });
    }
  }

  it('the healthy homelab (the cases\' base: the demo homelab, its unmeasured template muted) has no incident, and no result names one', async () => {
    const output = await runCase(path.join(ROOT, '_base'), { results: [] }, {});
    expect(output.body.checks.length).toBeGreaterThan(30);
    expect(output.body.checks.filter((c) => c.status !== 'ok' && !c.muted)).toEqual([]);
    assertIncidents(output.body, []);
    expect(output.text).not.toContain('incident');
  });

  it('the healthy homelab (the demo scenario) has one incident: its warn, the template it cannot measure', async () => {
    const dir = demoScenarioDir();
    const output = await runCase(dir, { results: [] }, {});
    expect(output.body.checks.length).toBeGreaterThan(30);
    // The Sympozium healthz template's host is cluster DNS, outside the demo's allowedHosts: a warn
    // of its own, explaining nothing and explained by nothing.
    assertIncidents(output.body, [{ root: 'analysis-preflight sympozium-system/sympozium-healthz', status: 'warn', effects: [] }]);
    expect(output.text).toContain('1 incident: AnalysisTemplate sympozium-system/sympozium-healthz: nothing measured');
  });

  it('rollout-doctor check --simulate the plugin-404 case: one incident rooted at controller-plugins, the crash loop and the stuck Rollouts its effects', async () => {
    const result = await runCli(['check', '--simulate', 'test/fixtures/incidents/plugin-404', '--output', 'json']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 1, stderr: '' });
    const expected = parse(readFileSync(path.join(ROOT, 'plugin-404', 'expected.yaml'), 'utf8')) as CaseFile;
    assertIncidents(JSON.parse(result.stdout) as CheckOutput['body'], expected.incidents!);
  });

  it('the text view: the count line, the incident lines, then the table', async () => {
    const dir = path.join(ROOT, 'two-independent');
    const lines = (await runCase(dir, fixtureCases('incidents').find((c) => c.dir === dir)!.expected)).text.split('\n');
    expect(lines[0]).toMatch(/^4 fail, 37 ok, 1 muted \(checked \d+ s ago, cycle \d+ ms\)$/);
    expect(lines.slice(1, 8)).toEqual([
      '2 incidents:',
      '  FAIL  controller may not get, list, watch, create, update, patch, delete',
      '        cilium.io/ciliumenvoyconfigs -> canary of Rollout litellm/litellm without its traffic object',
      '  FAIL  active Service sympozium-system/sympozium-apiserver selects the wrong ReplicaSet -> endpoint',
      '        sympozium down',
      '',
      'FAIL  controller-rbac   cilium.io/ciliumenvoyconfigs',
    ]);
  });
});
