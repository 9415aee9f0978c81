/**
 * rollout-analysis (its fixture cases run in fixtures.test.ts): its metric families, the AnalysisRun reader over upstream's own AnalysisRuns (Argo CD's health testdata, the kubectl
 * plugin's scenarios), and the limit arithmetic as analysis/analysis.go defines it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  analysisRunState,
  DEFAULT_CONSECUTIVE_ERROR_LIMIT,
  ERROR_RETRY_INTERVAL_SECONDS,
  errorsLeft,
  inconclusiveLeft,
  intOrStringValue,
  isEmptyResultMessage,
  isNaNValue,
} from '../../src/argo/analysis.js';
import { metrics } from '../../src/checks/rollout-analysis.js';
import type { CheckResult } from '../../src/engine/types.js';
import type { CustomObject } from '../../src/kube/types.js';
import { collectSeries } from '../helpers/cases.js';

const SHARED = path.resolve(import.meta.dirname, '..', 'fixtures', 'upstream');


function load(relative: string): CustomObject {
  return parse(readFileSync(path.join(SHARED, relative), 'utf8')) as CustomObject;
}

describe('AnalysisRun reader over upstream AnalysisRuns', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    [
      'argocd-health/analysisrun/errorAnalysisRun.yaml',
      { phase: 'Error', metrics: [{ name: 'memory-usage', phase: 'Error', error: 5, consecutiveError: 5, consecutiveErrorLimit: 4, interval: '10s', intervalSeconds: 10, lastPhase: 'Error' }] },
      'spec.analysisSpec (pre-v0.6) read; consecutiveErrorLimit defaults to 4 (utils/defaults DefaultConsecutiveErrorLimit); 5 > 4 is Error (assessMetricFailureInconclusiveOrError)',
    ],
    ['argocd-health/analysisrun/errorAnalysisRunWithStatusMessage.yaml', { phase: 'Error', message: 'Status Message: Assessed as Error' }, 'status.message kept verbatim'],
    [
      'argocd-health/analysisrun/failedAnalysisRun.yaml',
      { phase: 'Failed', metrics: [{ failed: 1, failureLimit: 0, count: 1, lastValue: '[0.9768211920529802]' }] },
      'failureLimit defaults to 0 (analysis_types.go): failed 1 > 0 is Failed',
    ],
    [
      'argocd-health/analysisrun/inconclusiveAnalysisRun.yaml',
      { phase: 'Inconclusive', metrics: [{ inconclusive: 1, inconclusiveLimit: 0, count: 1 }] },
      'inconclusiveLimit defaults to 0 (analysis_types.go): inconclusive 1 > 0 is Inconclusive',
    ],
    ['argocd-health/analysisrun/noStatusAnalysisRun.yaml', { phase: 'Pending', metrics: [{ name: 'memory-usage', phase: 'Pending', count: 0 }] }, 'no status: Pending, metric never measured'],
    ['argocd-health/analysisrun/pendingAnalysisRun.yaml', { phase: 'Pending', metrics: [{ name: 'memory-usage', interval: '10s', intervalSeconds: 10 }] }, 'spec.metrics with a numeric interval (seconds)'],
    ['argocd-health/analysisrun/runningAnalysisRun.yaml', { phase: 'Running', metrics: [{ phase: 'Running', count: 2, successful: 2 }] }, 'Running with two successful measurements'],
    ['argocd-health/analysisrun/successfulAnalysisRun.yaml', { phase: 'Successful', metrics: [{ phase: 'Successful', countLimit: 1 }] }, 'no count and no interval: EffectiveCount is 1 (analysis_types.go)'],
    [
      'argocd-health/analysisrun/terminatedAnalysisRun.yaml',
      { phase: 'Successful', message: 'run terminated', type: 'Step', stepIndex: 0, metrics: [{ provider: 'job', lastMessage: 'metric terminated' }] },
      'a terminated run is Successful with "metric terminated"',
    ],
    [
      'argo-rollouts-info/rollout-aborted/analysisrun.yaml',
      { phase: 'Failed', type: 'Background', message: 'metric "web" assessed Failed due to failed (1) > failureLimit (0)', metrics: [{ provider: 'web', failed: 1, interval: '5s', lastValue: 'false' }] },
      'the kubectl plugin\'s aborted scenario',
    ],
    [
      'argo-rollouts-info/experiment-analysis/canary-analysis.yaml',
      { phase: 'Inconclusive', metrics: [{ count: 8, successful: 4, failed: 4, inconclusive: 1, error: 1, failureLimit: 5, inconclusiveLimit: 1, countLimit: 10, provider: 'job' }] },
      'inconclusive and error are totals over the run (failed 4 of limit 5 is not yet Failed)',
    ],
  ];
  for (const [file, want, why] of cases) {
    it(`${file}: ${why}`, () => {
      expect(analysisRunState(load(file))).toMatchObject(want);
    });
  }
});

describe('Argo Rollouts analysis semantics', () => {
  const metric = (over: Record<string, number>) => ({ ...analysisRunState(load('argocd-health/analysisrun/runningAnalysisRun.yaml')).metrics[0]!, ...over });

  it('a metric turns Inconclusive after inconclusiveLimit + 1 inconclusive measurements in total (inconclusive > limit)', () => {
    expect(inconclusiveLeft(metric({ inconclusiveLimit: 2, inconclusive: 0 }))).toBe(3);
    expect(inconclusiveLeft(metric({ inconclusiveLimit: 2, inconclusive: 1 }))).toBe(2);
    expect(inconclusiveLeft(metric({ inconclusiveLimit: 0, inconclusive: 0 }))).toBe(1);
  });

  it('a metric errors after consecutiveErrorLimit + 1 Error measurements in a row, retried every 10 s (DefaultErrorRetryInterval)', () => {
    expect(DEFAULT_CONSECUTIVE_ERROR_LIMIT).toBe(4);
    expect(ERROR_RETRY_INTERVAL_SECONDS).toBe(10);
    expect(errorsLeft(metric({ consecutiveErrorLimit: 4, consecutiveError: 2 }))).toBe(3);
    expect(errorsLeft(metric({ consecutiveErrorLimit: 4, consecutiveError: 5 }))).toBe(0);
  });

  it('reads limits as intstr.IntValue does (a non-integer string reads 0)', () => {
    expect(intOrStringValue(undefined, 4)).toBe(4);
    expect(intOrStringValue('3', 4)).toBe(3);
    expect(intOrStringValue('{{args.limit}}', 4)).toBe(0);
    expect(intOrStringValue(2, 0)).toBe(2);
  });

  it('recognises NaN values and empty query results', () => {
    expect(isNaNValue('[NaN]')).toBe(true);
    expect(isNaNValue('NaN')).toBe(true);
    expect(isNaNValue('[0.0123]')).toBe(false);
    expect(isEmptyResultMessage('reflect: slice index out of range')).toBe(true);
    expect(isEmptyResultMessage('metric result is nil or empty')).toBe(true);
    expect(isEmptyResultMessage('Post "http://vm:8428/api/v1/query": dial tcp: connection refused')).toBe(false);
  });
});

describe('rollout-analysis metrics', () => {
  const run = analysisRunState(load('argo-rollouts-info/experiment-analysis/canary-analysis.yaml'));
  const result: CheckResult<Record<string, unknown>> = {
    target: 'jesse-test/rollout-experiment-analysis',
    status: 'warn',
    summary: '',
    remediation: [],
    details: { namespace: 'jesse-test', rollout: 'rollout-experiment-analysis', runs: [{ ...run, isLatestOfType: true }, { ...run, name: 'older', isLatestOfType: false }] },
  };
  const family = (name: string) => metrics.find((m) => m.name === name)!;

  it('emits every run phase one-hot for the newest run of each type, and per-metric streaks with their limits', () => {
    expect(collectSeries(family('rollout_doctor_analysis_run_phase'), result).map((s) => [s.labels.type, s.labels.phase, s.value])).toEqual([
      ['Background', 'Pending', 0],
      ['Background', 'Running', 0],
      ['Background', 'Successful', 0],
      ['Background', 'Failed', 0],
      ['Background', 'Error', 0],
      ['Background', 'Inconclusive', 1],
    ]);
    const labels = { namespace: 'jesse-test', rollout: 'rollout-experiment-analysis', type: 'Background', metric: 'random-fail' };
    expect(collectSeries(family('rollout_doctor_analysis_metric_inconclusive_measurements'), result)).toEqual([{ labels, value: 1 }]);
    expect(collectSeries(family('rollout_doctor_analysis_metric_inconclusive_limit'), result)).toEqual([{ labels, value: 1 }]);
    expect(collectSeries(family('rollout_doctor_analysis_metric_consecutive_errors'), result)).toEqual([{ labels, value: 0 }]);
    expect(collectSeries(family('rollout_doctor_analysis_metric_consecutive_error_limit'), result)).toEqual([{ labels, value: 4 }]);
  });

  it('emits nothing for unknown results', () => {
    const unknown: CheckResult<Record<string, unknown>> = { target: 'a/b', status: 'unknown', summary: 'x', remediation: [], details: { reason: 'x' } };
    for (const f of metrics) expect(collectSeries(f, unknown)).toEqual([]);
  });
});
