/**
 * controller-pods' metric families read from real results of its fixture cases
 * (test/fixtures/controller-pods/<case>/; the cases run in fixtures.test.ts).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { metrics } from '../../src/checks/controller-pods.js';
import { collectSeries, FIXTURE_ROOT, runCase } from '../helpers/cases.js';

const ID = 'controller-pods';


describe(`${ID} metrics`, () => {
  const collect = (result: Parameters<typeof collectSeries>[1]) =>
    Object.fromEntries(metrics.map((family) => [family.name, collectSeries(family, result).map((s) => [s.labels, s.value])]));

  it('reads replicas, restarts and the crash-looping flag from a crash-looping controller', async () => {
    const output = await runCase(ID, path.join(FIXTURE_ROOT, ID, 'crashloop-plugin-download-404'), { now: '2026-11-26T13:58:00Z' });
    const labels = { namespace: 'argo-rollouts', deployment: 'argo-rollouts' };
    expect(collect(output.body.checks.find((c) => c.check === ID)!)).toEqual({
      rollout_doctor_controller_desired_replicas: [[labels, 1]],
      rollout_doctor_controller_ready_replicas: [[labels, 0]],
      rollout_doctor_controller_container_restarts: [[labels, 1154]],
      rollout_doctor_controller_crashlooping: [[labels, 1]],
    });
  });

  it('emits nothing for an unknown result (its details carry only the reason)', async () => {
    const output = await runCase(ID, path.join(FIXTURE_ROOT, ID, 'ok'), { faults: { deployments: 403 } });
    const unknown = output.body.checks.find((c) => c.check === ID)!;
    expect(unknown.status).toBe('unknown');
    expect(metrics.flatMap((family) => collectSeries(family, unknown))).toEqual([]);
  });
});
