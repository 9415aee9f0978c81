/**
 * Argo Rollouts plugins: the ones the controller's ConfigMap configures (`trafficRouterPlugins`,
 * `metricProviderPlugins`, `stepPlugins`, each a YAML list of name/location[/sha256][/disabled])
 * and the ones Rollouts and analysis templates reference. A referenced plugin the ConfigMap does not
 * configure is the homelab's "canary that never ran".
 */
import { parse } from 'yaml';
import type { Config } from '../config/schema.js';
import type { Snapshot } from '../kube/snapshot.js';
import type { ConfigMap, CustomObject } from '../kube/types.js';
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

/** RBAC the controller needs for one traffic-router plugin, as a ClusterRole rule would say it. */
export interface PluginRule {
  /** API group, '' for core. */
  group: string;
  /** REST plural, possibly with a subresource (`pods/log`). */
  resource: string;
  verbs: string[];
}

const CILIUM_RULES: PluginRule[] = [{ group: 'cilium.io', resource: 'ciliumenvoyconfigs', verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] }];

/**
 * What a traffic-router plugin needs the controller to be allowed: built in for Cilium, plus
 * `config.plugins[<name>].controllerRules`; a configured rule for a group/resource replaces the
 * built-in verbs for it.
 */
export function pluginControllerRules(plugin: string, config: Config): PluginRule[] {
  const byKey = new Map<string, PluginRule>();
  for (const rule of isCiliumPlugin(plugin) ? CILIUM_RULES : []) byKey.set(`${rule.group}/${rule.resource}`, { ...rule, verbs: [...rule.verbs] });
  const configured = new Map<string, PluginRule>();
  for (const rule of config.plugins[plugin]?.controllerRules ?? []) {
    for (const group of rule.apiGroups) {
      for (const resource of rule.resources) {
        const key = `${group}/${resource}`;
        const existing = configured.get(key);
        configured.set(key, { group, resource, verbs: [...new Set([...(existing?.verbs ?? []), ...rule.verbs])] });
      }
    }
  }
  for (const [key, rule] of configured) byKey.set(key, rule);
  return [...byKey.values()];
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
