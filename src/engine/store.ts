/**
 * Results in memory, keyed by (check, target), with `since` (the last status change). A target a
 * check no longer reports (a deleted rollout) disappears; a check that could not look at all keeps
 * the targets it knew, turned `unknown` with the reason, instead of dropping them or inventing `fail`.
 */
import type { Config } from '../config/schema.js';
import { globToRegExp } from '../config/glob.js';
import type { WatchFallback } from '../kube/snapshot.js';
import { runAtOnce, runInSlices } from '../slices.js';
import type { CheckRun, CycleOutcome, PartialOutcome, ValidatedResult } from './runner.js';
import { type Status, STATUSES, type StoredResult } from './types.js';

export interface StatusChange {
  check: string;
  target: string;
  from?: Status;
  to?: Status;
  summary: string;
}

export interface CycleInfo {
  completedAtMs: number;
  durationMs: number;
  apiRequests: number;
  /** Kinds listed every cycle because watching them is forbidden. */
  watchFallbacks: WatchFallback[];
}

/** Target reported when a check could not discover any target. */
export const ANY_TARGET = '*';

interface CompiledMute {
  check: string;
  target: RegExp;
  reason: string;
  untilMs?: number;
}

function compileMutes(config: Config): CompiledMute[] {
  return config.mute.map((rule) => ({
    check: rule.check,
    target: globToRegExp(rule.target),
    reason: rule.reason,
    untilMs: rule.until?.getTime(),
  }));
}

/** What a result the engine carried over says the target last was. */
function lastKnown(details: Record<string, unknown>): { status?: Status; summary?: string } {
  const status = STATUSES.find((s) => s === details.lastKnownStatus);
  return { status, summary: typeof details.lastKnownSummary === 'string' ? details.lastKnownSummary : undefined };
}

export function compareResults(a: { check: string; target: string }, b: { check: string; target: string }): number {
  return a.check < b.check ? -1 : a.check > b.check ? 1 : a.target < b.target ? -1 : a.target > b.target ? 1 : 0;
}

/** Results folded between two points where a fold in slices may pause. */
const RESULTS_PER_STEP = 50;

export class ResultStore {
  private readonly byKey = new Map<string, StoredResult>();
  private sorted: StoredResult[] = [];
  private lastCycleInfo?: CycleInfo;
  private cycleCount = 0;
  /** The fold in slices under way, if any: the next starts once it has ended. */
  private folding: Promise<unknown> = Promise.resolve();

  get lastCycle(): CycleInfo | undefined {
    return this.lastCycleInfo;
  }

  /** Completed cycles since start. */
  get cycles(): number {
    return this.cycleCount;
  }

  results(): readonly StoredResult[] {
    return this.sorted;
  }

  /** Folds a finished cycle in; returns what changed, for the log. */
  apply(outcome: CycleOutcome, config: Config): StatusChange[] {
    return runAtOnce(this.applySteps(outcome, config));
  }

  /**
   * The same in slices (src/slices.ts): at 1,000 Rollouts (~6,500 results) the fold in one go blocked
   * the event loop for 30-75 ms. Folds run one after the other, each on what the last one left.
   */
  applyInSlices(outcome: CycleOutcome, config: Config): Promise<StatusChange[]> {
    return this.inLine(() => runInSlices(this.applySteps(outcome, config)));
  }

  private *applySteps(outcome: CycleOutcome, config: Config): Generator<void, StatusChange[]> {
    const nowMs = outcome.startedAt.getTime() + Math.round(outcome.durationMs);
    const changes = yield* this.fold(outcome.runs, outcome.startedAt.getTime(), nowMs, config, false);
    this.lastCycleInfo = { completedAtMs: nowMs, durationMs: outcome.durationMs, apiRequests: outcome.apiRequests, watchFallbacks: outcome.watchFallbacks ?? [] };
    this.cycleCount++;
    return changes;
  }

