/**
 * rollout-traffic: the traffic split a Rollout's status claims is the one its traffic-router
 * plugin put on the wire. When the plugin's object is missing or its weights differ, "20% to the
 * canary" is a number in the Rollout's status and nothing more.
 *
 * - `argoproj-labs/gatewayAPI` (the Gateway API plugin, the one Argo Rollouts routes Cilium
 *   through): the routes its configuration names or selects (src/argo/gateway-api.ts, by plugin
 *   release read from the plugin's location) exist, and the backendRefs SetWeight writes carry the
 *   weights the controller recorded: canary = status.canary.weights.canary.weight, stable = 100 minus
 *   that (the plugin writes 100 - canary whatever maxTrafficWeight says). Header routes are reported.
 * - a plugin whose name contains `cilium`: while a canary holds traffic, a CiliumEnvoyConfig
 *   (cilium.io/v2) in the rollout's namespace names the stable or the canary Service, in
 *   `spec.services[]`, `spec.backendServices[]` or as an Envoy cluster `<ns>/<service>` in
 *   `spec.resources`. No Cilium plugin was ever published upstream, so that is the runbook's
 *   expectation; `plugins[<name>].trafficObject` replaces it (kind, group, version, plural, which
 *   services) for any plugin.
 * - every plugin: a reconcile of the Rollout that a plugin call failed (`roCtx.reconcile err failed
 *   to set weight via plugin: ...` and the other calls of src/argo/traffic-router-errors.ts, not
 *   VerifyWeight) within controller-plugins' recentWindow of the controller log fails the plugin.
 *
 * A canary holds traffic when status.canary.weights.canary.weight > 0, or when the current step's
 * weight (the last setWeight at or before currentStepIndex) is > 0 and the rollout is neither fully
 * promoted nor aborted.
 *
 * Runbook: "CiliumEnvoyConfig not created (canary)".
 * Permissions: list rollouts, list deployments (the controller's service account for the can-i
 * command), list configmaps and pods in the controller namespace, get pods/log there, list each
 * traffic object kind (ciliumenvoyconfigs.cilium.io, the Gateway API route kinds, configured ones).
 */
import {
  GATEWAY_API_GROUP,
  GATEWAY_API_PLUGIN,
  type GatewayApiConfig,
  headerRules,
  type HeaderRule,
  NEWEST_GATEWAY_API_RELEASE,
  readGatewayApiConfig,
  ROUTE_KINDS,
  type RouteKind,
  routeKindSpec,
  type RouteKindSpec,
  weightedRefs,
} from '../argo/gateway-api.js';
import { isAtLeast, parseReleaseTag, type PluginRelease, releaseFromLocation } from '../argo/plugin-release.js';
import { type ReconcileError, trafficRouterReconcileErrors } from '../argo/traffic-router-errors.js';
import { formatDuration } from '../config/duration.js';
import type { Config } from '../config/schema.js';
import type { Check, CheckContext, CheckResult, MetricFamily, Sample, Status, UnknownDetails } from '../engine/types.js';
import { STATUS_RANK } from '../engine/types.js';
import { type Command, kubectl, type RemediationStep, text, uniqueSteps } from '../engine/remediation.js';
import { matchesLabelSelector } from '../kube/label-selector.js';
import type { CustomKindRef } from '../kube/snapshot.js';
import { deploymentLogs } from './lib/commands.js';
import type { CustomObject, Rollout } from '../kube/types.js';
import { canICommand, controllerContainer, controllerPods, controllerServiceAccountOrDefault, findControllerDeployment, RECENT_LOG } from './lib/controller.js';
import { quoteEnds } from '../text.js';
import { CILIUM_TRAFFIC_OBJECT, configuredPlugins, controllerConfigMap, type TrafficObjectExpectation, trafficObjectFor } from '../argo/plugins.js';
import { result } from './lib/results.js';
import { evaluateRollouts, rolloutLabels, type RolloutRef, rolloutsCommand } from './lib/rollout.js';
import { canarySteps, rolloutName, rolloutNamespace, rolloutTarget, trafficRouterPlugins } from '../argo/rollout-spec.js';

export interface CanaryTraffic {
  holdsTraffic: boolean;
  /** status.canary.weights.canary.weight */
  actualWeight: number;
  /** The weight of the current step (last setWeight at or before currentStepIndex), when in a canary. */
  desiredWeight?: number;
  currentStepIndex?: number;
  steps: number;
}

