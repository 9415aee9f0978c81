/**
 * The per-result series written straight into the text exposition format (src/metrics/exposition.ts):
 * escaping, one-hot state sets that always emit every state, series of vanished targets gone, and
 * check families fed only with the check's own results. Pure: no daemon, no cluster.
 */
import { describe, expect, it } from 'vitest';
import type { MetricFamily, Sample, Status, StoredResult } from '../../src/engine/types.js';
import { type Correlation, correlate, NO_INCIDENTS } from '../../src/incidents/correlate.js';
import { type FamilySource, formatValue, renderResultFamilies } from '../../src/metrics/exposition.js';

function stored(check: string, target: string, status: Status, details: Record<string, unknown> = {}, extra: Partial<StoredResult> = {}): StoredResult {
  return { check, target, status, summary: '', remediation: [], details, since: '2026-11-26T12:00:00.000Z', durationMs: 250, checkedAtMs: 1_795_700_000_000, origin: 'check', ...extra };
}

function render(results: StoredResult[], sources: FamilySource[] = [], correlation: Correlation = NO_INCIDENTS): string[] {
  let text = '';
  renderResultFamilies(results, correlation, sources, (piece) => (text += piece));
  return text.trimEnd().split('\n');
}

const series = (lines: string[]) => lines.filter((l) => !l.startsWith('#'));

const valueFamily: MetricFamily<{ value?: number; name?: string }> = {
  name: 'rollout_doctor_test_value',
  help: 'A test family.\nSecond line with a \\ backslash.',
  labelNames: ['target', 'name'],
  collect: (details, result) => (details.value === undefined ? [] : [{ labels: { name: details.name ?? '', target: result.target }, value: details.value }]),
};

describe('renderResultFamilies', () => {
  it('emits one status series per result, its current status, and none for the other statuses', () => {
    const lines = series(render([stored('rollout-status', 'a/x', 'warn'), stored('rollout-status', 'b/y', 'unknown')]));
    expect(lines.filter((l) => l.startsWith('rollout_doctor_check_status'))).toEqual([
      'rollout_doctor_check_status{check="rollout-status",target="a/x",status="warn"} 1',
      'rollout_doctor_check_status{check="rollout-status",target="b/y",status="unknown"} 1',
    ]);
    expect(lines).toContain('rollout_doctor_check_duration_seconds{check="rollout-status"} 0.25');
    expect(lines).toContain('rollout_doctor_check_last_run_timestamp_seconds{check="rollout-status"} 1795700000');
    expect(lines.filter((l) => l.startsWith('rollout_doctor_check_muted'))).toEqual([]);
  });

  it.each([
    ['a quote', 'ns/"x"', 'ns/\\"x\\"'],
    ['a backslash', 'C:\\dir', 'C:\\\\dir'],
    ['a newline', 'two\nlines', 'two\\nlines'],
    ['nothing to escape', 'litellm/litellm', 'litellm/litellm'],
  ])('escapes %s in a label value', (_name, target, written) => {
    expect(series(render([stored('endpoint', target, 'ok')]))[0]).toBe(`rollout_doctor_check_status{check="endpoint",target="${written}",status="ok"} 1`);
  });

  it('escapes HELP text and writes HELP and TYPE even for a family without samples', () => {
    const lines = render([], [{ checkId: 'test', family: valueFamily }]);
    expect(lines.slice(-2)).toEqual(['# HELP rollout_doctor_test_value A test family.\\nSecond line with a \\\\ backslash.', '# TYPE rollout_doctor_test_value gauge']);
  });

  it('has no series for a target that is no longer in the store', () => {
    const source = [{ checkId: 'test', family: valueFamily }];
    const first = render([stored('test', 'a/x', 'ok', { value: 1 }), stored('test', 'b/y', 'ok', { value: 2 })], source);
    const second = render([stored('test', 'a/x', 'ok', { value: 1 })], source);
    // Its status and the family's sample (duration and last run are per check; muted only when 1).
    expect(first.filter((l) => l.includes('b/y'))).toHaveLength(2);
    expect(second.filter((l) => l.includes('b/y'))).toEqual([]);
  });

  it('writes labels in the family order, feeds a family only its check\'s own results, last duplicate wins', () => {
    const results = [
      stored('test', 'a/x', 'ok', { value: 1, name: 'first' }),
      stored('test', 'b/y', 'unknown', { reason: 'could not run', value: 9 }, { origin: 'engine' }),
      stored('other', 'c/z', 'ok', { value: 5, name: 'other' }),
    ];
    const lines = render(results, [{ checkId: 'test', family: valueFamily }]);
    expect(lines.filter((l) => l.startsWith('rollout_doctor_test_value'))).toEqual(['rollout_doctor_test_value{target="a/x",name="first"} 1']);
    const twice: MetricFamily<object> = { name: 'rollout_doctor_test_twice', help: 'x', labelNames: ['k'], collect: (): Sample[] => [{ labels: { k: 'v' }, value: 1 }, { labels: { k: 'v', extra: 'ignored' }, value: 2 }] };
    expect(render([stored('test', 'a/x', 'ok')], [{ checkId: 'test', family: twice }]).at(-1)).toBe('rollout_doctor_test_twice{k="v"} 2');
  });

  it('writes one series per incident and one per result it explains, naming the root', () => {
    const results = [
      stored('controller-pods', 'argo-rollouts/argo-rollouts', 'fail', { pods: [], crashLooping: true }),
      stored('rollout-status', 'ns/"web"', 'warn', { phase: 'Progressing' }),
      stored('endpoint', 'app', 'fail'),
      stored('rollout-status', 'ns/ok', 'ok', { phase: 'Healthy' }),
    ];
    const { correlation } = correlate(results, undefined, { nowMs: 1_795_700_000_000, holdDownMs: 300_000 });
    const lines = series(render(results, [], correlation));
    const [controller, endpoint] = correlation.incidents;
    expect(lines.filter((l) => l.startsWith('rollout_doctor_incident{'))).toEqual([
      `rollout_doctor_incident{id="${controller!.id}",root_check="controller-pods",root_target="argo-rollouts/argo-rollouts",status="fail"} 1`,
      `rollout_doctor_incident{id="${endpoint!.id}",root_check="endpoint",root_target="app",status="fail"} 1`,
    ]);
    expect(lines.filter((l) => l.startsWith('rollout_doctor_check_explained_by{'))).toEqual([
      'rollout_doctor_check_explained_by{check="rollout-status",target="ns/\\"web\\"",root_check="controller-pods",root_target="argo-rollouts/argo-rollouts"} 1',
    ]);
  });

  it('marks muted results', () => {
    expect(series(render([stored('rollout-status', 'a/x', 'fail', {}, { muted: true, muteReason: 'ticket 7' })])).at(-1)).toBe('rollout_doctor_check_muted{check="rollout-status",target="a/x"} 1');
  });
});

describe('formatValue', () => {
  it.each([
    [1, '1'],
    [0.25, '0.25'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, '+Inf'],
    [Number.NEGATIVE_INFINITY, '-Inf'],
  ])('%s -> %s', (value, text) => {
    expect(formatValue(value)).toBe(text);
  });
});
