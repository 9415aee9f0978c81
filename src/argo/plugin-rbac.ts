/**
 * What a traffic-router plugin needs the Argo Rollouts controller's service account to be allowed.
 * A plugin runs as a child process of the controller with the controller's credentials, so its
 * RBAC is the controller's. The table is data: a row per plugin and release range, each naming
 * where it comes from; `plugins.<name>.controllerRulesByVersion` in the config adds rows for other
 * plugins (or replaces the verbs of a built-in row's group/resource), `plugins.<name>.controllerRules`
 * adds rules for every release.
 *
 * Built in:
 * - `argoproj-labs/gatewayAPI` from the plugin's docs/installation.md "Permissions" section (v0.12.0
 *   to v0.15.0; earlier releases document none, only examples/cilium/cluster-role.yml granting `*`,
 *   so the same rules are applied to them): `get` services; `get`, `update`, `patch` on each route
 *   kind a Rollout routes through, `list` where a route selector finds routes ("Label selector
 *   discovery requires list permissions; using explicit route names only requires get"); up to
 *   v0.12.0 `get`, `create`, `update` configmaps where routes keep header routes.
 * - the runbook's Cilium expectation ("CiliumEnvoyConfig not created (canary)": `kubectl auth can-i
 *   create ciliumenvoyconfigs`) for a plugin whose name contains `cilium`. No Cilium plugin was ever
 *   published, so these are the runbook's, not a plugin's.
 */
import type { Config } from '../config/schema.js';
import type { Rollout } from '../kube/types.js';
import { GATEWAY_API_GROUP, GATEWAY_API_PLUGIN, NEWEST_GATEWAY_API_RELEASE, readGatewayApiConfig, ROUTE_KINDS, type RouteKind, routeKindSpec } from './gateway-api.js';
import { isReleaseWithin, parseReleaseTag, type PluginRelease, releaseFromLocation } from './plugin-release.js';

export interface PluginRule {
  /** API group, '' for core. */
  group: string;
  /** REST plural, possibly with a subresource (`pods/log`). */
  resource: string;
  verbs: readonly string[];
}

/**
 * When a row applies beyond its release range: only where a Rollout routes through a route kind,
 * finds routes of a kind with a selector, or keeps header routes.
 */
export type RowCondition = { route: RouteKind } | { selector: RouteKind } | 'header-routes';

/** Where a row's permissions are needed: cluster-wide, where the Rollouts using the plugin are, or where its condition holds. */
export type RowScope = 'cluster' | 'rollout-namespaces' | 'condition-namespaces';

export interface PluginRbacRow {
  /** The plugin's name as the ConfigMap writes it; `nameContains` for the runbook's Cilium. */
  plugin: { name: string } | { nameContains: string };
  /** First release the row holds for (inclusive); absent: from the first. */
  from?: string;
  /** First release it no longer holds for; absent: up to the newest. */
  before?: string;
  /** Where the rules come from. */
  source: string;
  when?: RowCondition;
  scope: RowScope;
  rules: readonly PluginRule[];
}

const GATEWAY_API_DOCS = 'rollouts-plugin-trafficrouter-gatewayapi docs/installation.md "Permissions" (v0.12.0-v0.15.0; applied to earlier releases, which document none)';
const ROUTE_VERBS = ['get', 'update', 'patch'];

