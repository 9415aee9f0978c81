/**
 * rollout-references: everything a Rollout's spec references exists: AnalysisTemplates and
 * ClusterAnalysisTemplates (canary steps, experiment steps, background, pre- and post-promotion),
 * the four strategy Services (canaryService, stableService, activeService, previewService), the
 * workloadRef Deployment, and the traffic-router plugins it names in the controller's ConfigMap.
 * A missing one is the runbook's most common Degraded: the controller cannot reconcile the Rollout
 * until it exists, and heals itself once it does.
 *
 * A traffic-router plugin is found the way the running controller looks it up (src/argo/plugins.ts):
 * by name and type from v1.8.0 (utils/config/config.go GetPlugin: under trafficRouterPlugins only),
 * by name only on v1.7 (utils/plugin/plugin.go GetPluginInfo); `disabled` does not concern traffic
 * routers. The controller's version comes from its starting line or image tag (src/argo/controller.ts),
 * read only when a Rollout names a plugin.
 *
 * Runbook: "Troubleshooting" (Rollout stuck in "Degraded": AnalysisTemplate not found, Service not
 * found, workloadRef Deployment not found).
 * Permissions: list rollouts, analysistemplates, clusteranalysistemplates (argoproj.io), services,
 * deployments.apps (cluster-wide), configmaps and pods, get pods/log (controller namespace).
 */
import { kubectl, type RemediationStep, text } from '../engine/remediation.js';
import type { Check, CheckContext, CheckResult, MetricFamily, UnknownDetails } from '../engine/types.js';
import { configMapYaml, restartDeployment, rolloutPhaseYaml } from './lib/commands.js';
import { readControllerVersion } from './lib/controller.js';
import type { ControllerVersion } from '../argo/controller.js';
import type { Condition, Rollout } from '../kube/types.js';
import { quote } from '../text.js';
import { configuredPlugins, controllerConfigMap, lookupPlugin } from '../argo/plugins.js';
import { result } from './lib/results.js';
import { evaluateRollouts, rolloutLabels, type RolloutRef } from './lib/rollout.js';
import { canarySteps, referencedServices, referencedTemplates, rolloutName, rolloutNamespace, rolloutTarget, trafficRouterPlugins } from '../argo/rollout-spec.js';
import { listOf, rolloutPhase } from '../argo/rollout-info.js';

export const REFERENCE_KINDS = ['AnalysisTemplate', 'ClusterAnalysisTemplate', 'Service', 'Workload', 'TrafficRouterPlugin'] as const;
type ReferenceKind = (typeof REFERENCE_KINDS)[number];

const KIND_TEXT: Record<ReferenceKind, string> = {
  AnalysisTemplate: 'AnalysisTemplate',
  ClusterAnalysisTemplate: 'ClusterAnalysisTemplate',
  Service: 'Service',
  Workload: 'workloadRef Deployment',
  TrafficRouterPlugin: 'traffic-router plugin',
};

interface Reference {
  kind: ReferenceKind;
  name: string;
  /** Where the spec names it: `steps[2] analysis`, `previewService`, `workloadRef`, ... */
  usedBy: string[];
  exists: boolean;
  /** Set when existence could not be verified (a workloadRef kind rollout-doctor does not list). */
  note?: string;
  /** How the controller looks it up (plugins: by version). */
  rule?: string;
}

interface ReferencesDetails extends RolloutRef {
  phase: string;
  message: string;
  references: Reference[];
  missing: string[];
  /** Missing references per kind, every kind present. */
  missingByKind: Record<string, number>;
  /** Whether the missing references are why the Rollout is Degraded. */
  isCause?: boolean;
  /** The controller version whose plugin lookup applied (when the Rollout names plugins). */
  controllerVersion?: ControllerVersion;
}

type Details = ReferencesDetails | UnknownDetails;

interface TemplateUse {
  name: string;
  clusterScope: boolean;
  usedBy: string;
}

/** Templates of experiment steps (steps[].experiment.analyses[]), which referencedTemplates leaves out. */
function experimentTemplates(rollout: Rollout): TemplateUse[] {
  const out: TemplateUse[] = [];
  canarySteps(rollout).forEach((step, index) => {
    const analyses = listOf<{ templateName?: string; clusterScope?: boolean }>((step.experiment as { analyses?: unknown } | undefined)?.analyses);
    for (const analysis of analyses) {
      if (analysis.templateName) out.push({ name: analysis.templateName, clusterScope: Boolean(analysis.clusterScope), usedBy: `steps[${index}] experiment` });
    }
  });
  return out;
}

