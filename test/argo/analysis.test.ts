/**
 * AnalysisRun rules of src/argo/analysis.ts against analysis/analysis.go and utils/analysis
 * (factory.go ValidateMetric, helpers.go GetDryRunMetrics) at v1.7.2 and v1.8.4 (v1.9.1 and
 * v1.10.0-rc1 as v1.8.4).
 */
import { describe, expect, it } from 'vitest';
import { type LimitSpec, metricLimits, predictMetric, selectMetrics, validateMetricLimits } from '../../src/argo/analysis.js';

const V17 = 'v1.7.2';
const V18 = 'v1.8.4';

describe('predictMetric: every measurement like this one, as analysis.go assesses after each', () => {
  const predict = (phase: 'Successful' | 'Failed' | 'Inconclusive' | 'Error', spec: LimitSpec, version = V18) => predictMetric(phase, metricLimits(spec, version), version);

  it('one Failed with failureLimit 1 and EffectiveCount 1: failed (1) > failureLimit (1) is false, the count is reached: Successful', () => {
    expect(predict('Failed', { failureLimit: 1 })).toEqual({ phase: 'Successful', measurements: 1, reason: 'Count (1) Reached' });
  });

  it('Failed with failureLimit 1 and no count: Failed at the second', () => {
    expect(predict('Failed', { failureLimit: 1, interval: '5m' })).toEqual({ phase: 'Failed', measurements: 2, reason: 'failed (2) > failureLimit (1)' });
  });

  it('failureLimit -1 (v1.8.0+): failures never fail; at the count, consecutiveSuccessLimit not reached: Failed', () => {
    expect(predict('Failed', { failureLimit: -1, consecutiveSuccessLimit: 2, count: 3, interval: '1m' })).toEqual({
      phase: 'Failed',
      measurements: 3,
      reason: 'ConsecutiveSuccessLimit (2) Not Reached',
    });
    expect(predict('Failed', { failureLimit: -1, consecutiveSuccessLimit: 2, interval: '1m' }).phase).toBe('Running');
  });

  it('consecutiveSuccessLimit reached: Successful before the count; with a failure limit and too few successes: Inconclusive', () => {
    expect(predict('Successful', { consecutiveSuccessLimit: 2, count: 5, interval: '1m' })).toEqual({ phase: 'Successful', measurements: 2, reason: 'ConsecutiveSuccessLimit (2) Reached' });
    expect(predict('Inconclusive', { consecutiveSuccessLimit: 2, inconclusiveLimit: 5, count: 3, interval: '1m' })).toEqual({
      phase: 'Inconclusive',
      measurements: 3,
      reason: 'ConsecutiveSuccessLimit (2) Not Reached and FailureLimit (0) Not Violated',
    });
  });

  it('consecutiveSuccessLimit does not exist before v1.8.0', () => {
    expect(predict('Inconclusive', { consecutiveSuccessLimit: 2, inconclusiveLimit: 5, count: 3, interval: '1m' }, V17)).toEqual({ phase: 'Successful', measurements: 3, reason: 'Count (3) Reached' });
  });

  it('Error measurements do not count toward the count: Error after consecutiveErrorLimit + 1', () => {
    expect(predict('Error', { count: 1 })).toEqual({ phase: 'Error', measurements: 5, reason: 'consecutiveErrors (5) > consecutiveErrorLimit (4)' });
    expect(predict('Error', { consecutiveErrorLimit: 0 })).toEqual({ phase: 'Error', measurements: 1, reason: 'consecutiveErrors (1) > consecutiveErrorLimit (0)' });
  });

  it('Inconclusive totals: within the count the metric completes Successful', () => {
    expect(predict('Inconclusive', { inconclusiveLimit: 2, count: 2, interval: '1m' })).toEqual({ phase: 'Successful', measurements: 2, reason: 'Count (2) Reached' });
    expect(predict('Inconclusive', { inconclusiveLimit: 2, count: 3, interval: '1m' })).toEqual({ phase: 'Inconclusive', measurements: 3, reason: 'inconclusive (3) > inconclusiveLimit (2)' });
  });

  it('Successful without a count never ends by itself', () => {
    expect(predict('Successful', { interval: '5m' }).phase).toBe('Running');
  });
});

describe('validateMetricLimits (ValidateMetric by version)', () => {
  it.each<[LimitSpec, string, string | undefined]>([
    [{ failureLimit: -1, consecutiveSuccessLimit: 2, count: 3, interval: '1m' }, V18, undefined],
    [{ failureLimit: -1, consecutiveSuccessLimit: 2, count: 3, interval: '1m' }, V17, 'failureLimit must be >= 0'],
    [{ failureLimit: -1 }, V18, 'failureLimit and consecutiveSuccessLimit cannot both be disabled'],
    [{ failureLimit: -2 }, V18, 'failureLimit must be >= 0, or -1 to be disabled'],
    [{ failureLimit: 2, consecutiveSuccessLimit: 2, count: 3, interval: '1m' }, V18, 'count (3) must be >= failureLimit + consecutiveSuccessLimit (2 + 2) if both >= 0'],
    [{ failureLimit: -1, consecutiveSuccessLimit: 3, count: 2, interval: '1m' }, V18, 'count must be >= consecutiveSuccessLimit'],
    [{ failureLimit: 4, count: 3, interval: '1m' }, V17, 'count must be >= failureLimit'],
    [{ count: 3 }, V18, 'interval must be specified when count > 1'],
    [{ consecutiveSuccessLimit: -1 }, V18, 'consecutiveSuccessLimit must be >= 0'],
    [{ consecutiveErrorLimit: -1 }, V17, 'consecutiveErrorLimit must be >= 0'],
    [{ count: '3', interval: '1m', failureLimit: '1' }, V18, undefined],
  ])('%j on %s -> %s', (spec, version, message) => {
    expect(validateMetricLimits(spec, version)).toBe(message);
  });
});

describe('selectMetrics (GetDryRunMetrics: Go regular expressions, unanchored, errors discarded)', () => {
  const names = ['error-rate', 'http-errors', 'latency'];

  it('matches anywhere in the name', () => {
    expect(selectMetrics([{ metricName: 'error' }], names)).toEqual({ names: new Set(['error-rate', 'http-errors']) });
    expect(selectMetrics([{ metricName: '^error' }], names)).toEqual({ names: new Set(['error-rate']) });
    expect(selectMetrics([{ metricName: '.*' }], names).names.size).toBe(3);
  });

  it('an invalid pattern matches nothing, and a rule matching nothing is the run\'s error', () => {
    expect(selectMetrics([{ metricName: '*' }], names).error).toBe("dryRun[0]: Rule didn't match any metric name(s)");
    expect(selectMetrics([{ metricName: 'latency' }, { metricName: 'cpu' }], names, 'measurementRetention').error).toBe("measurementRetention[1]: Rule didn't match any metric name(s)");
  });

  it('RE2 syntax, not JavaScript\'s: no lookbehind', () => {
    expect(selectMetrics([{ metricName: '(?<=http-)errors' }], names).error).toBe("dryRun[0]: Rule didn't match any metric name(s)");
  });
});
