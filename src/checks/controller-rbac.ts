/**
 * controller-rbac: the Argo Rollouts controller's service account may do what its traffic-router
 * plugins need. A plugin runs inside the controller with the controller's credentials, so a
 * ClusterRole that lacks `update httproutes` (or the runbook's `create ciliumenvoyconfigs`) leaves
 * a canary whose traffic split is never applied. Each (group, resource) the configured
 * traffic-router plugins need is checked with one SubjectAccessReview per verb, as
 * `system:serviceaccount:<ns>:<sa>`: cluster-wide, or in each namespace the plugin works in (the
 * Gateway API plugin's routes and Rollouts), so that a namespaced Role counts.
 *
 * What each plugin needs is the table in src/argo/plugin-rbac.ts, by plugin release (read from the
 * plugin's `location`): the Gateway API plugin's installation docs, the runbook's Cilium rule, and
 * the config's `plugins.<name>.controllerRulesByVersion` / `controllerRules`. A `disabled` plugin
 * is still checked: `disabled` only means something for step plugins (argo-rollouts v1.8.0+
 * utils/plugin/types/types.go), a traffic router is downloaded and used all the same.
 *
 * Runbook: "CiliumEnvoyConfig not created (canary)" (`kubectl auth can-i create ciliumenvoyconfigs
 * --as=system:serviceaccount:argo-rollouts:argo-rollouts`).
 * Permissions: list deployments and rollouts (cluster), list configmaps (controller namespace),
 * create subjectaccessreviews.authorization.k8s.io.
 */
import { dependsOnRollouts, pluginRequirements } from '../argo/plugin-rbac.js';
import { text } from '../engine/remediation.js';
import type { Check, CheckContext, CheckResult, MetricFamily, UnknownDetails } from '../engine/types.js';
import { deploymentLogs } from './lib/commands.js';
import { type ControllerAccount, canICommand, controllerServiceAccount, findControllerDeployment } from './lib/controller.js';
import { configuredPlugins, controllerConfigMap, isCiliumPlugin } from '../argo/plugins.js';
import { qualifiedResource, rbacTarget, ruleYamlLines, splitSubresource } from './lib/rbac.js';
import { evaluateEach, mapWithConcurrency, result } from './lib/results.js';

/**
 * Reviews in flight at once, per target (a target's verbs go together; targets too): a handful of
 * plugins times seven verbs fits in one round trip.
 */
const REVIEW_CONCURRENCY = 16;

/** Where a verb is needed: cluster-wide (`cluster`) or in these namespaces. */
type Scope = 'cluster' | Set<string>;

interface Need {
  group: string;
  resource: string;
  verbs: Map<string, Scope>;
  plugins: Set<string>;
  releases: Map<string, string>;
  sources: Set<string>;
}

interface PermissionDetails {
  /** `namespace/name` of the controller's service account. */
  serviceAccount: string;
  user: string;
  serviceAccountSource: ControllerAccount['source'];
  group: string;
  resource: string;
  plugins: string[];
  /** The plugin releases read from their locations, when they name one. */
  pluginReleases?: Record<string, string>;
  /** Where the needed rules come from (plugin docs, runbook, config). */
  sources: string[];
  /** Per verb, the namespaces it was reviewed in, for verbs needed in namespaces only. */
  namespaces?: Record<string, string[]>;
  /** Per verb, whether the review allowed it (in every namespace reviewed). */
  allowed: Record<string, boolean>;
  denied: string[];
  /** Per denied namespaced verb, the namespaces it was denied in. */
  deniedIn?: Record<string, string[]>;
}

type Details = PermissionDetails | UnknownDetails;

/** The (group, resource) pairs the configured traffic-router plugins need, verbs merged across plugins. */
function neededPermissions(ctx: CheckContext): Need[] {
  const { plugins } = configuredPlugins(controllerConfigMap(ctx.snapshot, ctx.config));
  const routers = plugins.filter((p) => p.kind === 'trafficRouter');
  // Only the Gateway API plugin's needs depend on the Rollouts: a failed Rollout list leaves the others checkable.
  const rollouts = routers.some((p) => dependsOnRollouts(p.name)) ? ctx.snapshot.list('rollouts') : [];
  const needs = new Map<string, Need>();
  for (const plugin of routers) {
    const required = pluginRequirements(plugin, rollouts, ctx.config);
    for (const permission of required.permissions) {
      const key = rbacTarget(permission.group, permission.resource);
      let need = needs.get(key);
      if (!need) needs.set(key, (need = { group: permission.group, resource: permission.resource, verbs: new Map(), plugins: new Set(), releases: new Map(), sources: new Set() }));
      const before = need.verbs.get(permission.verb);
      const scope: Scope = permission.namespaces.length === 0 || before === 'cluster' ? 'cluster' : new Set([...(before ?? []), ...permission.namespaces]);
      need.verbs.set(permission.verb, scope);
      need.plugins.add(plugin.name);
      if (required.release) need.releases.set(plugin.name, required.release);
      for (const source of permission.sources) need.sources.add(source);
    }
  }
  return [...needs.values()].sort((a, b) => rbacTarget(a.group, a.resource).localeCompare(rbacTarget(b.group, b.resource)));
}

