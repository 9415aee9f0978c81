/**
 * What a Rollout spec says, read the way the controller reads it (argo-rollouts
 * pkg/apis/rollouts/v1alpha1/types.go): its name and namespace, its strategy, the Services,
 * AnalysisTemplates and plugins it references. The fields read here are the same at v1.7.2, v1.8.4,
 * v1.9.1 and v1.10.0-rc1, except step plugins (`steps[].plugin`, PluginStep), which exist from v1.8.0.
 */
import type { Rollout, RolloutAnalysis, RolloutStep } from '../kube/types.js';

export function rolloutTarget(rollout: Rollout): string {
  return `${rollout.metadata.namespace ?? 'default'}/${rollout.metadata.name ?? ''}`;
}

export function rolloutNamespace(rollout: Rollout): string {
  return rollout.metadata.namespace ?? 'default';
}

export function rolloutName(rollout: Rollout): string {
  return rollout.metadata.name ?? '';
}

export type Strategy = 'Canary' | 'BlueGreen';

/** A Rollout without blueGreen runs as canary (rollout/context.go reconcile, v1.7.2 to v1.10.0-rc1: "when we get here strategy is canary"). */
export function strategyOf(rollout: Rollout): Strategy {
  return rollout.spec?.strategy?.blueGreen ? 'BlueGreen' : 'Canary';
}

export function canarySteps(rollout: Rollout): RolloutStep[] {
  return rollout.spec?.strategy?.canary?.steps ?? [];
}

export type ServiceRole = 'canary' | 'stable' | 'active' | 'preview';

export interface ServiceReference {
  role: ServiceRole;
  name: string;
}

export function referencedServices(rollout: Rollout): ServiceReference[] {
  const out: ServiceReference[] = [];
  const canary = rollout.spec?.strategy?.canary;
  const blueGreen = rollout.spec?.strategy?.blueGreen;
  if (canary?.canaryService) out.push({ role: 'canary', name: canary.canaryService });
  if (canary?.stableService) out.push({ role: 'stable', name: canary.stableService });
  if (blueGreen?.activeService) out.push({ role: 'active', name: blueGreen.activeService });
  if (blueGreen?.previewService) out.push({ role: 'preview', name: blueGreen.previewService });
  return out;
}

export type AnalysisWhere = 'step' | 'background' | 'prePromotion' | 'postPromotion';

export interface TemplateReference {
  name: string;
  clusterScope: boolean;
  where: AnalysisWhere;
  /** The canary step index for step analyses. */
  stepIndex?: number;
  /** The analysis block the reference sits in (its args). */
  analysis: RolloutAnalysis;
}

/** Every AnalysisTemplate/ClusterAnalysisTemplate the Rollout references, with where. */
export function referencedTemplates(rollout: Rollout): TemplateReference[] {
  const out: TemplateReference[] = [];
  const add = (analysis: RolloutAnalysis | undefined, where: AnalysisWhere, stepIndex?: number) => {
    for (const template of analysis?.templates ?? []) {
      if (!template.templateName) continue;
      out.push({ name: template.templateName, clusterScope: Boolean(template.clusterScope), where, stepIndex, analysis: analysis! });
    }
  };
  canarySteps(rollout).forEach((step, index) => add(step.analysis as RolloutAnalysis | undefined, 'step', index));
  add(rollout.spec?.strategy?.canary?.analysis, 'background');
  add(rollout.spec?.strategy?.blueGreen?.prePromotionAnalysis, 'prePromotion');
  add(rollout.spec?.strategy?.blueGreen?.postPromotionAnalysis, 'postPromotion');
  return out;
}

/** Traffic-router plugin names (`spec.strategy.canary.trafficRouting.plugins` keys). */
export function trafficRouterPlugins(rollout: Rollout): string[] {
  return Object.keys(rollout.spec?.strategy?.canary?.trafficRouting?.plugins ?? {});
}

/** Step plugin names (`steps[].plugin.name`). */
export function stepPlugins(rollout: Rollout): string[] {
  return canarySteps(rollout)
    .map((step) => step.plugin?.name)
    .filter((name): name is string => Boolean(name));
}
