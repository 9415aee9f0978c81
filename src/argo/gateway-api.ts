/**
 * The Gateway API traffic-router plugin, `argoproj-labs/gatewayAPI`
 * (argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi, tags v0.0.1 to v0.15.0; there is no
 * v0.14.0 tag, v0.14.1 is that release). Argo Rollouts has no Cilium traffic router: its plugin list
 * (docs/features/traffic-management/plugins.md, v1.7.2 and master) routes Cilium, Traefik, Envoy
 * Gateway and others through this plugin.
 *
 * Ported from the plugin's pkg/plugin/{types,plugin,httproute,grpcroute,tcproute,tlsroute}.go at each
 * tag: what a Rollout's `trafficRouting.plugins["argoproj-labs/gatewayAPI"]` names, which API
 * version each route kind is read at, which backendRefs SetWeight writes with which weight, and which
 * rules are its header routes. docs/gateway-api.md has the table (rule, file, versions, what
 * rollout-doctor does).
 */
import type { CustomObject, LabelSelector, Rollout } from '../kube/types.js';
import { isAtLeast, isReleaseWithin, type PluginRelease } from './plugin-release.js';

export const GATEWAY_API_PLUGIN = 'argoproj-labs/gatewayAPI';
export const GATEWAY_API_REPOSITORY = 'argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi';
/** The newest release: its behaviour applies when the plugin's location names no release. */
export const NEWEST_GATEWAY_API_RELEASE = 'v0.15.0';
export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TCPRoute' | 'TLSRoute';

/** A plugin config key and the first release that reads it (absent: every release). */
interface ConfigKey {
  key: string;
  since?: string;
}

export interface RouteKindSpec {
  kind: RouteKind;
  plural: string;
  /**
   * The version the plugin's clientset reads: GatewayV1() for HTTP and GRPC routes (HTTPRoute was
   * GatewayV1beta1() up to v0.2.0, a version every Gateway API release from v1.0.0 through v1.6.1
   * serves beside v1, so the v1 list stands for it), GatewayV1alpha2() for TCP and TLS routes in every release.
   */
  version: 'v1' | 'v1alpha2';
  single: ConfigKey;
  list: ConfigKey;
  selector: ConfigKey;
  /** SetHeaderRoute and RemoveManagedRoutes act on routes of this kind that have useHeaderRoutes. */
  hasHeaderRoutes: boolean;
  /** How the plugin's errors name the kind (pkg/plugin/errors.go: `backendRef was not found in httpRoute`). */
  errorName: string;
}

/** pkg/plugin/types.go GatewayAPITrafficRouting, by tag. */
export const ROUTE_KINDS: readonly RouteKindSpec[] = [
  {
    kind: 'HTTPRoute',
    plural: 'httproutes',
    version: 'v1',
    single: { key: 'httpRoute' },
    list: { key: 'httpRoutes', since: 'v0.2.0' },
    selector: { key: 'httpRouteSelector', since: 'v0.7.0' },
    hasHeaderRoutes: true,
    errorName: 'httpRoute',
  },
  {
    kind: 'GRPCRoute',
    plural: 'grpcroutes',
    version: 'v1',
    single: { key: 'grpcRoute', since: 'v0.4.0' },
    list: { key: 'grpcRoutes', since: 'v0.4.0' },
    selector: { key: 'grpcRouteSelector', since: 'v0.7.0' },
    hasHeaderRoutes: true,
    errorName: 'grpcRoute',
  },
  {
    kind: 'TCPRoute',
    plural: 'tcproutes',
    version: 'v1alpha2',
    single: { key: 'tcpRoute' },
    list: { key: 'tcpRoutes', since: 'v0.2.0' },
    selector: { key: 'tcpRouteSelector', since: 'v0.7.0' },
    hasHeaderRoutes: false,
    errorName: 'tcpRoute',
  },
  {
    kind: 'TLSRoute',
    plural: 'tlsroutes',
    version: 'v1alpha2',
    single: { key: 'tlsRoute', since: 'v0.8.0' },
    list: { key: 'tlsRoutes', since: 'v0.8.0' },
    selector: { key: 'tlsRouteSelector', since: 'v0.8.0' },
    hasHeaderRoutes: false,
    errorName: 'tlsRoute',
  },
];

export function routeKindSpec(kind: RouteKind): RouteKindSpec {
  return ROUTE_KINDS.find((spec) => spec.kind === kind)!;
}

