/**
 * rollout-status: each Rollout's Status, Message, Step, SetWeight and ActualWeight exactly as
 * `kubectl argo rollouts get rollout` shows them (src/argo/rollout-info.ts), judged: Healthy is ok;
 * Progressing is ok until it has made no progress for `stuckAfter` (the homelab's 39 days of
 * "waiting for rollout spec update to be observed, Step 0/6, ActualWeight 0", a controller that never
 * reconciled); Paused is ok until `pausedWarnAfter`; Degraded fails with the controller's message.
 * How long is read from the Rollout's own timestamps (pause conditions' startTime, conditions'
 * lastUpdateTime/lastTransitionTime), so it survives a restart of rollout-doctor. An
 * `expectedRollouts` entry that does not exist fails. Weights are in units of the Rollout's
 * maxTrafficWeight (utils/weightutil, v1.7.0+), and the ratios divide by it. The Experiments of the
 * current revision (src/argo/experiments.ts: phase, message, their ReplicaSets and AnalysisRuns) are
 * in the details, and the one the current experiment step runs is named in the summary.
 *
 * Runbook: "Rollout status (all namespaces)", "What Healthy looks like", "Canary operations",
 * "Aborting a canary", "Troubleshooting" (Degraded).
 * Permissions: list rollouts.argoproj.io, experiments.argoproj.io and replicasets.apps (cluster-wide;
 * ReplicaSets for ActualWeight of canaries without traffic routing and for Experiments).
 */
import { REVISION_ANNOTATION } from '../argo/names.js';
import { formatDuration } from '../config/duration.js';
import type { Config } from '../config/schema.js';
import { kubectl, type RemediationStep, text } from '../engine/remediation.js';
import type { Check, CheckContext, CheckResult, MetricFamily, Sample } from '../engine/types.js';
import { controllerPluginLog, describePodsByHash, listPods, recentAnalysisRuns, replicaSetsByHash, rolloutPhaseYaml } from './lib/commands.js';
import { isKubeError } from '../kube/errors.js';
import { namespaceFilter } from '../kube/snapshot.js';
import type { Condition, ReplicaSet, Rollout } from '../kube/types.js';
import { quote } from '../text.js';
import { mapWithConcurrency, result } from './lib/results.js';
import { aboutTargetRollout, rolloutLabels, type RolloutRef, rolloutsCommand } from './lib/rollout.js';
import { rolloutName, rolloutNamespace, rolloutTarget, strategyOf } from '../argo/rollout-spec.js';
import { isActualWeightFromReplicaSets, listOf, ownedReplicaSetsOf, ROLLOUT_PHASES, rolloutInfo, type RolloutInfo } from '../argo/rollout-info.js';
import { currentRevisionExperiments, experimentState, type ExperimentState } from '../argo/experiments.js';
import type { CustomObject } from '../kube/types.js';
import { toIso, toMillis } from './lib/time.js';

type Options = Config['checks']['rollout-status'];
type PauseCondition = { reason?: string; startTime?: string };

/** Rules under which the controller has not (yet) acted on the Rollout at all. */
const UNOBSERVED_RULES = new Set(['generation-not-observed', 'unpausing', 'workload-generation-not-observed']);

/** The pause reason Argo Rollouts has no name for: spec.paused set by hand. */
export const MANUAL_PAUSE = 'ManualPause';

const PAUSE_REASON_TEXT: Record<string, string> = {
  CanaryPauseStep: 'a canary pause step',
  BlueGreenPause: 'the blue-green pause before promotion',
  InconclusiveAnalysisRun: 'an inconclusive AnalysisRun',
  InconclusiveExperiment: 'an inconclusive Experiment',
  [MANUAL_PAUSE]: 'a manual pause (spec.paused)',
};

type DegradedKind = 'InvalidSpec' | 'RolloutAborted' | 'ProgressDeadlineExceeded' | 'other';

/** What `kubectl argo rollouts get rollout` shows (RolloutInfo's fields; maxTrafficWeight only when it is not 100). */
type InfoFields = Pick<RolloutInfo, 'phase' | 'message' | 'replicas' | 'step' | 'stepIndex' | 'stepCount' | 'setWeight' | 'actualWeight' | 'maxTrafficWeight'>;