/** Whether the canary holds (or is meant to hold) traffic right now. */
export function canaryTraffic(rollout: Rollout): CanaryTraffic {
  const status = rollout.status ?? {};
  const steps = canarySteps(rollout);
  const actualWeight = status.canary?.weights?.canary?.weight ?? 0;
  const index = status.currentStepIndex;
  const base = { actualWeight, currentStepIndex: index, steps: steps.length };
  if (status.abort) return { ...base, holdsTraffic: false, desiredWeight: 0 };
  const isPromoted = Boolean(status.stableRS && status.currentPodHash && status.stableRS === status.currentPodHash);
  let desiredWeight: number | undefined;
  if (index !== undefined && index < steps.length && !isPromoted) {
    desiredWeight = 0;
    for (let i = 0; i <= index; i++) if (typeof steps[i]?.setWeight === 'number') desiredWeight = steps[i]!.setWeight!;
  }
  return { ...base, desiredWeight, holdsTraffic: actualWeight > 0 || (desiredWeight ?? 0) > 0 };
}

function kindRef(expectation: Pick<TrafficObjectExpectation, 'group' | 'version' | 'plural'>): CustomKindRef {
  return { group: expectation.group, version: expectation.version, plural: expectation.plural, namespaced: true };
}

/** A Gateway API route kind at the version the plugin reads it. */
function routeKindRef(spec: RouteKindSpec): CustomKindRef {
  return { group: GATEWAY_API_GROUP, version: spec.version, plural: spec.plural, namespaced: true };
}

/** The object kinds to list: the Cilium default, the Gateway API route kinds and every configured trafficObject. */
export function trafficKinds(config: Config): CustomKindRef[] {
  const refs = new Map<string, CustomKindRef>();
  const configured = Object.values(config.plugins).flatMap((p) => (p.trafficObject ? [kindRef(p.trafficObject)] : []));
  for (const ref of [kindRef(CILIUM_TRAFFIC_OBJECT), ...ROUTE_KINDS.map(routeKindRef), ...configured]) refs.set(`${ref.plural}.${ref.group}/${ref.version}`, ref);
  return [...refs.values()];
}

function asArray(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => Boolean(v) && typeof v === 'object') : [];
}

function collectStrings(value: unknown, out: string[], depth = 0): void {
  if (depth > 30) return;
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, out, depth + 1);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) collectStrings(item, out, depth + 1);
}

/**
 * Services in `namespace` an object routes to: Cilium's spec.services[] and spec.backendServices[]
 * ({name, namespace}), Gateway API spec.rules[].backendRefs[] and the Envoy clusters Cilium names
 * `<namespace>/<service>[:port]` inside spec.resources.
 */
export function routedServices(object: CustomObject, namespace: string): Set<string> {
  const names = new Set<string>();
  const spec = (object.spec ?? {}) as Record<string, unknown>;
  const add = (ref: Record<string, unknown>) => {
    const ns = typeof ref.namespace === 'string' && ref.namespace ? ref.namespace : namespace;
    const kind = typeof ref.kind === 'string' ? ref.kind : 'Service';
    if (ns === namespace && kind === 'Service' && typeof ref.name === 'string') names.add(ref.name);
  };
  for (const ref of [...asArray(spec.services), ...asArray(spec.backendServices)]) add(ref);
  for (const rule of asArray(spec.rules)) for (const ref of asArray(rule.backendRefs)) add(ref);
  const strings: string[] = [];
  collectStrings(spec.resources, strings);
  const prefix = `${namespace}/`;
  for (const text of strings) if (text.startsWith(prefix)) names.add(text.slice(prefix.length).replace(/:\d+$/, ''));
  return names;
}

/** A backendRef SetWeight writes: its weight in the route and the one the controller set. */
interface RouteWeightDetail {
  rule: number;
  ruleName?: string;
  service: string;
  role: 'canary' | 'stable';
  weight: number;
  expected: number;
}

interface RouteDetail {
  kind: RouteKind;
  name: string;
  namespace: string;
  apiVersion: string;
  /** The plugin config key that names it, or the selector key that found it. */
  via: string;
  found: boolean;
  weights?: RouteWeightDetail[];
  /** Rules SetWeight leaves alone as header routes (v0.13.0+). */
  skippedRules?: number[];
  headerRoutes?: HeaderRule[];
  /** The plugin's own error for this route (`backendRef was not found in httpRoute`). */
  error?: string;
}

