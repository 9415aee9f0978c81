/**
 * controller-plugins: every plugin the Argo Rollouts controller is configured with is loaded by the
 * running controller, and every plugin a Rollout or analysis template references is configured.
 * Targets are the plugins of either set. The homelab lost 39 days to a canary whose traffic-router
 * plugin the ConfigMap no longer configured, and 21 days to a controller crash-looping on a plugin
 * download 404: both fail here, naming the Rollout and quoting the controller's own line.
 *
 * Configured plugins come from the controller ConfigMap (`trafficRouterPlugins`,
 * `metricProviderPlugins`, `stepPlugins`); references from Rollouts (traffic routers, step plugins)
 * and AnalysisTemplates/ClusterAnalysisTemplates (metric providers). Evidence comes from the
 * controller log (see lib/plugin-log.ts for upstream's wording), read bounded per controller pod and
 * cycle: the start of the current container's log (64 KiB: the download lines come first), a
 * recent window (`recentWindow`, last 1000 lines, 128 KiB) for runtime plugin errors, and, when the
 * container is not running, the end of the previous container's log (200 lines, 64 KiB). A
 * long-running controller's log may have rotated its startup lines away: when the log does not begin
 * at the container's start, a missing download line is not a failure.
 *
 * Runbook: "Controller health" (`kubectl logs -n argo-rollouts deploy/argo-rollouts | grep -i plugin`).
 * Permissions: list configmaps and pods (controller namespace), list deployments, rollouts,
 * analysistemplates, clusteranalysistemplates; get pods/log (controller namespace).
 */
import { command, doubleQuoted, kubectl, type RemediationStep, text } from '../engine/remediation.js';
import type { Check, CheckContext, CheckResult, MetricFamily, Sample } from '../engine/types.js';
import { argoRollouts, configMapYaml, controllerPluginLog, deploymentLogs, podLogs, restartDeployment } from './lib/commands.js';
import type { Deployment, Pod } from '../kube/types.js';
import { controllerContainer, controllerPods, findControllerDeployment, PREVIOUS_LOG } from './lib/controller.js';
import { type LogLine, quoteEnds } from './lib/logs.js';
import { pluginErrorLines, readStartup, type StartupEvidence } from './lib/plugin-log.js';
import {
  type ConfiguredPlugin,
  configuredPlugins,
  controllerConfigMap,
  PLUGIN_KEYS,
  type PluginConfigProblem,
  type PluginKind,
  type PluginReference,
  pluginReferences,
} from './lib/plugins.js';
import { result, unknownResult } from './lib/results.js';
import { toMillis } from './lib/time.js';

/** The start of the current container's log: the download lines come first. */
const HEAD_LOG = { limitBytes: 64 * 1024 };
/** The recent window's bounds besides its duration. */
const RECENT_LOG = { tailLines: 1000, limitBytes: 128 * 1024 };
/** Controller pods whose logs are read per cycle (HA controllers run 2, leader election picks one). */
const MAX_PODS = 3;

type Verdict = 'failed' | 'missing' | 'unreadable' | 'not-running' | 'rotated' | 'downloaded';

interface PodLog {
  pod: string;
  container?: string;
  isRunning: boolean;
  waitingReason?: string;
  /** Startup evidence: the current container's head when running, else the previous container's tail. */
  startup?: StartupEvidence;
  source: 'current' | 'previous' | 'none';
  startedAt?: string;
  recent?: string;
  error?: string;
  /** What `error` says, as thrown (an API error keeps its remediation). */
  cause?: unknown;
}

interface ControllerLogs {
  deployment?: string;
  namespace: string;
  pods: PodLog[];
  /** Set when the controller's pods could not be found or listed. */
  problem?: string;
  /** The error behind `problem`, when one was thrown. */
  cause?: unknown;
}

interface PluginDetails {
  plugin: string;
  configured: boolean;
  referencedBy: string[];
  kind?: PluginKind;
  configKey?: string;
  location?: string;
  sha256?: string;
  disabled?: boolean;
  recentErrorLines?: number;
  recentWindowSeconds?: number;
  lastErrorLine?: string;
  /** What each controller pod's log said about the plugin. */
  pods?: { pod: string; running: boolean; log: PodLog['source']; startedAt?: string; downloadedAt?: string; took?: string; how?: string; error?: string }[];
  /** Whether the running controller loaded it; absent when that could not be read. */
  loaded?: boolean;
  failureLine?: string;
  note?: string;
  /** Why the log evidence could not be read (the result is unknown). */
  reason?: string;
}

