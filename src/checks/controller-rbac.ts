/**
 * controller-rbac: the Argo Rollouts controller's service account may do what its traffic-router
 * plugins need. A plugin runs inside the controller with the controller's credentials, so a
 * ClusterRole that lacks `create ciliumenvoyconfigs` leaves a canary that never gets its traffic
 * split. Each (group, resource) the configured traffic-router plugins need is checked with one
 * SubjectAccessReview per verb, cluster-wide, as `system:serviceaccount:<ns>:<sa>`.
 *
 * Built in: a plugin whose name contains `cilium` needs get, list, watch, create, update, patch and
 * delete on ciliumenvoyconfigs.cilium.io; `plugins[<name>].controllerRules` adds rules or replaces
 * the built-in verbs of a group/resource.
 *
 * Runbook: "CiliumEnvoyConfig not created (canary)" (`kubectl auth can-i create ciliumenvoyconfigs
 * --as=system:serviceaccount:argo-rollouts:argo-rollouts`).
 * Permissions: list deployments (cluster), list configmaps (controller namespace), create
 * subjectaccessreviews.authorization.k8s.io.
 */
import { text } from '../engine/remediation.js';
import type { Check, CheckContext, CheckResult, MetricFamily, UnknownDetails } from '../engine/types.js';
import { deploymentLogs } from './lib/commands.js';
import { type ControllerAccount, canICommand, controllerServiceAccount, findControllerDeployment } from './lib/controller.js';
import { configuredPlugins, controllerConfigMap, isCiliumPlugin, pluginControllerRules } from '../argo/plugins.js';
import { qualifiedResource, rbacTarget, ruleYamlLines, splitSubresource } from './lib/rbac.js';
import { evaluateEach, mapWithConcurrency, result } from './lib/results.js';

/**
 * Reviews in flight at once, per target (a target's verbs go together; targets too): a handful of
 * plugins times seven verbs fits in one round trip.
 */
const REVIEW_CONCURRENCY = 16;

interface Need {
  group: string;
  resource: string;
  verbs: Set<string>;
  plugins: Set<string>;
}

interface PermissionDetails {
  /** `namespace/name` of the controller's service account. */
  serviceAccount: string;
  user: string;
  serviceAccountSource: ControllerAccount['source'];
  group: string;
  resource: string;
  plugins: string[];
  /** Per verb, whether the review allowed it. */
  allowed: Record<string, boolean>;
  denied: string[];
}

type Details = PermissionDetails | UnknownDetails;

/** The (group, resource) pairs the enabled traffic-router plugins need, verbs merged across plugins. */
function neededPermissions(ctx: CheckContext): Need[] {
  const { plugins } = configuredPlugins(controllerConfigMap(ctx.snapshot, ctx.config));
  const needs = new Map<string, Need>();
  for (const plugin of plugins.filter((p) => p.kind === 'trafficRouter' && !p.disabled)) {
    for (const rule of pluginControllerRules(plugin.name, ctx.config)) {
      const key = rbacTarget(rule.group, rule.resource);
      let need = needs.get(key);
      if (!need) needs.set(key, (need = { group: rule.group, resource: rule.resource, verbs: new Set(), plugins: new Set() }));
      for (const verb of rule.verbs) need.verbs.add(verb);
      need.plugins.add(plugin.name);
    }
  }
  return [...needs.values()].sort((a, b) => rbacTarget(a.group, a.resource).localeCompare(rbacTarget(b.group, b.resource)));
}

async function evaluate(ctx: CheckContext, account: ControllerAccount, deploymentName: string, need: Need): Promise<CheckResult<PermissionDetails>> {
  const target = rbacTarget(need.group, need.resource);
  const verbs = [...need.verbs];
  const { resource, subresource } = splitSubresource(need.resource);
  const answers = await mapWithConcurrency(verbs, REVIEW_CONCURRENCY, async (verb) => {
    const review = await ctx.kube.accessReview({ user: account.user, groups: account.groups, verb, group: need.group, resource, subresource });
    return [verb, review.allowed && !review.denied] as const;
  });
  const allowed = Object.fromEntries(answers);
  const denied = answers.filter(([, isAllowed]) => !isAllowed).map(([verb]) => verb);
  const plugins = [...need.plugins].sort();
  const serviceAccount = `${account.namespace}/${account.name}`;
  const what = qualifiedResource(need.group, need.resource);
  const details: PermissionDetails = { serviceAccount, user: account.user, serviceAccountSource: account.source, group: need.group || 'core', resource: need.resource, plugins, allowed, denied };
  const neededBy = `plugin${plugins.length > 1 ? 's' : ''} ${plugins.join(', ')}`;
  if (denied.length === 0) {
    return result(target, 'ok', `ServiceAccount ${serviceAccount} may ${verbs.join(', ')} ${what} (needed by ${neededBy})`, details);
  }
  return result(
    target,
    'fail',
    `ServiceAccount ${serviceAccount} may not ${denied.join(', ')} ${what}, which ${neededBy} need${plugins.length > 1 ? '' : 's'}`,
    details,
    [
      canICommand(denied[0]!, need.resource, account),
      text(`# Add this rule to the ClusterRole bound to ServiceAccount ${serviceAccount} (argo-rollouts Helm chart: providerRBAC.additionalRules):`),
      ...ruleYamlLines([{ group: need.group, resource: need.resource, verbs: denied }]),
      deploymentLogs(account.namespace, deploymentName, [], plugins.some(isCiliumPlugin) ? 'cilium' : 'plugin'),
    ],
  );
}

export const metrics: MetricFamily<Details>[] = [
  {
    name: 'rollout_doctor_controller_permission_allowed',
    help: '1 when the Argo Rollouts controller service account may perform the verb on the resource a traffic-router plugin needs, else 0.',
    labelNames: ['serviceaccount', 'group', 'resource', 'verb'],
    collect: (d) =>
      'allowed' in d
        ? Object.entries(d.allowed).map(([verb, isAllowed]) => ({ labels: { serviceaccount: d.serviceAccount, group: d.group, resource: d.resource, verb }, value: isAllowed ? 1 : 0 }))
        : [],
  },
];

export const controllerRbacCheck: Check<Details> = {
  id: 'controller-rbac',
  description: "The Argo Rollouts controller's service account may do what its traffic-router plugins need (SubjectAccessReview).",
  needs: ['deployments', 'configmaps'],
  reads: ['subjectaccessreviews'],
  metrics,
  async run(ctx) {
    // A failed list throws: without the Deployment and ConfigMap we do not know whom or what to check.
    const deployment = findControllerDeployment(ctx);
    const account = controllerServiceAccount(ctx, deployment);
    const deploymentName = deployment?.metadata?.name ?? ctx.config.controller.deployment;
    return evaluateEach(neededPermissions(ctx), (need) => rbacTarget(need.group, need.resource), (need) => evaluate(ctx, account, deploymentName, need), {
      concurrency: 4,
    });
  },
};
