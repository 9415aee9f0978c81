/**
 * What the deploy/ tests share: rendering the kustomize base with the real kubectl, reading the
 * manifests, the permission list the code derives for the deployed config, and the permissions a
 * set of RBAC objects grants a subject (the same rule matching the simulator's authorizer does).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ALL_CHECKS } from '../../src/checks/index.js';
import { type LoadedConfig, loadConfigFile } from '../../src/config/load.js';
import { checkNeeds, enabledChecks } from '../../src/engine/runner.js';
import type { Check } from '../../src/engine/types.js';
import { type Permission, permissionKey, permissionTarget, requiredPermissions } from '../../src/kube/permissions.js';
import { requireTool } from '../helpers/binaries.js';

export const REPO = path.resolve(import.meta.dirname, '..', '..');
export const DEPLOY_DIR = path.join(REPO, 'deploy');
export const DEPLOY_CONFIG = path.join(DEPLOY_DIR, 'homelab.yaml');
export const SERVICE_ACCOUNT = { namespace: 'rollout-doctor', name: 'rollout-doctor' };
export const SUBJECT = `system:serviceaccount:${SERVICE_ACCOUNT.namespace}:${SERVICE_ACCOUNT.name}`;

export type KubeObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> } & Record<string, unknown>;
};

/** kubectl's path, or undefined after printing loudly why the kustomize tests are skipped (throws on CI). */
export function findKubectl(): string | undefined {
  return requireTool(
    'kubectl',
    'rendering deploy/ with kustomize (and the RBAC tests that load the rendered roles)',
    "kubectl 1.21 or later from the Kubernetes project (its built-in kustomize v4+ has components; Debian's kubernetes-client 1.20 is too old)",
  );
}

export function parseObjects(text: string, source: string): KubeObject[] {
  return parseAllDocuments(text).flatMap((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${source}: document ${i + 1}: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as KubeObject | null;
    return value === null ? [] : [value];
  });
}

export function readObjects(file: string): KubeObject[] {
  return parseObjects(readFileSync(file, 'utf8'), path.relative(REPO, file));
}