/** The other keys of GatewayAPITrafficRouting: `configMap` was removed in v0.13.0 (9ba1ba4). */
const OTHER_KEYS: readonly (ConfigKey & { before?: string })[] = [
  { key: 'namespace' },
  { key: 'configMap', since: 'v0.1.0', before: 'v0.13.0' },
  { key: 'disableInProgressLabel', since: 'v0.9.0' },
  { key: 'inProgressLabelKey', since: 'v0.9.0' },
  { key: 'inProgressLabelValue', since: 'v0.9.0' },
];

/** internal/defaults/defaults.go ConfigMap (v0.1.0 to v0.12.0). */
const DEFAULT_CONFIG_MAP = 'argo-gatewayapi-configmap';

function isKnown(key: ConfigKey & { before?: string }, release: PluginRelease): boolean {
  return isReleaseWithin(release, key.since, key.before);
}

/** A route the plugin acts on. */
export interface RouteRef {
  kind: RouteKind;
  name: string;
  /** SetHeaderRoute and RemoveManagedRoutes act on it (the single-route keys set it, insertGatewayAPIRouteLists). */
  useHeaderRoutes: boolean;
  /** The config key that names it, or the selector key that found it. */
  via: string;
}

export interface RouteSelector {
  kind: RouteKind;
  key: string;
  selector: LabelSelector;
}