/** The controller ConfigMap's plugin keys cannot be read at all. */
interface ConfigProblemDetails {
  configMap: string;
  problems: { key: string; message: string }[];
}

type Details = PluginDetails | ConfigProblemDetails;

/** `10m`, `90s`, `2h`: the window as kubectl --since takes it. */
function windowText(seconds: number): string {
  if (seconds % 3600 === 0 && seconds > 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0 && seconds > 0) return `${seconds / 60}m`;
  return `${Math.round(seconds)}s`;
}

const KIND_LABEL: Record<PluginKind, string> = { trafficRouter: 'traffic router', metricProvider: 'metric provider', step: 'step' };

async function readPodLog(ctx: CheckContext, namespace: string, pod: Pod, deployment: Deployment, plugins: ConfiguredPlugin[], windowSeconds: number): Promise<PodLog> {
  const name = pod.metadata?.name ?? '';
  const status = controllerContainer(pod, deployment);
  const container = status?.name;
  const running = status?.state?.running;
  const out: PodLog = { pod: name, container, isRunning: Boolean(running), source: 'none' };
  if (status?.state?.waiting?.reason) out.waitingReason = status.state.waiting.reason;
  const refs = plugins.map((p) => ({ name: p.name, location: p.location }));
  try {
    if (running) {
      const [head, recent] = await Promise.all([
        ctx.kube.podLog({ namespace, pod: name, container, ...HEAD_LOG }),
        ctx.kube.podLog({ namespace, pod: name, container, sinceSeconds: windowSeconds, ...RECENT_LOG }),
      ]);
      const startedAtMs = toMillis(running.startedAt);
      if (startedAtMs !== undefined) out.startedAt = new Date(startedAtMs).toISOString();
      return { ...out, startup: readStartup(head, refs, startedAtMs), source: 'current', recent };
    }
    const terminated = status?.lastState?.terminated;
    if ((status?.restartCount ?? 0) > 0 && terminated) {
      // Same bounds as controller-pods: the cycle's memo serves both checks one request.
      const text = await ctx.kube.podLog({ namespace, pod: name, container, previous: true, ...PREVIOUS_LOG });
      const startedAtMs = toMillis(terminated.startedAt);
      if (startedAtMs !== undefined) out.startedAt = new Date(startedAtMs).toISOString();
      return { ...out, startup: readStartup(text, refs, startedAtMs), source: 'previous' };
    }
    return out;
  } catch (error) {
    return { ...out, error: (error as Error).message, cause: error };
  }
}

async function readControllerLogs(ctx: CheckContext, plugins: ConfiguredPlugin[], windowSeconds: number): Promise<ControllerLogs> {
  const namespace = ctx.config.controller.namespace;
  let deployment: Deployment | undefined;
  let pods: Pod[];
  try {
    deployment = findControllerDeployment(ctx);
    if (!deployment) return { namespace, pods: [], problem: `no Argo Rollouts controller Deployment found in namespace ${namespace}` };
    pods = controllerPods(ctx, deployment).filter((p) => !p.metadata?.deletionTimestamp);
  } catch (error) {
    return { namespace, pods: [], problem: (error as Error).message, cause: error };
  }
  const name = deployment.metadata?.name ?? ctx.config.controller.deployment;
  if (pods.length === 0) return { namespace, deployment: name, pods: [], problem: `controller Deployment ${namespace}/${name} has no pods` };
  const chosen = pods.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '')).slice(0, MAX_PODS);
  return { namespace, deployment: name, pods: await Promise.all(chosen.map((pod) => readPodLog(ctx, namespace, pod, deployment!, plugins, windowSeconds))) };
}

function verdictOf(log: PodLog, plugin: string): Verdict {
  if (log.error) return 'unreadable';
  const startup = log.startup;
  if (startup?.failure?.plugins.includes(plugin)) return 'failed';
  if (!log.isRunning || !startup) return 'not-running';
  if (startup.downloads.has(plugin)) return 'downloaded';
  return startup.isContainerStart ? 'missing' : 'rotated';
}

const VERDICT_RANK: Record<Verdict, number> = { downloaded: 0, rotated: 1, 'not-running': 2, unreadable: 3, missing: 4, failed: 5 };

function referenceText(refs: readonly PluginReference[]): string {
  const shown = refs.slice(0, 3).map((r) => `${r.by} ${r.referencedBy}`);
  return `${shown.join(', ')}${refs.length > 3 ? ` and ${refs.length - 3} more` : ''}`;
}

