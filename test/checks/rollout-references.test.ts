/**
 * rollout-references' metric family (its fixture cases run in fixtures.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { metrics } from '../../src/checks/rollout-references.js';
import type { CheckResult } from '../../src/engine/types.js';
import { collectSeries } from '../helpers/cases.js';

describe('rollout-references metrics', () => {
  const [family] = metrics;

  it('emits a count for each kind with a missing object, and nothing for the kinds with none', () => {
    const result: CheckResult<Record<string, unknown>> = {
      target: 'litellm/litellm',
      status: 'fail',
      summary: '',
      remediation: [],
      details: { namespace: 'litellm', rollout: 'litellm', missingByKind: { AnalysisTemplate: 1, ClusterAnalysisTemplate: 0, Service: 2, Workload: 0, TrafficRouterPlugin: 0 } },
    };
    expect(collectSeries(family!, result).map((s) => [s.labels.kind, s.value])).toEqual([
      ['AnalysisTemplate', 1],
      ['Service', 2],
    ]);
  });

  it('emits nothing for unknown results', () => {
    expect(collectSeries(family!, { target: 'a/b', status: 'unknown', details: { reason: 'x' } })).toEqual([]);
  });
});