const WHERE_TEXT = { step: 'analysis', background: 'background analysis', prePromotion: 'prePromotionAnalysis', postPromotion: 'postPromotionAnalysis' } as const;

function templateUses(rollout: Rollout): TemplateUse[] {
  const fromAnalysis = referencedTemplates(rollout).map((t) => ({
    name: t.name,
    clusterScope: t.clusterScope,
    usedBy: t.where === 'step' ? `steps[${t.stepIndex}] analysis` : WHERE_TEXT[t.where],
  }));
  return [...fromAnalysis, ...experimentTemplates(rollout)];
}

function addReference(list: Reference[], kind: ReferenceKind, name: string, usedBy: string, exists: () => boolean, note?: string, rule?: string): void {
  const existing = list.find((r) => r.kind === kind && r.name === name);
  if (existing) {
    if (!existing.usedBy.includes(usedBy)) existing.usedBy.push(usedBy);
    return;
  }
  const reference: Reference = { kind, name, usedBy: [usedBy], exists: exists() };
  if (note) reference.note = note;
  if (rule) reference.rule = rule;
  list.push(reference);
}

function collectReferences(rollout: Rollout, ctx: CheckContext, version: ControllerVersion | undefined): Reference[] {
  const namespace = rolloutNamespace(rollout);
  const references: Reference[] = [];
  for (const use of templateUses(rollout)) {
    if (use.clusterScope) addReference(references, 'ClusterAnalysisTemplate', use.name, use.usedBy, () => Boolean(ctx.snapshot.find('clusteranalysistemplates', '', use.name)));
    else addReference(references, 'AnalysisTemplate', use.name, use.usedBy, () => Boolean(ctx.snapshot.find('analysistemplates', namespace, use.name)));
  }
  for (const service of referencedServices(rollout)) {
    addReference(references, 'Service', service.name, `${service.role}Service`, () => Boolean(ctx.snapshot.find('services', namespace, service.name)));
  }
  const workload = rollout.spec?.workloadRef;
  if (workload?.name) {
    const kind = workload.kind ?? 'Deployment';
    if (kind === 'Deployment') {
      addReference(references, 'Workload', workload.name, 'workloadRef', () => Boolean(ctx.snapshot.find('deployments', namespace, workload.name!)));
    } else {
      addReference(references, 'Workload', workload.name, 'workloadRef', () => true, `${kind} workloadRef not verified (rollout-doctor lists Deployments only)`);
    }
  }
  const plugins = trafficRouterPlugins(rollout);
  if (plugins.length > 0 && version) {
    const configured = configuredPlugins(controllerConfigMap(ctx.snapshot, ctx.config)).plugins;
    for (const plugin of plugins) {
      const lookup = lookupPlugin(configured, plugin, 'trafficRouter', version.version);
      addReference(references, 'TrafficRouterPlugin', plugin, 'trafficRouting.plugins', () => lookup.plugin !== undefined, undefined, lookup.rule);
    }
  }
  return references;
}

function describe(reference: Reference): string {
  return `${KIND_TEXT[reference.kind]} ${reference.name} (${reference.usedBy.join(', ')})`;
}

function remediationFor(rollout: Rollout, missing: Reference[], ctx: CheckContext): RemediationStep[] {
  const namespace = rolloutNamespace(rollout);
  const { namespace: controllerNamespace, configMap, deployment } = ctx.config.controller;
  const steps: RemediationStep[] = [rolloutPhaseYaml(namespace, rolloutName(rollout))];
  const kinds = new Set(missing.map((r) => r.kind));
  if (kinds.has('AnalysisTemplate')) steps.push(kubectl(['get', 'analysistemplate', '-n', namespace], { comment: 'AnalysisTemplate not found: has Argo CD synced it yet?' }));
  if (kinds.has('ClusterAnalysisTemplate')) steps.push(kubectl(['get', 'clusteranalysistemplate']));
  for (const service of missing.filter((r) => r.kind === 'Service')) steps.push(kubectl(['get', 'svc', service.name, '-n', namespace]));
  for (const workload of missing.filter((r) => r.kind === 'Workload')) steps.push(kubectl(['get', 'deploy', workload.name, '-n', namespace]));
  if (kinds.has('TrafficRouterPlugin')) {
    steps.push(configMapYaml(controllerNamespace, configMap));
    const names = missing.filter((r) => r.kind === 'TrafficRouterPlugin').map((r) => r.name);
    steps.push(text(`Add ${names.join(', ')} to trafficRouterPlugins in ConfigMap ${configMap}, then: `, restartDeployment(controllerNamespace, deployment)));
  }
  steps.push(text('Make every referenced object exist (usually: let Argo CD sync it); the controller then heals the Rollout itself'));
  return steps;
}

