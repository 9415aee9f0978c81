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
 * controller log (see src/argo/plugin-log.ts for upstream's wording), read bounded per controller pod and
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
import { containerLogLevel, controllerContainer, controllerContainerSpec, controllerPods, findControllerDeployment, HEAD_LOG, PREVIOUS_LOG } from './lib/controller.js';
import { type ControllerVersion, isAtLeast, logsInfoLines, resolveControllerVersion, versionText } from '../argo/controller.js';
import { type LogLine } from '../argo/controller-log.js';
import { quoteEnds } from '../text.js';
import { pluginErrorLines, readStartup, type StartupEvidence } from '../argo/plugin-log.js';
import { ciliumDownload404Steps } from './lib/gateway-api.js';
import {
  type ConfiguredPlugin,
  configInitError,
  configuredPlugins,
  controllerConfigMap,
  isDisabledStepPlugin,
  lookupPlugin,
  PLUGIN_KEYS,
  type PluginConfigProblem,
  type PluginKind,
  pluginKindsRead,
  type PluginReference,
  pluginReferences,
} from '../argo/plugins.js';
import { result, unknownResult } from './lib/results.js';
import { toMillis } from './lib/time.js';

/** The recent window's bounds besides its duration. */
const RECENT_LOG = { tailLines: 1000, limitBytes: 128 * 1024 };
/** Controller pods whose logs are read per cycle (HA controllers run 2, leader election picks one). */
const MAX_PODS = 3;

type Verdict = 'failed' | 'missing' | 'hidden' | 'unreadable' | 'not-running' | 'rotated' | 'downloaded';

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
  image?: string;
  logLevel: string;
  /** What `error` says, as thrown (an API error keeps its remediation). */
  cause?: unknown;
}

interface ControllerLogs {
  deployment?: string;
  namespace: string;
  pods: PodLog[];
  /** Set when the controller's pods could not be found or listed. */
  problem?: string;
  /** The running controller's version, from its starting line or image tag. */
  version: ControllerVersion;
  /** Its `--loglevel`. */
  logLevel: string;
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
  /** The controller version whose rules decided, and where it was read. */
  controllerVersion: ControllerVersion;
  /** The version-dependent rules applied (upstream file and versions). */
  rules?: string[];
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

async function readPodLog(ctx: CheckContext, namespace: string, pod: Pod, deployment: Deployment, plugins: readonly ConfiguredPlugin[], windowSeconds: number): Promise<PodLog> {
  const name = pod.metadata?.name ?? '';
  const status = controllerContainer(pod, deployment);
  const container = status?.name;
  const spec = controllerContainerSpec(pod.spec?.containers, deployment, container);
  const running = status?.state?.running;
  const out: PodLog = { pod: name, container, isRunning: Boolean(running), source: 'none', logLevel: containerLogLevel(spec) };
  if (spec?.image) out.image = spec.image;
  if (status?.state?.waiting?.reason) out.waitingReason = status.state.waiting.reason;
  const refs = plugins.map((p) => ({ name: p.name, kind: p.kind, location: p.location }));
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

/** The version and log level of the controller these pods run: a running pod's first, its starting line before its image tag. */
function runtimeOf(pods: readonly PodLog[], deployment: Deployment | undefined): Pick<ControllerLogs, 'version' | 'logLevel'> {
  const first = pods.find((p) => p.isRunning) ?? pods[0];
  const template = deployment ? controllerContainerSpec(deployment.spec?.template?.spec?.containers, deployment) : undefined;
  const image = first?.image ?? template?.image;
  const startingLine = pods.map((p) => p.startup?.startingLine).find(Boolean);
  const logLevel = first?.logLevel ?? containerLogLevel(template);
  const version = resolveControllerVersion({ image, startingLine });
  if (!startingLine && !logsInfoLines(logLevel)) version.note = [version.note, `--loglevel ${logLevel} hides the starting line: the image tag is the only source`].filter(Boolean).join('; ');
  return { version, logLevel };
}

async function readControllerLogs(ctx: CheckContext, plugins: readonly ConfiguredPlugin[], windowSeconds: number): Promise<ControllerLogs> {
  const namespace = ctx.config.controller.namespace;
  const none = { version: resolveControllerVersion({}), logLevel: 'info' };
  let deployment: Deployment | undefined;
  let pods: Pod[];
  try {
    deployment = findControllerDeployment(ctx);
    if (!deployment) return { namespace, pods: [], ...none, problem: `no Argo Rollouts controller Deployment found in namespace ${namespace}` };
    pods = controllerPods(ctx, deployment).filter((p) => !p.metadata?.deletionTimestamp);
  } catch (error) {
    return { namespace, pods: [], ...none, problem: (error as Error).message, cause: error };
  }
  const name = deployment.metadata?.name ?? ctx.config.controller.deployment;
  if (pods.length === 0) return { namespace, deployment: name, pods: [], ...runtimeOf([], deployment), problem: `controller Deployment ${namespace}/${name} has no pods` };
  const chosen = pods.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '')).slice(0, MAX_PODS);
  const logs = await Promise.all(chosen.map((pod) => readPodLog(ctx, namespace, pod, deployment!, plugins, windowSeconds)));
  return { namespace, deployment: name, pods: logs, ...runtimeOf(logs, deployment) };
}