interface StatusDetails extends RolloutRef, InfoFields {
  strategy: string;
  pauseReasons: string[];
  pausedSince: string | null;
  abort: boolean;
  /** Why ActualWeight could not be computed (the ReplicaSet list failed). */
  actualWeightUnknown?: string;
  /** The current revision's Experiments. */
  experiments?: ExperimentState[];
  /** Why the Experiments could not be read (their list failed). */
  experimentsUnknown?: string;
  revision?: number;
  currentPodHash?: string;
  stableRS?: string;
  phaseSince?: string;
  secondsInPhase?: number;
  lastProgressAt?: string;
  abortedAt?: string;
  degradedReason?: DegradedKind;
  stuck?: boolean;
  stuckSeconds?: number;
}

/** An expectedRollouts entry that is not there (with the reason when it was not looked for). */
interface MissingDetails extends RolloutRef {
  expected: true;
  exists: false;
  reason?: string;
}

type Details = StatusDetails | MissingDetails;

function latest(values: (string | undefined)[]): number | undefined {
  let best: number | undefined;
  for (const value of values) {
    const ms = toMillis(value);
    if (ms !== undefined && (best === undefined || ms > best)) best = ms;
  }
  return best;
}

function earliest(values: (string | undefined)[]): number | undefined {
  let best: number | undefined;
  for (const value of values) {
    const ms = toMillis(value);
    if (ms !== undefined && (best === undefined || ms < best)) best = ms;
  }
  return best;
}

function conditions(rollout: Rollout): Condition[] {
  return listOf<Condition>(rollout.status?.conditions);
}

/**
 * The last time the controller recorded a change of the Rollout: the Progressing condition's
 * lastUpdateTime moves whenever replicas progress, pause conditions and aborts carry their own
 * times. Nothing newer than this means no step and no replica count changed since.
 */
function lastProgressMs(rollout: Rollout): number | undefined {
  const times = conditions(rollout).flatMap((c) => [c.lastUpdateTime, c.lastTransitionTime]);
  for (const pause of listOf<PauseCondition>(rollout.status?.pauseConditions)) times.push(pause.startTime);
  times.push(rollout.status?.abortedAt);
  return latest(times) ?? toMillis(rollout.metadata.creationTimestamp);
}

function pauseReasons(rollout: Rollout): string[] {
  const reasons = listOf<PauseCondition>(rollout.status?.pauseConditions).map((p) => p.reason ?? '').filter(Boolean);
  if (rollout.spec?.paused === true) reasons.push(MANUAL_PAUSE);
  return [...new Set(reasons)];
}

function pausedSinceMs(rollout: Rollout): number | undefined {
  const fromConditions = earliest(listOf<PauseCondition>(rollout.status?.pauseConditions).map((p) => p.startTime));
  if (fromConditions !== undefined) return fromConditions;
  const paused = conditions(rollout).find((c) => c.type === 'Paused' && c.status === 'True');
  return toMillis(paused?.lastTransitionTime);
}

function degradedKind(rollout: Rollout, message: string): DegradedKind {
  for (const kind of ['InvalidSpec', 'RolloutAborted', 'ProgressDeadlineExceeded'] as const) if (message.startsWith(kind)) return kind;
  for (const condition of conditions(rollout)) {
    if (condition.type === 'InvalidSpec') return 'InvalidSpec';
    if (condition.reason === 'RolloutAborted') return 'RolloutAborted';
    if (condition.reason === 'ProgressDeadlineExceeded') return 'ProgressDeadlineExceeded';
  }
  return rollout.status?.abort === true ? 'RolloutAborted' : 'other';
}

/** When the current phase began, from the Rollout's own records. */
function phaseSinceMs(rollout: Rollout, phase: string, message: string): number | undefined {
  const progress = lastProgressMs(rollout);
  const transitionOf = (match: (c: Condition) => boolean) => toMillis(conditions(rollout).find(match)?.lastTransitionTime);
  switch (phase) {
    case 'Paused':
      return pausedSinceMs(rollout) ?? progress;
    case 'Degraded': {
      const kind = degradedKind(rollout, message);
      const at =
        kind === 'InvalidSpec' ? transitionOf((c) => c.type === 'InvalidSpec') : kind === 'other' ? undefined : transitionOf((c) => c.reason === kind);
      return at ?? toMillis(rollout.status?.abortedAt) ?? progress;
    }
    case 'Healthy':
      return transitionOf((c) => c.type === 'Healthy' && c.status === 'True') ?? transitionOf((c) => c.type === 'Completed' && c.status === 'True') ?? progress;
    default:
      return progress;
  }
}

