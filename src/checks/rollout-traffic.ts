/**
 * rollout-traffic: while a canary holds traffic, the traffic-router plugin's object exists. A
 * Rollout routed by a plugin only splits traffic through what the plugin creates; when that is
 * missing, "20% to the canary" is a number in the Rollout's status and nothing on the wire.
 *
 * A canary holds traffic when status.canary.weights.canary.weight > 0, or when the current step's
 * weight (the last setWeight at or before currentStepIndex) is > 0 and the rollout is neither fully
 * promoted nor aborted. For a plugin whose name contains `cilium` the object is a CiliumEnvoyConfig
 * (cilium.io/v2) in the rollout's namespace that names the stable or the canary Service, in
 * `spec.services[]`, `spec.backendServices[]` or as an Envoy cluster `<ns>/<service>` in
 * `spec.resources`. No Cilium plugin was ever published upstream, so that is our definition;
 * `plugins[<name>].trafficObject` replaces it (kind, group, version, plural, which services),
 * and also covers Gateway API routes (`spec.rules[].backendRefs[]`). Other routers: ok, unchecked.
 *
 * Runbook: "CiliumEnvoyConfig not created (canary)".
 * Permissions: list rollouts, list deployments (the controller's service account for the can-i
 * command), list each traffic object kind (ciliumenvoyconfigs.cilium.io by default).
 */
import type { Config } from '../config/schema.js';
import type { Check, CheckContext, CheckResult, MetricFamily, Sample, Status, UnknownDetails } from '../engine/types.js';
import { STATUS_RANK } from '../engine/types.js';
import { kubectl, type RemediationStep, text, uniqueSteps } from '../engine/remediation.js';
import type { CustomKindRef } from '../kube/snapshot.js';
import { deploymentLogs } from './lib/commands.js';
import type { CustomObject, Rollout } from '../kube/types.js';
import { canICommand, controllerServiceAccountOrDefault } from './lib/controller.js';
import { CILIUM_TRAFFIC_OBJECT, type TrafficObjectExpectation, trafficObjectFor } from '../argo/plugins.js';
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

/** The object kinds to list: the Cilium default and every configured trafficObject. */
export function trafficKinds(config: Config): CustomKindRef[] {
  const refs = new Map<string, CustomKindRef>();
  for (const expectation of [CILIUM_TRAFFIC_OBJECT, ...Object.values(config.plugins).flatMap((p) => (p.trafficObject ? [p.trafficObject] : []))]) {
    const ref = kindRef(expectation);
    refs.set(`${ref.plural}.${ref.group}/${ref.version}`, ref);
  }
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

/** What was found for one traffic router: `checked` false when rollout-doctor has no check for it. */
type RouterDetail =
  | { plugin: string; checked: false; note: string }
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
    };

interface TrafficDetails extends RolloutRef {
  holdsTraffic: boolean;
  canaryWeight: number;
  stableService?: string;
  canaryService?: string;
  routers: RouterDetail[];
  stepWeight?: number;
  step?: string;
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

function evaluateRouter(ctx: CheckContext, rollout: Rollout, plugin: string, traffic: CanaryTraffic): RouterOutcome {
  const namespace = rolloutNamespace(rollout);
  const target = rolloutTarget(rollout);
  const expectation = trafficObjectFor(plugin, ctx.config);
  if (!expectation) {
    return { status: 'ok', summary: `no object check exists for traffic router ${plugin}`, remediation: [], detail: { plugin, checked: false, note: `no object check exists for router ${plugin}; set plugins["${plugin}"].trafficObject to add one` } };
  }
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

function evaluate(ctx: CheckContext, rollout: Rollout): CheckResult<TrafficDetails> {
  const target = rolloutTarget(rollout);
  const traffic = canaryTraffic(rollout);
  const canary = rollout.spec?.strategy?.canary;
  const outcomes = trafficRouterPlugins(rollout).map((plugin) => evaluateRouter(ctx, rollout, plugin, traffic));
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
  return result(target, worst.status, `Rollout ${target}: ${worst.summary}`, details, uniqueSteps(outcomes.flatMap((o) => o.remediation)));
}

function routerSamples(d: Details, field: 'present' | 'ok'): Sample[] {
  if (!('routers' in d)) return [];
  return d.routers.flatMap((router) => {
    const value = router.checked ? router[field] : undefined;
    return value === undefined ? [] : [{ labels: { ...rolloutLabels(d), plugin: router.plugin }, value: value ? 1 : 0 }];
  });
}

export const metrics: MetricFamily<Details>[] = [
  {
    name: 'rollout_doctor_rollout_traffic_object_present',
    help: "1 when the traffic-router plugin's object (a CiliumEnvoyConfig by default) naming the rollout's services exists, else 0.",
    labelNames: ['namespace', 'rollout', 'plugin'],
    collect: (d) => routerSamples(d, 'present'),
  },
  {
    name: 'rollout_doctor_rollout_traffic_object_ok',
    help: "0 when the canary holds traffic without the traffic-router plugin's object (or its CRD is missing), else 1.",
    labelNames: ['namespace', 'rollout', 'plugin'],
    collect: (d) => routerSamples(d, 'ok'),
  },
];

export const rolloutTrafficCheck: Check<Details> = {
  id: 'rollout-traffic',
  description: "While a canary holds traffic, the traffic-router plugin's object (a CiliumEnvoyConfig by default) exists and names the rollout's services.",
  needs: ['rollouts', 'deployments'],
  customKinds: trafficKinds,
  metrics,
  async run(ctx) {
    const rollouts = ctx.snapshot.list('rollouts').filter((r) => trafficRouterPlugins(r).length > 0);
    return evaluateRollouts(rollouts, (rollout) => evaluate(ctx, rollout));
  },
};