/** What was found for one traffic router: `checked` false when rollout-doctor has no check for it. */
type RouterDetail =
  | { plugin: string; checked: false; note: string; ok?: boolean }
  | {
      plugin: string;
      checked: true;
      kind: string;
      apiVersion: string;
      expectation: TrafficObjectExpectation['source'];
      matchServices: TrafficObjectExpectation['matchServices'];
      crdInstalled?: boolean;
      objects?: string[];
      present?: boolean;
      ok?: boolean;
    }
  | {
      plugin: string;
      checked: true;
      /** The plugin release its location names. */
      release?: string;
      /** The release whose rules were applied (the newest when the location names none). */
      rulesOf: string;
      namespace?: string;
      routes: RouteDetail[];
      /** Weights the plugin writes for status.canary.weights (absent before the controller set any). */
      expectedWeights?: { canary: number; stable: number };
      /** What the configuration has that the plugin release ignores or rejects. */
      ignoredKeys?: string[];
      configErrors?: string[];
      present: boolean;
      ok: boolean;
    };

/** The reconciles a plugin call failed in the recent window of the controller log. */
interface ReconcileErrorDetails {
  count: number;
  windowSeconds: number;
  calls: string[];
  lastError: string;
  lastAt?: string;
}

interface TrafficDetails extends RolloutRef {
  holdsTraffic: boolean;
  canaryWeight: number;
  stableService?: string;
  canaryService?: string;
  routers: RouterDetail[];
  stepWeight?: number;
  step?: string;
  reconcileErrors?: ReconcileErrorDetails;
  /** Why the controller log could not be read for reconcile errors. */
  controllerLogError?: string;
}

type Details = TrafficDetails | UnknownDetails;

interface RouterOutcome {
  status: Status;
  summary: string;
  remediation: RemediationStep[];
  detail: RouterDetail;
}

function shortPluginName(plugin: string): string {
  return plugin.split('/').pop() || plugin;
}

function evaluateTrafficObject(ctx: CheckContext, rollout: Rollout, plugin: string, traffic: CanaryTraffic, expectation: TrafficObjectExpectation): RouterOutcome {
  const namespace = rolloutNamespace(rollout);
  const target = rolloutTarget(rollout);
  const ref = kindRef(expectation);
  const canary = rollout.spec?.strategy?.canary;
  const services = [canary?.stableService, canary?.canaryService].filter((s): s is string => Boolean(s));
  const account = controllerServiceAccountOrDefault(ctx);
  const controller = ctx.config.controller;
  const kindLower = expectation.kind.toLowerCase();
  const detail: RouterDetail = { plugin, checked: true, kind: expectation.kind, apiVersion: `${expectation.group}/${expectation.version}`, expectation: expectation.source, matchServices: expectation.matchServices };
  const state = ctx.snapshot.state(ref);
  if (state.state === 'absent') {
    detail.crdInstalled = false;
    detail.present = false;
    detail.ok = false;
    const crd = `${expectation.plural}.${expectation.group}`;
    return {
      status: 'fail',
      summary: `${expectation.kind} CRD not installed (${crd}): traffic router ${plugin} has nowhere to put ${target}'s traffic split`,
      remediation: [
        kubectl(['get', 'crd', crd]),
        ...(expectation === CILIUM_TRAFFIC_OBJECT ? [text('# Enable Envoy config support in Cilium (Helm value envoyConfig.enabled=true), which installs the CiliumEnvoyConfig CRD')] : []),
        deploymentLogs(controller.namespace, controller.deployment, [], shortPluginName(plugin)),
      ],
      detail,
    };
  }
  detail.crdInstalled = true;
  // A failed list throws here; evaluateEach turns this rollout unknown.
  const objects = ctx.snapshot.listCustom(ref).filter((o) => o.metadata.namespace === namespace);
  const matching = objects.filter((o) => {
    const routed = routedServices(o, namespace);
    return expectation.matchServices === 'stable-and-canary' ? services.length > 0 && services.every((s) => routed.has(s)) : services.some((s) => routed.has(s));
  });
  const names = matching.map((o) => o.metadata.name ?? '').sort();
  detail.objects = names;
  detail.present = names.length > 0;
  const servicesText = services.join(expectation.matchServices === 'stable-and-canary' ? ' and ' : ' or ');
  const weightText = `${traffic.actualWeight > 0 ? traffic.actualWeight : (traffic.desiredWeight ?? 0)}%`;
  if (names.length > 0) {
    detail.ok = true;
    const what = `${expectation.kind} ${names.map((n) => `${namespace}/${n}`).join(', ')} routes ${servicesText}`;
    return { status: 'ok', summary: traffic.holdsTraffic ? `canary holds ${weightText} of traffic; ${what}` : `${what} (canary holds no traffic)`, remediation: [], detail };
  }
  if (!traffic.holdsTraffic) {
    detail.ok = true;
    return { status: 'ok', summary: `canary holds no traffic; no ${expectation.kind} needed now`, remediation: [], detail };
  }
  detail.ok = false;
  return {
    status: 'fail',
    summary: `canary holds ${weightText} of traffic but no ${expectation.kind} in namespace ${namespace} names service ${servicesText || '(none set)'}: traffic router ${plugin} did not create it`,
    remediation: [
      deploymentLogs(controller.namespace, controller.deployment, [], shortPluginName(plugin)),
      kubectl(['get', kindLower, '-A']),
      canICommand('create', expectation.plural, account),
      rolloutsCommand(rollout, 'get rollout'),
    ],
    detail,
  };
}

