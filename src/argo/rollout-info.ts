/**
 * A Rollout's Status, Message, Step, SetWeight and ActualWeight exactly as
 * `kubectl argo rollouts get rollout` prints them (argoproj/argo-rollouts
 * utils/rollout/rolloututil.go GetRolloutPhase and CalculateRolloutPhase,
 * utils/replicaset/canary.go GetCurrentCanaryStep and GetCurrentSetWeight,
 * pkg/kubectl-argo-rollouts/info/rollout_info.go NewRolloutInfo and replicaset_info.go
 * GetReplicaSetInfo). Weights are in units of utils/weightutil/weight.go MaxTrafficWeight (v1.7.0+:
 * trafficRouting.maxTrafficWeight, else 100), with two deliberate divergences taken from Argo CD's
 * Rollout health.lua:
 *
 * - The reference-workload rule. The plugin applies it only when spec.templateResolvedFromRef is
 *   set, a field the controller sets in memory and never serializes, so on objects read from the API
 *   it never fires. We apply it as Argo CD's isWorkloadGenerationObserved does.
 * - Objects written by controllers before v1.0 (no status.phase, non-numeric
 *   status.observedGeneration): status.canary.stableRS stands in for an empty status.stableRS, and
 *   an empty stable hash does not hold back a blue-green rollout (Argo CD's getStableRS and its
 *   blue-green branch), where the plugin would call a finished rollout Progressing forever.
 *
 * Pure functions of the objects: no clock, no cluster.
 */
import { POD_TEMPLATE_HASH_LABEL, WORKLOAD_GENERATION_ANNOTATION } from './names.js';
import type { Condition, CustomObject, ReplicaSet, Rollout, RolloutStep } from '../kube/types.js';

export const ROLLOUT_PHASES = ['Healthy', 'Progressing', 'Paused', 'Degraded'] as const;
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];

/** Which upstream rule decided the phase (tests cite it; checks branch on it). */
export type PhaseRule =
  | 'generation-not-observed'
  | 'unpausing'
  | 'workload-generation-not-observed'
  | 'status-phase'
  | 'invalid-spec'
  | 'aborted'
  | 'progress-deadline-exceeded'
  | 'manually-paused'
  | 'pause-condition'
  | 'restarting'
  | 'more-replicas-need-updating'
  | 'updated-replicas-becoming-available'
  | 'active-service-cutover-pending'
  | 'waiting-for-analysis'
  | 'waiting-for-post-promotion-verification'
  | 'old-replicas-pending-termination'
  | 'waiting-for-steps'
  | 'healthy';

export interface PhaseResult {
  /** One of ROLLOUT_PHASES, or whatever a controller wrote into status.phase. */
  phase: string;
  message: string;
  rule: PhaseRule;
}

/** Analysis phases that count as completed (v1alpha1 AnalysisPhase.Completed). */
const COMPLETED_ANALYSIS_PHASES = new Set(['Successful', 'Failed', 'Error', 'Inconclusive']);

/** Go's strconv.Atoi: optional sign and decimal digits only. */
function atoi(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value !== 'string' || !/^[+-]?\d+$/.test(value)) return undefined;
  return Number(value);
}

/** Lua's tonumber on a string (decimal, float or hex; surrounding spaces allowed), as health.lua uses it. */
function luaToNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(text)) return Number.parseInt(text, 16);
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return Number(text);
  return undefined;
}

