/**
 * self-rbac's metric family. Its fixture cases (test/checks/fixtures.test.ts) run as rollout-doctor's
 * service account (`enforceRbacSubject` in expected.yaml) against the folder's RBAC objects, with the
 * checks they list enabled (they define what rollout-doctor needs), and also assert what those other
 * checks report (`also`): a forbidden list makes them `unknown`, never `fail`.
 */
import { describe, expect, it } from 'vitest';
import { metrics } from '../../src/checks/self-rbac.js';
import { collectSeries, fixtureCases, runFixture } from '../helpers/cases.js';

const ID = 'self-rbac';

describe(`${ID} metrics`, () => {
  it('reports 0/1 allowed per group, resource and verb', async () => {
    const output = await runFixture(ID, fixtureCases(ID).find((c) => c.name === 'missing-applications')!);
    const samples = output.body.checks
      .filter((c) => c.check === ID)
      .flatMap((result) => collectSeries(metrics[0]!, result))
      .map((s) => `${s.labels.group} ${s.labels.resource} ${s.labels.verb} ${s.value}`)
      .sort();
    expect(samples).toEqual([
      'apps deployments list 1',
      'apps deployments watch 1',
      'argoproj.io applications list 0',
      'argoproj.io applications watch 0',
      'argoproj.io rollouts list 1',
      'argoproj.io rollouts watch 1',
      'authorization.k8s.io selfsubjectaccessreviews create 1',
      'core pods list 1',
      'core pods watch 1',
      'core pods/log get 1',
    ]);
  });
});
