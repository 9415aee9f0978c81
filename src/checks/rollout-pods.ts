/**
 * rollout-pods: the Rollout's ReplicaSets and the pods of its current one (and of the stable one
 * while they differ): containers waiting for a reason that will not clear by itself
 * (ImagePullBackOff, ErrImagePull, CrashLoopBackOff, CreateContainerConfigError, ...), pods Pending
 * because the scheduler cannot place them (PodScheduled=False, with its message), ReplicaSets that
 * cannot create pods (ReplicaFailure), recent restarts, and the pods' recent Warning events as
 * evidence (at most a few, newest first).
 *
 * Runbook: "Rollout pods not starting" (`kubectl get rs -n <ns> -l rollouts-pod-template-hash`,
 * `kubectl describe pod -n <ns> -l rollouts-pod-template-hash=<hash>`). Permissions: list rollouts,
 * replicasets and pods (rollouts-pod-template-hash) and events (Warning, of pods), cluster-wide.
 */
import { REVISION_ANNOTATION } from '../argo/names.js';
import { kubectl, type RemediationStep, text } from '../engine/remediation.js';
import type { Check, CheckContext, CheckResult, MetricFamily, Sample, UnknownDetails } from '../engine/types.js';
import type { ReplicaSet, Rollout } from '../kube/types.js';
import { describePodsByHash, podLogs, replicaSetsByHash } from './lib/commands.js';
import { quote } from '../text.js';
import {
  describePod,
  eventTimeMs,
  FAILING_WAITING_REASONS,
  type PodReport,
  podWarningEvents,
  replicaSetHash,
  replicaSetPods,
  rolloutReplicaSets,
} from './lib/pods.js';
import { result } from './lib/results.js';
import { evaluateRollouts, rolloutLabels, type RolloutRef, rolloutsCommand } from './lib/rollout.js';
import { rolloutName, rolloutNamespace, rolloutTarget } from '../argo/rollout-spec.js';

/** A restart within this window is recent. */
const RECENT_RESTART_SECONDS = 3600;
/** Warning events newer than this are reported. */
const RECENT_EVENT_SECONDS = 3600;
/** Pods this long not Ready, or Pending, are worth a warning. */
const STARTUP_GRACE_SECONDS = 300;
const MAX_EVENTS = 5;
const MAX_PODS_IN_DETAILS = 20;

/** The bounded set of problem reasons the metric reports (one series each, always). */
export const PROBLEM_REASONS = ['ImagePullBackOff', 'ErrImagePull', 'CrashLoopBackOff', 'CreateContainerConfigError', 'CreateContainerError', 'Unschedulable', 'OtherWaiting', 'Pending', 'NotReady'] as const;
type ProblemReason = (typeof PROBLEM_REASONS)[number];

type ReplicaSetRole = 'current' | 'stable';

interface ReplicaSetReport {
  name: string;
  hash?: string;
  role: ReplicaSetRole | 'old';
  revision?: string;
  desired: number;
  ready: number;
  available: number;
  replicaFailure?: string;
}

interface PodEntry extends PodReport {
  replicaSet: string;
  role: ReplicaSetRole;
  hash: string;
}

interface EventReport {
  pod: string;
  reason?: string;
  message: string;
  count: number;
  lastSeen?: string;
  secondsAgo?: number;
}

interface PodsDetails extends RolloutRef {
  currentHash: string | null;
  stableHash: string | null;
  replicaSets: ReplicaSetReport[];
  pods: PodEntry[];
  podCount: number;
  readyPods: Record<ReplicaSetRole, number>;
  restarts: number;
  /** Pods per problem reason, every reason present. */
  problems: Record<string, number>;
  eventsError?: string;
  events?: EventReport[];
  recentWarningEvents?: number;
}

type Details = PodsDetails | UnknownDetails;

function problemReason(pod: PodEntry): ProblemReason | undefined {
  if (pod.terminating) return undefined;
  if (pod.waiting) {
    const reason = pod.waiting.reason;
    if ((PROBLEM_REASONS as readonly string[]).includes(reason)) return reason as ProblemReason;
    return FAILING_WAITING_REASONS.has(reason) ? 'OtherWaiting' : undefined;
  }
  if (pod.unschedulable) return 'Unschedulable';
  if (pod.phase === 'Pending' && (pod.ageSeconds ?? 0) > STARTUP_GRACE_SECONDS) return 'Pending';
  if (pod.phase === 'Running' && !pod.ready && (pod.ageSeconds ?? 0) > STARTUP_GRACE_SECONDS) return 'NotReady';
  return undefined;
}

