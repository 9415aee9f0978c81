/**
 * rollout-services: the metric families read from the results of its fixture cases (the cases run
 * in fixtures.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { metrics } from '../../src/checks/rollout-services.js';
import type { CheckResult } from '../../src/engine/types.js';
import { collectSeries, FIXTURE_ROOT, runCase } from '../helpers/cases.js';

const CHECK = 'rollout-services';


describe('rollout-services metrics', () => {
  const family = (name: string) => metrics.find((m) => m.name === name)!;

  it('reports ready endpoints, ready pods and whether the hash is right, per Service', async () => {
    const output = await runCase(CHECK, `${FIXTURE_ROOT}/${CHECK}/canary-wrong-hash`, { now: '2026-11-26T12:00:00Z' });
    const web = output.body.checks.find((r) => r.target === 'shop/web')!;
    const labels = { namespace: 'shop', rollout: 'web' };
    expect(collectSeries(family('rollout_doctor_rollout_service_selector_hash_ok'), web)).toEqual([
      { labels: { ...labels, service: 'web-canary', role: 'canary' }, value: 0 },
      { labels: { ...labels, service: 'web', role: 'stable' }, value: 1 },
    ]);
    expect(collectSeries(family('rollout_doctor_rollout_service_ready_endpoints'), web)).toEqual([
      { labels: { ...labels, service: 'web-canary', role: 'canary' }, value: 2 },
      { labels: { ...labels, service: 'web', role: 'stable' }, value: 2 },
    ]);
    expect(collectSeries(family('rollout_doctor_rollout_service_ready_pods'), web).map((s) => s.value)).toEqual([2, 2]);
  });

  it('collects nothing from an unknown result', () => {
    const unknown: CheckResult<Record<string, unknown>> = { target: 'shop/web', status: 'unknown', summary: 'x', remediation: [], details: { reason: 'x' } };
    for (const family of metrics) expect(collectSeries(family, unknown)).toEqual([]);
  });
});