function verdictOf(log: PodLog, plugin: string): Verdict {
  if (log.error) return 'unreadable';
  const startup = log.startup;
  if (startup?.failure?.plugins.includes(plugin)) return 'failed';
  if (!log.isRunning || !startup) return 'not-running';
  if (startup.downloads.has(plugin)) return 'downloaded';
  if (!logsInfoLines(log.logLevel)) return 'hidden';
  return startup.isContainerStart ? 'missing' : 'rotated';
}

const VERDICT_RANK: Record<Verdict, number> = { downloaded: 0, rotated: 1, hidden: 1, 'not-running': 2, unreadable: 3, missing: 4, failed: 5 };

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

/** What `disabled: true` does to this entry on this controller (types.go: "Only valid for a plugin of type Step"). */
function disabledNote(entry: ConfiguredPlugin, version: string): string | undefined {
  if (!entry.disabled) return undefined;
  if (!isAtLeast(version, '1.8.0')) return '`disabled` is not read before v1.8.0 (utils/plugin/types/types.go): the plugin is used';
  if (entry.kind !== 'step') return `\`disabled\` has no effect on a ${KIND_LABEL[entry.kind]} plugin (only step plugins can be disabled, rollout/steps/plugin/resolver.go): it is downloaded and used`;
  return 'disabled: the controller still downloads it, and each step using it passes without running it (status.canary.stepPluginStatuses[].disabled: true)';
}

interface Context {
  ctx: CheckContext;
  problems: readonly PluginConfigProblem[];
  logs: ControllerLogs;
  errors: Map<string, LogLine[]>;
  windowSeconds: number;
  hasConfigMap: boolean;
  /** Every configured plugin (for the config validation the controller runs at start). */
  plugins: readonly ConfiguredPlugin[];
}