function evaluate(rollout: Rollout, ctx: CheckContext, version: ControllerVersion | undefined): CheckResult<ReferencesDetails> {
  const target = rolloutTarget(rollout);
  const references = collectReferences(rollout, ctx, version);
  const missing = references.filter((r) => !r.exists);
  const { phase, message } = rolloutPhase(rollout);
  const details: ReferencesDetails = {
    namespace: rolloutNamespace(rollout),
    rollout: rolloutName(rollout),
    phase,
    message,
    references,
    missing: missing.map(describe),
    missingByKind: Object.fromEntries(REFERENCE_KINDS.map((kind) => [kind, missing.filter((r) => r.kind === kind).length])),
  };
  if (version && trafficRouterPlugins(rollout).length > 0) details.controllerVersion = version;
  if (missing.length === 0) {
    const counted = REFERENCE_KINDS.map((kind) => [kind, references.filter((r) => r.kind === kind).length] as const).filter(([, n]) => n > 0);
    const what = counted.length > 0 ? counted.map(([kind, n]) => `${n} ${KIND_TEXT[kind]}${n === 1 ? '' : 's'}`).join(', ') : 'nothing to check';
    return result(target, 'ok', `Rollout ${target}: every referenced object exists (${what})`, details);
  }
  const list = missing.map(describe).join(', ');
  const state = message ? `${phase} (${quote(message, 160)})` : phase;
  const objects = missing.length === 1 ? 'a missing object' : `${missing.length} missing objects`;
  // The controller reports a missing reference as InvalidSpec, naming it: only then is it the cause.
  const isCause =
    message.startsWith('InvalidSpec') ||
    listOf<Condition>(rollout.status?.conditions).some((c) => c.type === 'InvalidSpec') ||
    missing.some((r) => message.includes(`"${r.name}"`));
  details.isCause = phase === 'Degraded' && isCause;
  let summary: string;
  if (phase === 'Degraded' && isCause) summary = `Rollout ${target} is ${state} because it references ${objects}: ${list}; the controller heals it once they exist`;
  else if (phase === 'Healthy') summary = `Rollout ${target} references ${objects}: ${list}; it is Healthy now but its next update will not get through`;
  else summary = `Rollout ${target} is ${state} and cannot complete while it references ${objects}: ${list}; the controller heals it once they exist`;
  return result(target, 'fail', summary, details, remediationFor(rollout, missing, ctx));
}

export const metrics: MetricFamily<Details>[] = [
  {
    name: 'rollout_doctor_rollout_missing_references',
    help: 'Objects the Rollout spec references that do not exist, by kind (AnalysisTemplate, ClusterAnalysisTemplate, Service, Workload, TrafficRouterPlugin); only kinds with a missing object are emitted.',
    labelNames: ['namespace', 'rollout', 'kind'],
    // Only kinds with a missing object: the alert rule and the dashboard read `> 0`, and the zeros
    // were 5 series per Rollout (issue 17).
    collect: (d) => ('missingByKind' in d ? REFERENCE_KINDS.flatMap((kind) => ((d.missingByKind[kind] ?? 0) > 0 ? [{ labels: { ...rolloutLabels(d), kind }, value: d.missingByKind[kind]! }] : [])) : []),
  },
];

export const rolloutReferencesCheck: Check<Details> = {
  id: 'rollout-references',
  description: 'Everything each Rollout references exists: analysis templates, strategy Services, the workloadRef Deployment, traffic-router plugins in the controller ConfigMap.',
  needs: ['rollouts', 'analysistemplates', 'clusteranalysistemplates', 'services', 'deployments', 'configmaps', 'controllerPods'],
  reads: ['pods/log'],
  metrics,
  async run(ctx) {
    const rollouts = ctx.snapshot.list('rollouts');
    // The version decides the plugin lookup: read once, and only when a Rollout names a plugin.
    const version = rollouts.some((r) => trafficRouterPlugins(r).length > 0) ? await readControllerVersion(ctx) : undefined;
    return evaluateRollouts(rollouts, (rollout) => evaluate(rollout, ctx, version));
  },
};
