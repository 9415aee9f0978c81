/**
 * self-rbac: rollout-doctor itself may do everything this cycle's enabled checks need. The list
 * is derived from the checks' snapshot kinds and targeted reads (src/kube/permissions.ts), the same
 * list deploy/ grants, and is verified with one SelfSubjectAccessReview per permission. A missing
 * permission fails here with the rule to add and the checks it affects; those checks themselves
 * report `unknown` ("rollout-doctor may not list ..."), never `fail`.
 *
 * Runbook: none (it keeps the other checks honest).
 * Permissions: create selfsubjectaccessreviews.authorization.k8s.io (every authenticated user has it
 * through system:basic-user).
 */
import { checkNeeds } from '../engine/runner.js';
import { kubectl, type RemediationStep, text } from '../engine/remediation.js';
import { ANY_TARGET } from '../engine/store.js';
import type { Check, CheckContext, CheckResult, MetricFamily, UnknownDetails } from '../engine/types.js';
import { type Permission, permissionTarget, requiredPermissions } from '../kube/permissions.js';
import { qualifiedResource, ruleYamlLines } from './lib/rbac.js';
import { evaluateEach, result } from './lib/results.js';

/**
 * Reviews in flight at once. One per permission (about 20) fits in one round trip; the cap only
 * guards a config that would make the list much longer.
 */
const REVIEW_CONCURRENCY = 32;

interface TargetPermissions {
  target: string;
  group: string;
  resource: string;
  subresource?: string;
  permissions: Permission[];
}

interface SelfPermissionDetails {
  group: string;
  resource: string;
  permissions: { verb: string; scope: string; allowed: boolean; checks: string[] }[];
  /** Per verb, whether the review allowed it. */
  allowed: Record<string, boolean>;
  missing?: { verb: string; scope: string }[];
  affectedChecks?: string[];
}

/** No permission at all: one result instead of one per resource. */
interface NoBindingDetails {
  noBinding: true;
  permissions: { group: string; resource: string; verb: string; scope: string; allowed: boolean }[];
  affectedChecks: string[];
}

type Details = SelfPermissionDetails | NoBindingDetails | UnknownDetails;

function byTarget(permissions: readonly Permission[]): TargetPermissions[] {
  const out = new Map<string, TargetPermissions>();
  for (const permission of permissions) {
    const target = permissionTarget(permission);
    let entry = out.get(target);
    if (!entry) out.set(target, (entry = { target, group: permission.group, resource: permission.resource, subresource: permission.subresource, permissions: [] }));
    entry.permissions.push(permission);
  }
  return [...out.values()].sort((a, b) => a.target.localeCompare(b.target));
}

/** `<target>:<verb>` -> the checks whose needs include it (namespace aside: a cluster-wide grant covers them). */
function checksByPermission(ctx: CheckContext): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const check of ctx.checks) {
    for (const permission of requiredPermissions(checkNeeds([check], ctx.config), ctx.config)) {
      const key = `${permissionTarget(permission)}:${permission.verb}`;
      const list = out.get(key) ?? [];
      if (!list.includes(check.id)) list.push(check.id);
      out.set(key, list);
    }
  }
  return out;
}

function scopeOf(permission: Permission): string {
  return permission.namespace ? `in namespace ${permission.namespace}` : 'cluster-wide';
}

async function evaluate(ctx: CheckContext, entry: TargetPermissions, affects: Map<string, string[]>): Promise<CheckResult<SelfPermissionDetails>> {
  const answers: { permission: Permission; isAllowed: boolean }[] = [];
  for (const permission of entry.permissions) {
    const review = await ctx.kube.selfAccessReview({
      verb: permission.verb,
      group: permission.group,
      resource: permission.resource,
      subresource: permission.subresource,
      namespace: permission.namespace,
    });
    answers.push({ permission, isAllowed: review.allowed && !review.denied });
  }
  const resourceText = qualifiedResource(entry.group, entry.subresource ? `${entry.resource}/${entry.subresource}` : entry.resource);
  const missing = answers.filter((a) => !a.isAllowed).map((a) => a.permission);
  const checksOf = (permission: Permission) => affects.get(`${entry.target}:${permission.verb}`) ?? [];
  const details: SelfPermissionDetails = {
    group: entry.group || 'core',
    resource: entry.subresource ? `${entry.resource}/${entry.subresource}` : entry.resource,
    permissions: answers.map((a) => ({ verb: a.permission.verb, scope: a.permission.namespace ?? 'cluster', allowed: a.isAllowed, checks: checksOf(a.permission) })),
    allowed: Object.fromEntries(answers.map((a) => [a.permission.verb, a.isAllowed])),
  };
  if (missing.length === 0) {
    return result(entry.target, 'ok', `rollout-doctor may ${answers.map((a) => `${a.permission.verb} ${resourceText} ${scopeOf(a.permission)}`).join(', ')}`, details);
  }
  const affected = [...new Set(missing.flatMap(checksOf))].sort();
  details.missing = missing.map((p) => ({ verb: p.verb, scope: p.namespace ?? 'cluster' }));
  details.affectedChecks = affected;
  const remediation: RemediationStep[] = [];
  const clusterWide = missing.filter((p) => !p.namespace);
  const namespaced = missing.filter((p) => p.namespace);
  const rule = (permissions: Permission[]) =>
    ruleYamlLines([{ group: entry.group, resource: entry.subresource ? `${entry.resource}/${entry.subresource}` : entry.resource, verbs: [...new Set(permissions.map((p) => p.verb))] }]);
  if (clusterWide.length > 0) remediation.push(text("# Add this rule to rollout-doctor's ClusterRole (deploy/ grants the full list):"), ...rule(clusterWide));
  for (const namespace of [...new Set(namespaced.map((p) => p.namespace!))]) {
    remediation.push(text(`# Add this rule to rollout-doctor's Role in namespace ${namespace}:`), ...rule(namespaced.filter((p) => p.namespace === namespace)));
  }
  const missingText = missing.map((p) => `${p.verb} ${resourceText} ${scopeOf(p)}`).join(', ');
  return result(
    entry.target,
    'fail',
    `rollout-doctor may not ${missingText}${affected.length > 0 ? `: ${affected.join(', ')} ${affected.length === 1 ? 'depends' : 'depend'} on it (what needs it reads unknown)` : ''}`,
    details,
    remediation,
  );
}

