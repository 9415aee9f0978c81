/**
 * What goes wrong, as the library reports it. Argo Rollouts unwraps expr's *file.Error to its
 * Message (utils/evaluate/evaluate.go unwrapFileErr), so the messages here are the library's
 * messages without the source snippet.
 */

/** The expression is rejected by expr.Compile (lexer, parser, type pass, optimizer). */
export class CompileError extends Error {
  readonly phase = 'compile' as const;
}

/** expr.Run fails: a panic inside the VM, recovered and turned into an error. */
export class RuntimeError extends Error {
  readonly phase = 'run' as const;
}

/**
 * rollout-doctor does not evaluate this expression: it asks for more than the interpreter's bounds
 * allow (length, nesting, steps, range or string sizes) or for what is not modelled (Go time values).
 * Not an upstream answer: the caller reports that it could not evaluate.
 */
export class NotEvaluated extends Error {}

export type ExprError = CompileError | RuntimeError;

/** Go's panic text for a failed type assertion `x.(T)` on an interface{} value. */
export function assertionMessage(actual: string, wanted: string): string {
  return `interface conversion: interface {} is ${actual}, not ${wanted}`;
}