/** `kubectl kustomize DIR`, parsed. */
export function renderKustomize(kubectl: string, dir: string): KubeObject[] {
  const text = execFileSync(kubectl, ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseObjects(text, `kubectl kustomize ${path.relative(REPO, dir) || '.'}`);
}

export function findObject(objects: readonly KubeObject[], kind: string, name: string, namespace?: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name && (namespace === undefined || o.metadata.namespace === namespace));
  if (!found) throw new Error(`no ${kind} ${namespace ? `${namespace}/` : ''}${name} in ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

export const RBAC_KINDS = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];

export function loadDeployConfig(): Promise<LoadedConfig> {
  return loadConfigFile(DEPLOY_CONFIG);
}

/** The checks the deployed config runs. */
export function deployedChecks(config: LoadedConfig): Check[] {
  return enabledChecks(ALL_CHECKS, config.config);
}

/** THE list: what rollout-doctor uses with the deployed config (src/kube/permissions.ts). */
export function requiredForDeploy(config: LoadedConfig): Permission[] {
  return requiredPermissions(checkNeeds(deployedChecks(config), config.config), config.config);
}

/** The checks whose own needs include this permission (namespace aside, as self-rbac counts them). */
export function checksNeeding(permission: Permission, config: LoadedConfig): string[] {
  const want = `${permissionTarget(permission)}:${permission.verb}`;
  return deployedChecks(config)
    .filter((check) => requiredPermissions(checkNeeds([check], config.config), config.config).some((p) => `${permissionTarget(p)}:${p.verb}` === want))
    .map((check) => check.id);
}

/** `pods/log` for a permission with a subresource. */
export function resourceOf(permission: Pick<Permission, 'resource' | 'subresource'>): string {
  return permission.subresource ? `${permission.resource}/${permission.subresource}` : permission.resource;
}

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

function rulesOf(role: KubeObject | undefined): Rule[] {
  return (role?.['rules'] as Rule[] | undefined) ?? [];
}

function bindsServiceAccount(binding: KubeObject, account: { namespace: string; name: string }): boolean {
  const subjects = (binding['subjects'] as Subject[] | undefined) ?? [];
  return subjects.some((s) => s.kind === 'ServiceAccount' && s.name === account.name && (s.namespace ?? binding.metadata.namespace) === account.namespace);
}

/** Expands rules to one permission per (group, resource, verb); namespace set for a Role's. */
export function permissionsOfRules(rules: readonly Rule[], namespace?: string): Permission[] {
  const out: Permission[] = [];
  for (const rule of rules) {
    for (const group of rule.apiGroups ?? []) {
      for (const combined of rule.resources ?? []) {
        const [resource, subresource] = combined.split('/') as [string, string | undefined];
        for (const verb of rule.verbs ?? []) out.push({ group, resource, ...(subresource ? { subresource } : {}), verb, ...(namespace ? { namespace } : {}) });
      }
    }
  }
  return out;
}

/**
 * What the ClusterRoleBindings and RoleBindings among `objects` grant the service account, as
 * permissions (wildcards stay literal `*`, so they never equal a required permission). A Role's
 * permissions carry its namespace; a ClusterRole bound by a RoleBinding counts in that namespace.
 */
export function grantedPermissions(objects: readonly KubeObject[], account = SERVICE_ACCOUNT): Permission[] {
  const clusterRole = (name: string) => objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === name);
  const out = new Map<string, Permission>();
  for (const binding of objects.filter((o) => o.kind === 'ClusterRoleBinding' && bindsServiceAccount(o, account))) {
    const ref = binding['roleRef'] as { kind: string; name: string };
    if (ref.kind !== 'ClusterRole') continue;
    for (const p of permissionsOfRules(rulesOf(clusterRole(ref.name)))) out.set(permissionKey(p), p);
  }
  for (const binding of objects.filter((o) => o.kind === 'RoleBinding' && bindsServiceAccount(o, account))) {
    const ref = binding['roleRef'] as { kind: string; name: string };
    const namespace = binding.metadata.namespace!;
    const role =
      ref.kind === 'ClusterRole' ? clusterRole(ref.name) : objects.find((o) => o.kind === 'Role' && o.metadata.name === ref.name && o.metadata.namespace === namespace);
    for (const p of permissionsOfRules(rulesOf(role), namespace)) out.set(permissionKey(p), p);
  }
  return [...out.values()].sort((a, b) => permissionKey(a).localeCompare(permissionKey(b)));
}

/** Rules granting exactly these permissions, one rule per (group, verbs), as YAML to paste. */
export function rulesYaml(permissions: readonly Permission[], indent = '  '): string {
  const byResource = new Map<string, { group: string; resource: string; verbs: Set<string> }>();
  for (const p of permissions) {
    const key = `${p.group}|${resourceOf(p)}`;
    const entry = byResource.get(key) ?? { group: p.group, resource: resourceOf(p), verbs: new Set<string>() };
    entry.verbs.add(p.verb);
    byResource.set(key, entry);
  }
  const rules = new Map<string, { group: string; verbs: string[]; resources: string[] }>();
  for (const { group, resource, verbs } of byResource.values()) {
    const sorted = [...verbs].sort();
    const key = `${group}|${sorted.join(',')}`;
    const rule = rules.get(key) ?? { group, verbs: sorted, resources: [] };
    rule.resources.push(resource);
    rules.set(key, rule);
  }
  const quote = (group: string) => (group === '' ? '""' : group);
  return [...rules.values()]
    .sort((a, b) => a.group.localeCompare(b.group) || a.verbs.join().localeCompare(b.verbs.join()))
    .map((r) => `${indent}- apiGroups: [${quote(r.group)}]\n${indent}  resources: [${r.resources.sort().join(', ')}]\n${indent}  verbs: [${r.verbs.join(', ')}]`)
    .join('\n');
}

/** A copy of the objects with one permission taken out of the rule that grants it. */
export function withoutPermission(objects: readonly KubeObject[], permission: Permission): KubeObject[] {
  return objects.map((o) => {
    const isTarget = permission.namespace ? o.kind === 'Role' && o.metadata.namespace === permission.namespace : o.kind === 'ClusterRole';
    if (!isTarget) return o;
    const rules: Rule[] = [];
    for (const rule of rulesOf(o)) {
      if (!(rule.apiGroups ?? []).includes(permission.group) || !(rule.verbs ?? []).includes(permission.verb) || !(rule.resources ?? []).includes(resourceOf(permission))) {
        rules.push(rule);
        continue;
      }
      // Split the rule: everything it granted except this one (group, resource, verb).
      const otherVerbs = (rule.verbs ?? []).filter((v) => v !== permission.verb);
      const otherResources = (rule.resources ?? []).filter((r) => r !== resourceOf(permission));
      const otherGroups = (rule.apiGroups ?? []).filter((g) => g !== permission.group);
      if (otherVerbs.length > 0) rules.push({ ...rule, verbs: otherVerbs });
      if (otherResources.length > 0) rules.push({ ...rule, resources: otherResources, verbs: [permission.verb] });
      if (otherGroups.length > 0) rules.push({ ...rule, apiGroups: otherGroups, resources: [resourceOf(permission)], verbs: [permission.verb] });
    }
    return { ...o, rules } as KubeObject;
  });
}
