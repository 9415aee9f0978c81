/**
 * The glue every rollout-side check shares: the details and labels its results start with, one
 * result per Rollout, and the plugin command with the Rollout's real names. How the spec is read
 * lives in src/argo/rollout-spec.ts.
 */
import type { Command, CommandOptions, Word } from '../../engine/remediation.js';
import type { CheckResult, UnknownDetails } from '../../engine/types.js';
import { argoRollouts } from './commands.js';
import { rolloutName, rolloutNamespace, rolloutTarget } from '../../argo/rollout-spec.js';
import type { Rollout } from '../../kube/types.js';
import { evaluateEach } from './results.js';

/** What every rollout-side result's details start with. */
export interface RolloutRef {
  namespace: string;
  rollout: string;
}

/** The `namespace` and `rollout` labels of a rollout-side metric. */
export function rolloutLabels(details: RolloutRef): { namespace: string; rollout: string } {
  return { namespace: details.namespace, rollout: details.rollout };
}

/**
 * evaluateEach over Rollouts: one result per Rollout, each about it (target and `rollout` are its
 * `namespace/name`), a Rollout that cannot be evaluated `unknown` on its own.
 */
export async function evaluateRollouts<D extends object>(
  rollouts: readonly Rollout[],
  evaluate: (rollout: Rollout) => Promise<CheckResult<D>> | CheckResult<D>,
): Promise<CheckResult<D | UnknownDetails>[]> {
  const results = await evaluateEach(rollouts, rolloutTarget, evaluate);
  return results.map(aboutTargetRollout);
}

/** A result whose target is a Rollout (`namespace/name`) is about that Rollout. */
export function aboutTargetRollout<D extends object>(result: CheckResult<D>): CheckResult<D> {
  return { ...result, rollout: result.target };
}

/** `kubectl argo rollouts <verb> <name> -n <ns> [extra...]` with the real names. */
export function rolloutsCommand(rollout: Rollout, verb: string, extra: readonly Word[] = [], options: CommandOptions = {}): Command {
  return argoRollouts(verb, rolloutNamespace(rollout), rolloutName(rollout), extra, options);
}