export const PLUGIN_RBAC: readonly PluginRbacRow[] = [
  {
    plugin: { nameContains: 'cilium' },
    source: 'runbook "CiliumEnvoyConfig not created (canary)" (no Cilium traffic-router plugin was published upstream)',
    scope: 'cluster',
    rules: [{ group: 'cilium.io', resource: 'ciliumenvoyconfigs', verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] }],
  },
  { plugin: { name: GATEWAY_API_PLUGIN }, source: GATEWAY_API_DOCS, scope: 'rollout-namespaces', rules: [{ group: '', resource: 'services', verbs: ['get'] }] },
  ...ROUTE_KINDS.flatMap((spec): PluginRbacRow[] => [
    { plugin: { name: GATEWAY_API_PLUGIN }, source: GATEWAY_API_DOCS, when: { route: spec.kind }, scope: 'condition-namespaces', rules: [{ group: GATEWAY_API_GROUP, resource: spec.plural, verbs: ROUTE_VERBS }] },
    {
      plugin: { name: GATEWAY_API_PLUGIN },
      from: spec.selector.since,
      source: `${GATEWAY_API_DOCS}: "Label selector discovery requires list permissions"`,
      when: { selector: spec.kind },
      scope: 'condition-namespaces',
      rules: [{ group: GATEWAY_API_GROUP, resource: spec.plural, verbs: ['list'] }],
    },
  ]),
  {
    plugin: { name: GATEWAY_API_PLUGIN },
    from: 'v0.1.0',
    before: 'v0.13.0',
    source: 'rollouts-plugin-trafficrouter-gatewayapi docs/installation.md v0.12.0 (header routes kept in a ConfigMap up to v0.12.0, read for every route with useHeaderRoutes)',
    when: 'header-routes',
    scope: 'condition-namespaces',
    rules: [{ group: '', resource: 'configmaps', verbs: ['get', 'create', 'update'] }],
  },
];

function rowMatches(row: Pick<PluginRbacRow, 'plugin'>, plugin: string): boolean {
  return 'name' in row.plugin ? row.plugin.name === plugin : plugin.toLowerCase().includes(row.plugin.nameContains);
}

/** Whether what a plugin needs depends on how Rollouts use it (its rows are scoped or conditional): then the Rollouts are read. */
export function dependsOnRollouts(plugin: string): boolean {
  return PLUGIN_RBAC.some((row) => rowMatches(row, plugin) && (row.when !== undefined || row.scope !== 'cluster'));
}

/** Whether a row holds for the plugin's release; a location naming none gets the newest release's rows (those without `before`). */
function rowApplies(row: Pick<PluginRbacRow, 'from' | 'before'>, release: PluginRelease | undefined): boolean {
  return release ? isReleaseWithin(release, row.from, row.before) : row.before === undefined;
}

/** The namespaces each condition holds in, from the Rollouts that route through the plugin. */
interface Usage {
  rolloutNamespaces: Set<string>;
  byCondition: Map<string, Set<string>>;
}

function conditionKey(condition: RowCondition): string {
  return typeof condition === 'string' ? condition : 'route' in condition ? `route:${condition.route}` : `selector:${condition.selector}`;
}

function addTo(map: Map<string, Set<string>>, key: string, namespace: string): void {
  const set = map.get(key) ?? new Set<string>();
  set.add(namespace);
  map.set(key, set);
}

/** How the Rollouts use a plugin (only the Gateway API plugin's configuration is read). */
function usageOf(plugin: string, rollouts: readonly Rollout[], release: PluginRelease | undefined): Usage {
  const usage: Usage = { rolloutNamespaces: new Set(), byCondition: new Map() };
  for (const rollout of rollouts) {
    const plugins = rollout.spec?.strategy?.canary?.trafficRouting?.plugins ?? {};
    if (!Object.hasOwn(plugins, plugin)) continue;
    const namespace = rollout.metadata.namespace ?? 'default';
    usage.rolloutNamespaces.add(namespace);
    if (plugin !== GATEWAY_API_PLUGIN) continue;
    const config = readGatewayApiConfig(plugins[plugin], namespace, release ?? parseReleaseTag(NEWEST_GATEWAY_API_RELEASE)!);
    for (const route of config.routes) {
      // Before v0.11.0 an unset namespace reads routes nowhere (rollout-traffic reports that).
      if (!config.namespace) continue;
      addTo(usage.byCondition, conditionKey({ route: route.kind }), config.namespace);
      if (route.useHeaderRoutes && routeKindSpec(route.kind).hasHeaderRoutes) addTo(usage.byCondition, 'header-routes', config.namespace);
    }
    for (const selector of config.selectors) {
      addTo(usage.byCondition, conditionKey({ selector: selector.kind }), config.selectorNamespace);
      addTo(usage.byCondition, conditionKey({ route: selector.kind }), config.selectorNamespace);
    }
  }
  return usage;
}