function replicaSetReport(rs: ReplicaSet, role: ReplicaSetReport['role']): ReplicaSetReport {
  const report: ReplicaSetReport = {
    name: rs.metadata?.name ?? '',
    role,
    desired: rs.spec?.replicas ?? 0,
    ready: rs.status?.readyReplicas ?? 0,
    available: rs.status?.availableReplicas ?? 0,
  };
  const hash = replicaSetHash(rs);
  if (hash) report.hash = hash;
  const revision = rs.metadata?.annotations?.[REVISION_ANNOTATION];
  if (revision) report.revision = revision;
  const failure = rs.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  if (failure) report.replicaFailure = quote(`${failure.reason ? `${failure.reason}: ` : ''}${failure.message ?? ''}`, 300);
  return report;
}

function recentEvents(ctx: CheckContext, namespace: string, pods: PodEntry[]): { events: EventReport[]; total: number } | { error: string } {
  const cutoff = ctx.now.getTime() - RECENT_EVENT_SECONDS * 1000;
  const found: { at: number; event: EventReport }[] = [];
  try {
    for (const pod of pods) {
      for (const event of podWarningEvents(ctx.snapshot, namespace, pod.name)) {
        const at = eventTimeMs(event);
        if (at === undefined || at < cutoff) continue;
        const report: EventReport = { pod: pod.name, message: quote(event.message ?? '', 200), count: event.count ?? event.series?.count ?? 1, lastSeen: new Date(at).toISOString(), secondsAgo: Math.max(0, Math.round((ctx.now.getTime() - at) / 1000)) };
        if (event.reason) report.reason = event.reason;
        found.push({ at, event: report });
      }
    }
  } catch (error) {
    return { error: (error as Error).message };
  }
  found.sort((a, b) => b.at - a.at);
  return { events: found.slice(0, MAX_EVENTS).map((f) => f.event), total: found.length };
}

function describeProblem(pod: PodEntry, reason: ProblemReason): string {
  const where = `pod ${pod.name} (${pod.role} ReplicaSet ${pod.replicaSet})`;
  switch (reason) {
    case 'Unschedulable':
      return `${where} is Pending: ${pod.unschedulable!.reason}${pod.unschedulable!.message ? `: ${pod.unschedulable!.message}` : ''}`;
    case 'Pending':
      return `${where} has been Pending for ${pod.ageSeconds} s`;
    case 'NotReady':
      return `${where} has been Running but not Ready for ${pod.ageSeconds} s`;
    default: {
      const waiting = pod.waiting!;
      const restarts = waiting.reason === 'CrashLoopBackOff' ? ` (${pod.restarts} restarts${pod.lastTermination?.exitCode !== undefined ? `, last exit ${pod.lastTermination.exitCode}${pod.lastTermination.reason ? ` ${pod.lastTermination.reason}` : ''}` : ''})` : '';
      return `${where} container ${waiting.container} is ${waiting.reason}${restarts}${waiting.message ? `: ${waiting.message}` : ''}`;
    }
  }
}

