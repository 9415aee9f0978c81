/**
 * controller-pods: the Argo Rollouts controller Deployment is available and its pods are Running and
 * Ready. When a container crash-loops or restarted recently, its previous log is read (bounded) and
 * the last fatal/error line is quoted, because that line is the diagnosis (the homelab's 21 days of
 * `Failed to download plugins: ... response code Not Found`).
 *
 * Runbook: "Controller health" (`kubectl get pods -n argo-rollouts`, the controller log).
 * Permissions: list deployments (cluster), list pods (controller namespace), get pods/log there.
 */
import type { Config } from '../config/schema.js';
import { kubectl, type RemediationStep, text } from '../engine/remediation.js';
import type { Check, CheckContext, CheckResult, MetricFamily } from '../engine/types.js';
import { configMapYaml, controllerPluginLog, listPods, podLogs, restartDeployment } from './lib/commands.js';
import type { ContainerStatus, Pod } from '../kube/types.js';
import { controllerPods, findControllerDeployment, PREVIOUS_LOG } from './lib/controller.js';
import { lastFatalOrError } from '../argo/controller-log.js';
import { quote, quoteEnds } from '../text.js';
import { reasonOf, result } from './lib/results.js';
import { secondsSince, toMillis } from './lib/time.js';

const RECENT_RESTART_SECONDS = 3600;
/** Previous logs read per cycle at most (one per crashing pod, the first few). */
const MAX_LOG_READS = 3;

interface PodState {
  name: string;
  phase: string;
  ready: boolean;
  restarts: number;
  waitingReason?: string;
  waitingMessage?: string;
  lastTerminationReason?: string;
  exitCode?: number;
  lastTerminatedAt?: string;
  ageSeconds?: number;
  terminating?: boolean;
  /** Container whose previous log explains a crash. */
  crashedContainer?: string;
  restartedRecently: boolean;
}

/** No controller Deployment found: what was looked for. */
interface NotFoundDetails {
  namespace: string;
  expected: string;
  selector: string;
}

interface ControllerDetails {
  deployment: string;
  namespace: string;
  replicas: { desired: number; ready: number; available: number; updated: number };
  available: boolean;
  pods: PodState[];
  crashLooping: boolean;
  restarts: number;
  lastErrorLine?: string;
  logReadError?: string;
}

type Details = NotFoundDetails | ControllerDetails;