/** One finding about a Gateway API router; the worst status decides, its findings make the summary. */
interface Finding {
  status: Status;
  text: string;
  remediation: RemediationStep[];
}

/** The Gateway API plugin's release from its location in the controller ConfigMap (undefined when it names none or cannot be read). */
function gatewayApiRelease(ctx: CheckContext): string | undefined {
  try {
    const entry = configuredPlugins(controllerConfigMap(ctx.snapshot, ctx.config)).plugins.find((p) => p.name === GATEWAY_API_PLUGIN && p.kind === 'trafficRouter');
    return releaseFromLocation(entry?.location)?.tag;
  } catch {
    // The ConfigMap list failed: the newest release's rules apply, details say so.
    return undefined;
  }
}

/** The routes of one kind in a namespace; a kind the API server does not serve is a finding. */
function routesOfKind(ctx: CheckContext, spec: RouteKindSpec, namespace: string): CustomObject[] | undefined {
  const ref = routeKindRef(spec);
  if (ctx.snapshot.state(ref).state === 'absent') return undefined;
  // A failed list throws here; evaluateEach turns this rollout unknown.
  return ctx.snapshot.listCustom(ref).filter((o) => o.metadata.namespace === namespace);
}

function notServedText(spec: RouteKindSpec, plugin: string): string {
  if (spec.version === 'v1alpha2') {
    return `${spec.kind} ${GATEWAY_API_GROUP}/v1alpha2 is not served, and ${plugin} reads ${spec.kind}s only at v1alpha2 (Gateway API's standard channel serves ${spec.kind === 'TLSRoute' ? 'TLSRoute only as v1 from v1.5.0' : 'TCPRoute only as v1 from v1.6.0'}; its experimental channel still serves v1alpha2)`;
  }
  return `${spec.kind} ${GATEWAY_API_GROUP}/${spec.version} is not served (Gateway API CRDs not installed): ${plugin} has nowhere to set weights`;
}

/** What every Gateway API finding refers to: the Rollout, the plugin release and its reading of the config. */
interface GatewayApiRouter {
  ctx: CheckContext;
  rollout: Rollout;
  plugin: string;
  release: PluginRelease;
  /** `argoproj-labs/gatewayAPI v0.15.0`, saying when that is the newest release for want of one. */
  pluginText: string;
  config: GatewayApiConfig;
  canaryService: string;
  stableService: string;
  showRollout: Command;
}

/** A route SetWeight visits: named in the config, or found by a selector. */
interface RouteTarget {
  spec: RouteKindSpec;
  name: string;
  namespace: string | undefined;
  via: string;
  object?: CustomObject;
}

/** What the configuration itself says: rejected fields, fields the release ignores, maxTrafficWeight. */
function configFindings(g: GatewayApiRouter): Finding[] {
  const { plugin, config, pluginText, showRollout } = g;
  const { controller } = g.ctx.config;
  const findings: Finding[] = [];
  if (config.errors.length > 0) {
    findings.push({
      status: 'fail',
      text: `${pluginText} rejects the Rollout's trafficRouting.plugins["${plugin}"]: ${config.errors.join('; ')}`,
      remediation: [showRollout, text(`# Fix trafficRouting.plugins["${plugin}"] (the plugin's pkg/plugin/types.go fields)`)],
    });
  }
  if (config.ignoredKeys.length > 0) {
    findings.push({
      status: 'warn',
      text: `${pluginText} ignores ${config.ignoredKeys.join(', ')} in trafficRouting.plugins["${plugin}"] (not fields of that release)`,
      remediation: [showRollout, text(`# Upgrade the plugin (location in ConfigMap ${controller.namespace}/${controller.configMap}) or remove the fields it does not read`)],
    });
  }
  const maxWeight = g.rollout.spec?.strategy?.canary?.trafficRouting?.maxTrafficWeight;
  if (typeof maxWeight === 'number' && maxWeight !== 100) {
    findings.push({
      status: 'warn',
      text: `trafficRouting.maxTrafficWeight is ${maxWeight}, but ${plugin} writes weights out of 100 (stable = 100 - canary, every release): the canary gets a different share than the steps say`,
      remediation: [showRollout, text('# Remove maxTrafficWeight (the Gateway API plugin ignores it)')],
    });
  }
  return findings;
}

