/**
 * Argo Rollouts plugins: the ones the controller's ConfigMap configures (`trafficRouterPlugins`,
 * `metricProviderPlugins`, `stepPlugins`, each a YAML list of utils/plugin/types/types.go PluginItem:
 * name, location, sha256, args; `disabled` and `headersFrom` from v1.8.0) and the ones Rollouts and
 * analysis templates reference. A referenced plugin the ConfigMap does not configure is the homelab's
 * "canary that never ran".
 *
 * How the controller reads them, by version (utils/config/config.go, utils/plugin/plugin.go):
 * - keys: v1.7 reads trafficRouterPlugins and metricProviderPlugins; v1.8.0 added stepPlugins;
 * - lookup: v1.8.0+ GetPlugin(name, type) matches name and type; v1.7 GetPluginInfo(name) matches the
 *   name only, across the keys it reads; either way a miss is "plugin %s not configured in configmap";
 * - `disabled` (v1.8.0+) is read only by the step plugin resolver (rollout/steps/plugin/resolver.go:
 *   the step records `disabled: true` in status.canary.stepPluginStatuses and passes); traffic-router
 *   and metric plugins ignore it, and the downloader (utils/plugin/downloader.go) downloads every
 *   plugin, disabled or not;
 * - names must match `^([a-zA-Z0-9\-]+)\/{1}([a-zA-Z0-9_\-.]+)$` (ValidateConfig, every version), or
 *   the controller exits at start: `Failed to init config: validation of config due to (plugin
 *   repository (<name>) must be in the format of <namespace>/<name>)` (controller/controller.go).
 */
import { parse } from 'yaml';
import type { Config } from '../config/schema.js';
import type { Snapshot } from '../kube/snapshot.js';
import type { ConfigMap, CustomObject } from '../kube/types.js';
import { isAtLeast } from './controller.js';
import { rolloutTarget, stepPlugins, trafficRouterPlugins } from './rollout-spec.js';

export type PluginKind = 'trafficRouter' | 'metricProvider' | 'step';

export const PLUGIN_KEYS: Record<PluginKind, string> = {
  trafficRouter: 'trafficRouterPlugins',
  metricProvider: 'metricProviderPlugins',
  step: 'stepPlugins',
};

export interface ConfiguredPlugin {
  name: string;
  kind: PluginKind;
  location?: string;
  sha256?: string;
  disabled: boolean;
  args?: string[];
}

export interface PluginConfigProblem {
  key: string;
  message: string;
}

export interface PluginConfiguration {
  readonly plugins: readonly ConfiguredPlugin[];
  readonly problems: readonly PluginConfigProblem[];
}

/** One parse per ConfigMap object, i.e. per snapshot: several checks, and every canary, ask. */
const parsedConfigMaps = new WeakMap<ConfigMap, PluginConfiguration>();

/** Parses the ConfigMap's plugin lists; a key that is not a valid list is a problem, not a throw. */
export function configuredPlugins(configMap: ConfigMap | undefined): PluginConfiguration {
  if (!configMap) return parsePlugins(undefined);
  let parsed = parsedConfigMaps.get(configMap);
  if (!parsed) parsedConfigMaps.set(configMap, (parsed = parsePlugins(configMap)));
  return parsed;
}

function parsePlugins(configMap: ConfigMap | undefined): PluginConfiguration {
  const plugins: ConfiguredPlugin[] = [];
  const problems: PluginConfigProblem[] = [];
  const data = configMap?.data ?? {};
  for (const [kind, key] of Object.entries(PLUGIN_KEYS) as [PluginKind, string][]) {
    const text = data[key];
    if (text === undefined || text.trim() === '') continue;
    let list: unknown;
    try {
      list = parse(text);
    } catch (error) {
      problems.push({ key, message: `${key} is not valid YAML: ${(error as Error).message.split('\n')[0]}` });
      continue;
    }
    if (!Array.isArray(list)) {
      problems.push({ key, message: `${key} is not a list` });
      continue;
    }
    for (const entry of list as Record<string, unknown>[]) {
      if (!entry || typeof entry.name !== 'string') {
        problems.push({ key, message: `${key} has an entry without a name` });
        continue;
      }
      plugins.push({
        name: entry.name,
        kind,
        location: typeof entry.location === 'string' ? entry.location : undefined,
        sha256: typeof entry.sha256 === 'string' ? entry.sha256 : undefined,
        disabled: entry.disabled === true,
        args: Array.isArray(entry.args) ? entry.args.map(String) : undefined,
      });
    }
  }
  return { plugins, problems };
}

/** The keys a controller version reads (utils/config/config.go InitializeConfig; stepPlugins since v1.8.0). */
export function pluginKindsRead(controllerVersion: string): PluginKind[] {
  return isAtLeast(controllerVersion, '1.8.0') ? ['trafficRouter', 'metricProvider', 'step'] : ['trafficRouter', 'metricProvider'];
}

export interface PluginLookup {
  /** The entry the controller finds, when it finds one. */
  plugin?: ConfiguredPlugin;
  /** The lookup rule of this version, with its upstream file. */
  rule: string;
}

const LOOKUP_RULE_V18 = 'GetPlugin matches name and type (utils/config/config.go, v1.8.0+)';
const LOOKUP_RULE_V17 = 'GetPluginInfo matches the name only, under trafficRouterPlugins or metricProviderPlugins (utils/plugin/plugin.go, v1.7)';

