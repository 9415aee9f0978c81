/** Small builders that keep every check's results in the contract's shape. */
import { isKubeError } from '../../kube/errors.js';
import type { CheckResult, Status } from '../../engine/types.js';

export function result(
  target: string,
  status: Status,
  summary: string,
  details: Record<string, unknown> = {},
  remediation: string[] = [],
): CheckResult {
  return { target, status, summary, remediation: status === 'ok' ? [] : remediation, details };
}

/** `unknown` for a target we could not look at; never `fail` for our own inability. */
export function unknownResult(target: string, error: unknown, details: Record<string, unknown> = {}): CheckResult {
  const reason = isKubeError(error) ? error.message : error instanceof Error ? error.message : String(error);
  return result(target, 'unknown', reason, { ...details, reason });
}

/**
 * Evaluates each target on its own: an error for one target (a log that cannot be read, a list the
 * target needs that failed) makes that target `unknown` and leaves the others alone.
 */
export async function evaluateEach<T>(items: readonly T[], targetOf: (item: T) => string, evaluate: (item: T) => Promise<CheckResult> | CheckResult): Promise<CheckResult[]> {
  return Promise.all(
    items.map(async (item) => {
      try {
        return await evaluate(item);
      } catch (error) {
        return unknownResult(targetOf(item), error);
      }
    }),
  );
}