/**
 * The routes SetWeight visits, named ones first, then the ones selectors find
 * (discoverRoutesBySelector), with the findings about where it looks for them.
 */
function routeTargets(g: GatewayApiRouter): { targets: RouteTarget[]; unserved: Set<RouteKind>; findings: Finding[] } {
  const { plugin, config, pluginText, showRollout } = g;
  const findings: Finding[] = [];
  const unserved = new Set<RouteKind>();
  const listIn = (spec: RouteKindSpec, namespace: string): CustomObject[] => {
    const objects = routesOfKind(g.ctx, spec, namespace);
    if (objects) return objects;
    if (!unserved.has(spec.kind)) {
      unserved.add(spec.kind);
      findings.push({ status: 'fail', text: notServedText(spec, g.pluginText), remediation: [kubectl(['get', 'crd', `${spec.plural}.${GATEWAY_API_GROUP}`]), kubectl(['api-resources', `--api-group=${GATEWAY_API_GROUP}`])] });
    }
    return [];
  };
  const targets: RouteTarget[] = config.routes.map((route) => {
    const spec = routeKindSpec(route.kind);
    const object = config.namespace ? listIn(spec, config.namespace).find((o) => o.metadata.name === route.name) : undefined;
    return { spec, name: route.name, namespace: config.namespace, via: route.via, object };
  });
  for (const selector of config.selectors) {
    const spec = routeKindSpec(selector.kind);
    const found = listIn(spec, config.selectorNamespace).filter((o) => matchesLabelSelector(o.metadata.labels, selector.selector, { empty: 'everything' }));
    for (const object of found.sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))) {
      targets.push({ spec, name: object.metadata.name ?? '', namespace: config.selectorNamespace, via: selector.key, object });
    }
  }
  const rolloutNs = rolloutNamespace(g.rollout);
  if (!config.namespace && config.routes.length > 0) {
    findings.push({
      status: 'fail',
      text: `trafficRouting.plugins["${plugin}"] sets no namespace, and ${pluginText} does not default it to the Rollout's (v0.11.0 does): it looks for ${config.routes.map((r) => r.name).join(', ')} in no namespace`,
      remediation: [showRollout, text(`# Set namespace: ${rolloutNs} in trafficRouting.plugins["${plugin}"], or upgrade the plugin to v0.11.0 or later`)],
    });
  }
  if (config.errors.length === 0 && targets.length === 0 && unserved.size === 0) {
    findings.push({
      status: 'fail',
      text: `${pluginText} has no route to set weights on: trafficRouting.plugins["${plugin}"] names none${config.selectors.length > 0 ? ` and its selectors match none in namespace ${config.selectorNamespace}` : ''} (the plugin answers every SetWeight with "No routes configured...")`,
      remediation: [showRollout, ...(config.selectors.length > 0 ? [kubectl(['get', 'httproutes,grpcroutes', '-n', config.selectorNamespace, '--show-labels'])] : [])],
    });
  }
  return { targets, unserved, findings };
}

