/**
 * deploy/rbac.yaml grants exactly the permissions src/kube/permissions.ts derives from the checks
 * deploy/homelab.yaml enables: nothing missing (a check would report unknown), nothing extra (least
 * privilege). Derived from the code each run, so a new check's needs fail here until the YAML
 * follows; the failure prints the rules to add or remove and the complete rules to paste.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Permission, permissionKey } from '../../src/kube/permissions.js';
import {
  DEPLOY_DIR,
  deployedChecks,
  findObject,
  grantedPermissions,
  type KubeObject,
  loadDeployConfig,
  readObjects,
  requiredForDeploy,
  resourceOf,
  rulesYaml,
  SERVICE_ACCOUNT,
} from './helpers.js';

const RBAC_FILE = path.join(DEPLOY_DIR, 'rbac.yaml');
const objects = readObjects(RBAC_FILE);
const config = await loadDeployConfig();
const required = requiredForDeploy(config);

/** The only write verbs rollout-doctor has: creating access reviews (they change nothing). */
const REVIEWS = new Set(['authorization.k8s.io/subjectaccessreviews', 'authorization.k8s.io/selfsubjectaccessreviews']);
const READ_VERBS = new Set(['get', 'list', 'watch']);

function roleName(permission: Permission): string {
  return permission.namespace ? `Role rollout-doctor in namespace ${permission.namespace}` : 'ClusterRole rollout-doctor';
}

function grouped(permissions: readonly Permission[], verb: string): string[] {
  const byRole = new Map<string, Permission[]>();
  for (const p of permissions) byRole.set(roleName(p), [...(byRole.get(roleName(p)) ?? []), p]);
  return [...byRole.entries()].map(([role, list]) => `${verb} ${role}:\n${rulesYaml(list, '    ')}`);
}

function completeRules(): string {
  const cluster = required.filter((p) => !p.namespace);
  const namespaces = [...new Set(required.flatMap((p) => (p.namespace ? [p.namespace] : [])))].sort();
  return [
    `ClusterRole rollout-doctor rules:\n${rulesYaml(cluster)}`,
    ...namespaces.map((ns) => `Role rollout-doctor (namespace ${ns}) rules:\n${rulesYaml(required.filter((p) => p.namespace === ns))}`),
  ].join('\n');
}

describe('deploy/rbac.yaml', () => {
  it('grants exactly the permissions the enabled checks use', () => {
    const granted = grantedPermissions(objects);
    const grantedKeys = new Set(granted.map(permissionKey));
    const requiredKeys = new Set(required.map(permissionKey));
    const missing = required.filter((p) => !grantedKeys.has(permissionKey(p)));
    const extra = granted.filter((p) => !requiredKeys.has(permissionKey(p)));
    const message = [
      `deploy/rbac.yaml drifted from what rollout-doctor uses (requiredPermissions for the checks deploy/homelab.yaml enables: ${deployedChecks(config)
        .map((c) => c.id)
        .join(', ')}).`,
      ...grouped(missing, 'Add to'),
      ...grouped(extra, 'Remove from'),
      'The complete rules:',
      completeRules(),
    ].join('\n');
    expect({ missing: missing.map(permissionKey), extra: extra.map(permissionKey) }, message).toEqual({ missing: [], extra: [] });
  });

  it('reads only: no wildcard, no secrets, no resourceNames or non-resource URLs, no write verb but the access reviews', () => {
    const roles = objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role');
    expect(roles.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const role of roles) {
      const where = `${role.kind} ${role.metadata.namespace ? `${role.metadata.namespace}/` : ''}${role.metadata.name}`;
      if (role['aggregationRule']) problems.push(`${where}: aggregationRule grants whatever other roles add`);
      for (const [i, rule] of ((role['rules'] as Record<string, string[] | undefined>[] | undefined) ?? []).entries()) {
        const at = `${where} rules[${i}]`;
        for (const field of ['apiGroups', 'resources', 'verbs'] as const) {
          if ((rule[field] ?? []).some((v) => v.includes('*'))) problems.push(`${at}: wildcard in ${field}`);
        }
        if (rule['nonResourceURLs']) problems.push(`${at}: nonResourceURLs`);
        if (rule['resourceNames']) problems.push(`${at}: resourceNames (the list must be exact per resource)`);
        if ((rule['resources'] ?? []).some((r) => r === 'secrets' || r.startsWith('secrets/'))) problems.push(`${at}: secrets`);
        for (const group of rule['apiGroups'] ?? []) {
          for (const resource of rule['resources'] ?? []) {
            for (const verb of rule['verbs'] ?? []) {
              const isReview = REVIEWS.has(`${group}/${resource}`);
              if (isReview ? verb !== 'create' : !READ_VERBS.has(verb)) problems.push(`${at}: ${verb} ${group || 'core'}/${resource}`);
            }
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('binds the roles to the rollout-doctor service account only, each Role in the namespace its permissions are for', () => {
    const account = findObject(objects, 'ServiceAccount', SERVICE_ACCOUNT.name, SERVICE_ACCOUNT.namespace);
    expect(account.metadata.namespace).toBe(SERVICE_ACCOUNT.namespace);
    const subjects = [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT.name, namespace: SERVICE_ACCOUNT.namespace }];
    const clusterBinding = findObject(objects, 'ClusterRoleBinding', 'rollout-doctor');
    expect(clusterBinding['roleRef']).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'rollout-doctor' });
    expect(clusterBinding['subjects']).toEqual(subjects);
    const namespaces = [...new Set(required.flatMap((p) => (p.namespace ? [p.namespace] : [])))].sort();
    expect(namespaces).toContain(config.config.controller.namespace);
    const roles = objects.filter((o): o is KubeObject => o.kind === 'Role');
    expect(roles.map((r) => r.metadata.namespace).sort()).toEqual(namespaces);
    for (const role of roles) {
      const binding = findObject(objects, 'RoleBinding', role.metadata.name, role.metadata.namespace);
      expect(binding['roleRef']).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
      expect(binding['subjects']).toEqual(subjects);
    }
    const kinds = objects.map((o) => o.kind).sort();
    expect(kinds).toEqual(['ClusterRole', 'ClusterRoleBinding', ...roles.flatMap(() => ['Role', 'RoleBinding']), 'ServiceAccount'].sort());
  });

  it('keeps self-rbac enabled, so the cluster verifies this same list', () => {
    expect(deployedChecks(config).map((c) => c.id)).toContain('self-rbac');
    expect(required.map((p) => `${p.verb} ${p.group || 'core'}/${resourceOf(p)}`)).toContain('create authorization.k8s.io/selfsubjectaccessreviews');
  });
});
