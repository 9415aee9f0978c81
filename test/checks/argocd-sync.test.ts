/**
 * argocd-sync's metric family, read from fixture cases (test/fixtures/argocd-sync/<case>/: a Rollout
 * with a workloadRef, its Deployment and Argo CD Applications; the cases run in fixtures.test.ts).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { metrics } from '../../src/checks/argocd-sync.js';
import { collectSeries, FIXTURE_ROOT, fixtureCases, runCase } from '../helpers/cases.js';

const ID = 'argocd-sync';


describe(`${ID} metrics`, () => {
  const series = async (caseName: string) => {
    const fixture = fixtureCases(ID).find((c) => c.name === caseName)!;
    const output = await runCase(ID, path.join(FIXTURE_ROOT, ID, caseName), { faults: fixture.expected.faults });
    return output.body.checks
      .filter((c) => c.check === ID)
      .flatMap((result) => collectSeries(metrics[0]!, result).map((s) => `${s.labels.namespace}/${s.labels.rollout} ${s.value}`));
  };

  it('1 when the replicas are ignored (or need not be), 0 when Argo CD would fight the controller, nothing when unknown', async () => {
    expect(await series('ok')).toEqual(['litellm/litellm 1']);
    expect(await series('scaledown-never')).toEqual(['litellm/litellm 1']);
    expect(await series('without-ignore-differences')).toEqual(['litellm/litellm 0']);
    expect(await series('missing-respect-option')).toEqual(['litellm/litellm 0']);
    expect(await series('api-403-applications')).toEqual([]);
  });
});
