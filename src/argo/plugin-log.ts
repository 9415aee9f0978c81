/**
 * What the Argo Rollouts controller log says about its plugins, in upstream's own words (the same
 * texts at v1.7.2, v1.8.4, v1.9.1 and v1.10.0-rc1 unless a line says otherwise):
 *
 * - startup (utils/plugin/downloader.go, info level): `Downloading plugin <name> from: <location>`
 *   then `Download complete, it took <d>`, or `Copied plugin from <src> to <dst>` for file://
 *   locations. A `--loglevel` of warn or error hides them, and the starting line too.
 * - fatal at startup (controller/controller.go): `Failed to init config: <err>` (the ConfigMap cannot
 *   be read: a YAML error, or a name that is not `<namespace>/<name>`), then `Failed to download
 *   plugins: <err>` (the error names the location, or the plugin, or says `sha256 hash of downloaded
 *   plugin (<location>) does not match expected hash`). A 404 is such an error from v1.8.0
 *   (downloader.go isFailure); v1.7 writes the 404 body as the plugin and goes on.
 * - at runtime, traffic routers (rollout/trafficrouting/plugin/plugin.go): `failed to get traffic
 *   router plugin <name>: ...`, `failed to update hash via plugin: ...`, `failed to set weight via
 *   plugin: ...`, `failed to set header route via plugin: ...`, `failed to set mirror route via
 *   plugin: ...`, `failed to remove managed routes via plugin: ...`: rollout/trafficrouting.go
 *   returns each, so the reconcile fails and rollout/controller.go logs `roCtx.reconcile err <err>`
 *   (fields rollout, namespace). `failed to verify weight via plugin: ...` is not one of them: it
 *   only raises a WeightVerifyError event (`Failed to verify weight: ...`) and the reconcile goes on.
 * - the same error is echoed: utils/controller processNextWorkItem logs `rollout syncHandler error:
 *   <err>`, utils/record logs every event at its level with `event_reason=` (SetWeight raises
 *   TrafficRoutingError), and client-go's broadcaster logs `Event(v1.ObjectReference{...}): ...` at
 *   info. Only the first line of a failed reconcile is counted; step plugin errors
 *   (rollout/stepplugin.go handleError, v1.8.0+) exist only as their ReconciliationError event line.
 *
 * There is no "plugin registered" line: a download line in the current container's log is the
 * evidence that the running controller has the plugin.
 */
import { isStartingLine } from './controller.js';
import { logField, logLines, type LogLine } from './controller-log.js';
import type { PluginKind } from './plugins.js';

/** How late after the container's start its first log line may be and still be its start. */
const START_SLACK_MS = 120_000;

const DOWNLOADING = /^Downloading plugin (\S+) from: (\S+)/;
const COMPLETE = /^Download complete, it took (\S+)/;
const COPIED = /^Copied plugin from (\S+) to (\S+)/;
const FATAL = /^(Failed to download plugins|Failed to init config): /;

/** Runtime error phrases that concern plugins. */
const PLUGIN_ERROR_PHRASES = [
  'not configured in configmap',
  'unable to find plugin',
  'unable to start plugin system',
  'failed to get traffic router plugin',
  'failed to update hash via plugin',
  'failed to set weight via plugin',
  'failed to set header route via plugin',
  'failed to set mirror route via plugin',
  'failed to remove managed routes via plugin',
] as const;

/** A weight verification failure: an event, not a failed reconcile (rollout/trafficrouting.go). */
const VERIFY_WEIGHT = 'failed to verify weight';

/** Which `unmarshal ... plugins` error of InitializeConfig concerns which key. */
const UNMARSHAL_KIND: Record<string, PluginKind> = { 'traffic router': 'trafficRouter', 'metric provider': 'metricProvider', step: 'step' };

export interface PluginRef {
  name: string;
  kind?: PluginKind;
  location?: string;
}

export interface Download {
  how: 'download' | 'copy';
  location?: string;
  took?: string;
  time?: string;
}

