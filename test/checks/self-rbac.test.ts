/**
 * self-rbac over fixture folders (test/fixtures/self-rbac/<case>/). Each case runs as rollout-doctor's
 * service account (`enforceRbacSubject` in expected.yaml) against the folder's RBAC objects, with the
 * checks it lists enabled (they define what rollout-doctor needs), and can also assert what those
 * other checks report (`also`): a forbidden list makes them `unknown`, never `fail`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { metrics } from '../../src/checks/self-rbac.js';
import { parseConfig } from '../../src/config/load.js';
import { resolveConfig, runCheckOnce } from '../../src/main.js';
import { assertResults, type CaseFile, collectSeries, describeFixtureCases, FAST_TIMEOUTS, FIXTURE_ROOT, fixtureCases } from '../helpers/cases.js';

const ID = 'self-rbac';

interface SelfRbacCase extends CaseFile {
  enforceRbacSubject: string;
  checks: string[];
  also?: Record<string, CaseFile['results']>;
}

async function runEnforced(dir: string, expected: SelfRbacCase) {
  const loaded = await resolveConfig({ simulate: { dir } });
  const raw = loaded.file ? ((parse(readFileSync(loaded.file, 'utf8')) as Record<string, unknown>) ?? {}) : {};
  const config = parseConfig({ ...raw, timeouts: FAST_TIMEOUTS, ...(expected.config ?? {}) }, loaded.file ?? `${dir}/<case config>`);
  return runCheckOnce({
    config: { ...loaded, config },
    simulate: { dir, faults: expected.faults, now: expected.now ? new Date(expected.now) : undefined, ephemeralAppPorts: true, enforceRbacSubject: expected.enforceRbacSubject },
    only: expected.checks,
    logLevel: 'silent',
  });
}

describeFixtureCases(ID, {
  run: async (fixture) => ({ output: await runEnforced(fixture.dir, fixture.expected as SelfRbacCase), expected: fixture.expected }),
  alsoAssert: (fixture, output) => {
    for (const [check, results] of Object.entries((fixture.expected as SelfRbacCase).also ?? {})) assertResults(check, output.body.checks, { results });
  },
});

describe(`${ID} metrics`, () => {
  it('reports 0/1 allowed per group, resource and verb', async () => {
    const dir = path.join(FIXTURE_ROOT, ID, 'missing-applications');
    const expected = fixtureCases(ID).find((c) => c.name === 'missing-applications')!.expected as SelfRbacCase;
    const output = await runEnforced(dir, expected);
    const samples = output.body.checks
      .filter((c) => c.check === ID)
      .flatMap((result) => collectSeries(metrics[0]!, result))
      .map((s) => `${s.labels.group} ${s.labels.resource} ${s.labels.verb} ${s.value}`)
      .sort();
    expect(samples).toEqual([
      'apps deployments list 1',
      'argoproj.io applications list 0',
      'argoproj.io rollouts list 1',
      'authorization.k8s.io selfsubjectaccessreviews create 1',
      'core pods list 1',
      'core pods/log get 1',
    ]);
  });
});