function rolloutCommands(refs: readonly PluginReference[]): RemediationStep[] {
  return refs
    .filter((r) => r.by === 'Rollout')
    .slice(0, 3)
    .map((r) => {
      const [namespace, name] = r.referencedBy.split('/') as [string, string];
      return argoRollouts('get rollout', namespace, name);
    });
}

function evaluatePlugin(
  ctx: CheckContext,
  name: string,
  configured: ConfiguredPlugin[],
  refs: PluginReference[],
  problems: readonly PluginConfigProblem[],
  logs: ControllerLogs,
  errors: Map<string, LogLine[]>,
  windowSeconds: number,
  hasConfigMap: boolean,
): CheckResult<PluginDetails> {
  const { namespace: cmNamespace, configMap } = ctx.config.controller;
  const cmRef = `ConfigMap ${cmNamespace}/${configMap}`;
  const referencedKinds = [...new Set(refs.map((r) => r.kind))];
  const entry = configured.find((p) => !p.disabled) ?? configured[0];
  const readWindows = logs.pods.filter((p) => p.recent !== undefined);
  const deployment = logs.deployment ?? ctx.config.controller.deployment;
  const restart = restartDeployment(logs.namespace, deployment);
  const pluginLog = controllerPluginLog(logs.namespace, deployment);
  const showConfigMap = configMapYaml(cmNamespace, configMap);
  const errorLines = errors.get(name) ?? [];
  const details: PluginDetails = {
    plugin: name,
    configured: configured.length > 0,
    referencedBy: refs.map((r) => `${r.by} ${r.referencedBy}`),
  };
  if (entry) {
    details.kind = entry.kind;
    details.configKey = PLUGIN_KEYS[entry.kind];
    if (entry.location) details.location = entry.location;
    if (entry.sha256) details.sha256 = entry.sha256;
    details.disabled = entry.disabled;
  } else if (referencedKinds.length > 0) {
    details.kind = referencedKinds[0];
  }
  if (readWindows.length > 0) {
    details.recentErrorLines = errorLines.length;
    details.recentWindowSeconds = windowSeconds;
  }
  if (errorLines.length > 0) details.lastErrorLine = quoteEnds(errorLines[errorLines.length - 1]!.message);
  details.pods = logs.pods.map((p) => {
    const d = p.startup?.downloads.get(name);
    return { pod: p.pod, running: p.isRunning, log: p.source, startedAt: p.startedAt, ...(d ? { downloadedAt: d.time, took: d.took, how: d.how } : {}), ...(p.error ? { error: p.error } : {}) };
  });
  const errorsText = errorLines.length > 0 ? `; the controller logged ${errorLines.length} plugin error line${errorLines.length === 1 ? '' : 's'} about it in the last ${windowText(windowSeconds)}` : '';

  // Referenced but not configured: the homelab's canary that never ran. Needs no log.
  if (configured.length === 0) {
    details.loaded = false;
    const kind = (referencedKinds[0] ?? 'trafficRouter') as PluginKind;
    const key = PLUGIN_KEYS[kind];
    const problem = problems.find((p) => p.key === key);
    const why = !hasConfigMap ? `${cmRef} does not exist` : problem ? `${cmRef} key ${key} is unreadable (${problem.message})` : `not configured in ${cmRef} (${key})`;
    return result(
      name,
      'fail',
      `Plugin ${name} is referenced by ${referenceText(refs)} but ${why}: ${kind === 'trafficRouter' ? 'its canary cannot set any traffic weight' : 'it cannot run'}${errorsText}`,
      details,
      [
        showConfigMap,
        text(`# Add under ${key} in ${cmRef}, then restart the controller (it downloads plugins only at startup):`),
        text(`  - name: ${name}`),
        text('    location: <URL or file:// path of the plugin binary>'),
        restart,
        ...rolloutCommands(refs),
        pluginLog,
      ],
    );
  }
  if (entry!.disabled) {
    details.loaded = false;
    if (refs.length > 0) {
      return result(name, 'fail', `Plugin ${name} is referenced by ${referenceText(refs)} but disabled in ${cmRef}`, details, [
        showConfigMap,
        text(`# Remove "disabled: true" from ${name} under ${PLUGIN_KEYS[entry!.kind]}, then: `, restart),
        ...rolloutCommands(refs),
      ]);
    }
    return result(name, 'ok', `Plugin ${name} is disabled in ${cmRef} and referenced by nothing`, { ...details, note: 'disabled, referenced by nothing' });
  }
  const notes: string[] = [];
  if (refs.length === 0) notes.push('configured but referenced by no Rollout or analysis template');
  const mismatched = referencedKinds.filter((k) => k !== entry!.kind);
  if (mismatched.length > 0) {
    details.loaded = false;
    return result(
      name,
      'warn',
      `Plugin ${name} is configured as a ${KIND_LABEL[entry!.kind]} plugin (${PLUGIN_KEYS[entry!.kind]}) but ${referenceText(refs)} use${refs.length === 1 ? 's' : ''} it as a ${mismatched.map((k) => KIND_LABEL[k]).join(' and ')} plugin`,
      details,
      [showConfigMap, text(`# Move ${name} under ${PLUGIN_KEYS[mismatched[0]!]} in ${cmRef}, then: `, restart)],
    );
  }

  // Log evidence.
  if (logs.problem) return unknownResult(name, new Error(`cannot read the controller log for plugin ${name}: ${logs.problem}`, { cause: logs.cause }), details, logs.cause ? [] : [kubectl(['get', 'deployments,pods', '-n', logs.namespace])]);
  const verdicts = logs.pods.map((p) => ({ pod: p, verdict: verdictOf(p, name) }));
  const worst = verdicts.reduce((a, b) => (VERDICT_RANK[b.verdict] > VERDICT_RANK[a.verdict] ? b : a));
  const podRef = `controller pod ${logs.namespace}/${worst.pod.pod}`;
  const location = entry!.location ?? '';
  if (worst.verdict === 'failed') {
    details.loaded = false;
    const failure = worst.pod.startup!.failure!;
    details.failureLine = quoteEnds(failure.message);
    const from = worst.pod.source === 'previous' ? `the previous container of ${podRef}${worst.pod.waitingReason ? ` (${worst.pod.waitingReason})` : ''}` : podRef;
    return result(name, 'fail', `Controller cannot download plugin ${name} (${from}): "${quoteEnds(failure.message)}"`, details, [
      podLogs(logs.namespace, worst.pod.pod, worst.pod.container, worst.pod.source === 'previous'),
      ...(location.startsWith('http') ? [command(['curl', '-sSIL', location])] : []),
      showConfigMap,
      text(`# Fix the location${entry!.sha256 ? ' or sha256' : ''} of ${name} under ${PLUGIN_KEYS[entry!.kind]} in ${cmRef}, then: `, restart),
    ]);
  }
  const startErrors = errorLines.filter((l) => /unable to (find plugin|start plugin system)|not configured in configmap/i.test(l.message));
  if (errorLines.length > 0) {
    details.loaded = startErrors.length === 0 && worst.verdict !== 'missing';
    return result(
      name,
      'fail',
      `Controller logged ${errorLines.length} error line${errorLines.length === 1 ? '' : 's'} for plugin ${name} in the last ${windowText(windowSeconds)}: "${details.lastErrorLine}"`,
      details,
      [pluginLog, deploymentLogs(logs.namespace, deployment, [`--since=${windowText(windowSeconds)}`], doubleQuoted(name)), ...(startErrors.length > 0 ? [restart] : []), ...rolloutCommands(refs)],
    );
  }
  if (worst.verdict === 'missing') {
    details.loaded = false;
    return result(
      name,
      'fail',
      `Plugin ${name} is configured but ${podRef} did not download it: its log starts at the container's start (${worst.pod.startedAt ?? 'unknown time'}) without "Downloading plugin ${name}", so the controller started before the plugin was configured`,
      details,
      [pluginLog, restart],
    );
  }
  if (worst.verdict === 'unreadable') return unknownResult(name, new Error(worst.pod.error, { cause: worst.pod.cause }), details);
  if (worst.verdict === 'not-running') {
    return unknownResult(
      name,
      new Error(`no running controller container to read the log of (${podRef}${worst.pod.waitingReason ? ` is ${worst.pod.waitingReason}` : ' is not running'}; see controller-pods)`),
      details,
      [kubectl(['describe', 'pod', worst.pod.pod, '-n', logs.namespace])],
    );
  }
  details.loaded = true;
  if (worst.verdict === 'rotated') notes.push("the controller log no longer holds its startup lines (rotated); download not confirmed, no plugin errors seen");
  const downloaded = verdicts.map((v) => v.pod.startup?.downloads.get(name)).find(Boolean);
  const how = downloaded ? ` (${downloaded.how === 'copy' ? 'copied from a file' : `downloaded${downloaded.took ? ` in ${downloaded.took}` : ''}`}${downloaded.time ? ` at ${downloaded.time}` : ''})` : '';
  const loadedText = worst.verdict === 'rotated' ? `configured; startup lines rotated out of the log of ${podRef}` : `loaded by ${logs.pods.length > 1 ? `${logs.pods.length} controller pods` : podRef}${how}`;
  if (notes.length > 0) details.note = notes.join('; ');
  const refText = refs.length > 0 ? `, used by ${referenceText(refs)}` : ', referenced by nothing';
  return result(name, 'ok', `Plugin ${name} ${loadedText}${refText}; no plugin errors in the last ${windowText(windowSeconds)}`, details);
}

