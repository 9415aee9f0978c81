/**
 * Argo Rollouts' condition evaluation (utils/evaluate/evaluate.go) on src/expr. Where a case mirrors
 * an upstream test, its name says which (evaluate_test.go, metricproviders/prometheus/prometheus_test.go).
 * Expectations are the default controller's (v1.9.1: github.com/antonmedv/expr v1.15.5); where
 * v1.10.0-rc1 (github.com/expr-lang/expr v1.17.7) answers otherwise, a case says both. The language
 * itself is checked against the real library row by row in golden.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  ConditionError,
  evalCondition,
  evaluateResult,
  jsonResult,
  MAX_CONDITION_LENGTH,
  type MetricResult,
  parseGoFloat,
  readsResultFields,
  scalarResult,
  stringResult,
  UnsupportedCondition,
  vectorResult,
} from '../../src/expr/argo.js';

const vec = (...values: number[]) => vectorResult(values);
const EMPTY = vec();
const NAN = vec(Number.NaN);

type Expected = boolean | { error: string } | { unsupported: string };
type Case = [name: string, condition: string, result: MetricResult, expected: Expected | { v1_9: Expected; v1_10: Expected }];

function run(condition: string, result: MetricResult, version?: string): boolean | { error: string } | { unsupported: string } {
  try {
    return evalCondition(condition, result, version);
  } catch (error) {
    if (error instanceof ConditionError) return { error: error.message };
    if (error instanceof UnsupportedCondition) return { unsupported: error.message };
    throw error;
  }
}

function check([, condition, result, expectation]: Case): void {
  const byVersion = typeof expectation === 'object' && 'v1_9' in expectation ? expectation : { v1_9: expectation, v1_10: expectation };
  for (const [version, expected] of [[undefined, byVersion.v1_9], ['v1.10.0-rc1', byVersion.v1_10]] as const) {
    expectOutcome(run(condition, result, version), expected);
  }
}

function expectOutcome(got: ReturnType<typeof run>, expected: Expected): void {
  if (typeof expected === 'boolean') {
    expect(got).toBe(expected);
  } else if ('error' in expected) {
    expect(got, `expected an error containing "${expected.error}"`).toMatchObject({ error: expect.stringContaining(expected.error) });
  } else {
    expect(got, `expected unsupported "${expected.unsupported}"`).toMatchObject({ unsupported: expect.stringContaining(expected.unsupported) });
  }
}

describe('evalCondition: vectors and scalars (Prometheus results)', () => {
  const cases: Case[] = [
    ['result[0] below threshold', 'result[0] < 0.05', vec(0.0123), true],
    ['result[0] above threshold', 'result[0] < 0.05', vec(0.2), false],
    ['int literal against float', 'result[0] >= 1', vec(1), true],
    ['negative index reads from the end', 'result[-1] == 3', vec(1, 2, 3), true],
    ['second element', 'result[1] > result[0]', vec(1, 2), true],
    ['scalar result', 'result > 1', scalarResult(5), true],
    ['scalar arithmetic', 'result * 2 - 1 == 9', scalarResult(5), true],
    ['NaN is not below', 'result[0] < 0.05', NAN, false],
    ['NaN is not at or above', 'result[0] >= 0.05', NAN, false],
    ['NaN is not equal to itself', 'result[0] == result[0]', NAN, false],
    ['NaN differs from itself', 'result[0] != result[0]', NAN, true],
    ['isNaN on a NaN sample', 'isNaN(result[0])', NAN, true],
    ['isNaN on a number', 'isNaN(result[0])', vec(1), false],
    ['isInf on +Inf', 'isInf(result[0])', vec(Number.POSITIVE_INFINITY), true],
    ['isInf on -Inf', 'isInf(result[0])', vec(Number.NEGATIVE_INFINITY), true],
    ['index out of range on an empty vector (the homelab abort)', 'result[0] < 0.05', EMPTY, { v1_9: { error: 'reflect: slice index out of range' }, v1_10: { error: 'index out of range: 0 (array length is 0)' } }],
    ['index out of range past the end', 'result[2] < 1', vec(1), { v1_9: { error: 'reflect: slice index out of range' }, v1_10: { error: 'index out of range: 2 (array length is 1)' } }],
    ['len guard short-circuits', 'len(result) == 0 || result[0] < 0.05', EMPTY, true],
    ['len guard with a value', 'len(result) > 0 && result[0] < 0.05', vec(0.5), false],
    ['ternary guard (graphite docs pattern)', 'len(result) > 0 ? result[0] < 1 : true', EMPTY, true],
    // default() and isNil() look at the whole result, not at their argument (evaluate.go defaultFunc/isNilFunc).
    ['default(result[0], 0) evaluates result[0] first and errors on an empty vector', 'default(result[0], 0) < 0.05', EMPTY, { error: 'index out of range' }],
    ['default(result[0], 0) returns the whole vector when it is not nil', 'default(result[0], 0) < 0.05', vec(0.01), { error: 'invalid operation: []float64 < float64' }],
    ['isNil of a non-nil empty vector is false', 'isNil(result)', EMPTY, false],
    ['isNil ignores its argument', 'isNil(1)', EMPTY, false],
    ['a vector compared to a number does not compile', 'result < 0.05', vec(0.01), { error: 'invalid operation: < (mismatched types []float64 and float64)' }],
    ['isNaN on a whole vector does not compile', 'isNaN(result)', vec(1), { error: 'cannot use []float64 as argument' }],
    ['a float compared to a string does not compile', 'result[0] == "x"', vec(1), { error: 'mismatched types float64 and string' }],
    ['modulo of a float does not compile', 'result[0] % 2 == 0', vec(4), { error: 'mismatched types float64 and int' }],
    ['member access on a vector does not compile', 'result.value > 1', vec(1), { error: 'array elements can only be selected using an integer (got string)' }],
    ['unknown name (evaluate_test TestErrorWithInvalidReference)', 'invalidVariable', vec(1), { error: 'unknown name invalidVariable' }],
    ['unknown names are errors even on a branch never taken', 'true || foo > 1', vec(1), { error: 'unknown name foo' }],
    ['non-bool output (evaluate_test TestErrorWithNonBoolReturn)', '1', vec(1), { error: 'expected bool, but got int' }],
    ['division is float division: 1/0 is +Inf', 'isInf(1 / 0)', vec(), true],
    ['0/0 is NaN', 'isNaN(0.0 / 0)', vec(), true],
    ['in operator (evaluate_test TestEvaluateInOperator)', '2 in result', vec(2, 2), true],
    ['not in', '3 not in result', vec(2, 2), true],
    ['all() with a predicate', 'all(result, {# < 0.05})', vec(0.01, 0.02), true],
    ['a predicate without braces', 'all(result, # < 0.05)', vec(0.01, 0.02), true],
    ['any() with a predicate', 'any(result, {# > 0.05})', vec(0.01, 0.02), false],
    ['count() with a predicate', 'count(result, {# > 1}) == 1', vec(1, 2), true],
    ['filter() then len', 'len(filter(result, {# > 1})) == 2', vec(1, 2, 3), true],
    ['max over a vector: numbers only in v1.15, arrays too in v1.17', 'max(result) < 3', vec(1, 2), { v1_9: { error: 'invalid argument for max (type []float64)' }, v1_10: true }],
    ['sum over a vector', 'sum(result) == 3', vec(1, 2), true],
    ['slice of a vector', 'len(result[1:]) == 2', vec(1, 2, 3), true],
    ['asFloat of a float', 'asFloat(result[0]) == 1.5', vec(1.5), true],
    ['asInt truncates', 'asInt(result[0]) == 1', vec(1.9), true],
  ];
  it.each(cases)('%s: %s', (...c) => check(c));
});

describe('evalCondition: operators, precedence and literals', () => {
  const r = scalarResult(2);
  const cases: Case[] = [
    ['and/or/not keywords', 'result > 1 and not (result > 3) or false', r, true],
    ['&& binds tighter than ||', 'true || false && false', r, true],
    ['! binds tighter than ==', '!false == true', r, true],
    ['not binds looser than *', 'not (result * 2 == 4) == false', r, true],
    ['unary minus binds looser than **', '-2 ** 2 == -4', r, true],
    ['** is right associative', '2 ** 3 ** 2 == 512', r, true],
    ['^ is exponent', '2 ^ 10 == 1024', r, true],
    ['arithmetic precedence', '1 + 2 * 3 == 7', r, true],
    ['parentheses', '(1 + 2) * 3 == 9', r, true],
    ['integer modulo', '7 % 3 == 1', r, true],
    ['modulo by zero', '1 % 0 == 0', r, { error: 'integer divide by zero' }],
    ['1 == 1.0', '1 == 1.0', r, true],
    ['hex and underscores', '0x10 + 1_000 == 1016', r, true],
    ['octal and binary literals are v1.17', '0o10 + 0b10 == 10', r, { v1_9: { error: 'invalid integer literal' }, v1_10: true }],
    ['exponent literal', '1e-3 < 0.002', r, true],
    ['string concatenation', '"a" + "b" == "ab"', r, true],
    ['single-quoted string with escapes', "'it\\'s' == \"it's\"", r, true],
    ['raw strings are v1.17', '`a\\b` == "a\\\\b"', r, { v1_9: { error: 'unrecognized character: U+0060' }, v1_10: true }],
    ['string comparison', '"abc" < "abd"', r, true],
    ['contains / startsWith / endsWith', '"healthy" contains "alth" && "ok" startsWith "o" && "ok" endsWith "k"', r, true],
    ['nil equals nil', 'nil == nil', r, true],
    ['ternary', 'result > 1 ? true : false', r, true],
    ['range', 'len(1..5) == 5', r, true],
    ['?? keeps a non-nil left side', '(result ?? 0) == 2', r, true],
    ['a number used as a condition', 'result ? true : false', r, { error: 'non-bool expression' }],
    ['&& on a number does not compile', 'result && true', r, { error: 'invalid operation: &&' }],
    ['syntax error', 'result >', r, { error: 'unexpected token EOF' }],
    ['unterminated string', '"abc', r, { error: 'literal not terminated' }],
    ['unknown function', 'foo(result)', r, { error: 'unknown name foo' }],
    ['wrong arity', 'isNaN(result, 1)', r, { error: 'too many arguments to call isNaN' }],
    ['a stray character', 'result @ 1', r, { error: "unrecognized character: U+0040 '@'" }],
    ['matches, RE2 syntax', '"a" matches "a+" && "AB" matches "(?i)^ab$"', r, true],
    ['matches: a pattern that backtracks in JavaScript runs in linear time', '"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab" matches "^(a+)+$"', r, false],
    ['matches: a bad pattern is a compile error', '"a" matches "("', r, { error: 'error parsing regexp: missing closing ): `(`' }],
    ['median of one number: an array in v1.15, numbers too in v1.17', 'median(result) > 1', r, { v1_9: { error: 'cannot median float64' }, v1_10: true }],
    ['time values are not evaluated', 'now() > now()', r, { unsupported: 'now()' }],
    ['let bindings', 'let x = result * 2; x == 4', r, true],
    ['comments', 'result == 2 // two\n && /* still */ true', r, true],
    ['if/else is v1.17', 'if result > 1 { true } else { false }', r, { v1_9: { error: 'unexpected token' }, v1_10: true }],
    ['the pipe operator', 'result | abs() > 1', r, true],
  ];
  it.each(cases)('%s: %s', (...c) => check(c));

  it('refuses conditions longer than the limit', () => {
    expect(run(`${'true && '.repeat(MAX_CONDITION_LENGTH / 8)}true`, r)).toMatchObject({ unsupported: expect.stringContaining('longer than') });
  });

  it('refuses deeply nested conditions', () => {
    expect(run(`${'('.repeat(200)}true${')'.repeat(200)}`, r)).toMatchObject({ unsupported: expect.stringContaining('deeper than') });
  });

  it('bounds the work a condition can ask for', () => {
    expect(run('count(0..9999, {count(0..9999, {# > 0}) > 0}) > 0', r)).toMatchObject({ unsupported: expect.stringContaining('evaluation steps') });
  });

  it('never runs code from the condition', () => {
    (globalThis as Record<string, unknown>).__pwned = false;
    expect(run('constructor.constructor("globalThis.__pwned = true")()', r)).toMatchObject({ error: expect.any(String) });
    expect(run('result.constructor == nil', jsonResult({}))).toBe(true);
    expect(run('result["__proto__"] == nil', jsonResult({}))).toBe(true);
    expect((globalThis as Record<string, unknown>).__pwned).toBe(false);
  });
});