function revisionOf(rollout: Rollout): number | undefined {
  const value = rollout.metadata.annotations?.[REVISION_ANNOTATION];
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

function positionText(info: RolloutInfo): string {
  const parts: string[] = [];
  if (info.step) parts.push(`Step ${info.step}`);
  if (info.setWeight !== undefined) parts.push(`SetWeight ${info.setWeight}`);
  if (info.actualWeight !== undefined) parts.push(`ActualWeight ${info.actualWeight}`);
  if (info.maxTrafficWeight !== undefined && info.maxTrafficWeight !== 100) parts.push(`of maxTrafficWeight ${info.maxTrafficWeight}`);
  return parts.join(', ');
}

/** The Experiment the current step runs (rollout/experiment.go: status.canary.currentExperiment, else the revision's newest). */
function currentExperiment(rollout: Rollout, info: RolloutInfo, experiments: readonly ExperimentState[]): ExperimentState | undefined {
  const named = (rollout.status?.canary as { currentExperiment?: string } | undefined)?.currentExperiment;
  if (named) return experiments.find((e) => e.name === named);
  const step = info.stepIndex === undefined ? undefined : rollout.spec?.strategy?.canary?.steps?.[info.stepIndex];
  return step?.experiment ? experiments[0] : undefined;
}

function withPosition(info: RolloutInfo): string {
  const position = positionText(info);
  return position ? ` (${position})` : '';
}

function since(seconds: number | undefined): string {
  return seconds === undefined ? '' : ` for ${formatDuration(seconds)}`;
}

function controllerCommands(config: Config): RemediationStep[] {
  const { namespace, deployment } = config.controller;
  return [listPods(namespace), controllerPluginLog(namespace, deployment)];
}

function podCommands(rollout: Rollout): RemediationStep[] {
  const namespace = rolloutNamespace(rollout);
  return [replicaSetsByHash(namespace), describePodsByHash(namespace, rollout.status?.currentPodHash)];
}

function analysisRunsCommand(rollout: Rollout): RemediationStep {
  return recentAnalysisRuns(rolloutNamespace(rollout), rollout.status?.currentPodHash);
}

function degradedResult(rollout: Rollout, info: RolloutInfo, details: StatusDetails): CheckResult<StatusDetails> {
  const target = rolloutTarget(rollout);
  const get = rolloutsCommand(rollout, 'get rollout');
  const kind = degradedKind(rollout, info.message);
  details.degradedReason = kind;
  const summary = `Rollout ${target} is Degraded: ${quote(info.message || 'no message')}${withPosition(info)}`;
  switch (kind) {
    case 'RolloutAborted':
      return result(target, 'fail', summary, details, [
        get,
        analysisRunsCommand(rollout),
        text('Fix what made it abort (see rollout-analysis and rollout-pods), then: ', rolloutsCommand(rollout, 'retry rollout')),
      ]);
    case 'InvalidSpec':
      return result(target, 'fail', summary, details, [
        rolloutPhaseYaml(rolloutNamespace(rollout), rolloutName(rollout)),
        text('Usually the spec references something that does not exist (AnalysisTemplate, Service, workloadRef target; see rollout-references): make it exist and the controller heals itself'),
        get,
      ]);
    case 'ProgressDeadlineExceeded':
      return result(target, 'fail', summary, details, [
        get,
        ...podCommands(rollout),
        text('The new pods did not become available within progressDeadlineSeconds: fix them (image, config, resources) and push the fix, or go back to stable: ', rolloutsCommand(rollout, 'abort')),
      ]);
    default:
      return result(target, 'fail', summary, details, [get, ...podCommands(rollout)]);
  }
}

function pausedResult(rollout: Rollout, info: RolloutInfo, details: StatusDetails, pausedSeconds: number | undefined, options: Options): CheckResult<StatusDetails> {
  const target = rolloutTarget(rollout);
  const reasons = details.pauseReasons.length > 0 ? details.pauseReasons : [info.message];
  const why = reasons.map((r) => PAUSE_REASON_TEXT[r] ?? r).join(', ');
  const position = positionText(info);
  if (pausedSeconds === undefined || pausedSeconds < options.pausedWarnAfter) {
    return result(target, 'ok', `Rollout ${target} is Paused${since(pausedSeconds)} on ${why}${position ? ` at ${position}` : ''}`, details);
  }
  const remediation: RemediationStep[] = [rolloutsCommand(rollout, 'get rollout')];
  if (reasons.includes('InconclusiveAnalysisRun')) remediation.push(analysisRunsCommand(rollout));
  remediation.push(
    rolloutsCommand(rollout, 'promote', [], { comment: 'advance past the current pause' }),
    rolloutsCommand(rollout, 'promote', ['--full'], { comment: 'skip all remaining steps' }),
    rolloutsCommand(rollout, 'abort', [], { comment: 'traffic back to stable, canary scaled down' }),
  );
  return result(
    target,
    'warn',
    `Rollout ${target} has been Paused${since(pausedSeconds)} (longer than ${formatDuration(options.pausedWarnAfter)}) on ${why}${position ? ` at ${position}` : ''}: promote it, promote --full, or abort`,
    details,
    remediation,
  );
}

function progressingResult(rollout: Rollout, info: RolloutInfo, details: StatusDetails, stuckSeconds: number | undefined, config: Config): CheckResult<StatusDetails> {
  const target = rolloutTarget(rollout);
  const options = config.checks['rollout-status'];
  const what = `${quote(info.message || 'no message')}${withPosition(info)}`;
  if (stuckSeconds === undefined || stuckSeconds <= options.stuckAfter) {
    return result(target, 'ok', `Rollout ${target} is Progressing: ${what}`, details);
  }
  details.stuck = true;
  if (UNOBSERVED_RULES.has(info.rule)) {
    return result(
      target,
      'warn',
      `Rollout ${target} has been Progressing with no progress for ${formatDuration(stuckSeconds)}: ${what}; the controller has not acted on it, so look at the controller (controller-pods, controller-plugins: a controller that cannot load its plugins never observes a spec change)`,
      details,
      [...controllerCommands(config), rolloutsCommand(rollout, 'get rollout')],
    );
  }
  return result(
    target,
    'warn',
    `Rollout ${target} has been Progressing with no progress for ${formatDuration(stuckSeconds)}: ${what}`,
    details,
    [rolloutsCommand(rollout, 'get rollout'), ...podCommands(rollout), analysisRunsCommand(rollout)],
  );
}

interface Listed<T> {
  items?: readonly T[];
  error?: string;
}

interface ReplicaSetView {
  list?: readonly ReplicaSet[];
  ownedBy?: (rollout: Rollout) => ReplicaSet[];
  error?: string;
}

function evaluate(rollout: Rollout, replicaSets: ReplicaSetView, experimentList: Listed<CustomObject>, ctx: CheckContext): CheckResult<StatusDetails> {
  const target = rolloutTarget(rollout);
  const options = ctx.config.checks['rollout-status'];
  const info = rolloutInfo(rollout, replicaSets.ownedBy?.(rollout));
  const nowMs = ctx.now.getTime();
  const secondsFrom = (ms: number | undefined) => (ms === undefined ? undefined : Math.max(0, Math.round((nowMs - ms) / 1000)));
  const phaseSince = phaseSinceMs(rollout, info.phase, info.message);
  const pausedSince = info.phase === 'Paused' ? pausedSinceMs(rollout) : undefined;
  const lastProgress = lastProgressMs(rollout);
  const details: StatusDetails = {
    namespace: rolloutNamespace(rollout),
    rollout: rolloutName(rollout),
    phase: info.phase,
    message: info.message,
    strategy: info.strategy || strategyOf(rollout),
    replicas: info.replicas,
    pauseReasons: pauseReasons(rollout),
    pausedSince: pausedSince === undefined ? null : new Date(pausedSince).toISOString(),
    abort: rollout.status?.abort === true,
  };
  if (info.step !== undefined) Object.assign(details, { step: info.step, stepIndex: info.stepIndex, stepCount: info.stepCount });
  if (info.setWeight !== undefined) details.setWeight = info.setWeight;
  if (info.actualWeight !== undefined) details.actualWeight = info.actualWeight;
  else if (info.strategy === 'Canary' && replicaSets.error) details.actualWeightUnknown = replicaSets.error;
  if (info.maxTrafficWeight !== undefined && info.maxTrafficWeight !== 100) details.maxTrafficWeight = info.maxTrafficWeight;
  if (experimentList.error && hasExperimentSteps(rollout)) details.experimentsUnknown = experimentList.error;
  const experiments = currentRevisionExperiments(rollout, experimentList.items ?? []).map((ex) => experimentState(ex, replicaSets.list));
  if (experiments.length > 0) details.experiments = experiments;
  const running = currentExperiment(rollout, info, experiments);
  const revision = revisionOf(rollout);
  if (revision !== undefined) details.revision = revision;
  if (rollout.status?.currentPodHash) details.currentPodHash = rollout.status.currentPodHash;
  if (rollout.status?.stableRS) details.stableRS = rollout.status.stableRS;
  if (phaseSince !== undefined) Object.assign(details, { phaseSince: new Date(phaseSince).toISOString(), secondsInPhase: secondsFrom(phaseSince) });
  if (lastProgress !== undefined) details.lastProgressAt = new Date(lastProgress).toISOString();
  const abortedAt = toIso(rollout.status?.abortedAt);
  if (abortedAt) details.abortedAt = abortedAt;

  let outcome: CheckResult<StatusDetails>;
  switch (info.phase) {
    case 'Healthy':
      outcome = result(target, 'ok', `Rollout ${target} is Healthy${withPosition(info)}, ${info.replicas.available}/${info.replicas.desired} available`, details);
      break;
    case 'Degraded':
      outcome = degradedResult(rollout, info, details);
      break;
    case 'Paused':
      outcome = pausedResult(rollout, info, details, secondsFrom(pausedSince ?? phaseSince), options);
      break;
    case 'Progressing':
      details.stuckSeconds = secondsFrom(lastProgress);
      outcome = progressingResult(rollout, info, details, secondsFrom(lastProgress), ctx.config);
      break;
    default:
      outcome = result(target, 'warn', `Rollout ${target} reports an unknown phase "${info.phase}": ${quote(info.message || 'no message')}`, details, [
        rolloutsCommand(rollout, 'get rollout'),
      ]);
  }
  if (running) outcome.summary += `; Experiment ${running.name} is ${running.phase}${running.message ? `: ${quote(running.message, 200)}` : ''}`;
  if (details.actualWeightUnknown) outcome.summary += ` (ActualWeight unknown: ${details.actualWeightUnknown})`;
  return outcome;
}

function hasExperimentSteps(rollout: Rollout): boolean {
  return (rollout.spec?.strategy?.canary?.steps ?? []).some((step) => step.experiment);
}

function missingExpected(target: string, config: Config): CheckResult<MissingDetails> {
  const [namespace, name] = target.split('/') as [string, string];
  const details: MissingDetails = { namespace, rollout: name, expected: true, exists: false };
  if (!namespaceFilter(config)(namespace)) {
    const reason = `expected Rollout ${target} is in namespace ${namespace}, which the config's namespaces.include/exclude leave out: not checked`;
    return result(target, 'unknown', reason, { ...details, reason }, [text(`Let namespaces.include/exclude in the config take ${namespace}, or remove ${target} from expectedRollouts`)]);
  }
  return result(target, 'fail', `Rollout ${target} does not exist (it is listed in expectedRollouts)`, details, [
    kubectl(['get', 'rollout', '-n', namespace]),
    kubectl(['get', 'rollout', '-A']),
    text('Check that Argo CD synced the app that owns it: ', kubectl(['get', 'applications', '-A'], { pipe: ['grep', name] })),
  ]);
}

/** A weight as a share of maxTrafficWeight (utils/weightutil: 100 unless the Rollout sets it). */
function ratio(weight: number | undefined, details: StatusDetails): number | undefined {
  return weight === undefined ? undefined : weight / (details.maxTrafficWeight ?? 100);
}

/** A Rollout that exists has a phase; an expected one that does not has no series. */
const numberSample = (d: Details, value: (s: StatusDetails) => number | undefined, scale = 1): Sample[] => {
  const n = 'phase' in d ? value(d) : undefined;
  return n === undefined ? [] : [{ labels: rolloutLabels(d), value: n * scale }];
};

export const REPLICA_STATES = ['desired', 'current', 'updated', 'ready', 'available'] as const;

export const metrics: MetricFamily<Details>[] = [
  {
    name: 'rollout_doctor_rollout_phase',
    help: 'Rollout phase as kubectl argo rollouts shows it: 1 for the current phase, 0 for the others.',
    labelNames: ['namespace', 'rollout', 'phase'],
    collect: (d) => ('phase' in d ? ROLLOUT_PHASES.map((phase) => ({ labels: { ...rolloutLabels(d), phase }, value: d.phase === phase ? 1 : 0 })) : []),
  },
  {
    name: 'rollout_doctor_rollout_phase_duration_seconds',
    help: 'Seconds the Rollout has been in its current phase, from its own timestamps.',
    labelNames: ['namespace', 'rollout'],
    collect: (d) => numberSample(d, (s) => s.secondsInPhase),
  },
  {
    name: 'rollout_doctor_rollout_current_step',
    help: 'status.currentStepIndex of a canary Rollout with steps.',
    labelNames: ['namespace', 'rollout'],
    collect: (d) => numberSample(d, (s) => s.stepIndex),
  },
  {
    name: 'rollout_doctor_rollout_steps',
    help: 'Number of canary steps in the Rollout spec.',
    labelNames: ['namespace', 'rollout'],
    collect: (d) => numberSample(d, (s) => s.stepCount),
  },
  {
    name: 'rollout_doctor_rollout_canary_set_weight_ratio',
    help: 'Canary weight the current step sets (SetWeight), 0..1 of maxTrafficWeight.',
    labelNames: ['namespace', 'rollout'],
    collect: (d) => numberSample(d, (s) => ratio(s.setWeight, s)),
  },
  {
    name: 'rollout_doctor_rollout_canary_actual_weight_ratio',
    help: 'Canary weight actually in effect (ActualWeight), 0..1 of maxTrafficWeight.',
    labelNames: ['namespace', 'rollout'],
    collect: (d) => numberSample(d, (s) => ratio(s.actualWeight, s)),
  },
  {
    name: 'rollout_doctor_rollout_replicas',
    help: 'Rollout replica counts by state (desired, current, updated, ready, available).',
    labelNames: ['namespace', 'rollout', 'state'],
    collect: (d) => ('phase' in d ? REPLICA_STATES.map((state) => ({ labels: { ...rolloutLabels(d), state }, value: d.replicas[state] })) : []),
  },
  {
    name: 'rollout_doctor_rollout_aborted',
    help: '1 when the Rollout is aborted (status.abort), else 0.',
    labelNames: ['namespace', 'rollout'],
    collect: (d) => ('phase' in d ? [{ labels: rolloutLabels(d), value: d.abort ? 1 : 0 }] : []),
  },
];

export const rolloutStatusCheck: Check<Details> = {
  id: 'rollout-status',
  description: 'Each Rollout\'s phase, message, step and weights exactly as kubectl argo rollouts shows them; stuck Progressing, long Paused and Degraded rollouts are reported with the runbook\'s commands.',
  needs: ['rollouts', 'replicasets', 'experiments'],
  metrics,
  async run(ctx) {
    // No Rollout list, no targets: let the runner report the reason.
    const rollouts = ctx.snapshot.list('rollouts');
    let replicaSets: readonly ReplicaSet[] | undefined;
    let replicaSetError: string | undefined;
    try {
      replicaSets = ctx.snapshot.list('replicasets');
    } catch (error) {
      replicaSetError = isKubeError(error) ? error.message : String(error);
      if (!rollouts.some(isActualWeightFromReplicaSets)) replicaSetError = undefined;
    }
    const experiments: Listed<CustomObject> = {};
    try {
      experiments.items = ctx.snapshot.list('experiments');
    } catch (error) {
      experiments.error = isKubeError(error) ? error.message : String(error);
    }
    const view: ReplicaSetView = { list: replicaSets, ownedBy: replicaSets && ownedReplicaSetsOf(replicaSets), error: replicaSetError };
    // In slices (src/slices.ts); a throw still fails the whole check, as it did in one go.
    const results: CheckResult<Details>[] = await mapWithConcurrency(rollouts, rollouts.length, async (rollout) => evaluate(rollout, view, experiments, ctx));
    const seen = new Set(results.map((r) => r.target));
    for (const expected of ctx.config.expectedRollouts) if (!seen.has(expected)) results.push(missingExpected(expected, ctx.config));
    return results.map(aboutTargetRollout);
  },
};
