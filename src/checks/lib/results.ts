/** Small builders that keep every check's results in the contract's shape. */
import { turnIfDue } from '../../slices.js';
import { type ApiErrorDetails, apiErrorDetails, isKubeError, kubeErrorOf } from '../../kube/errors.js';
import type { RemediationStep } from '../../engine/remediation.js';
import type { CheckResult, Status, UnknownDetails } from '../../engine/types.js';

export function result<D extends object>(target: string, status: Status, summary: string, details: D, remediation: RemediationStep[] = []): CheckResult<D> {
  return { target, status, summary, remediation: status === 'ok' ? [] : remediation, details };
}

export function reasonOf(error: unknown): string {
  return isKubeError(error) ? error.message : error instanceof Error ? error.message : String(error);
}

/**
 * `unknown` for a target we could not look at, with what was seen so far; never `fail` for our own
 * inability. An API error (the error itself, or the `cause` it was wrapped in) is kept as
 * `details.apiError`: the runner gives such a result the API error's remediation when the check
 * gives none, and points it at kube-api or self-rbac when one of them explains the cause.
 */
export function unknownResult<D extends object>(target: string, error: unknown, details: D, remediation: RemediationStep[] = []): CheckResult<D & UnknownDetails & { apiError?: ApiErrorDetails }> {
  const reason = reasonOf(error);
  const kubeError = kubeErrorOf(error);
  return result(target, 'unknown', reason, { ...details, reason, ...(kubeError ? { apiError: apiErrorDetails(kubeError) } : {}) }, remediation);
}

/**
 * Evaluates each target on its own: an error for one target (a log that cannot be read, a list the
 * target needs that failed) makes that target `unknown` with only the reason and leaves the others
 * alone. `concurrency` bounds how many targets are evaluated at once (checks that make a request per
 * target keep the number of requests in flight on their deadline small).
 */
export async function evaluateEach<T, D extends object>(
  items: readonly T[],
  targetOf: (item: T) => string,
  evaluate: (item: T) => Promise<CheckResult<D>> | CheckResult<D>,
  options: { concurrency?: number } = {},
): Promise<CheckResult<D | UnknownDetails>[]> {
  const one = async (item: T): Promise<CheckResult<D | UnknownDetails>> => {
    try {
      return await evaluate(item);
    } catch (error) {
      return unknownResult(targetOf(item), error, {});
    }
  };
  return mapWithConcurrency(items, options.concurrency ?? items.length, one);
}

/**
 * `Promise.all(items.map(fn))` with at most `limit` calls in flight; results keep the items' order.
 * Calls are started in slices (src/slices.ts): a check evaluates every Rollout (1,000 in a large
 * cluster), mostly synchronously, and in one go that kept /health and /metrics waiting 150-340 ms
 * (docs/performance.md, issue 17 §3).
 */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  if (limit >= items.length) {
    const started: Promise<R>[] = [];
    for (const item of items) {
      const call = fn(item);
      // Promise.all below reports a rejection; until then it must not count as unhandled.
      call.catch(() => undefined);
      started.push(call);
      await turnIfDue();
    }
    return Promise.all(started);
  }
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      // Each call starts in a slice: the first `limit` too (32 access reviews built at once were a
      // block). Not `await` when there is no turn to wait for: the workers would all pass here first.
      const turn = turnIfDue();
      if (turn) await turn;
      if (next >= items.length) return;
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  return results;
}