/** One route: found, with the backendRefs SetWeight needs, carrying the controller's weights. */
function routeFindings(g: GatewayApiRouter, target: RouteTarget, expected: { canary: number; stable: number } | undefined, isUnserved: boolean): { detail: RouteDetail; findings: Finding[] } {
  const { plugin, release, canaryService, stableService } = g;
  const { spec } = target;
  const detail: RouteDetail = { kind: spec.kind, name: target.name, namespace: target.namespace ?? '', apiVersion: `${GATEWAY_API_GROUP}/${spec.version}`, via: target.via, found: Boolean(target.object) };
  const where = `${spec.kind} ${target.namespace ?? ''}/${target.name}`;
  if (!target.object) {
    // A kind not served, or no namespace to look in, is its own finding.
    if (!target.namespace || isUnserved) return { detail, findings: [] };
    return {
      detail,
      findings: [
        {
          status: 'fail',
          text: `${where} not found: every SetWeight of ${plugin} fails (${spec.plural}.${GATEWAY_API_GROUP} "${target.name}" not found)`,
          remediation: [
            kubectl(['get', spec.plural, '-n', target.namespace]),
            text(`# Create ${where} with backendRefs ${stableService} and ${canaryService}, or name an existing route in trafficRouting.plugins["${plugin}"].${target.via}`),
          ],
        },
      ],
    };
  }
  const showRoute = kubectl(['get', spec.kind.toLowerCase(), target.name, '-n', target.namespace ?? '', '-o', 'yaml']);
  const refs = weightedRefs(target.object, spec, g.rollout, release);
  if (refs.skippedRules.length > 0) detail.skippedRules = refs.skippedRules;
  const header = spec.hasHeaderRoutes ? headerRules(target.object, g.rollout, release) : [];
  if (header.length > 0) detail.headerRoutes = header;
  if (refs.error) {
    detail.error = refs.error;
    const missing = refs.refs.some((r) => r.role === 'canary') ? stableService : canaryService;
    return {
      detail,
      findings: [
        {
          status: 'fail',
          text: `${where} has no backendRef named ${missing} where ${plugin} sets weights: every SetWeight fails ("${refs.error}")`,
          remediation: [showRoute, text(`# Give a rule of ${where} backendRefs named ${stableService} (stable) and ${canaryService} (canary)`)],
        },
      ],
    };
  }
  if (!expected) return { detail, findings: [] };
  detail.weights = refs.refs.map((ref) => ({ rule: ref.rule, ...(ref.ruleName ? { ruleName: ref.ruleName } : {}), service: ref.service, role: ref.role, weight: ref.weight, expected: expected[ref.role] }));
  const wrong = detail.weights.filter((w) => w.weight !== w.expected);
  if (wrong.length === 0) return { detail, findings: [] };
  const ruleText = (w: RouteWeightDetail) => `rule ${w.rule}${w.ruleName ? ` (${w.ruleName})` : ''}`;
  const ignoreWhat = isAtLeast(release, 'v0.9.0') ? `${spec.kind}s labelled rollouts.argoproj.io/gatewayapi-canary=in-progress (the plugin's docs/features/multiple-routes.md)` : `${where} (releases before v0.9.0 set no in-progress label)`;
  return {
    detail,
    findings: [
      {
        status: 'fail',
        text: `${where} ${wrong.map((w) => `${ruleText(w)}: ${w.role} backendRef ${w.service} has weight ${w.weight}, the controller set ${w.expected}`).join('; ')} (status.canary.weights.canary.weight ${expected.canary}; the plugin writes stable as 100 - canary)`,
        remediation: [
          showRoute,
          rolloutsCommand(g.rollout, 'get rollout'),
          text(`# Something other than ${plugin} rewrote the weights (Argo CD syncing the route from Git does this): make the GitOps tool ignore spec.rules of ${ignoreWhat}; the controller writes the weights again on its next reconcile`),
        ],
      },
    ],
  };
}

function evaluateGatewayApi(ctx: CheckContext, rollout: Rollout, plugin: string, traffic: CanaryTraffic): RouterOutcome {
  const rolloutNs = rolloutNamespace(rollout);
  const releaseTag = gatewayApiRelease(ctx);
  const rulesOf = releaseTag ?? NEWEST_GATEWAY_API_RELEASE;
  const release = parseReleaseTag(rulesOf)!;
  const config = readGatewayApiConfig(rollout.spec?.strategy?.canary?.trafficRouting?.plugins?.[plugin], rolloutNs, release);
  const g: GatewayApiRouter = {
    ctx,
    rollout,
    plugin,
    release,
    pluginText: `${plugin} ${rulesOf}${releaseTag ? '' : ' (newest release: the location names none)'}`,
    config,
    canaryService: rollout.spec?.strategy?.canary?.canaryService ?? '',
    stableService: rollout.spec?.strategy?.canary?.stableService ?? '',
    showRollout: kubectl(['get', 'rollout', rolloutName(rollout), '-n', rolloutNs, '-o', 'yaml']),
  };
  const canaryWeight = rollout.status?.canary?.weights?.canary?.weight;
  const expected = typeof canaryWeight === 'number' ? { canary: canaryWeight, stable: 100 - canaryWeight } : undefined;
  const { targets, unserved, findings: targetFindings } = routeTargets(g);
  const perRoute = targets.map((target) => routeFindings(g, target, expected, unserved.has(target.spec.kind)));
  const routes = perRoute.map((r) => r.detail);
  const findings = [...configFindings(g), ...targetFindings, ...perRoute.flatMap((r) => r.findings)];

  const worst = findings.reduce<Status>((status, f) => (STATUS_RANK[f.status] > STATUS_RANK[status] ? f.status : status), 'ok');
  const detail: RouterDetail = {
    plugin,
    checked: true,
    ...(releaseTag ? { release: releaseTag } : {}),
    rulesOf,
    ...(config.namespace ? { namespace: config.namespace } : {}),
    routes,
    ...(expected ? { expectedWeights: expected } : {}),
    ...(config.ignoredKeys.length > 0 ? { ignoredKeys: config.ignoredKeys } : {}),
    ...(config.errors.length > 0 ? { configErrors: config.errors } : {}),
    present: targets.length > 0 && targets.every((t) => t.object),
    ok: worst !== 'fail',
  };
  if (worst !== 'ok') {
    const shown = findings.filter((f) => f.status === worst);
    return { status: worst, summary: shown.map((f) => f.text).join('; '), remediation: uniqueSteps(shown.flatMap((f) => f.remediation)), detail };
  }
  const weightText = expected ? `canary ${g.canaryService} ${expected.canary}, stable ${g.stableService} ${expected.stable} as the controller set` : 'no weights set by the controller yet';
  const headerRoutes = routes.flatMap((r) => (r.headerRoutes ?? []).map((h) => `${h.managedRoute ? `${h.managedRoute} ` : ''}(${r.kind} ${r.name} rule ${h.rule}${h.headers.length > 0 ? `, header ${h.headers.join(', ')}` : ''})`));
  const routeNames = routes.map((r) => `${r.kind} ${r.namespace}/${r.name}`).join(', ');
  return {
    status: 'ok',
    summary: `${routeNames}: ${weightText}${headerRoutes.length > 0 ? `; header route${headerRoutes.length === 1 ? '' : 's'} to the canary: ${headerRoutes.join(', ')}` : ''}${traffic.holdsTraffic ? '' : ' (canary holds no traffic)'}`,
    remediation: [],
    detail,
  };
}

