/**
 * The success/failure condition evaluator now lives in src/expr (the expr-lang interpreter and
 * Argo Rollouts' condition environment, src/expr/argo.ts). This module re-exports its public API
 * for the checks that import it from here.
 */
export {
  ConditionError,
  type Conditions,
  type Evaluation,
  evalCondition,
  evaluateResult,
  jsonResult,
  MAX_CONDITION_LENGTH,
  type MetricResult,
  parseCondition,
  parseGoFloat,
  type Phase,
  readsResultFields,
  scalarResult,
  stringResult,
  UnsupportedCondition,
  vectorResult,
} from '../../expr/argo.js';
export type { Node } from '../../expr/ast.js';