  /**
   * Folds in a re-evaluation between cycles: the results of the checks that ran again replace theirs
   * (each with its own checkedAt); every other result, and the last cycle, stay as they are.
   */
  applyPartial(outcome: PartialOutcome, config: Config): StatusChange[] {
    return runAtOnce(this.partialSteps(outcome, config));
  }

  /** The same in slices, in line with the other folds (see applyInSlices). */
  applyPartialInSlices(outcome: PartialOutcome, config: Config): Promise<StatusChange[]> {
    return this.inLine(() => runInSlices(this.partialSteps(outcome, config)));
  }

  private partialSteps(outcome: PartialOutcome, config: Config): Generator<void, StatusChange[]> {
    return this.fold(outcome.runs, outcome.startedAt.getTime(), outcome.startedAt.getTime() + Math.round(outcome.durationMs), config, true);
  }

  private inLine<T>(fold: () => Promise<T>): Promise<T> {
    const run = this.folding.then(fold);
    this.folding = run.catch(() => undefined);
    return run;
  }

  private *fold(runs: readonly CheckRun[], checkedAtMs: number, nowMs: number, config: Config, isPartial: boolean): Generator<void, StatusChange[]> {
    const mutes = compileMutes(config);
    const changes: StatusChange[] = [];
    const next = new Map<string, StoredResult>();
    const previousOf = (check: string) => [...this.byKey.values()].filter((r) => r.check === check);
    if (isPartial) {
      const ran = new Set(runs.map((run) => run.check.id));
      for (const [key, result] of this.byKey) if (!ran.has(result.check)) next.set(key, result);
    }

    const put = (check: string, result: ValidatedResult, durationMs: number, origin: StoredResult['origin']) => {
      const key = `${check}\u0000${result.target}`;
      const previous = this.byKey.get(key);
      const changed = !previous || previous.status !== result.status;
      const since = changed ? new Date(checkedAtMs).toISOString() : previous.since;
      const mute = mutes.find((m) => m.check === check && m.target.test(result.target) && (m.untilMs === undefined || m.untilMs > nowMs));
      const { target, status, summary, remediation, details, rollout } = result;
      const stored: StoredResult = { check, target, status, summary, remediation, details, since, durationMs: Math.round(durationMs * 100) / 100, checkedAtMs, origin };
      if (rollout) stored.rollout = rollout;
      if (mute) {
        stored.muted = true;
        stored.muteReason = mute.reason;
      }
      next.set(key, stored);
      if (changed) changes.push({ check, target: result.target, from: previous?.status, to: result.status, summary: result.summary });
    };

    let done = 0;
    for (const run of runs) {
      const check = run.check.id;
      if (run.error === undefined) {
        for (const result of run.results) {
          put(check, result, run.durationMs, 'check');
          if (++done % RESULTS_PER_STEP === 0) yield;
        }
        continue;
      }
      const { summary, remediation, details } = run.error;
      const known = previousOf(check);
      if (known.length === 0) {
        put(check, { target: ANY_TARGET, status: 'unknown', summary, remediation, details }, run.durationMs, 'engine');
        continue;
      }
      for (const previous of known) {
        // A target already unknown because of an earlier failure keeps what it last really was.
        const carried = previous.origin === 'engine' ? lastKnown(previous.details) : undefined;
        const lastKnownStatus = carried?.status ?? previous.status;
        const lastKnownSummary = carried?.summary ?? previous.summary;
        put(
          check,
          {
            target: previous.target,
            status: 'unknown',
            summary,
            remediation,
            details: { ...details, lastKnownStatus, lastKnownSummary },
            rollout: previous.rollout,
          },
          run.durationMs,
          'engine',
        );
      }
    }
    for (const [key, previous] of this.byKey) {
      if (!next.has(key)) changes.push({ check: previous.check, target: previous.target, from: previous.status, summary: 'target no longer reported' });
    }
    yield;
    const sorted = [...next.values()].sort(compareResults);
    yield;
    this.byKey.clear();
    for (const [key, value] of next) this.byKey.set(key, value);
    this.sorted = sorted;
    return changes;
  }
}
