import { describe, expect, it } from 'vitest';
import { compileFieldSelector, matchesLabels, parseFieldSelector, parseLabelSelector, SelectorError } from '../../src/simulator/selectors.js';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front', replicas: '3', 'example.com/team': 'sre' };

  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['app in (web,api)', true],
    ['app in (api)', false],
    ['app notin (api)', true],
    ['missing notin (api)', true],
    ['missing in (api)', false],
    ['tier', true],
    ['!tier', false],
    ['!missing', true],
    ['replicas>2', true],
    ['replicas<3', false],
    ['app>2', false],
    ['example.com/team=sre', true],
    [' app = web , tier in ( front ) ', true],
    ['app=', false],
  ])('%j matches: %s', (selector, expected) => {
    expect(matchesLabels(parseLabelSelector(selector), labels)).toBe(expected);
  });

  it.each([
    ['app in (web', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['app=web=x', "unable to parse requirement: found '=', expected: ',' or 'end of string'"],
    ['app in ()', "values: Invalid value: for 'in', 'notin' operators, values set can't be empty"],
    ['app=web,', "unable to parse requirement: found '', expected: '!', identifier"],
    ['-app=x', 'key: Invalid value: "-app"'],
    ['app=a b', "unable to parse requirement: found 'b', expected: ',' or 'end of string'"],
    ['replicas>x', "for 'Gt', 'Lt' operators, the value must be an integer"],
  ])('%j is rejected', (selector, message) => {
    expect(() => parseLabelSelector(selector)).toThrow(SelectorError);
    expect(() => parseLabelSelector(selector)).toThrow(message);
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
