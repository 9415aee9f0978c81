/**
 * The one label-selector implementation (src/kube/label-selector.ts) against apimachinery v0.32.0
 * pkg/labels/selector_test.go's good and bad strings and the messages its parser returns.
 */
import { describe, expect, it } from 'vitest';
import { formatLabelSelector, LabelSelectorError, matchesLabelSelector, matchesRequirements, parseLabelSelector } from '../../src/kube/label-selector.js';

const QUALIFIED_NAME_RULE =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

describe('parseLabelSelector', () => {
  it.each(['x=a', 'x=a,y=b,z=c', '', 'x!=a', 'x!=a,y=b', 'x=', 'x= ', 'x=,z= ', 'x= ,z= ', '!x', 'x>1', 'x>1,z<5', 'x in (a,b)', 'x notin ()', 'example.com/team=sre'])('accepts %j (upstream TestSelectorParse)', (selector) => {
    expect(() => parseLabelSelector(selector)).not.toThrow();
  });

  it('sorts requirements by key and value sets as sets.String does', () => {
    expect(parseLabelSelector('z=1,a in (c,b,b),!m')).toEqual([
      { key: 'a', operator: 'in', values: ['b', 'c'] },
      { key: 'm', operator: '!', values: [] },
      { key: 'z', operator: '=', values: ['1'] },
    ]);
    expect(parseLabelSelector('x in ()')).toEqual([{ key: 'x', operator: 'in', values: [''] }]);
    expect(parseLabelSelector('x==a,y')).toEqual([
      { key: 'x', operator: '==', values: ['a'] },
      { key: 'y', operator: 'exists', values: [] },
    ]);
  });

  it.each([
    ['x=a||y=b', 'unable to parse requirement: values[0][x]: Invalid value: "a||y": a valid label must be an empty string'],
    ['x==a==b', "found '==', expected: ',' or 'end of string'"],
    ['!x=a', "found '=', expected: ',' or 'end of string'"],
    ['x<a', "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer"],
    ['app in (web', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['app in web', "unable to parse requirement: found 'web' expected: '('"],
    ['app=web,', "found '', expected: identifier after ','"],
    ['=x', "found '=', expected: !, identifier, or 'end of string'"],
    ['x y', "unable to parse requirement: found 'y', expected: in, notin, =, ==, !=, gt, lt"],
    ['-app=x', `unable to parse requirement: <nil>: Invalid value: "-app": name part ${QUALIFIED_NAME_RULE}`],
    ['app=-x', 'unable to parse requirement: values[0][app]: Invalid value: "-x": a valid label must be an empty string or consist of'],
    ['Example.com/x=1', 'unable to parse requirement: <nil>: Invalid value: "Example.com/x": prefix part a lowercase RFC 1123 subdomain'],
  ])('rejects %j with the API server message', (selector, message) => {
    expect(() => parseLabelSelector(selector)).toThrow(LabelSelectorError);
    expect(() => parseLabelSelector(selector)).toThrow(message);
  });
});

describe('matching', () => {
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
    ['missing=', false],
  ])('%j matches: %s', (selector, expected) => {
    expect(matchesRequirements(parseLabelSelector(selector), labels)).toBe(expected);
  });

  it('reads a LabelSelector; the caller says what an empty one selects', () => {
    expect(matchesLabelSelector(labels, { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] }, { empty: 'nothing' })).toBe(true);
    expect(matchesLabelSelector(labels, { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, { empty: 'nothing' })).toBe(false);
    expect(matchesLabelSelector(labels, { matchExpressions: [{ key: 'tier', operator: 'Bogus' }] }, { empty: 'everything' })).toBe(false);
    expect(matchesLabelSelector(labels, {}, { empty: 'everything' })).toBe(true);
    expect(matchesLabelSelector(labels, { matchLabels: {} }, { empty: 'nothing' })).toBe(false);
    expect(matchesLabelSelector(labels, undefined, { empty: 'everything' })).toBe(false);
  });

  it('formats a LabelSelector for kubectl -l', () => {
    expect(formatLabelSelector({ matchLabels: { b: '1', a: '2' }, matchExpressions: [{ key: 'c', operator: 'NotIn', values: ['x', 'y'] }, { key: 'd', operator: 'DoesNotExist' }] })).toBe('b=1,a=2,c notin (x,y),!d');
  });
});