/** A list field as written, or [] when it is absent or not a list (`conditions: {}` exists in the wild). */
export function listOf<T>(value: T[] | undefined | unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

function hasObject(value: unknown): boolean {
  return value !== null && value !== undefined;
}

/** rolloututil.go isGenerationObserved: only a numeric observedGeneration (v0.10+) can lag. */
export function isGenerationObserved(rollout: Rollout): boolean {
  const observed = atoi(rollout.status?.observedGeneration ?? '');
  if (observed === undefined) return true;
  const generation = rollout.metadata.generation ?? 0;
  if (observed > generation) return true;
  return observed === generation;
}

/** A numeric observedGeneration marks a v0.10+ controller; anything else (v0.9 hashes, absent) is legacy. */
export function isLegacyStatus(rollout: Rollout): boolean {
  return !rollout.status?.phase && atoi(rollout.status?.observedGeneration ?? '') === undefined;
}

/** rolloututil.go IsUnpausing: the controller paused it and someone cleared the pause conditions. */
export function isUnpausing(rollout: Rollout): boolean {
  return rollout.status?.controllerPause === true && listOf(rollout.status?.pauseConditions).length === 0;
}

/** Argo CD health.lua isWorkloadGenerationObserved (see the file header for why not the plugin's). */
export function isWorkloadGenerationObserved(rollout: Rollout): boolean {
  const annotations = rollout.metadata.annotations;
  if (!hasObject(rollout.spec?.workloadRef) || !annotations) return true;
  return luaToNumber(annotations[WORKLOAD_GENERATION_ANNOTATION]) === luaToNumber(rollout.status?.workloadObservedGeneration);
}

function stableHash(rollout: Rollout, isLegacy: boolean): string {
  const stable = rollout.status?.stableRS ?? '';
  if (stable === '' && isLegacy) return rollout.status?.canary?.stableRS ?? '';
  return stable;
}

function isWaitingForPostPromotionAnalysis(rollout: Rollout): boolean {
  if (!hasObject(rollout.spec?.strategy?.blueGreen?.postPromotionAnalysis)) return false;
  const run = rollout.status?.blueGreen?.postPromotionAnalysisRunStatus;
  return !run || !COMPLETED_ANALYSIS_PHASES.has(run.status ?? '');
}

function sameInstant(a: unknown, b: unknown): boolean {
  const ms = (v: unknown) => (typeof v === 'string' ? Date.parse(v) : Number.NaN);
  return ms(a) === ms(b);
}

/** rolloututil.go CalculateRolloutPhase, the client-side rules for controllers before v1.0. */
function calculatePhase(rollout: Rollout): PhaseResult {
  const spec = rollout.spec ?? {};
  const status = rollout.status ?? {};
  for (const condition of listOf<Condition>(status.conditions)) {
    if (condition.type === 'InvalidSpec') return { phase: 'Degraded', message: `InvalidSpec: ${condition.message ?? ''}`, rule: 'invalid-spec' };
    if (condition.reason === 'RolloutAborted') return { phase: 'Degraded', message: `RolloutAborted: ${condition.message ?? ''}`, rule: 'aborted' };
    if (condition.reason === 'ProgressDeadlineExceeded') {
      return { phase: 'Degraded', message: `ProgressDeadlineExceeded: ${condition.message ?? ''}`, rule: 'progress-deadline-exceeded' };
    }
  }
  if (spec.paused === true) return { phase: 'Paused', message: 'manually paused', rule: 'manually-paused' };
  const firstPause = listOf<{ reason?: string }>(status.pauseConditions)[0];
  if (firstPause) return { phase: 'Paused', message: firstPause.reason ?? '', rule: 'pause-condition' };
  if (hasObject(spec.restartAt) && (!hasObject(status.restartedAt) || !sameInstant(spec.restartAt, status.restartedAt))) {
    return { phase: 'Progressing', message: 'rollout is restarting', rule: 'restarting' };
  }
  const updated = status.updatedReplicas ?? 0;
  if (updated < (spec.replicas ?? 1)) return { phase: 'Progressing', message: 'more replicas need to be updated', rule: 'more-replicas-need-updating' };
  if ((status.availableReplicas ?? 0) < updated) {
    return { phase: 'Progressing', message: 'updated replicas are still becoming available', rule: 'updated-replicas-becoming-available' };
  }
  const current = status.currentPodHash ?? '';
  const isLegacy = isLegacyStatus(rollout);
  const stable = stableHash(rollout, isLegacy);
  if (hasObject(spec.strategy?.blueGreen)) {
    const active = status.blueGreen?.activeSelector ?? '';
    if (active === '' || active !== current) return { phase: 'Progressing', message: 'active service cutover pending', rule: 'active-service-cutover-pending' };
    const isHeldBack = isLegacy ? stable !== '' && stable !== current : stable === '' || stable !== current;
    if (isHeldBack) {
      if (isWaitingForPostPromotionAnalysis(rollout)) return { phase: 'Progressing', message: 'waiting for analysis to complete', rule: 'waiting-for-analysis' };
      return { phase: 'Progressing', message: 'waiting for post-promotion verification to complete', rule: 'waiting-for-post-promotion-verification' };
    }
  } else if (hasObject(spec.strategy?.canary)) {
    if (!hasObject(spec.strategy?.canary?.trafficRouting) && (status.replicas ?? 0) > updated) {
      return { phase: 'Progressing', message: 'old replicas are pending termination', rule: 'old-replicas-pending-termination' };
    }
    if (stable === '' || stable !== current) return { phase: 'Progressing', message: 'waiting for all steps to complete', rule: 'waiting-for-steps' };
  }
  return { phase: 'Healthy', message: '', rule: 'healthy' };
}

/** rolloututil.go GetRolloutPhase, in its order of rules (workload rule as Argo CD applies it). */
export function rolloutPhase(rollout: Rollout): PhaseResult {
  if (!isGenerationObserved(rollout)) return { phase: 'Progressing', message: 'waiting for rollout spec update to be observed', rule: 'generation-not-observed' };
  if (isUnpausing(rollout)) return { phase: 'Progressing', message: 'waiting for rollout to unpause', rule: 'unpausing' };
  if (!isWorkloadGenerationObserved(rollout)) {
    return { phase: 'Progressing', message: 'waiting for rollout spec update to be observed for the reference workload', rule: 'workload-generation-not-observed' };
  }
  if (rollout.status?.phase) return { phase: rollout.status.phase, message: rollout.status.message ?? '', rule: 'status-phase' };
  return calculatePhase(rollout);
}

/** canary.go GetCurrentCanaryStep: the step at status.currentStepIndex (0 when unset), null past the end. */
export function currentCanaryStep(rollout: Rollout): { step: RolloutStep | null; index: number | null } {
  const steps = listOf<RolloutStep>(rollout.spec?.strategy?.canary?.steps);
  if (!hasObject(rollout.spec?.strategy?.canary) || steps.length === 0) return { step: null, index: null };
  const index = rollout.status?.currentStepIndex ?? 0;
  if (index >= steps.length) return { step: null, index };
  return { step: steps[index] ?? null, index };
}

/**
 * utils/weightutil/weight.go MaxTrafficWeight (v1.7.0+, same through v1.10.0-rc1): the weight a
 * fully promoted canary gets, `trafficRouting.maxTrafficWeight` when set, else 100. setWeight steps,
 * SetWeight and ActualWeight are in its units.
 */
export function maxTrafficWeight(rollout: Rollout): number {
  const configured = (rollout.spec?.strategy?.canary?.trafficRouting as { maxTrafficWeight?: unknown } | undefined)?.maxTrafficWeight;
  return typeof configured === 'number' ? configured : 100;
}

/** canary.go GetCurrentSetWeight: 0 when aborted, MaxTrafficWeight past the last step, else the last setWeight so far. */
export function currentSetWeight(rollout: Rollout): number {
  if (rollout.status?.abort === true) return 0;
  const { step, index } = currentCanaryStep(rollout);
  if (!step || index === null) return maxTrafficWeight(rollout);
  const steps = listOf<RolloutStep>(rollout.spec?.strategy?.canary?.steps);
  for (let i = index; i >= 0; i--) {
    const weight = steps[i]?.setWeight;
    if (weight !== undefined && weight !== null) return weight;
  }
  return 0;
}

function isOwnedBy(object: { metadata?: { ownerReferences?: { uid?: string }[] } }, uid: string | undefined): boolean {
  return (object.metadata?.ownerReferences ?? []).some((ref) => ref.uid === uid);
}

/**
 * rollout_info.go: ActualWeight. MaxTrafficWeight past the last step; with traffic routing the
 * weight the controller recorded (else SetWeight); without, the canary ReplicaSet's share of
 * available pods (replicaset_info.go marks a ReplicaSet canary when its hash is currentPodHash and
 * not stableRS), in units of MaxTrafficWeight.
 */
export function actualWeight(rollout: Rollout, replicaSets: readonly ReplicaSet[], setWeight = currentSetWeight(rollout)): number {
  const { step } = currentCanaryStep(rollout);
  const max = maxTrafficWeight(rollout);
  if (!step) return max;
  const available = rollout.status?.availableReplicas ?? 0;
  if (available <= 0) return 0;
  if (!hasObject(rollout.spec?.strategy?.canary?.trafficRouting)) {
    let weight = 0;
    for (const rs of replicaSets) {
      if (!isOwnedBy(rs, rollout.metadata.uid)) continue;
      const hash = rs.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL] ?? '';
      if (hash === (rollout.status?.stableRS ?? '')) continue;
      if (hash !== (rollout.status?.currentPodHash ?? '')) continue;
      weight = Math.trunc(((rs.status?.availableReplicas ?? 0) * max) / available);
    }
    return weight;
  }
  const weights = rollout.status?.canary?.weights;
  if (hasObject(weights)) return weights?.canary?.weight ?? 0;
  return setWeight;
}

