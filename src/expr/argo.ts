/**
 * Argo Rollouts' condition environment and verdict (utils/evaluate/evaluate.go, the same at v1.7.2,
 * v1.8.4, v1.9.1 and v1.10.0-rc1 except formatEvalError, new in v1.10):
 *
 * - EvalCondition compiles the condition with expr.Env(env) and runs it; the env is `result` and the
 *   functions asInt, asFloat, isNaN (math.IsNaN), isInf, isNil and default. A non-bool output is
 *   "expected bool, but got %T". Errors are unwrapped to expr's message (unwrapFileErr).
 * - EvaluateResult: no conditions -> Successful; without a failure condition a measurement fails
 *   when the success condition is false, without a success condition it succeeds when the failure
 *   condition is false; failure wins; neither -> Inconclusive; an error -> Error.
 * - Quirks kept: default(x, d) and isNil(x) ignore x and look at the whole result; asInt/asFloat
 *   panic on what strconv cannot parse (the message is strconv's); result is valueFromPointer(result),
 *   so a nil slice is nil.
 */
import { CompileError, compile, dialectFor, MAX_EXPRESSION_LENGTH, NotEvaluated, run, RuntimeError } from './index.js';
import { children, type Node } from './ast.js';
import { atoi, parseFloat } from './gostrings.js';
import { parse } from './parser.js';
import { goQuote } from './text.js';
import { ANY, ANY_MAP, ANY_SLICE, BOOL, FLOAT64, funcOf, INT64, sliceOf } from './types.js';
import { formatValue, goFloatToInt, GoFunc, GoMap, GoNum, GoSlice, isNil, numKind, numValue, panic, typeName, type Value } from './values.js';

export type Phase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error';

/** The `result` a provider hands to the conditions, as the Go value the controller would hold. */
export interface MetricResult {
  readonly value: Value;
}

/** Prometheus vector: `[]float64` (metricproviders/prometheus sampleValuesToFloatSlice). */
export function vectorResult(values: readonly number[]): MetricResult {
  return { value: new GoSlice(sliceOf(FLOAT64), [...values]) };
}

/** Prometheus scalar: `float64`. */
export function scalarResult(value: number): MetricResult {
  return { value };
}

/** A value decoded by encoding/json (web provider): numbers float64, objects map[string]interface {}. */
export function jsonResult(value: unknown): MetricResult {
  return { value: fromJsonValue(value) };
}

/** A plain string (a web body that is not JSON). */
export function stringResult(value: string): MetricResult {
  return { value };
}

function fromJsonValue(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return new GoSlice(ANY_SLICE, v.map(fromJsonValue));
  const m = new GoMap(ANY_MAP);
  for (const [k, item] of Object.entries(v as Record<string, unknown>)) m.set(k, fromJsonValue(item));
  return m;
}

/** The condition is wrong, or fails on this result: Argo Rollouts records the measurement as Error. */
export class ConditionError extends Error {}

/** The condition uses what this evaluator does not evaluate: we cannot say what upstream does. */
export class UnsupportedCondition extends Error {}

export const MAX_CONDITION_LENGTH = MAX_EXPRESSION_LENGTH;

/** strconv.ParseFloat(s, 64): the value, or undefined where strconv returns an error. */
export function parseGoFloat(text: string): number | undefined {
  const parsed = parseFloat(text);
  return typeof parsed === 'number' ? parsed : undefined;
}

/** evaluate.go isNil: nil, or a nil map, slice or pointer. */
const argoIsNil = (v: Value) => isNil(v);

function asInt([v]: Value[]): Value {
  const k = numKind(v!);
  if (k !== undefined) {
    const n = numValue(v!);
    return new GoNum('int64', typeof n === 'number' ? goFloatToInt(n) : BigInt.asIntN(64, n));
  }
  if (typeof v === 'string') {
    if (!/^[+-]?\d+$/.test(v)) return panic(`strconv.ParseInt: parsing ${goQuote(v)}: invalid syntax`);
    const n = atoi(v);
    if (n === undefined) return panic(`strconv.ParseInt: parsing ${goQuote(v)}: value out of range`);
    return new GoNum('int64', n);
  }
  return panic(`asInt() not supported on ${typeName(v!)} ${formatValue(v!)}`);
}

function asFloat([v]: Value[]): Value {
  if (numKind(v!) !== undefined) return Number(numValue(v!));
  if (typeof v === 'string') {
    const parsed = parseFloat(v);
    if (parsed === 'syntax') return panic(`strconv.ParseFloat: parsing ${goQuote(v)}: invalid syntax`);
    if (parsed === 'range') return panic(`strconv.ParseFloat: parsing ${goQuote(v)}: value out of range`);
    return parsed;
  }
  return panic(`asFloat() not supported on ${typeName(v!)} ${formatValue(v!)}`);
}