function evaluateRouter(ctx: CheckContext, rollout: Rollout, plugin: string, traffic: CanaryTraffic): RouterOutcome {
  const expectation = trafficObjectFor(plugin, ctx.config);
  if (expectation) return evaluateTrafficObject(ctx, rollout, plugin, traffic, expectation);
  if (plugin === GATEWAY_API_PLUGIN) return evaluateGatewayApi(ctx, rollout, plugin, traffic);
  return { status: 'ok', summary: `no object check exists for traffic router ${plugin}`, remediation: [], detail: { plugin, checked: false, note: `no object check exists for router ${plugin}; set plugins["${plugin}"].trafficObject to add one` } };
}

interface ControllerReconcileErrors {
  byRollout: Map<string, ReconcileError[]>;
  windowSeconds: number;
  error?: string;
}

/** Controller pods whose logs are read per cycle (as controller-plugins: HA controllers run 2). */
const MAX_CONTROLLER_PODS = 3;

/**
 * The failed reconciles in the recent window of every running controller container's log (the
 * leader writes them). Read with controller-plugins' bounds, so one request serves both checks.
 */
async function readReconcileErrors(ctx: CheckContext): Promise<ControllerReconcileErrors> {
  const windowSeconds = ctx.config.checks['controller-plugins'].recentWindow;
  const out: ControllerReconcileErrors = { byRollout: new Map(), windowSeconds };
  try {
    const deployment = findControllerDeployment(ctx);
    if (!deployment) return out;
    const namespace = deployment.metadata?.namespace ?? ctx.config.controller.namespace;
    const pods = controllerPods(ctx, deployment)
      .filter((p) => !p.metadata?.deletionTimestamp && controllerContainer(p, deployment)?.state?.running)
      .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))
      .slice(0, MAX_CONTROLLER_PODS);
    for (const pod of pods) {
      const text = await ctx.kube.podLog({ namespace, pod: pod.metadata?.name ?? '', container: controllerContainer(pod, deployment)?.name, sinceSeconds: windowSeconds, ...RECENT_LOG });
      for (const [rollout, errors] of trafficRouterReconcileErrors(text)) out.byRollout.set(rollout, [...(out.byRollout.get(rollout) ?? []), ...errors]);
    }
  } catch (error) {
    out.error = (error as Error).message;
  }
  return out;
}

/** `kubectl auth can-i <verb> <resource> -n <ns>` for the controller, when an error is an RBAC denial. */
function forbiddenCommand(ctx: CheckContext, message: string) {
  const denied = /cannot (\w+) resource "([^"]+)" in API group "[^"]*"(?: in the namespace "([^"]+)")?/.exec(message);
  return denied ? [canICommand(denied[1]!, denied[2]!, controllerServiceAccountOrDefault(ctx), denied[3])] : [];
}