describe('evalCondition: JSON results (web provider)', () => {
  const cases: Case[] = [
    ['string result (the sympozium healthz template)', 'result == "ok"', stringResult('ok'), true],
    ['string result that differs', 'result == "ok"', stringResult('degraded'), false],
    ['a string result compared to a number does not compile', 'result == 1', stringResult('1'), { error: 'mismatched types string and int' }],
    ['field of an object', 'result.status == "connected"', jsonResult({ status: 'connected' }), true],
    ['nested field and number', 'result.data.errorRate < 0.05', jsonResult({ data: { errorRate: 0.01 } }), true],
    ['a missing key reads nil', 'result.missing == nil', jsonResult({ a: 1 }), true],
    ['a field of a missing key is an error', 'result.missing.deeper == 1', jsonResult({ a: 1 }), { error: 'cannot fetch deeper from <nil>' }],
    ['optional chaining', 'result.missing?.deeper == nil', jsonResult({ a: 1 }), true],
    ['nested values are interface{}: comparing to a string is false, not an error', 'result.count == "3"', jsonResult({ count: 3 }), false],
    ['ordering a nested string against a number is a runtime error', 'result.status < 1', jsonResult({ status: 'x' }), { error: 'invalid operation: string < int' }],
    ['array of objects', 'result.items[0].ok == true', jsonResult({ items: [{ ok: true }] }), true],
    ['bracket key', 'result["a-b"] == 1', jsonResult({ 'a-b': 1 }), true],
    ['all() over nested values (evaluate_test TestEvaluateArray)', 'all(result.service_apdex.values.values, {# > 1})', jsonResult({ service_apdex: { label: null, values: { values: [2, 2] } } }), true],
    ['closure field shorthand', 'all(result.items, {.ok})', jsonResult({ items: [{ ok: true }, { ok: true }] }), true],
    ['asInt of a string (evaluate_test TestEvaluateAsInt)', 'asInt(result) == 1', stringResult('1'), true],
    ['asInt of a float string panics (evaluate_test TestEvaluateAsIntPanic)', 'asInt(result) == 1', stringResult('1.1'), { error: 'strconv.ParseInt' }],
    ['asFloat of a string (evaluate_test TestEvaluateAsFloat)', 'asFloat(result) >= 1.1', stringResult('1.1'), true],
    ['asFloat of text (evaluate_test TestEvaluateAsFloatError)', 'asFloat(result) == 1.1', stringResult('NotANum'), { error: 'strconv.ParseFloat: parsing "NotANum": invalid syntax' }],
    ['asFloat compared to a string (evaluate_test TestEvaluateAsFloatError)', 'asFloat(result) == "1.1"', stringResult('1.1'), { error: 'mismatched types float64 and string' }],
    ['asFloat parses NaN', 'isNaN(asFloat(result))', stringResult('NaN'), true],
    ['a field of a string result does not compile', 'result.status == "ok"', stringResult('ok'), { v1_9: { error: 'type string[string] is undefined' }, v1_10: { error: 'type string has no field status' } }],
    ['isNil of a JSON null', 'isNil(result)', jsonResult(null), true],
    ['default of a JSON null', 'default(result, 0) == 0', jsonResult(null), true],
    ['len of an object', 'len(result) == 2', jsonResult({ a: 1, b: 2 }), true],
    ['len of a number', 'len(result) == 1', jsonResult(1), { error: 'invalid argument for len (type float64)' }],
    ['a bool result (evaluate_test TestEvaluateConditionWithSuccess)', 'result == true', jsonResult(true), true],
    ['a bool result (evaluate_test TestEvaluateConditionWithFailure)', 'result == false', jsonResult(true), false],
    ['a method call on a result (evaluate_test TestEvaluateInvalidStruct)', "result.Name() == 'hi'", jsonResult(true), { v1_9: { error: 'type bool[string] is undefined' }, v1_10: { error: 'type bool has no method Name' } }],
  ];
  it.each(cases)('%s: %s', (...c) => check(c));
});

