/**
 * The check contract (../shared/STYLE.md "One contract for a check"): a check is a pure-ish function
 * of the cycle's snapshot, the config and targeted reads, returning one result per target.
 */
import type { Config } from '../config/schema.js';
import type { ApiIdentity } from '../kube/client.js';
import type { KubeErrorReason } from '../kube/errors.js';
import type { TargetedRead } from '../kube/permissions.js';
import type { KubeReads } from '../kube/reads.js';
import type { CustomKindRef, KindName, Snapshot } from '../kube/snapshot.js';
import type { Prober } from '../probe/http.js';
import type { RemediationStep } from './remediation.js';
import type { HealthEntry } from './result-schema.js';
import type { Status } from './status.js';

export { STATUS_RANK, STATUSES, type Status } from './status.js';

/** The details of a result that could not be evaluated: only why. */
export interface UnknownDetails {
  reason: string;
}

/**
 * One result of a check. `D` is the shape of its details: where a check returns different shapes
 * (an `unknown` result carries only the reason), `D` is their union and metric families narrow it.
 */
export interface CheckResult<D extends object = object> {
  target: string;
  status: Status;
  /** One line naming the object and its state. */
  summary: string;
  /** The runbook's commands with real names filled in, as data (./remediation.ts); empty on ok. */
  remediation: RemediationStep[];
  /** Evidence: observed and expected values. */
  details: D;
  /** The Rollout (`namespace/name`) the result is about, if any: /health says it and the text view groups by it. */
  rollout?: string;
}

/** One series of a check's metric family. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/**
 * A metric family a check declares next to itself; the metrics layer turns every result the check
 * produced into series with `collect`, which receives the result's typed details (a renamed or
 * retyped detail is a compile error, not an empty series). Families are gauges: they describe the
 * state seen this cycle.
 */
export interface MetricFamily<D extends object = object> {
  name: string;
  help: string;
  labelNames: readonly string[];
  // Method syntax on purpose: a Check<D> is then a Check (the list of all checks holds many D's).
  collect(details: D, result: Pick<CheckResult, 'target' | 'status'>): Sample[];
}

export interface CheckContext {
  readonly config: Config;
  readonly snapshot: Snapshot;
  /** Targeted reads (pod logs, access reviews): bounded, counted, on this check's deadline. */
  readonly kube: KubeReads;
  /** Outbound HTTP for endpoint probes and analysis queries (loopback-only in simulation). */
  readonly http: Prober;
  /** Aborts at the check's deadline or when the daemon stops. */
  readonly signal: AbortSignal;
  /** The cycle's clock (fixed in simulations with --simulate-now). */
  readonly now: Date;
  /** The checks enabled this cycle (self-rbac derives rollout-doctor's permissions from them). */
  readonly checks: readonly Check[];
  /** Where rollout-doctor talks to and as whom (kube-api and API-error remediations name them). */
  readonly api: ApiIdentity;
}

/**
 * A result that accounts for one cause of the cycle's API errors (kube-api: nothing answers or our
 * credentials are refused; self-rbac: rollout-doctor has no permission at all). The other checks'
 * `unknown` results with one of these causes point at it instead of repeating it.
 */
export interface Explanation {
  /** The API error reasons (src/kube/errors.ts) it accounts for. */
  reasons: readonly KubeErrorReason[];
  /** The cause in a few words: `the Kubernetes API is unreachable`. */
  cause: string;
}

/** A check whose results carry details of shape `D`; `Check` alone is any check. */
export interface Check<D extends object = object> {
  id: string;
  description: string;
  /** Snapshot kinds the check reads; the snapshot fetches the union over enabled checks. */
  needs: readonly KindName[];
  /** Custom kinds named by the config (traffic-router objects), listed in the snapshot too. */
  customKinds?(config: Config): CustomKindRef[];
  /** Targeted reads the check makes (they need their own permissions). */
  reads?: readonly TargetedRead[];
  metrics?: readonly MetricFamily<D>[];
  run(ctx: CheckContext): Promise<CheckResult<D>[]>;
  /**
   * What a result of this check accounts for this cycle, if anything (see Explanation). Method
   * syntax on purpose, as `collect`: the runner hands it this check's own results.
   */
  explains?(result: Pick<CheckResult<D>, 'target' | 'status' | 'summary' | 'details'>): Explanation | undefined;
}

/**
 * A result as the store keeps it: the /health entry plus when it was produced and by whom. A result
 * the engine wrote for a check that could not run (`engine`) carries only the reason and what the
 * target last was, so only the check's own results (`check`) feed its metric families.
 */
export type StoredResult = HealthEntry & {
  /** When this result was produced (epoch ms). */
  checkedAtMs: number;
  origin: 'check' | 'engine';
};