/** The env map EvalCondition builds around a result. */
export function argoEnvironment(result: Value): Map<string, Value> {
  const value = argoIsNil(result) ? null : result;
  return new Map<string, Value>([
    ['result', value],
    ['asInt', new GoFunc('asInt', funcOf([ANY], [INT64]), asInt)],
    ['asFloat', new GoFunc('asFloat', funcOf([ANY], [FLOAT64]), asFloat)],
    ['isNaN', new GoFunc('isNaN', funcOf([FLOAT64], [BOOL]), ([f]) => Number.isNaN(f as number))],
    ['isInf', new GoFunc('isInf', funcOf([FLOAT64], [BOOL]), ([f]) => !Number.isFinite(f as number) && !Number.isNaN(f as number))],
    ['isNil', new GoFunc('isNil', funcOf([ANY], [BOOL]), () => argoIsNil(result))],
    ['default', new GoFunc('default', funcOf([ANY, ANY], [ANY]), ([, d]) => (argoIsNil(result) ? d! : value))],
  ]);
}

/**
 * EvalCondition: the condition's boolean on this result, for the controller version given (undefined:
 * the newest released, v1.9.1). Throws ConditionError where the controller gets an error,
 * UnsupportedCondition where this evaluator cannot tell.
 */
export function evalCondition(condition: string, result: MetricResult, controllerVersion?: string): boolean {
  const dialect = dialectFor(controllerVersion);
  const env = argoEnvironment(result.value);
  let output: Value;
  try {
    output = run(compile(condition, env, dialect), env);
  } catch (error) {
    if (error instanceof CompileError || error instanceof RuntimeError) throw new ConditionError(error.message);
    if (error instanceof NotEvaluated) throw new UnsupportedCondition(error.message);
    throw error;
  }
  if (typeof output !== 'boolean') throw new ConditionError(`expected bool, but got ${typeName(output)}`);
  return output;
}

export interface Evaluation {
  /** The measurement phase; absent exactly when `unsupported` says why it could not be evaluated. */
  phase?: Phase;
  /** The error message (phase Error), prefixed with the condition that raised it. */
  error?: string;
  /** The error exactly as the controller's EvaluateResult returns it (v1.10 wraps it: formatEvalError). */
  controllerError?: string;
  /** Set instead of a phase when this evaluator cannot evaluate a condition. */
  unsupported?: string;
  /** Each condition's value, when it was evaluated. */
  success?: boolean;
  failure?: boolean;
}

export interface Conditions {
  successCondition?: string;
  failureCondition?: string;
}

/** v1.10 isNilOrEmpty: nil, or an empty slice or array. */
const isNilOrEmpty = (v: Value) => argoIsNil(v) || (v instanceof GoSlice && v.items.length === 0);

/** EvaluateResult: the measurement phase for this result. */
export function evaluateResult(result: MetricResult, conditions: Conditions, controllerVersion?: string): Evaluation {
  const { successCondition = '', failureCondition = '' } = conditions;
  const formats = dialectFor(controllerVersion).v17;
  const evaluate = (which: 'successCondition' | 'failureCondition', condition: string): boolean | Evaluation => {
    try {
      return evalCondition(condition, result, controllerVersion);
    } catch (error) {
      if (error instanceof UnsupportedCondition) return { unsupported: `${which} "${condition}": ${error.message}` };
      if (!(error instanceof ConditionError)) throw error;
      const controllerError = !formats
        ? error.message
        : isNilOrEmpty(result.value)
          ? `could not evaluate ${which} "${condition}": metric result is nil or empty: no data returned from the metric provider`
          : `could not evaluate ${which} "${condition}": ${error.message}`;
      return { phase: 'Error', error: `${which} "${condition}": ${error.message}`, controllerError };
    }
  };
  const evaluated: Pick<Evaluation, 'success' | 'failure'> = {};
  if (successCondition !== '') {
    const outcome = evaluate('successCondition', successCondition);
    if (typeof outcome !== 'boolean') return outcome;
    evaluated.success = outcome;
  }
  if (failureCondition !== '') {
    const outcome = evaluate('failureCondition', failureCondition);
    if (typeof outcome !== 'boolean') return outcome;
    evaluated.failure = outcome;
  }
  if (successCondition === '' && failureCondition === '') return { phase: 'Successful' };
  const failure = failureCondition === '' ? !evaluated.success : evaluated.failure!;
  const success = successCondition === '' ? !failure : evaluated.success!;
  if (failure) return { phase: 'Failed', ...evaluated };
  if (!success) return { phase: 'Inconclusive', ...evaluated };
  return { phase: 'Successful', ...evaluated };
}

/** Parses a condition as the controller's expr does (syntax only); throws ConditionError. */
export function parseCondition(condition: string, controllerVersion?: string): Node {
  try {
    return parse(condition, dialectFor(controllerVersion), () => false);
  } catch (error) {
    if (error instanceof CompileError) throw new ConditionError(error.message);
    if (error instanceof NotEvaluated) throw new UnsupportedCondition(error.message);
    throw error;
  }
}

/** Whether a condition reads fields or elements of `result` (member access, index or slice on it). */
export function readsResultFields(condition: string, controllerVersion?: string): boolean {
  let ast: Node;
  try {
    ast = parseCondition(condition, controllerVersion);
  } catch {
    return /\bresult\s*(\.|\[|\?\.)/.test(condition);
  }
  const onResult = (n: Node): boolean => (n.t === 'ident' && n.value === 'result') || (n.t === 'chain' && onResult(n.node));
  const visit = (n: Node): boolean => {
    if ((n.t === 'member' || n.t === 'slice') && onResult(n.node)) return true;
    return children(n).some(visit);
  };
  return visit(ast);
}