function configProblemResult(ctx: CheckContext, problems: readonly PluginConfigProblem[]): CheckResult<ConfigProblemDetails> {
  const { namespace, configMap } = ctx.config.controller;
  const target = `${namespace}/${configMap}`;
  return result(
    target,
    'fail',
    `ConfigMap ${target}: ${problems.map((p) => p.message).join('; ')} (the controller cannot read its plugins)`,
    { configMap: target, problems: problems.map((p) => ({ key: p.key, message: p.message })) },
    [configMapYaml(namespace, configMap), deploymentLogs(namespace, ctx.config.controller.deployment, ['--tail=20'])],
  );
}

async function run(ctx: CheckContext): Promise<CheckResult<Details>[]> {
  const windowSeconds = ctx.config.checks['controller-plugins'].recentWindow;
  // Without the ConfigMap list or the references we cannot know the targets: let the error propagate.
  ctx.snapshot.list('configmaps');
  const configMap = controllerConfigMap(ctx.snapshot, ctx.config);
  const { plugins, problems } = configuredPlugins(configMap);
  const references = pluginReferences(ctx.snapshot);
  const names = [...new Set([...plugins.map((p) => p.name), ...references.map((r) => r.plugin)])].sort();
  const out: CheckResult<Details>[] = problems.length > 0 ? [configProblemResult(ctx, problems)] : [];
  if (names.length === 0) return out;

  const enabled = plugins.filter((p) => !p.disabled);
  const logs = await readControllerLogs(ctx, enabled, windowSeconds);
  const routersOf = new Map<string, string[]>();
  for (const ref of references) if (ref.by === 'Rollout') routersOf.set(ref.referencedBy, [...(routersOf.get(ref.referencedBy) ?? []), ref.plugin]);
  const errors = new Map<string, LogLine[]>();
  for (const pod of logs.pods) {
    if (pod.recent === undefined) continue;
    for (const [plugin, lines] of pluginErrorLines(pod.recent, names, (rollout) => routersOf.get(rollout) ?? [])) errors.set(plugin, [...(errors.get(plugin) ?? []), ...lines]);
  }
  for (const name of names) {
    out.push(
      evaluatePlugin(
        ctx,
        name,
        plugins.filter((p) => p.name === name),
        references.filter((r) => r.plugin === name),
        problems,
        logs,
        errors,
        windowSeconds,
        configMap !== undefined,
      ),
    );
  }
  return out;
}

