/**
 * An interpreter for expr-lang, the expression language Argo Rollouts evaluates successCondition and
 * failureCondition with (utils/evaluate/evaluate.go). Hand-written because no npm package implements
 * expr-lang: expr-eval, jexl, filtrex and cel-js are other languages with other operators, types and
 * builtins, and a wrong verdict about a condition is worse than none. The language is the one the
 * controller links, chosen by controller version (dialect.ts): github.com/antonmedv/expr v1.15.5 for
 * Argo Rollouts v1.7-v1.9, github.com/expr-lang/expr v1.17.7 from v1.10.
 *
 * Pipeline, as expr.Compile + expr.Run: lexer.ts -> parser.ts -> checker.ts (type pass) ->
 * optimizer.ts -> evaluator.ts (compiler + VM semantics), over values.ts (Go values, vm/runtime).
 * It is checked row by row against the real library (test/expr/golden-*.json, tools/expr-golden).
 *
 * Safe and bounded: nothing from an expression is executed as code (no eval, no Function, regular
 * expressions run on RE2JS in linear time), and length, nesting, steps, ranges and string sizes have
 * limits; past them the answer is NotEvaluated rather than a guess.
 */
import type { Node } from './ast.js';
import { Checker } from './checker.js';
import type { Dialect } from './dialect.js';
import { NotEvaluated } from './errors.js';
import { Evaluator } from './evaluator.js';
import { optimize } from './optimizer.js';
import { parse } from './parser.js';
import type { Value } from './values.js';

export { CompileError, NotEvaluated, RuntimeError, type ExprError } from './errors.js';
export { type Dialect, dialectFor, DEFAULT_CONTROLLER_VERSION, EXPR_V1_15_5, EXPR_V1_17_7, parseVersion } from './dialect.js';
export type { Node } from './ast.js';
export * from './values.js';
export * as types from './types.js';

/** Longest expression evaluated (Argo Rollouts has no limit; conditions are a line or two). */
export const MAX_EXPRESSION_LENGTH = 4096;

export type Environment = ReadonlyMap<string, Value>;

export interface Program {
  readonly dialect: Dialect;
  readonly node: Node;
}

/** expr.Compile(source, expr.Env(env)): throws CompileError (upstream rejects it) or NotEvaluated. */
export function compile(source: string, env: Environment, dialect: Dialect): Program {
  if (source.length > MAX_EXPRESSION_LENGTH) throw new NotEvaluated(`the expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  const node = parse(source, dialect, (name) => env.has(name));
  new Checker(dialect, env).check(node);
  return { dialect, node: optimize(node, dialect) };
}

/** expr.Run(program, env): throws RuntimeError (upstream's run error) or NotEvaluated. */
export function run(program: Program, env: Environment): Value {
  return new Evaluator(program.dialect, env).run(program.node);
}

export function evaluate(source: string, env: Environment, dialect: Dialect): Value {
  return run(compile(source, env, dialect), env);
}