/**
 * What every authenticated user may do anyway (Kubernetes' default ClusterRole system:basic-user,
 * bound to system:authenticated: plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go, v1.32.0).
 */
const EVERYONE_MAY = new Set(['authorization.k8s.io/selfsubjectaccessreviews']);

/** The service account deploy/ runs rollout-doctor as (deploy/rbac.yaml). */
const DEPLOYED_SERVICE_ACCOUNT = 'system:serviceaccount:rollout-doctor:rollout-doctor';

/**
 * One cause, one result: rollout-doctor with no permission beyond what every user has is one
 * missing binding (`kubectl apply -k deploy/`), and reviews that all fail the same way are one
 * failure, not one result per resource.
 */
function collapse(results: CheckResult<Details>[]): CheckResult<Details>[] {
  if (results.length < 2) return results;
  const first = results[0]!;
  if (results.every((r) => r.status === 'unknown' && r.summary === first.summary)) {
    return [{ ...first, target: ANY_TARGET, summary: `${first.summary} (all ${results.length} permission reviews)` }];
  }
  const needed = results.filter((r) => !EVERYONE_MAY.has(r.target));
  if (needed.length < 2 || !needed.every((r) => r.status === 'fail')) return results;
  const reviewed = results.map((r) => r.details).filter((d): d is SelfPermissionDetails => 'permissions' in d && 'allowed' in d);
  const permissions = reviewed.flatMap((d) => d.permissions.map((p) => ({ group: d.group, resource: d.resource, verb: p.verb, scope: p.scope, allowed: p.allowed })));
  const affected = [...new Set(reviewed.flatMap((d) => d.affectedChecks ?? []))].sort();
  const missing = permissions.filter((p) => !p.allowed);
  return [
    result(
      ANY_TARGET,
      'fail',
      `rollout-doctor may do none of the ${missing.length} things its checks need (${missing.map((p) => `${p.verb} ${p.resource}`).join(', ')}): no RBAC binding grants it anything, so ${affected.join(', ')} cannot look`,
      { noBinding: true, permissions, affectedChecks: affected },
      [
        text("Apply rollout-doctor's RBAC (deploy/rbac.yaml: its ClusterRole, its Role in the controller namespace and their bindings to its service account): ", kubectl(['apply', '-k', 'deploy/'])),
        text("Then check (deploy/'s service account; another one needs the same bindings): ", kubectl(['auth', 'can-i', 'list', 'rollouts.argoproj.io', '-A', `--as=${DEPLOYED_SERVICE_ACCOUNT}`])),
      ],
    ),
  ];
}

export const metrics: MetricFamily<Details>[] = [
  {
    name: 'rollout_doctor_self_permission_allowed',
    help: '1 when rollout-doctor itself may perform the verb on the resource an enabled check needs, else 0.',
    labelNames: ['group', 'resource', 'verb'],
    collect: (d) => {
      if ('noBinding' in d) return d.permissions.map((p) => ({ labels: { group: p.group, resource: p.resource, verb: p.verb }, value: p.allowed ? 1 : 0 }));
      return 'allowed' in d ? Object.entries(d.allowed).map(([verb, isAllowed]) => ({ labels: { group: d.group, resource: d.resource, verb }, value: isAllowed ? 1 : 0 })) : [];
    },
  },
];

export const selfRbacCheck: Check<Details> = {
  id: 'self-rbac',
  description: "rollout-doctor's own service account may do everything the enabled checks need (SelfSubjectAccessReview).",
  needs: [],
  reads: ['selfsubjectaccessreviews'],
  metrics,
  async run(ctx) {
    const permissions = requiredPermissions(checkNeeds(ctx.checks, ctx.config), ctx.config);
    const affects = checksByPermission(ctx);
    return collapse(await evaluateEach(byTarget(permissions), (entry) => entry.target, (entry) => evaluate(ctx, entry, affects), { concurrency: REVIEW_CONCURRENCY }));
  },
  explains: (found) => ('noBinding' in found.details ? { reasons: ['Forbidden'], cause: 'rollout-doctor has no RBAC binding' } : undefined),
};