/** Whether ActualWeight is read from ReplicaSets (so a failed ReplicaSet list leaves it unknown). */
export function isActualWeightFromReplicaSets(rollout: Rollout): boolean {
  return (
    hasObject(rollout.spec?.strategy?.canary) &&
    currentCanaryStep(rollout).step !== null &&
    (rollout.status?.availableReplicas ?? 0) > 0 &&
    !hasObject(rollout.spec?.strategy?.canary?.trafficRouting)
  );
}

export interface RolloutReplicas {
  desired: number;
  current: number;
  updated: number;
  ready: number;
  available: number;
}

export interface RolloutInfo extends PhaseResult {
  /** The plugin's Strategy line: '' when the spec has neither canary nor blueGreen. */
  strategy: 'Canary' | 'BlueGreen' | '';
  /** "<currentStepIndex>/<steps>", absent when currentStepIndex is unset or there are no steps. */
  step?: string;
  stepIndex?: number;
  stepCount?: number;
  /** Canary only, in units of maxTrafficWeight. */
  setWeight?: number;
  /** Canary only, in units of maxTrafficWeight; absent when it needs ReplicaSets and none were given. */
  actualWeight?: number;
  /** Canary only: MaxTrafficWeight (100 unless trafficRouting.maxTrafficWeight says otherwise). */
  maxTrafficWeight?: number;
  replicas: RolloutReplicas;
}