export interface StartupEvidence {
  /** The text begins where the container began (its startup lines are in it). */
  isContainerStart: boolean;
  firstLineTime?: string;
  downloads: Map<string, Download>;
  /** The fatal startup line (config or download), and the plugins it concerns. */
  failure?: { message: string; time?: string; plugins: string[] };
  /** `Argo Rollouts [controller ]starting`, when the log has it. */
  startingLine?: LogLine;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether `message` names the plugin as a whole word (`argoproj-labs/cilium`, not `.../cilium-v2`). */
export function namesPlugin(message: string, name: string): boolean {
  return new RegExp(`(?<![\\w./-])${escape(name)}(?![\\w./-])`).test(message);
}

function timeMs(line: LogLine): number | undefined {
  const ms = line.time ? Date.parse(line.time) : Number.NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Reads the start of a container's log. `containerStartedAtMs` (state.running.startedAt or the
 * termination's startedAt) tells a log that begins at the container's start from a rotated one.
 */
export function readStartup(text: string, plugins: readonly PluginRef[], containerStartedAtMs?: number): StartupEvidence {
  const lines = logLines(text);
  const first = lines[0];
  const firstMs = first ? timeMs(first) : undefined;
  const startingLine = lines.find(isStartingLine);
  const isContainerStart = startingLine !== undefined || (firstMs !== undefined && containerStartedAtMs !== undefined && firstMs <= containerStartedAtMs + START_SLACK_MS);
  const evidence: StartupEvidence = { isContainerStart, downloads: new Map() };
  if (first?.time) evidence.firstLineTime = first.time;
  if (startingLine) evidence.startingLine = startingLine;
  let pending: { name: string; location: string } | undefined;
  for (const line of lines) {
    const message = line.message;
    const downloading = DOWNLOADING.exec(message);
    if (downloading) {
      pending = { name: downloading[1]!, location: downloading[2]! };
      continue;
    }
    const complete = COMPLETE.exec(message);
    if (complete && pending) {
      evidence.downloads.set(pending.name, { how: 'download', location: pending.location, took: complete[1], time: line.time });
      pending = undefined;
      continue;
    }
    const copied = COPIED.exec(message);
    if (copied) {
      const destination = copied[2]!;
      const plugin = plugins.find((p) => destination === p.name || destination.endsWith(`/${p.name}`));
      if (plugin) evidence.downloads.set(plugin.name, { how: 'copy', location: `file://${copied[1]}`, time: line.time });
      continue;
    }
    if (FATAL.test(message)) evidence.failure = { message, time: line.time, plugins: fatalPlugins(message, plugins, pending?.name) };
  }
  return evidence;
}

/**
 * The plugins a fatal startup line concerns: those it names (or whose location it names); for a YAML
 * error of one key, that key's plugins; for a download failure naming none, the one being downloaded.
 */
function fatalPlugins(message: string, plugins: readonly PluginRef[], downloading: string | undefined): string[] {
  const named = plugins.filter((p) => namesPlugin(message, p.name) || (p.location !== undefined && message.includes(p.location)));
  if (named.length > 0) return named.map((p) => p.name);
  const unmarshal = /failed to unmarshal (traffic router|metric provider|step) plugins/.exec(message);
  if (unmarshal) return plugins.filter((p) => p.kind === UNMARSHAL_KIND[unmarshal[1]!]).map((p) => p.name);
  if (downloading && message.startsWith('Failed to download plugins')) return [downloading];
  return plugins.map((p) => p.name);
}

/** A line that repeats an error already logged once: the syncHandler's, the event recorder's, client-go's. */
function isEcho(line: LogLine): boolean {
  return (
    line.message.startsWith('Event(v1.ObjectReference{') ||
    / syncHandler error: /.test(line.message) ||
    logField(line, 'event_reason') === 'TrafficRoutingError'
  );
}

/** Whether a line is a runtime plugin error, counted once per failed operation. */
export function isPluginError(line: LogLine): boolean {
  const lower = line.message.toLowerCase();
  if (lower.includes(VERIFY_WEIGHT) || isEcho(line)) return false;
  return PLUGIN_ERROR_PHRASES.some((phrase) => lower.includes(phrase));
}

/**
 * Runtime plugin error lines per plugin: a line naming a plugin counts for it; a line naming none
 * (`failed to set weight via plugin: ...`) counts for the plugins its rollout (`namespace=`,
 * `rollout=` fields) references.
 */
export function pluginErrorLines(text: string, plugins: readonly string[], pluginsOfRollout: (rollout: string) => readonly string[]): Map<string, LogLine[]> {
  const out = new Map<string, LogLine[]>();
  for (const line of logLines(text)) {
    if (!isPluginError(line)) continue;
    let concerned = plugins.filter((name) => namesPlugin(line.message, name));
    if (concerned.length === 0) {
      const namespace = logField(line, 'namespace');
      const rollout = logField(line, 'rollout');
      if (namespace && rollout) concerned = pluginsOfRollout(`${namespace}/${rollout}`).filter((name) => plugins.includes(name));
    }
    for (const name of concerned) {
      const list = out.get(name) ?? [];
      list.push(line);
      out.set(name, list);
    }
  }
  return out;
}
