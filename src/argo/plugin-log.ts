/**
 * What the Argo Rollouts controller log says about its plugins, in upstream's own words
 * (utils/plugin/downloader.go, controller/controller.go, rollout/trafficrouting/plugin/...):
 *
 * - startup: `Downloading plugin <name> from: <location>` then `Download complete, it took <d>`,
 *   or `Copied plugin from <src> to <dst>` for file:// locations; a failure ends the process with
 *   `level=fatal msg="Failed to download plugins: <error>"` (the error names the location, or the
 *   plugin, or says `sha256 hash of downloaded plugin (<location>) does not match expected hash`).
 * - at runtime: `failed to get traffic router plugin <name>: unable to start plugin system: unable
 *   to find plugin (<name>): plugin <name> not configured in configmap`, and `failed to set weight
 *   via plugin: ...` (logged by the rollout reconciler with `rollout=` and `namespace=` fields).
 *
 * There is no "plugin registered" line: a download line in the current container's log is the
 * evidence that the running controller has the plugin.
 */
import { logField, logLines, type LogLine } from './controller-log.js';

/** The first line the controller logs (cmd/rollouts-controller). */
const STARTING = 'Argo Rollouts starting';
/** How late after the container's start its first log line may be and still be its start. */
const START_SLACK_MS = 120_000;

const DOWNLOADING = /^Downloading plugin (\S+) from: (\S+)/;
const COMPLETE = /^Download complete, it took (\S+)/;
const COPIED = /^Copied plugin from (\S+) to (\S+)/;
const FAILED = /^Failed to download plugins: /;

/** Runtime error phrases that concern plugins. */
export const PLUGIN_ERROR_PHRASES = [
  'not configured in configmap',
  'unable to find plugin',
  'failed to get traffic router plugin',
  'unable to start plugin system',
  'failed to set weight via plugin',
] as const;

export interface PluginRef {
  name: string;
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
  /** The fatal download failure, and the plugins it concerns. */
  failure?: { message: string; time?: string; plugins: string[] };
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
  const hasStartingLine = lines.some((l) => l.message.startsWith(STARTING));
  const isContainerStart = hasStartingLine || (firstMs !== undefined && containerStartedAtMs !== undefined && firstMs <= containerStartedAtMs + START_SLACK_MS);
  const evidence: StartupEvidence = { isContainerStart, downloads: new Map() };
  if (first?.time) evidence.firstLineTime = first.time;
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
    if (FAILED.test(message)) {
      const named = plugins.filter((p) => namesPlugin(message, p.name) || (p.location !== undefined && message.includes(p.location)));
      const concerned = named.length > 0 ? named.map((p) => p.name) : pending ? [pending.name] : plugins.map((p) => p.name);
      evidence.failure = { message, time: line.time, plugins: concerned };
    }
  }
  return evidence;
}

/** Whether a line is one of the runtime plugin errors. */
export function isPluginError(line: LogLine): boolean {
  const lower = line.message.toLowerCase();
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