/**
 * rollout_info.go NewRolloutInfo's status fields. `replicaSets` undefined means the ReplicaSets
 * could not be read: ActualWeight is then left out where it depends on them.
 */
export function rolloutInfo(rollout: Rollout, replicaSets: readonly ReplicaSet[] | undefined): RolloutInfo {
  const { phase, message, rule } = rolloutPhase(rollout);
  const status = rollout.status ?? {};
  const info: RolloutInfo = {
    phase,
    message,
    rule,
    strategy: hasObject(rollout.spec?.strategy?.canary) ? 'Canary' : hasObject(rollout.spec?.strategy?.blueGreen) ? 'BlueGreen' : '',
    replicas: {
      desired: rollout.spec?.replicas ?? 1,
      current: status.replicas ?? 0,
      updated: status.updatedReplicas ?? 0,
      ready: status.readyReplicas ?? 0,
      available: status.availableReplicas ?? 0,
    },
  };
  if (info.strategy === 'Canary') {
    const steps = listOf<RolloutStep>(rollout.spec?.strategy?.canary?.steps);
    if (status.currentStepIndex !== undefined && status.currentStepIndex !== null && steps.length > 0) {
      info.step = `${status.currentStepIndex}/${steps.length}`;
      info.stepIndex = status.currentStepIndex;
      info.stepCount = steps.length;
    }
    info.setWeight = currentSetWeight(rollout);
    info.maxTrafficWeight = maxTrafficWeight(rollout);
    if (replicaSets !== undefined || !isActualWeightFromReplicaSets(rollout)) info.actualWeight = actualWeight(rollout, replicaSets ?? [], info.setWeight);
  }
  return info;
}

/**
 * The ReplicaSets each Rollout owns (in its namespace, any owner reference with its UID: isOwnedBy),
 * for ActualWeight, in the list's order: indexed once per cycle by owner UID (filtering all
 * ReplicaSets for each of 1,000 Rollouts was a 30-50 ms block).
 */
export function ownedReplicaSetsOf(replicaSets: readonly ReplicaSet[]): (rollout: Rollout | CustomObject) => ReplicaSet[] {
  const byOwner = new Map<string | undefined, ReplicaSet[]>();
  for (const rs of replicaSets) {
    for (const uid of new Set((rs.metadata?.ownerReferences ?? []).map((ref) => ref.uid))) {
      let owned = byOwner.get(uid);
      if (!owned) byOwner.set(uid, (owned = []));
      owned.push(rs);
    }
  }
  return (rollout) => (byOwner.get(rollout.metadata.uid) ?? []).filter((rs) => rs.metadata?.namespace === rollout.metadata.namespace);
}
