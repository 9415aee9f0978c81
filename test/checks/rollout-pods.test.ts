/**
 * rollout-pods: the metric families read from the results of its fixture cases (the cases run in
 * fixtures.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { metrics } from '../../src/checks/rollout-pods.js';
import type { CheckResult } from '../../src/engine/types.js';
import { collectSeries, FIXTURE_ROOT, runCase } from '../helpers/cases.js';

const CHECK = 'rollout-pods';


describe('rollout-pods metrics', () => {
  const family = (name: string) => metrics.find((m) => m.name === name)!;

  it('emits the problem reasons some pod has (no zeros), ready pods per role, restarts and recent Warning events', async () => {
    const output = await runCase(CHECK, `${FIXTURE_ROOT}/${CHECK}/image-pull-backoff`, { now: '2026-11-26T12:00:00Z' });
    const web = output.body.checks.find((r) => r.target === 'shop/web')!;
    const labels = { namespace: 'shop', rollout: 'web' };
    const problems = collectSeries(family('rollout_doctor_rollout_pods_with_problem'), web);
    expect(problems).toEqual([{ labels: { ...labels, reason: 'ImagePullBackOff' }, value: 1 }]);
    expect(collectSeries(family('rollout_doctor_rollout_pods_ready'), web)).toEqual([
      { labels: { ...labels, role: 'current' }, value: 0 },
      { labels: { ...labels, role: 'stable' }, value: 2 },
    ]);
    expect(collectSeries(family('rollout_doctor_rollout_pod_restarts'), web)).toEqual([{ labels, value: 0 }]);
    expect(collectSeries(family('rollout_doctor_rollout_pod_warning_events'), web)).toEqual([{ labels, value: 1 }]);
  });

  it('collects nothing from an unknown result', () => {
    const unknown: CheckResult<Record<string, unknown>> = { target: 'shop/web', status: 'unknown', summary: 'x', remediation: [], details: { reason: 'x' } };
    for (const family of metrics) expect(collectSeries(family, unknown)).toEqual([]);
  });
});