/** A plugin's series; the ConfigMap problem result has none. */
function ofPlugin(d: Details, value: (p: PluginDetails) => number | undefined): Sample[] {
  if (!('plugin' in d)) return [];
  const n = value(d);
  return n === undefined ? [] : [{ labels: { plugin: d.plugin }, value: n }];
}

export const metrics: MetricFamily<Details>[] = [
  {
    name: 'rollout_doctor_plugin_loaded',
    help: '1 when the plugin is configured and the running controller loaded it (download line in its log, no start errors), else 0.',
    labelNames: ['plugin'],
    collect: (d) => ofPlugin(d, (p) => (p.loaded === undefined ? undefined : p.loaded ? 1 : 0)),
  },
  {
    name: 'rollout_doctor_plugin_recent_error_lines',
    help: 'Plugin error lines the controller logged about the plugin within the recent window (recentWindow).',
    labelNames: ['plugin'],
    collect: (d) => ofPlugin(d, (p) => p.recentErrorLines),
  },
];

export const controllerPluginsCheck: Check<Details> = {
  id: 'controller-plugins',
  description: 'Every plugin the controller is configured with is loaded by the running controller, and every plugin a Rollout or template references is configured.',
  needs: ['configmaps', 'deployments', 'controllerPods', 'rollouts', 'analysistemplates', 'clusteranalysistemplates'],
  reads: ['pods/log'],
  metrics,
  run,
};