function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function podState(pod: Pod, now: Date): PodState {
  const statuses: ContainerStatus[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const waiting = statuses.find((s) => s.state?.waiting?.reason && s.state.waiting.reason !== 'PodInitializing' && s.state.waiting.reason !== 'ContainerCreating');
  const withLastState = [...statuses].filter((s) => s.lastState?.terminated).sort((a, b) => (toMillis(b.lastState?.terminated?.finishedAt) ?? 0) - (toMillis(a.lastState?.terminated?.finishedAt) ?? 0))[0];
  const lastTerminated = withLastState?.lastState?.terminated;
  const lastTerminatedAge = secondsSince(lastTerminated?.finishedAt, now);
  const restartedRecently = lastTerminatedAge !== undefined && lastTerminatedAge <= RECENT_RESTART_SECONDS;
  const crashing = statuses.find((s) => s.state?.waiting?.reason === 'CrashLoopBackOff') ?? (restartedRecently ? withLastState : undefined);
  const state: PodState = {
    name: pod.metadata?.name ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ready: isPodReady(pod),
    restarts: statuses.reduce((sum, s) => sum + (s.restartCount ?? 0), 0),
    restartedRecently,
  };
  if (waiting?.state?.waiting?.reason) state.waitingReason = waiting.state.waiting.reason;
  if (waiting?.state?.waiting?.message) state.waitingMessage = quote(waiting.state.waiting.message, 200);
  if (lastTerminated) {
    state.lastTerminationReason = lastTerminated.reason;
    state.exitCode = lastTerminated.exitCode;
    const at = toMillis(lastTerminated.finishedAt);
    if (at !== undefined) state.lastTerminatedAt = new Date(at).toISOString();
  }
  const age = secondsSince(pod.metadata?.creationTimestamp, now);
  if (age !== undefined) state.ageSeconds = age;
  if (pod.metadata?.deletionTimestamp) state.terminating = true;
  if (crashing?.name && (crashing.restartCount ?? 0) > 0) state.crashedContainer = crashing.name;
  return state;
}

function remediationFor(namespace: string, deploymentName: string, pod?: PodState, isPluginDownload = false, configMap?: string): RemediationStep[] {
  const steps: RemediationStep[] = [listPods(namespace)];
  if (pod) {
    steps.push(kubectl(['describe', 'pod', pod.name, '-n', namespace]));
    if (pod.restarts > 0) steps.push(podLogs(namespace, pod.name, pod.crashedContainer, true));
  }
  steps.push(controllerPluginLog(namespace, deploymentName));
  if (isPluginDownload && configMap) {
    steps.push(configMapYaml(namespace, configMap));
    steps.push(text(`Fix the plugin location in ConfigMap ${configMap} (the download failed), then restart: `, restartDeployment(namespace, deploymentName)));
  }
  return steps;
}

async function readCrashLine(ctx: CheckContext, namespace: string, pod: PodState): Promise<{ line?: string; error?: string }> {
  try {
    const text = await ctx.kube.podLog({ namespace, pod: pod.name, container: pod.crashedContainer, previous: true, ...PREVIOUS_LOG });
    const line = lastFatalOrError(text);
    return line ? { line: quoteEnds(line.message) } : {};
  } catch (error) {
    return { error: reasonOf(error) };
  }
}

async function evaluate(ctx: CheckContext, config: Config): Promise<CheckResult<Details>> {
  const { namespace, deployment: configuredName } = config.controller;
  const deployment = findControllerDeployment(ctx);
  if (!deployment) {
    const target = `${namespace}/${configuredName}`;
    return result(
      target,
      'fail',
      `Argo Rollouts controller Deployment not found in namespace ${namespace} (no Deployment ${configuredName}, none labelled ${config.controller.selector})`,
      { namespace, expected: configuredName, selector: config.controller.selector },
      [kubectl(['get', 'deploy', '-n', namespace]), listPods(namespace)],
    );
  }
  const name = deployment.metadata?.name ?? configuredName;
  const target = `${namespace}/${name}`;
  const pods = controllerPods(ctx, deployment)
    .map((p) => podState(p, ctx.now))
    .sort((a, b) => a.name.localeCompare(b.name));
  const live = pods.filter((p) => !p.terminating);
  const desired = deployment.spec?.replicas ?? 1;
  const ready = live.filter((p) => p.ready).length;
  const available = deployment.status?.availableReplicas ?? 0;
  const availableCondition = deployment.status?.conditions?.find((c) => c.type === 'Available');
  const isAvailable = availableCondition ? availableCondition.status === 'True' : available > 0;
  const crashLooping = live.filter((p) => p.waitingReason === 'CrashLoopBackOff');
  const waiting = live.filter((p) => p.waitingReason && p.waitingReason !== 'CrashLoopBackOff');
  const recentRestarts = live.filter((p) => p.restartedRecently);

  const details: ControllerDetails = {
    deployment: name,
    namespace,
    replicas: { desired, ready, available, updated: deployment.status?.updatedReplicas ?? 0 },
    available: isAvailable,
    pods,
    crashLooping: crashLooping.length > 0,
    restarts: live.reduce((sum, p) => sum + p.restarts, 0),
  };

  // Quote the crash reason from the previous container log of the pods that crashed.
  const toRead = [...crashLooping, ...recentRestarts.filter((p) => !crashLooping.includes(p))].filter((p) => p.crashedContainer).slice(0, MAX_LOG_READS);
  const quotes = await Promise.all(toRead.map((p) => readCrashLine(ctx, namespace, p)));
  const crashLine = quotes.find((q) => q.line)?.line;
  if (crashLine) details.lastErrorLine = crashLine;
  const logErrors = quotes.filter((q) => q.error).map((q) => q.error);
  if (logErrors.length > 0) details.logReadError = logErrors[0];
  const isPluginDownload = crashLine !== undefined && /plugin/i.test(crashLine);
  const firstBad = crashLooping[0] ?? waiting[0] ?? live.find((p) => !p.ready) ?? recentRestarts[0];
  const remediation = remediationFor(namespace, name, firstBad, isPluginDownload, config.controller.configMap);
  const quoted = crashLine ? `: "${crashLine}"` : '';

  if (crashLooping.length > 0) {
    const pod = crashLooping[0]!;
    const exit = pod.exitCode !== undefined ? `, last exit ${pod.exitCode}${pod.lastTerminationReason ? ` ${pod.lastTerminationReason}` : ''}` : '';
    return result(target, 'fail', `Controller pod ${namespace}/${pod.name} is CrashLoopBackOff (${pod.restarts} restarts${exit})${quoted}`, details, remediation);
  }
  if (desired === 0) {
    return result(target, 'fail', `Controller Deployment ${target} is scaled to 0 replicas: no controller is running`, details, [
      kubectl(['scale', `deploy/${name}`, '-n', namespace, '--replicas=1']),
      listPods(namespace),
    ]);
  }
  if (ready === 0) {
    const why = waiting[0] ? `: pod ${waiting[0].name} is ${waiting[0].waitingReason}${waiting[0].waitingMessage ? ` (${waiting[0].waitingMessage})` : ''}` : live.length === 0 ? ': no pods' : '';
    return result(target, 'fail', `Controller Deployment ${target} has no ready pod (0/${desired})${why}${quoted}`, details, remediation);
  }
  if (waiting.length > 0) {
    const pod = waiting[0]!;
    return result(target, 'fail', `Controller pod ${namespace}/${pod.name} is ${pod.waitingReason}${pod.waitingMessage ? `: ${pod.waitingMessage}` : ''}`, details, remediation);
  }
  if (!isAvailable) {
    return result(
      target,
      'fail',
      `Controller Deployment ${target} is not available${availableCondition?.message ? `: ${quote(availableCondition.message, 200)}` : ''}`,
      details,
      remediation,
    );
  }
  if (ready < desired || live.some((p) => !p.ready)) {
    return result(target, 'warn', `Controller Deployment ${target}: ${ready}/${desired} pods ready`, details, remediation);
  }
  if (recentRestarts.length > 0) {
    const pod = recentRestarts[0]!;
    return result(
      target,
      'warn',
      `Controller pod ${namespace}/${pod.name} restarted within the last hour (${pod.restarts} restarts, last ${pod.lastTerminationReason ?? 'termination'}${pod.exitCode !== undefined ? ` exit ${pod.exitCode}` : ''})${quoted}`,
      details,
      remediation,
    );
  }
  return result(target, 'ok', `Controller Deployment ${target} available: ${ready}/${desired} pods Running and Ready`, details);
}

const labelsOf = (d: ControllerDetails) => ({ namespace: d.namespace, deployment: d.deployment });
/** The families read a found Deployment; a missing one has no series. */
const ofDeployment = (d: Details, value: (d: ControllerDetails) => number) => ('replicas' in d ? [{ labels: labelsOf(d), value: value(d) }] : []);

export const metrics: MetricFamily<Details>[] = [
  {
    name: 'rollout_doctor_controller_desired_replicas',
    help: 'Replicas the Argo Rollouts controller Deployment wants.',
    labelNames: ['namespace', 'deployment'],
    collect: (d) => ofDeployment(d, (c) => c.replicas.desired),
  },
  {
    name: 'rollout_doctor_controller_ready_replicas',
    help: 'Controller pods Running and Ready.',
    labelNames: ['namespace', 'deployment'],
    collect: (d) => ofDeployment(d, (c) => c.replicas.ready),
  },
  {
    name: 'rollout_doctor_controller_container_restarts',
    help: 'Sum of container restart counts over the controller pods (as the kubelet reports them).',
    labelNames: ['namespace', 'deployment'],
    collect: (d) => ofDeployment(d, (c) => c.restarts),
  },
  {
    name: 'rollout_doctor_controller_crashlooping',
    help: '1 when a controller container is in CrashLoopBackOff, else 0.',
    labelNames: ['namespace', 'deployment'],
    collect: (d) => ofDeployment(d, (c) => (c.crashLooping ? 1 : 0)),
  },
];

export const controllerPodsCheck: Check<Details> = {
  id: 'controller-pods',
  description: 'The Argo Rollouts controller Deployment is available and its pods are Running and Ready; crash reasons are quoted from the previous log.',
  needs: ['deployments', 'controllerPods'],
  reads: ['pods/log'],
  metrics,
  async run(ctx) {
    // A failed list throws: the runner turns the target unknown (never fail for our own inability).
    ctx.snapshot.list('deployments');
    ctx.snapshot.list('controllerPods');
    return [await evaluate(ctx, ctx.config)];
  },
};