describe('evaluateResult: the measurement phase (evaluate.go EvaluateResult)', () => {
  it.each([
    ['success true, failure false -> Successful (TestEvaluateResultWithSuccess)', 'true', 'false', 'Successful'],
    ['both true -> Failed (TestEvaluateResultWithFailure)', 'true', 'true', 'Failed'],
    ['both false -> Inconclusive (TestEvaluateResultInconclusive)', 'false', 'false', 'Inconclusive'],
    ['no success condition, failure false -> Successful (TestEvaluateResultNoSuccessConditionAndNotFailing)', '', 'false', 'Successful'],
    ['success false, no failure condition -> Failed (TestEvaluateResultNoFailureConditionAndNotSuccessful)', 'false', '', 'Failed'],
    ['no conditions -> Successful (TestEvaluateResultNoFailureConditionAndNoSuccessCondition)', '', '', 'Successful'],
    ['error in success condition -> Error (TestEvaluateResultWithErrorOnSuccessCondition)', 'a == true', 'true', 'Error'],
    ['error in failure condition -> Error (TestEvaluateResultWithErrorOnFailureCondition)', 'true', 'a == true', 'Error'],
  ] as const)('%s', (_name, successCondition, failureCondition, phase) => {
    expect(evaluateResult(jsonResult(true), { successCondition, failureCondition }).phase).toBe(phase);
  });

  it('NaN with both conditions is Inconclusive (the runbook: zero requests in the window)', () => {
    expect(evaluateResult(NAN, { successCondition: 'result[0] < 0.05', failureCondition: 'result[0] >= 0.05' })).toEqual({
      phase: 'Inconclusive',
      success: false,
      failure: false,
    });
  });

  it('NaN with only a success condition is Failed', () => {
    expect(evaluateResult(NAN, { successCondition: 'result[0] < 0.05' }).phase).toBe('Failed');
  });

  it('an empty vector indexed by the condition is an Error, naming the condition', () => {
    expect(evaluateResult(EMPTY, { successCondition: 'result[0] < 0.05', failureCondition: 'result[0] >= 0.05' })).toEqual({
      phase: 'Error',
      error: 'successCondition "result[0] < 0.05": reflect: slice index out of range',
      controllerError: 'reflect: slice index out of range',
    });
  });

  it('v1.10 words the empty-result error itself (evaluate.go formatEvalError, isNilOrEmpty)', () => {
    expect(evaluateResult(EMPTY, { successCondition: 'result[0] < 0.05' }, 'v1.10.0-rc1')).toEqual({
      phase: 'Error',
      error: 'successCondition "result[0] < 0.05": index out of range: 0 (array length is 0)',
      controllerError: 'could not evaluate successCondition "result[0] < 0.05": metric result is nil or empty: no data returned from the metric provider',
    });
    expect(evaluateResult(vec(1), { successCondition: 'result[2] < 1' }, 'v1.10.0-rc1').controllerError).toBe(
      'could not evaluate successCondition "result[2] < 1": index out of range: 2 (array length is 1)',
    );
  });

  it('an error in the failure condition is reported even when the success condition held', () => {
    expect(evaluateResult(vec(0.01), { successCondition: 'result[0] < 0.05', failureCondition: 'result[1] >= 0.05' })).toMatchObject({ phase: 'Error', error: expect.stringContaining('failureCondition') });
  });

  it('a value between the conditions (prometheus_test: success and failure both false) is Inconclusive', () => {
    expect(evaluateResult(vec(0.07), { successCondition: 'result[0] < 0.05', failureCondition: 'result[0] > 0.1' }).phase).toBe('Inconclusive');
  });

  it('an unsupported construct has no phase', () => {
    expect(evaluateResult(vec(1), { successCondition: 'now() > now()' })).toEqual({ unsupported: expect.stringContaining('successCondition') });
  });
});

describe('helpers', () => {
  it('readsResultFields finds member, index and slice access on result', () => {
    expect(readsResultFields('result.status == "ok"')).toBe(true);
    expect(readsResultFields('result[0] < 1')).toBe(true);
    expect(readsResultFields('len(result[1:]) > 0')).toBe(true);
    expect(readsResultFields('default(result?.x, 1) == 1')).toBe(true);
    expect(readsResultFields('result == "ok"')).toBe(false);
    expect(readsResultFields('isNil(result)')).toBe(false);
    expect(readsResultFields('result.x ==')).toBe(true);
  });

  it('parseGoFloat accepts what strconv.ParseFloat accepts', () => {
    expect(parseGoFloat('1.5')).toBe(1.5);
    expect(parseGoFloat('-2e3')).toBe(-2000);
    expect(parseGoFloat('+Inf')).toBe(Number.POSITIVE_INFINITY);
    expect(parseGoFloat('-infinity')).toBe(Number.NEGATIVE_INFINITY);
    expect(parseGoFloat('NaN')).toBeNaN();
    expect(parseGoFloat('.5')).toBe(0.5);
    expect(parseGoFloat(' 1')).toBeUndefined();
    expect(parseGoFloat('1,5')).toBeUndefined();
  });
});