/** One verb on one resource a plugin needs; `namespaces` empty means cluster-wide. */
export interface RequiredPermission {
  group: string;
  resource: string;
  verb: string;
  namespaces: string[];
  sources: string[];
}

export interface PluginRequirements {
  plugin: string;
  /** The release tag from the plugin's location, when it names one and the plugin's rows depend on it. */
  release?: string;
  permissions: RequiredPermission[];
}

function expandRules(rules: readonly { apiGroups: string[]; resources: string[]; verbs: string[] }[]): PluginRule[] {
  return rules.flatMap((rule) => rule.apiGroups.flatMap((group) => rule.resources.map((resource) => ({ group, resource, verbs: rule.verbs }))));
}

/** The config's rows for a plugin (`controllerRulesByVersion`), then its `controllerRules` as a row for every release. */
function configuredRows(plugin: string, config: Config): PluginRbacRow[] {
  const entry = config.plugins[plugin];
  const versioned = (entry?.controllerRulesByVersion ?? []).map(
    (row): PluginRbacRow => ({
      plugin: { name: plugin },
      from: row.from,
      before: row.before,
      source: row.source ?? `config plugins["${plugin}"].controllerRulesByVersion`,
      scope: 'cluster',
      rules: expandRules(row.rules),
    }),
  );
  const unversioned: PluginRbacRow = { plugin: { name: plugin }, source: `config plugins["${plugin}"].controllerRules`, scope: 'cluster', rules: expandRules(entry?.controllerRules ?? []) };
  return [...versioned, unversioned];
}

/**
 * What one configured traffic-router plugin needs, given its location and the Rollouts that route
 * through it, one entry per verb. A configured row replaces the verbs an earlier row (built in, or a
 * versioned config row) gave its group/resource; rows of one source merge.
 */
export function pluginRequirements(plugin: { name: string; location?: string }, rollouts: readonly Rollout[], config: Config): PluginRequirements {
  const release = releaseFromLocation(plugin.location);
  const usage = usageOf(plugin.name, rollouts, release);
  const byKey = new Map<string, RequiredPermission>();
  const add = (rule: PluginRule, namespaces: string[], source: string) => {
    for (const verb of rule.verbs) {
      const key = `${rule.group}/${rule.resource}:${verb}`;
      const existing = byKey.get(key);
      byKey.set(key, {
        group: rule.group,
        resource: rule.resource,
        verb,
        // A cluster-wide need covers the namespaced ones.
        namespaces: existing && (existing.namespaces.length === 0 || namespaces.length === 0) ? [] : [...new Set([...(existing?.namespaces ?? []), ...namespaces])].sort(),
        sources: [...new Set([...(existing?.sources ?? []), source])],
      });
    }
  };
  const builtIn = PLUGIN_RBAC.filter((row) => rowMatches(row, plugin.name));
  const configured = configuredRows(plugin.name, config);
  for (const row of builtIn) {
    if (!rowApplies(row, release)) continue;
    const conditionNamespaces = row.when ? usage.byCondition.get(conditionKey(row.when)) : undefined;
    if (row.when && !conditionNamespaces) continue;
    const namespaces = row.scope === 'rollout-namespaces' ? [...usage.rolloutNamespaces] : row.scope === 'condition-namespaces' ? [...conditionNamespaces!] : [];
    for (const rule of row.rules) add(rule, namespaces, row.source);
  }
  for (const row of configured) {
    if (!rowApplies(row, release)) continue;
    const resources = new Set(row.rules.map((rule) => `${rule.group}/${rule.resource}`));
    for (const [key, permission] of byKey) if (resources.has(`${permission.group}/${permission.resource}`) && !permission.sources.includes(row.source)) byKey.delete(key);
    for (const rule of row.rules) add(rule, [], row.source);
  }
  const isVersioned = [...builtIn, ...configured].some((row) => row.from !== undefined || row.before !== undefined);
  return { plugin: plugin.name, ...(release && isVersioned ? { release: release.tag } : {}), permissions: [...byKey.values()] };
}
