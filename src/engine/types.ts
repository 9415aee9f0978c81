/**
 * The check contract (../shared/STYLE.md "One contract for a check"): a check is a pure-ish function
 * of the cycle's snapshot, the config and targeted reads, returning one result per target.
 */
import type { Config } from '../config/schema.js';
import type { TargetedRead } from '../kube/permissions.js';
import type { KubeReads } from '../kube/reads.js';
import type { CustomKindRef, KindName, Snapshot } from '../kube/snapshot.js';
import type { Prober } from '../probe/http.js';

export const STATUSES = ['ok', 'warn', 'fail', 'unknown'] as const;
export type Status = (typeof STATUSES)[number];

/** Severity order used for the overall status: fail > unknown > warn > ok. */
export const STATUS_RANK: Record<Status, number> = { ok: 0, warn: 1, unknown: 2, fail: 3 };

export interface CheckResult {
  target: string;
  status: Status;
  /** One line naming the object and its state. */
  summary: string;
  /** The runbook's commands with real names filled in; empty on ok. */
  remediation: string[];
  /** Evidence: observed and expected values. */
  details: Record<string, unknown>;
}

/** One series of a check's metric family. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/**
 * A metric family a check declares next to itself; the metrics layer turns every result of the
 * check into series with `collect`. Families are gauges: they describe the state seen this cycle.
 */
export interface MetricFamily {
  name: string;
  help: string;
  labelNames: readonly string[];
  collect(result: CheckResult): Sample[];
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
}

export interface Check {
  id: string;
  description: string;
  /** Snapshot kinds the check reads; the snapshot fetches the union over enabled checks. */
  needs: readonly KindName[];
  /** Custom kinds named by the config (traffic-router objects), listed in the snapshot too. */
  customKinds?(config: Config): CustomKindRef[];
  /** Targeted reads the check makes (they need their own permissions). */
  reads?: readonly TargetedRead[];
  metrics?: readonly MetricFamily[];
  /** The Rollout (`namespace/name`) a result is about, if any: /health says it and the text view groups by it. */
  rolloutOf?(result: CheckResult): string | undefined;
  run(ctx: CheckContext): Promise<CheckResult[]>;
}

/** A result as the store keeps it and /health shows it. */
export interface StoredResult extends CheckResult {
  check: string;
  since: string;
  durationMs: number;
  /** When this result was produced (epoch ms). */
  checkedAtMs: number;
  /** The Rollout the result is about (Check.rolloutOf). */
  rollout?: string;
  muted?: boolean;
  muteReason?: string;
}