function evaluatePlugin(c: Context, name: string, configured: ConfiguredPlugin[], refs: PluginReference[]): CheckResult<PluginDetails> {
  const { ctx, problems, logs, errors, windowSeconds } = c;
  const version = logs.version.version;
  const { namespace: cmNamespace, configMap } = ctx.config.controller;
  const cmRef = `ConfigMap ${cmNamespace}/${configMap}`;
  const referencedKinds = [...new Set(refs.map((r) => r.kind))];
  const read = pluginKindsRead(version);
  const readEntries = configured.filter((p) => read.includes(p.kind));
  const lookups = referencedKinds.map((kind) => ({ kind, ...lookupPlugin(configured, name, kind, version) }));
  const entry = lookups.map((l) => l.plugin).find(Boolean) ?? readEntries[0] ?? configured[0];
  const readWindows = logs.pods.filter((p) => p.recent !== undefined);
  const deployment = logs.deployment ?? ctx.config.controller.deployment;
  const restart = restartDeployment(logs.namespace, deployment);
  const pluginLog = controllerPluginLog(logs.namespace, deployment);
  const showConfigMap = configMapYaml(cmNamespace, configMap);
  const errorLines = errors.get(name) ?? [];
  const details: PluginDetails = {
    plugin: name,
    configured: readEntries.length > 0,
    referencedBy: refs.map((r) => `${r.by} ${r.referencedBy}`),
    controllerVersion: logs.version,
  };
  const rules = [...new Set(lookups.map((l) => l.rule))];
  if (rules.length > 0) details.rules = rules;
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
  const controller = `controller ${versionText(logs.version)}`;

  // Referenced but not configured: the homelab's canary that never ran. Needs no log.
  if (readEntries.length === 0 && refs.length > 0) {
    details.loaded = false;
    const kind = (referencedKinds[0] ?? 'trafficRouter') as PluginKind;
    const key = PLUGIN_KEYS[kind];
    const problem = problems.find((p) => p.key === key);
    const unread = configured.find((p) => !read.includes(p.kind));
    const why = !c.hasConfigMap
      ? `${cmRef} does not exist`
      : problem
        ? `${cmRef} key ${key} is unreadable (${problem.message})`
        : unread
          ? `configured only under ${PLUGIN_KEYS[unread.kind]} in ${cmRef}, which ${controller} does not read (stepPlugins since v1.8.0)`
          : `not configured in ${cmRef} (${key})`;
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
  if (readEntries.length === 0) {
    return result(name, 'ok', `Plugin ${name} is configured only under ${PLUGIN_KEYS[entry!.kind]}, which ${controller} does not read, and referenced by nothing`, { ...details, note: 'not read by this controller version, referenced by nothing' });
  }

  // The controller validates every name at start and exits on the first bad one (controller/controller.go).
  const initError = configInitError(c.plugins, version);
  if (initError?.plugin === name) {
    details.loaded = false;
    const logged = logs.pods.map((p) => p.startup?.failure).find((f) => f?.message.startsWith('Failed to init config'));
    const line = logged?.message ?? `Failed to init config: ${initError.message}`;
    details.failureLine = quoteEnds(line);
    return result(name, 'fail', `Controller cannot start with plugin ${name}: its name is not <namespace>/<name>, and the controller exits at start ${logged ? 'with' : 'with (expected)'} "${quoteEnds(line)}"`, details, [
      showConfigMap,
      text(`# Rename ${name} under ${PLUGIN_KEYS[entry!.kind]} in ${cmRef} to <namespace>/<name> (e.g. argoproj-labs/<name>), use the same name in the Rollouts, then: `, restart),
    ]);
  }

  // Used as a kind it is not configured as: from v1.8.0 the lookup matches name and type.
  const notFound = lookups.filter((l) => !l.plugin);
  if (notFound.length > 0) {
    details.loaded = false;
    const wanted = notFound.map((l) => l.kind);
    const users = refs.filter((r) => wanted.includes(r.kind));
    return result(
      name,
      'fail',
      `Plugin ${name} is configured as a ${KIND_LABEL[entry!.kind]} plugin (${PLUGIN_KEYS[entry!.kind]}) but ${referenceText(users)} use${users.length === 1 ? 's' : ''} it as a ${wanted.map((k) => KIND_LABEL[k]).join(' and ')} plugin: ${controller} looks plugins up by name and type, so it reports "plugin ${name} not configured in configmap"${errorsText}`,
      details,
      [showConfigMap, text(`# Move ${name} under ${PLUGIN_KEYS[wanted[0]!]} in ${cmRef}, then: `, restart), ...rolloutCommands(users), pluginLog],
    );
  }

  const notes: string[] = [];
  const disabled = disabledNote(entry!, version);
  if (disabled) notes.push(disabled);
  if (refs.length === 0) notes.push('configured but referenced by no Rollout or analysis template');
  if (!isAtLeast(version, '1.8.0') && referencedKinds.some((k) => k !== entry!.kind)) notes.push(`${controller} finds plugins by name only, whatever the key`);

  // Log evidence.
  if (logs.problem) {
    return unknownResult(
      name,
      new Error(`cannot read the controller log for plugin ${name}: ${logs.problem}`, { cause: logs.cause }),
      { ...details, ...(notes.length > 0 ? { note: notes.join('; ') } : {}) },
      logs.cause ? [] : [kubectl(['get', 'deployments,pods', '-n', logs.namespace])],
    );
  }
  const verdicts = logs.pods.map((p) => ({ pod: p, verdict: verdictOf(p, name) }));
  const worst = verdicts.reduce((a, b) => (VERDICT_RANK[b.verdict] > VERDICT_RANK[a.verdict] ? b : a));
  const podRef = `controller pod ${logs.namespace}/${worst.pod.pod}`;
  const location = entry!.location ?? '';
  if (worst.verdict === 'failed') {
    details.loaded = false;
    const failure = worst.pod.startup!.failure!;
    details.failureLine = quoteEnds(failure.message);
    const from = worst.pod.source === 'previous' ? `the previous container of ${podRef}${worst.pod.waitingReason ? ` (${worst.pod.waitingReason})` : ''}` : podRef;
    const isConfig = failure.message.startsWith('Failed to init config');
    return result(name, 'fail', `Controller cannot ${isConfig ? 'read its config for' : 'download'} plugin ${name} (${from}): "${quoteEnds(failure.message)}"`, details, [
      podLogs(logs.namespace, worst.pod.pod, worst.pod.container, worst.pod.source === 'previous'),
      ...(!isConfig && location.startsWith('http') ? [command(['curl', '-sSIL', location])] : []),
      showConfigMap,
      text(`# Fix ${isConfig ? `the ${PLUGIN_KEYS[entry!.kind]} entries` : `the location${entry!.sha256 ? ' or sha256' : ''} of ${name} under ${PLUGIN_KEYS[entry!.kind]}`} in ${cmRef}, then: `, restart),
      ...ciliumDownload404Steps(name, failure.message, location, cmRef),
    ]);
  }
  if (notes.length > 0) details.note = notes.join('; ');
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
  if (worst.verdict === 'hidden') notes.push(`the controller runs with --loglevel ${worst.pod.logLevel}, which hides the download lines: download not confirmed, no plugin errors seen`);
  if (notes.length > 0) details.note = notes.join('; ');
  const downloaded = verdicts.map((v) => v.pod.startup?.downloads.get(name)).find(Boolean);
  const how = downloaded ? ` (${downloaded.how === 'copy' ? 'copied from a file' : `downloaded${downloaded.took ? ` in ${downloaded.took}` : ''}`}${downloaded.time ? ` at ${downloaded.time}` : ''})` : '';
  const loadedText =
    worst.verdict === 'rotated'
      ? `configured; startup lines rotated out of the log of ${podRef}`
      : worst.verdict === 'hidden'
        ? `configured; ${podRef} runs with --loglevel ${worst.pod.logLevel}, which hides the download lines`
        : `loaded by ${logs.pods.length > 1 ? `${logs.pods.length} controller pods` : podRef}${how}`;
  const refText = refs.length > 0 ? `, used by ${referenceText(refs)}` : ', referenced by nothing';
  const skipped = isDisabledStepPlugin(entry!, version) ? ' (disabled: its steps pass without running it)' : '';
  return result(name, 'ok', `Plugin ${name} ${loadedText}${refText}${skipped}; no plugin errors in the last ${windowText(windowSeconds)}`, details);
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

  // The downloader loops over every configured plugin, disabled or not (utils/plugin/downloader.go).
  const logs = await readControllerLogs(ctx, plugins, windowSeconds);
  const routersOf = new Map<string, string[]>();
  for (const ref of references) if (ref.by === 'Rollout') routersOf.set(ref.referencedBy, [...(routersOf.get(ref.referencedBy) ?? []), ref.plugin]);
  const errors = new Map<string, LogLine[]>();
  for (const pod of logs.pods) {
    if (pod.recent === undefined) continue;
    for (const [plugin, lines] of pluginErrorLines(pod.recent, names, (rollout) => routersOf.get(rollout) ?? [])) errors.set(plugin, [...(errors.get(plugin) ?? []), ...lines]);
  }
  const context: Context = { ctx, problems, logs, errors, windowSeconds, hasConfigMap: configMap !== undefined, plugins };
  for (const name of names) {
    out.push(
      evaluatePlugin(
        context,
        name,
        plugins.filter((p) => p.name === name),
        references.filter((r) => r.plugin === name),
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
    help: 'Plugin error lines the controller logged about the plugin within the recent window (recentWindow): one per failed operation, its echoes not counted.',
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