/** The entry the controller finds for a plugin used as `kind`, by the lookup rule of its version. */
export function lookupPlugin(plugins: readonly ConfiguredPlugin[], name: string, kind: PluginKind, controllerVersion: string): PluginLookup {
  if (isAtLeast(controllerVersion, '1.8.0')) return { plugin: plugins.find((p) => p.name === name && p.kind === kind), rule: LOOKUP_RULE_V18 };
  const read = pluginKindsRead(controllerVersion);
  return { plugin: plugins.find((p) => p.name === name && read.includes(p.kind)), rule: LOOKUP_RULE_V17 };
}

/** Whether the controller skips the plugin: a disabled step plugin, from v1.8.0. */
export function isDisabledStepPlugin(plugin: ConfiguredPlugin, controllerVersion: string): boolean {
  return plugin.kind === 'step' && plugin.disabled && isAtLeast(controllerVersion, '1.8.0');
}

const PLUGIN_NAME = /^([a-zA-Z0-9-]+)\/{1}([a-zA-Z0-9_\-.]+)$/;

/** ValidateConfig's message for a name that is not `<namespace>/<name>`, undefined for a valid one. */
export function invalidNameMessage(name: string): string | undefined {
  return PLUGIN_NAME.test(name) ? undefined : `plugin repository (${name}) must be in the format of <namespace>/<name>`;
}

/**
 * The error InitializeConfig returns for these plugins, as the controller's fatal line quotes it after
 * `Failed to init config: `: ValidateConfig stops at the first invalid name, in key order.
 */
export function configInitError(plugins: readonly ConfiguredPlugin[], controllerVersion: string): { plugin: string; message: string } | undefined {
  const read = pluginKindsRead(controllerVersion);
  for (const kind of read) {
    for (const plugin of plugins.filter((p) => p.kind === kind)) {
      const invalid = invalidNameMessage(plugin.name);
      if (invalid) return { plugin: plugin.name, message: `validation of config due to (${invalid})` };
    }
  }
  return undefined;
}

/** The controller's ConfigMap from the snapshot (undefined when it does not exist). */
export function controllerConfigMap(snapshot: Snapshot, config: Config): ConfigMap | undefined {
  return snapshot.find('configmaps', config.controller.namespace, config.controller.configMap);
}

export interface PluginReference {
  plugin: string;
  kind: PluginKind;
  /** `<ns>/<rollout>`, `<ns>/<template>` or `_cluster/<template>`. */
  referencedBy: string;
  by: 'Rollout' | 'AnalysisTemplate' | 'ClusterAnalysisTemplate';
}

function templatePluginNames(template: CustomObject): string[] {
  const metrics = ((template.spec as { metrics?: { provider?: { plugin?: Record<string, unknown> } }[] } | undefined)?.metrics ?? []);
  return metrics.flatMap((metric) => Object.keys(metric.provider?.plugin ?? {}));
}

/**
 * Every plugin reference in the snapshot: Rollouts (traffic routers, step plugins) and analysis
 * templates (metric providers). Needs rollouts, analysistemplates and clusteranalysistemplates.
 */
export function pluginReferences(snapshot: Snapshot): PluginReference[] {
  const out: PluginReference[] = [];
  for (const rollout of snapshot.list('rollouts')) {
    for (const plugin of trafficRouterPlugins(rollout)) out.push({ plugin, kind: 'trafficRouter', referencedBy: rolloutTarget(rollout), by: 'Rollout' });
    for (const plugin of stepPlugins(rollout)) out.push({ plugin, kind: 'step', referencedBy: rolloutTarget(rollout), by: 'Rollout' });
  }
  for (const template of snapshot.list('analysistemplates')) {
    for (const plugin of templatePluginNames(template)) {
      out.push({ plugin, kind: 'metricProvider', referencedBy: `${template.metadata.namespace}/${template.metadata.name}`, by: 'AnalysisTemplate' });
    }
  }
  for (const template of snapshot.list('clusteranalysistemplates')) {
    for (const plugin of templatePluginNames(template)) {
      out.push({ plugin, kind: 'metricProvider', referencedBy: `_cluster/${template.metadata.name}`, by: 'ClusterAnalysisTemplate' });
    }
  }
  return out;
}

/** A plugin whose name says it is Cilium's gets the built-in Cilium expectations. */
export function isCiliumPlugin(name: string): boolean {
  return name.toLowerCase().includes('cilium');
}

/** The object a traffic-router plugin keeps in the rollout's namespace while a canary holds traffic. */
export interface TrafficObjectExpectation {
  group: string;
  version: string;
  kind: string;
  plural: string;
  matchServices: 'stable-or-canary' | 'stable-and-canary';
  /** built-in (Cilium) or config. */
  source: 'built-in' | 'config';
}

/**
 * No Cilium traffic-router plugin was ever published upstream, so what it creates is our default:
 * a CiliumEnvoyConfig (cilium.io/v2) naming the rollout's stable or canary Service.
 */
export const CILIUM_TRAFFIC_OBJECT: TrafficObjectExpectation = {
  group: 'cilium.io',
  version: 'v2',
  kind: 'CiliumEnvoyConfig',
  plural: 'ciliumenvoyconfigs',
  matchServices: 'stable-or-canary',
  source: 'built-in',
};

/** `config.plugins[<name>].trafficObject`, else the Cilium default for a Cilium plugin, else none. */
export function trafficObjectFor(plugin: string, config: Config): TrafficObjectExpectation | undefined {
  const configured = config.plugins[plugin]?.trafficObject;
  if (configured) return { ...configured, source: 'config' };
  return isCiliumPlugin(plugin) ? CILIUM_TRAFFIC_OBJECT : undefined;
}