function evaluate(ctx: CheckContext, rollout: Rollout): CheckResult<PodsDetails> {
  const target = rolloutTarget(rollout);
  const namespace = rolloutNamespace(rollout);
  const replicaSets = rolloutReplicaSets(ctx.snapshot, rollout);
  const currentHash = rollout.status?.currentPodHash || (replicaSets[0] ? replicaSetHash(replicaSets[0]) : undefined);
  const stableHash = rollout.status?.stableRS || rollout.status?.canary?.stableRS || undefined;
  const roleOf = (rs: ReplicaSet): ReplicaSetReport['role'] => (replicaSetHash(rs) === currentHash ? 'current' : replicaSetHash(rs) === stableHash ? 'stable' : 'old');
  const rsReports = replicaSets.map((rs) => replicaSetReport(rs, roleOf(rs)));
  const examined = replicaSets.filter((rs) => roleOf(rs) !== 'old');
  const pods: PodEntry[] = examined.flatMap((rs) =>
    replicaSetPods(ctx.snapshot, rs).map((pod) => ({ ...describePod(pod, ctx.now), replicaSet: rs.metadata?.name ?? '', role: roleOf(rs) as ReplicaSetRole, hash: replicaSetHash(rs) ?? '' })),
  );
  pods.sort((a, b) => (a.role === b.role ? a.name.localeCompare(b.name) : a.role === 'current' ? -1 : 1));
  const live = pods.filter((p) => !p.terminating);
  const problems = new Map<ProblemReason, number>(PROBLEM_REASONS.map((r) => [r, 0]));
  const withProblem = live.flatMap((pod) => {
    const reason = problemReason(pod);
    if (!reason) return [];
    problems.set(reason, problems.get(reason)! + 1);
    return [{ pod, reason }];
  });
  const events = recentEvents(ctx, namespace, live);
  const recentlyRestarted = live.filter((p) => p.lastTermination?.secondsAgo !== undefined && p.lastTermination.secondsAgo <= RECENT_RESTART_SECONDS);
  const readyOf = (role: ReplicaSetRole) => live.filter((p) => p.role === role && p.ready).length;
  const details: PodsDetails = {
    namespace,
    rollout: rolloutName(rollout),
    currentHash: currentHash ?? null,
    stableHash: stableHash ?? null,
    replicaSets: rsReports,
    pods: pods.slice(0, MAX_PODS_IN_DETAILS),
    podCount: pods.length,
    readyPods: { current: readyOf('current'), stable: readyOf('stable') },
    restarts: live.reduce((sum, p) => sum + p.restarts, 0),
    problems: Object.fromEntries(problems),
  };
  if ('error' in events) details.eventsError = events.error;
  else {
    details.events = events.events;
    details.recentWarningEvents = events.total;
  }

  const focus = withProblem[0]?.pod ?? recentlyRestarted[0];
  const focusHash = focus?.hash ?? currentHash;
  const remediation: RemediationStep[] = [];
  if (focusHash) remediation.push(describePodsByHash(namespace, focusHash));
  remediation.push(replicaSetsByHash(namespace));
  const crashed = focus && (focus.waiting?.reason === 'CrashLoopBackOff' || focus.restarts > 0) ? focus : undefined;
  if (crashed) remediation.push(podLogs(namespace, crashed.name, crashed.lastTermination?.container, true));
  const backToStable = text(rolloutsCommand(rollout, 'abort'), '   # back to the stable ReplicaSet while the new revision is fixed');
  const isCanaryRevisionBroken = focus?.role === 'current' && currentHash !== stableHash && stableHash !== undefined;
  if (isCanaryRevisionBroken) remediation.push(backToStable);

  const failing = withProblem.filter(({ reason }) => reason !== 'Pending' && reason !== 'NotReady');
  const replicaFailure = rsReports.find((r) => r.role !== 'old' && r.replicaFailure);
  const firstEvent = 'error' in events ? undefined : events.events[0];
  const eventHint = firstEvent ? `; last Warning event: ${firstEvent.reason ?? 'Warning'}: ${firstEvent.message}` : '';
  if (failing.length > 0) {
    const { pod, reason } = failing[0]!;
    const more = failing.length > 1 ? ` (${failing.length} pods with problems)` : '';
    return result(target, 'fail', `Rollout ${target}: ${describeProblem(pod, reason)}${more}`, details, remediation);
  }
  if (replicaFailure) {
    remediation.unshift(kubectl(['describe', 'rs', replicaFailure.name, '-n', namespace]));
    if (replicaFailure.role === 'current' && currentHash !== stableHash && stableHash !== undefined && !isCanaryRevisionBroken) remediation.push(backToStable);
    return result(target, 'fail', `Rollout ${target}: ${replicaFailure.role} ReplicaSet ${replicaFailure.name} cannot create pods: ${replicaFailure.replicaFailure}`, details, remediation);
  }
  if (withProblem.length > 0) {
    const { pod, reason } = withProblem[0]!;
    return result(target, 'warn', `Rollout ${target}: ${describeProblem(pod, reason)}${eventHint}`, details, remediation);
  }
  const current = rsReports.find((r) => r.role === 'current');
  if (current && current.desired > 0 && live.filter((p) => p.role === 'current').length === 0) {
    return result(target, 'warn', `Rollout ${target}: ReplicaSet ${current.name} wants ${current.desired} pod(s) but none exist${eventHint}`, details, remediation);
  }
  if (recentlyRestarted.length > 0) {
    const pod = recentlyRestarted[0]!;
    const last = pod.lastTermination!;
    return result(
      target,
      'warn',
      `Rollout ${target}: pod ${pod.name} restarted ${last.secondsAgo} s ago (${pod.restarts} restarts, last ${last.reason ?? 'termination'}${last.exitCode !== undefined ? ` exit ${last.exitCode}` : ''})`,
      details,
      remediation,
    );
  }
  if (!current) return result(target, 'ok', `Rollout ${target} has no current ReplicaSet yet`, details);
  const stable = rsReports.find((r) => r.role === 'stable');
  const countOf = (role: ReplicaSetRole) => live.filter((p) => p.role === role).length;
  const stablePart = stable ? `, stable ReplicaSet ${stable.name} ${readyOf('stable')}/${countOf('stable')} pods Ready` : '';
  const currentPart = current.desired === 0 && countOf('current') === 0 ? `current ReplicaSet ${current.name} is scaled to 0` : `current ReplicaSet ${current.name} ${readyOf('current')}/${countOf('current')} pods Ready`;
  return result(target, 'ok', `Rollout ${target}: ${currentPart}${stablePart}`, details);
}