async function evaluate(ctx: CheckContext, account: ControllerAccount, deploymentName: string, need: Need): Promise<CheckResult<PermissionDetails>> {
  const target = rbacTarget(need.group, need.resource);
  const verbs = [...need.verbs.keys()];
  const { resource, subresource } = splitSubresource(need.resource);
  const reviews: { verb: string; namespace?: string }[] = [...need.verbs].flatMap(([verb, scope]) => (scope === 'cluster' ? [{ verb }] : [...scope].sort().map((namespace) => ({ verb, namespace }))));
  const answers = await mapWithConcurrency(reviews, REVIEW_CONCURRENCY, async (review) => {
    const answer = await ctx.kube.accessReview({ user: account.user, groups: account.groups, verb: review.verb, group: need.group, resource, subresource, ...(review.namespace ? { namespace: review.namespace } : {}) });
    return { ...review, isAllowed: answer.allowed && !answer.denied };
  });
  const allowed = Object.fromEntries(verbs.map((verb) => [verb, answers.filter((a) => a.verb === verb).every((a) => a.isAllowed)]));
  const denied = verbs.filter((verb) => !allowed[verb]);
  const deniedIn: Record<string, string[]> = {};
  for (const answer of answers) if (!answer.isAllowed && answer.namespace) (deniedIn[answer.verb] ??= []).push(answer.namespace);
  const namespaced = [...need.verbs].filter((entry): entry is [string, Set<string>] => entry[1] !== 'cluster');
  const plugins = [...need.plugins].sort();
  const serviceAccount = `${account.namespace}/${account.name}`;
  const what = qualifiedResource(need.group, need.resource);
  const details: PermissionDetails = {
    serviceAccount,
    user: account.user,
    serviceAccountSource: account.source,
    group: need.group || 'core',
    resource: need.resource,
    plugins,
    ...(need.releases.size > 0 ? { pluginReleases: Object.fromEntries([...need.releases].sort()) } : {}),
    sources: [...need.sources],
    ...(namespaced.length > 0 ? { namespaces: Object.fromEntries(namespaced.map(([verb, scope]) => [verb, [...scope].sort()])) } : {}),
    allowed,
    denied,
    ...(Object.keys(deniedIn).length > 0 ? { deniedIn } : {}),
  };
  const neededBy = `plugin${plugins.length > 1 ? 's' : ''} ${plugins.map((p) => (need.releases.has(p) ? `${p} ${need.releases.get(p)}` : p)).join(', ')}`;
  const scopeText = (namespaces: readonly string[]) => (namespaces.length === 0 ? '' : ` in namespace${namespaces.length > 1 ? 's' : ''} ${namespaces.join(', ')}`);
  const allNamespaces = [...new Set(namespaced.flatMap(([, scope]) => [...scope]))].sort();
  if (denied.length === 0) {
    return result(target, 'ok', `ServiceAccount ${serviceAccount} may ${verbs.join(', ')} ${what}${scopeText(allNamespaces)} (needed by ${neededBy})`, details);
  }
  const deniedNamespaces = [...new Set(Object.values(deniedIn).flat())].sort();
  const isClusterDenied = denied.some((verb) => need.verbs.get(verb) === 'cluster');
  return result(
    target,
    'fail',
    `ServiceAccount ${serviceAccount} may not ${denied.join(', ')} ${what}${isClusterDenied ? '' : scopeText(deniedNamespaces)}, which ${neededBy} need${plugins.length > 1 ? '' : 's'}`,
    details,
    [
      canICommand(denied[0]!, need.resource, account, deniedIn[denied[0]!]?.[0]),
      text(
        `# Add this rule to the ClusterRole bound to ServiceAccount ${serviceAccount} (argo-rollouts Helm chart: providerRBAC.additionalRules)${isClusterDenied || deniedNamespaces.length === 0 ? '' : `, or to a Role bound to it in namespace${deniedNamespaces.length > 1 ? 's' : ''} ${deniedNamespaces.join(', ')}`}:`,
      ),
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
  needs: ['deployments', 'configmaps', 'rollouts'],
  reads: ['subjectaccessreviews'],
  metrics,
  async run(ctx) {
    // A failed list throws: without the Deployment, ConfigMap and Rollouts we do not know whom or what to check.
    const deployment = findControllerDeployment(ctx);
    const account = controllerServiceAccount(ctx, deployment);
    const deploymentName = deployment?.metadata?.name ?? ctx.config.controller.deployment;
    return evaluateEach(neededPermissions(ctx), (need) => rbacTarget(need.group, need.resource), (need) => evaluate(ctx, account, deploymentName, need), {
      concurrency: 4,
    });
  },
};