export interface GatewayApiConfig {
  /** Where the plugin reads named routes; undefined when nothing sets it (before v0.11.0). */
  namespace?: string;
  /** `namespace` came from the Rollout (v0.11.0+, bcb9427), not the config. */
  isNamespaceDefaulted: boolean;
  /** Where selectors list routes: the config's namespace, else the Rollout's (v0.7.0+). */
  selectorNamespace: string;
  /** Named routes in the order SetWeight visits them. */
  routes: RouteRef[];
  selectors: RouteSelector[];
  /** The ConfigMap that holds header routes (v0.1.0 to v0.12.0), in the route namespace. */
  configMap?: string;
  /** Keys this release does not have: encoding/json drops them, the plugin ignores them. */
  ignoredKeys: string[];
  /** What the plugin's json.Unmarshal or validator rejects (every call then fails with it). */
  errors: string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return Boolean(value) && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The plugin's view of a Rollout's `plugins["argoproj-labs/gatewayAPI"]` (plugin.go
 * getGatewayAPITrafficRoutingConfig + insertGatewayAPIRouteLists). Before v0.2.0 SetWeight took one
 * route: `httpRoute` when set, else `tcpRoute` (a switch, v0.0.1 and v0.1.0).
 */
export function readGatewayApiConfig(raw: unknown, rolloutNamespace: string, release: PluginRelease): GatewayApiConfig {
  const config: Record<string, unknown> = isRecord(raw) ? raw : {};
  const errors: string[] = [];
  if (raw !== undefined && raw !== null && !isRecord(raw)) errors.push('the plugin configuration is not an object');
  const knownKeys = new Set<string>();
  for (const spec of ROUTE_KINDS) for (const key of [spec.single, spec.list, spec.selector]) if (isKnown(key, release)) knownKeys.add(key.key);
  for (const key of OTHER_KEYS) if (isKnown(key, release)) knownKeys.add(key.key);
  const ignoredKeys = Object.keys(config).filter((key) => !knownKeys.has(key));
  const knownString = (key: string): string | undefined => {
    if (!knownKeys.has(key) || config[key] === undefined || config[key] === null) return undefined;
    if (typeof config[key] !== 'string') {
      errors.push(`${key} is not a string`);
      return undefined;
    }
    return config[key] as string;
  };

  const routes: RouteRef[] = [];
  const selectors: RouteSelector[] = [];
  if (!isAtLeast(release, 'v0.2.0')) {
    const http = knownString('httpRoute');
    const tcp = knownString('tcpRoute');
    if (http) routes.push({ kind: 'HTTPRoute', name: http, useHeaderRoutes: true, via: 'httpRoute' });
    else if (tcp) routes.push({ kind: 'TCPRoute', name: tcp, useHeaderRoutes: true, via: 'tcpRoute' });
  } else {
    for (const spec of ROUTE_KINDS) {
      if (isKnown(spec.list, release) && config[spec.list.key] !== undefined && config[spec.list.key] !== null) {
        const list = config[spec.list.key];
        if (!Array.isArray(list)) errors.push(`${spec.list.key} is not a list`);
        else
          list.forEach((entry, index) => {
            const name = isRecord(entry) ? entry.name : undefined;
            if (typeof name !== 'string' || name === '') errors.push(`${spec.list.key}[${index}].name is required`);
            else routes.push({ kind: spec.kind, name, useHeaderRoutes: isRecord(entry) && entry.useHeaderRoutes === true, via: spec.list.key });
          });
      }
      const single = isKnown(spec.single, release) ? knownString(spec.single.key) : undefined;
      if (single) routes.push({ kind: spec.kind, name: single, useHeaderRoutes: true, via: spec.single.key });
    }
  }
  for (const spec of ROUTE_KINDS) {
    if (!isKnown(spec.selector, release) || config[spec.selector.key] === undefined || config[spec.selector.key] === null) continue;
    const selector = config[spec.selector.key];
    if (isRecord(selector)) selectors.push({ kind: spec.kind, key: spec.selector.key, selector: selector as LabelSelector });
    else errors.push(`${spec.selector.key} is not a label selector`);
  }
  const configured = knownString('namespace') || undefined;
  const isNamespaceDefaulted = !configured && isAtLeast(release, 'v0.11.0');
  const configMap = isKnown(OTHER_KEYS[1]!, release) ? (knownString('configMap') ?? DEFAULT_CONFIG_MAP) : undefined;
  return {
    namespace: configured ?? (isNamespaceDefaulted ? rolloutNamespace : undefined),
    isNamespaceDefaulted,
    selectorNamespace: configured ?? rolloutNamespace,
    routes,
    selectors,
    ...(configMap ? { configMap } : {}),
    ignoredKeys,
    errors,
  };
}

/** A backendRef SetWeight writes. */
export interface WeightedRef {
  rule: number;
  ruleName?: string;
  ref: number;
  service: string;
  role: 'canary' | 'stable';
  /** The route's weight; Gateway API's default 1 when the backendRef has none. */
  weight: number;
}

export interface RouteWeights {
  refs: WeightedRef[];
  /** Rules SetWeight skips as header routes (v0.13.0+, HTTP and GRPC routes). */
  skippedRules: number[];
  /** The plugin's error when SetWeight finds no canary or no stable backendRef. */
  error?: string;
}

interface Rule {
  name?: string;
  backendRefs: Record<string, unknown>[];
  matches: Record<string, unknown>[];
}

function asRecords(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

function rulesOf(route: CustomObject): Rule[] {
  return asRecords(route.spec?.rules).map((rule) => ({
    name: typeof rule.name === 'string' ? rule.name : undefined,
    backendRefs: asRecords(rule.backendRefs),
    matches: asRecords(rule.matches),
  }));
}

function refName(ref: Record<string, unknown>): string | undefined {
  return typeof ref.name === 'string' ? ref.name : undefined;
}

/** Gateway API: a backendRef without `weight` has weight 1 (BackendRef.Weight, +kubebuilder:default=1). */
function refWeight(ref: Record<string, unknown>): number {
  return typeof ref.weight === 'number' ? ref.weight : 1;
}

function managedRouteNames(rollout: Rollout): string[] {
  const managed = rollout.spec?.strategy?.canary?.trafficRouting?.managedRoutes;
  return asRecords(managed).flatMap((route) => (typeof route.name === 'string' ? [route.name] : []));
}

/**
 * Whether SetWeight treats a rule as one of its header routes (v0.13.0+): a rule named like a
 * managed route (v0.15.0 also `<name>-<n>`, isManagedRuleName) or whose only backendRef is the
 * canary (isHTTPManagedRule / isGRPCManagedRule with no headers, for rules older releases injected).
 */
function isManagedRule(rule: Rule, canary: string, managed: readonly string[], release: PluginRelease): boolean {
  if (rule.name !== undefined) {
    if (managed.includes(rule.name)) return true;
    if (isAtLeast(release, 'v0.15.0') && managed.some((base) => rule.name!.startsWith(`${base}-`) && /^\d+$/.test(rule.name!.slice(base.length + 1)))) return true;
  }
  return rule.backendRefs.length === 1 && refName(rule.backendRefs[0]!) === canary;
}

/**
 * The backendRefs SetWeight writes (canary: the desired weight, stable: 100 - it), by release:
 * - up to v0.0.x: the first rule that has backendRefs, its first canary and first stable ref
 *   (getBackendRefList, getBackendRef);
 * - v0.1.0 to v0.2.0: the first canary and the first stable ref across the rules (getBackendRef);
 * - v0.3.0+: every canary and stable ref of every rule (getBackendRefs);
 * - v0.13.0+ for HTTP and GRPC routes: except in its header-route rules (setHTTPRouteWeight).
 * The refs are matched by `name` only. Not finding a canary or a stable ref is the plugin's
 * "backendRef was not found in <kind>".
 */
export function weightedRefs(route: CustomObject, spec: RouteKindSpec, rollout: Rollout, release: PluginRelease): RouteWeights {
  const canary = rollout.spec?.strategy?.canary?.canaryService ?? '';
  const stable = rollout.spec?.strategy?.canary?.stableService ?? '';
  const rules = rulesOf(route);
  const managed = managedRouteNames(rollout);
  const skippedRules: number[] = [];
  const candidates: WeightedRef[] = [];
  rules.forEach((rule, ruleIndex) => {
    if (spec.hasHeaderRoutes && isAtLeast(release, 'v0.13.0') && isManagedRule(rule, canary, managed, release)) {
      skippedRules.push(ruleIndex);
      return;
    }
    rule.backendRefs.forEach((ref, refIndex) => {
      const name = refName(ref);
      const role = name === canary ? 'canary' : name === stable ? 'stable' : undefined;
      if (role) candidates.push({ rule: ruleIndex, ...(rule.name ? { ruleName: rule.name } : {}), ref: refIndex, service: name!, role, weight: refWeight(ref) });
    });
  });
  let refs = candidates;
  if (!isAtLeast(release, 'v0.1.0')) {
    const first = rules.findIndex((rule) => rule.backendRefs.length > 0);
    const inFirst = candidates.filter((ref) => ref.rule === first);
    refs = (['canary', 'stable'] as const).flatMap((role) => inFirst.filter((ref) => ref.role === role).slice(0, 1));
  } else if (!isAtLeast(release, 'v0.3.0')) {
    refs = (['canary', 'stable'] as const).flatMap((role) => candidates.filter((ref) => ref.role === role).slice(0, 1));
  }
  refs.sort((a, b) => a.rule - b.rule || a.ref - b.ref);
  const hasBoth = refs.some((ref) => ref.role === 'canary') && refs.some((ref) => ref.role === 'stable');
  return { refs, skippedRules, ...(hasBoth ? {} : { error: `backendRef was not found in ${spec.errorName}` }) };
}

/** A rule the plugin added for a `setHeaderRoute` step. */
export interface HeaderRule {
  rule: number;
  ruleName?: string;
  /** The managed route it belongs to, when the rule is named after it (v0.13.0+). */
  managedRoute?: string;
  /** Header names its matches require. */
  headers: string[];
}

/**
 * The header routes in a route: up to v0.12.0 the plugin appended a rule whose only backendRef is
 * the canary and kept its index in a ConfigMap; from v0.13.0 the rule carries the managed route's
 * name. Both are recognised the way the plugin itself recognises them (isHTTPManagedRule).
 */
export function headerRules(route: CustomObject, rollout: Rollout, release: PluginRelease): HeaderRule[] {
  const canary = rollout.spec?.strategy?.canary?.canaryService ?? '';
  const managed = managedRouteNames(rollout);
  const out: HeaderRule[] = [];
  rulesOf(route).forEach((rule, index) => {
    if (!isManagedRule(rule, canary, managed, release)) return;
    const headers = rule.matches.flatMap((match) => asRecords(match.headers).flatMap((header) => (typeof header.name === 'string' ? [header.name] : [])));
    const managedRoute = rule.name === undefined ? undefined : managed.find((base) => rule.name === base || rule.name!.startsWith(`${base}-`));
    out.push({ rule: index, ...(rule.name ? { ruleName: rule.name } : {}), ...(managedRoute ? { managedRoute } : {}), headers: [...new Set(headers)] });
  });
  return out;
}

/**
 * The release asset a Linux controller downloads, for a tag from v0.4.0 on (the release workflow
 * names it `gatewayapi-plugin-linux-<arch>`; up to v0.3.0 it was `gateway-api-plugin-linux-<arch>`).
 */
export function gatewayApiLocation(tag: string, arch: 'amd64' | 'arm64'): string {
  return `https://github.com/${GATEWAY_API_REPOSITORY}/releases/download/${tag}/gatewayapi-plugin-linux-${arch}`;
}
