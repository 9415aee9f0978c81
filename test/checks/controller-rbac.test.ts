/**
 * controller-rbac's metric family, read from fixture cases (test/fixtures/controller-rbac/<case>/: the
 * controller's Deployment, ConfigMap and RBAC objects, decided by the simulator's RBAC authorizer
 * through real SubjectAccessReviews; the cases run in fixtures.test.ts).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { metrics } from '../../src/checks/controller-rbac.js';
import { collectSeries, FIXTURE_ROOT, runCase } from '../helpers/cases.js';

const ID = 'controller-rbac';


describe(`${ID} metrics`, () => {
  it('reports 0/1 allowed per service account, group, resource and verb', async () => {
    const output = await runCase(ID, path.join(FIXTURE_ROOT, ID, 'missing-create'));
    const samples = output.body.checks
      .filter((c) => c.check === ID)
      .flatMap((result) => collectSeries(metrics[0]!, result))
      .map((s) => `${s.labels.serviceaccount} ${s.labels.group} ${s.labels.resource} ${s.labels.verb} ${s.value}`)
      .sort();
    expect(samples).toEqual([
      'argo-rollouts/argo-rollouts cilium.io ciliumenvoyconfigs create 0',
      'argo-rollouts/argo-rollouts cilium.io ciliumenvoyconfigs delete 0',
      'argo-rollouts/argo-rollouts cilium.io ciliumenvoyconfigs get 1',
      'argo-rollouts/argo-rollouts cilium.io ciliumenvoyconfigs list 1',
      'argo-rollouts/argo-rollouts cilium.io ciliumenvoyconfigs patch 0',
      'argo-rollouts/argo-rollouts cilium.io ciliumenvoyconfigs update 0',
      'argo-rollouts/argo-rollouts cilium.io ciliumenvoyconfigs watch 1',
    ]);
  });
});
