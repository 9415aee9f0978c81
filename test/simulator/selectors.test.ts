import { describe, expect, it } from 'vitest';
import { compileFieldSelector, matchesLabels, parseFieldSelector, parseLabelSelector, SelectorError } from '../../src/simulator/selectors.js';

describe('label selectors (src/kube/label-selector.ts, see test/kube/label-selector.test.ts)', () => {
  it('answers a selector the API server rejects with its message, as a SelectorError (400)', () => {
    expect(() => parseLabelSelector('app in (web')).toThrow(SelectorError);
    expect(() => parseLabelSelector('app in (web')).toThrow("unable to parse requirement: found '', expected: ',' or ')'");
    expect(matchesLabels(parseLabelSelector('app=web,tier'), { app: 'web', tier: 'front' })).toBe(true);
  });
});

describe('field selectors', () => {
  const pod = { metadata: { name: 'a,b', namespace: 'ns' }, status: { phase: 'Running' }, spec: { hostNetwork: false } };

  it('parses =, == and != with escaped separators', () => {
    expect(parseFieldSelector('metadata.name=a\\,b,status.phase!=Failed,metadata.namespace==ns')).toEqual([
      { field: 'metadata.name', operator: '=', value: 'a,b' },
      { field: 'status.phase', operator: '!=', value: 'Failed' },
      { field: 'metadata.namespace', operator: '=', value: 'ns' },
    ]);
    const matches = compileFieldSelector('', 'pods', parseFieldSelector('metadata.name=a\\,b,spec.hostNetwork=false'));
    expect(matches?.(pod)).toBe(true);
  });

  it('knows the field labels of each resource', () => {
    expect(() => compileFieldSelector('apps', 'deployments', parseFieldSelector('status.phase=Running'))).toThrow('field label not supported: status.phase');
    expect(compileFieldSelector('apps', 'deployments', parseFieldSelector('metadata.name=x'))).toBeTypeOf('function');
    expect(compileFieldSelector('', 'pods', [])).toBeUndefined();
    const event = { metadata: { name: 'e' }, regarding: { kind: 'Rollout', name: 'r' }, reason: 'RolloutAborted', type: 'Warning' };
    expect(compileFieldSelector('events.k8s.io', 'events', parseFieldSelector('regarding.kind=Rollout,reason=RolloutAborted'))?.(event)).toBe(true);
  });

  it('rejects terms without an operator', () => {
    expect(() => parseFieldSelector('metadata.name')).toThrow("invalid selector: 'metadata.name'; can't understand 'metadata.name'");
    expect(() => parseFieldSelector('=x')).toThrow(SelectorError);
  });
});
