/**
 * Analysis args as the controller resolves them for a Rollout's run (utils/analysis/helpers.go
 * BuildArgumentsForRolloutAnalysisRun, utils/template ResolveArgs).
 */
import { describe, expect, it } from 'vitest';
import { resolveArgs, substituteArgs } from '../../src/argo/analysis-args.js';
import type { Rollout } from '../../src/kube/types.js';

const rollout: Rollout = {
  metadata: { name: 'web', namespace: 'shop', labels: { team: 'payments' }, annotations: { 'example.com/owner': 'ops' } },
  spec: { replicas: 3 },
  status: { currentPodHash: '7f9c8d6e5b', stableRS: '5d8f7c6b9a' },
};

describe('resolveArgs', () => {
  it('takes the Rollout value over the template default, and the template default otherwise', () => {
    const args = resolveArgs([{ name: 'a', value: 'template' }, { name: 'b', value: 'default' }], [{ name: 'a', value: 'rollout' }], rollout);
    expect(Object.fromEntries([...args.values].map(([k, v]) => [k, v.value]))).toEqual({ a: 'rollout', b: 'default' });
  });

  it('resolves podTemplateHashValue to the current revision and says so', () => {
    const args = resolveArgs([{ name: 'canary' }, { name: 'stable' }], [
      { name: 'canary', valueFrom: { podTemplateHashValue: 'Latest' } },
      { name: 'stable', valueFrom: { podTemplateHashValue: 'Stable' } },
    ], rollout);
    expect(args.values.get('canary')).toEqual({ value: '7f9c8d6e5b', from: "podTemplateHashValue Latest = status.currentPodHash (the current revision's hash)" });
    expect(args.values.get('stable')?.value).toBe('5d8f7c6b9a');
  });

  it('resolves fieldRef paths through the Rollout (metadata and others)', () => {
    const args = resolveArgs([], [
      { name: 'ns', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'team', valueFrom: { fieldRef: { fieldPath: "metadata.labels['team']" } } },
      { name: 'owner', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['example.com/owner']" } } },
      { name: 'replicas', valueFrom: { fieldRef: { fieldPath: 'spec.replicas' } } },
      { name: 'nothing', valueFrom: { fieldRef: { fieldPath: 'spec.missing' } } },
    ], rollout);
    expect(Object.fromEntries([...args.values].map(([k, v]) => [k, v.value]))).toEqual({ ns: 'shop', team: 'payments', owner: 'ops', replicas: '3' });
    expect([...args.missing]).toEqual(['nothing']);
  });

  it('marks Secret args as run-time only and unsupplied args as missing', () => {
    const args = resolveArgs([{ name: 'token', valueFrom: { secretKeyRef: { name: 'metrics', key: 'token' } } }, { name: 'series' }], [], rollout);
    expect(args.runtimeOnly.get('token')).toBe('comes from Secret metrics key token, which rollout-doctor does not read');
    expect([...args.missing]).toEqual(['series']);
  });
});

describe('substituteArgs', () => {
  it('replaces trimmed {{args.name}} tags in every string and reports what it could not resolve', () => {
    const values = new Map([['series', { value: 'http_requests_total' }]]);
    const out = substituteArgs({ query: 'rate({{ args.series }}[5m])', headers: [{ key: 'X', value: '{{args.token}}' }], count: 3 }, values);
    expect(out.value).toEqual({ query: 'rate(http_requests_total[5m])', headers: [{ key: 'X', value: '' }], count: 3 });
    expect(out.unresolved).toEqual(['args.token']);
    expect(out.used).toEqual(['series']);
  });
});