/** Correction 6: a plugin call that failed the Rollout's reconcile fails the plugin (VerifyWeight never does). */
function withReconcileErrors(ctx: CheckContext, outcome: RouterOutcome, errors: readonly ReconcileError[], windowSeconds: number): RouterOutcome {
  const mine = errors.filter((e) => !e.plugin || e.plugin === outcome.detail.plugin);
  if (mine.length === 0) return outcome;
  const last = mine[mine.length - 1]!;
  const controller = ctx.config.controller;
  const summary = `the controller failed ${mine.length} reconcile${mine.length === 1 ? '' : 's'} of this Rollout in the last ${formatDuration(windowSeconds)} on traffic router ${outcome.detail.plugin}: "${quoteEnds(last.message)}"`;
  return {
    status: 'fail',
    summary: outcome.status === 'fail' ? `${outcome.summary}; ${summary}` : summary,
    remediation: uniqueSteps([...(outcome.status === 'fail' ? outcome.remediation : []), deploymentLogs(controller.namespace, controller.deployment, [`--since=${formatDuration(windowSeconds)}`], 'reconcile err'), ...forbiddenCommand(ctx, last.message)]),
    detail: { ...outcome.detail, ok: false },
  };
}

function evaluate(ctx: CheckContext, rollout: Rollout, logs: ControllerReconcileErrors): CheckResult<TrafficDetails> {
  const target = rolloutTarget(rollout);
  const traffic = canaryTraffic(rollout);
  const canary = rollout.spec?.strategy?.canary;
  const errors = logs.byRollout.get(target) ?? [];
  const outcomes = trafficRouterPlugins(rollout).map((plugin) => withReconcileErrors(ctx, evaluateRouter(ctx, rollout, plugin, traffic), errors, logs.windowSeconds));
  const worst = outcomes.reduce((a, b) => (STATUS_RANK[b.status] > STATUS_RANK[a.status] ? b : a));
  const details: TrafficDetails = {
    namespace: rolloutNamespace(rollout),
    rollout: rolloutName(rollout),
    holdsTraffic: traffic.holdsTraffic,
    canaryWeight: traffic.actualWeight,
    stableService: canary?.stableService,
    canaryService: canary?.canaryService,
    routers: outcomes.map((o) => o.detail),
  };
  if (traffic.desiredWeight !== undefined) details.stepWeight = traffic.desiredWeight;
  if (traffic.currentStepIndex !== undefined) details.step = `${traffic.currentStepIndex}/${traffic.steps}`;
  if (errors.length > 0) {
    const last = errors[errors.length - 1]!;
    details.reconcileErrors = { count: errors.length, windowSeconds: logs.windowSeconds, calls: [...new Set(errors.map((e) => e.call))], lastError: quoteEnds(last.message), ...(last.time ? { lastAt: last.time } : {}) };
  }
  if (logs.error) details.controllerLogError = logs.error;
  return result(target, worst.status, `Rollout ${target}: ${worst.summary}`, details, uniqueSteps(outcomes.flatMap((o) => o.remediation)));
}

function routerSamples(d: Details, field: 'present' | 'ok'): Sample[] {
  if (!('routers' in d)) return [];
  return d.routers.flatMap((router) => {
    const value = field === 'ok' ? router.ok : router.checked ? router.present : undefined;
    return value === undefined ? [] : [{ labels: { ...rolloutLabels(d), plugin: router.plugin }, value: value ? 1 : 0 }];
  });
}

export const metrics: MetricFamily<Details>[] = [
  {
    name: 'rollout_doctor_rollout_traffic_object_present',
    help: "1 when the traffic-router plugin's object (a CiliumEnvoyConfig by default, the Gateway API plugin's routes) naming the rollout's services exists, else 0.",
    labelNames: ['namespace', 'rollout', 'plugin'],
    collect: (d) => routerSamples(d, 'present'),
  },
  {
    name: 'rollout_doctor_rollout_traffic_object_ok',
    help: "0 when the traffic-router plugin's object is missing or wrong while it matters (no CiliumEnvoyConfig while the canary holds traffic, a route missing or its weights not the controller's) or the plugin failed the rollout's reconcile, else 1.",
    labelNames: ['namespace', 'rollout', 'plugin'],
    collect: (d) => routerSamples(d, 'ok'),
  },
];

export const rolloutTrafficCheck: Check<Details> = {
  id: 'rollout-traffic',
  description: "The traffic split a Rollout's status claims is on the wire: the traffic-router plugin's objects (Gateway API routes and their weights, a CiliumEnvoyConfig) exist, and no plugin call failed its reconcile.",
  needs: ['rollouts', 'deployments', 'configmaps', 'controllerPods'],
  reads: ['pods/log'],
  customKinds: trafficKinds,
  metrics,
  async run(ctx) {
    const rollouts = ctx.snapshot.list('rollouts').filter((r) => trafficRouterPlugins(r).length > 0);
    const logs: ControllerReconcileErrors = rollouts.length > 0 ? await readReconcileErrors(ctx) : { byRollout: new Map(), windowSeconds: 0 };
    return evaluateRollouts(rollouts, (rollout) => evaluate(ctx, rollout, logs));
  },
};