/** The families read an evaluated Rollout; one that could not be looked at has no series. */
const ofPods = (d: Details, samples: (p: PodsDetails) => Sample[]): Sample[] => ('podCount' in d ? samples(d) : []);

export const metrics: MetricFamily<Details>[] = [
  {
    name: 'rollout_doctor_rollout_pods_ready',
    help: 'Ready pods of the rollout\'s current and stable ReplicaSets.',
    labelNames: ['namespace', 'rollout', 'role'],
    collect: (d) => ofPods(d, (p) => Object.entries(p.readyPods).map(([role, value]) => ({ labels: { ...rolloutLabels(p), role }, value }))),
  },
  {
    name: 'rollout_doctor_rollout_pod_restarts',
    help: 'Sum of container restart counts over the pods of the rollout\'s current and stable ReplicaSets.',
    labelNames: ['namespace', 'rollout'],
    collect: (d) => ofPods(d, (p) => [{ labels: rolloutLabels(p), value: p.restarts }]),
  },
  {
    name: 'rollout_doctor_rollout_pods_with_problem',
    help: 'Pods of the current and stable ReplicaSets by problem (waiting reason, Unschedulable, long Pending or not Ready); only reasons some pod has are emitted.',
    labelNames: ['namespace', 'rollout', 'reason'],
    // Only reasons with pods: the alert rules and the dashboard read `> 0`, and the zeros were 9
    // series per Rollout (issue 17; kube-state-metrics' waiting reasons since v2.0, #1378).
    collect: (d) => ofPods(d, (p) => PROBLEM_REASONS.flatMap((reason) => ((p.problems[reason] ?? 0) > 0 ? [{ labels: { ...rolloutLabels(p), reason }, value: p.problems[reason]! }] : []))),
  },
  {
    name: 'rollout_doctor_rollout_pod_warning_events',
    help: 'Warning events of the rollout\'s pods in the last hour.',
    labelNames: ['namespace', 'rollout'],
    collect: (d) => ofPods(d, (p) => (p.recentWarningEvents === undefined ? [] : [{ labels: rolloutLabels(p), value: p.recentWarningEvents }])),
  },
];

export const rolloutPodsCheck: Check<Details> = {
  id: 'rollout-pods',
  description: "The pods of each Rollout's current (and stable) ReplicaSet start and become Ready: waiting reasons, scheduling, restarts, Warning events.",
  needs: ['rollouts', 'replicasets', 'pods', 'events'],
  metrics,
  async run(ctx) {
    const rollouts = ctx.snapshot.list('rollouts');
    return evaluateRollouts(rollouts, (rollout) => evaluate(ctx, rollout));
  },
};
