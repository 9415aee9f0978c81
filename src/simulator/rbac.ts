/**
 * RBAC decisions over the scenario's Role/ClusterRole/RoleBinding/ClusterRoleBinding objects, with
 * the real authorizer's matching rules and reason texts, so that the daemon's permission checks
 * and 403 handling are exercised against what a cluster would decide. aggregationRule is ignored:
 * an aggregated ClusterRole grants only the rules written in it.
 */
import { asRecord } from './kinds.js';
import type { KubeObject, ObjectStore } from './store.js';

export interface UserInfo {
  name: string;
  groups: string[];
}

export interface AuthorizationAttributes {
  user: UserInfo;
  verb: string;
  /** Resource request when `resource` is set; otherwise a non-resource request on `path`. */
  resource?: string;
  subresource?: string;
  group?: string;
  namespace?: string;
  name?: string;
  path?: string;
}

export interface Decision {
  allowed: boolean;
  reason: string;
}

const SA_PREFIX = 'system:serviceaccount:';

/**
 * The groups the authenticator gives a user: service accounts are in `system:serviceaccounts`
 * and `system:serviceaccounts:<ns>`; everyone authenticated in `system:authenticated`.
 */
export function userInfo(name: string, extraGroups: string[] = []): UserInfo {
  const groups = new Set(extraGroups);
  if (name.startsWith(SA_PREFIX)) {
    const rest = name.slice(SA_PREFIX.length);
    const colon = rest.indexOf(':');
    if (colon > 0) {
      groups.add('system:serviceaccounts');
      groups.add(`system:serviceaccounts:${rest.slice(0, colon)}`);
    }
  }
  groups.add('system:authenticated');
  return { name, groups: [...groups] };
}

interface PolicyRule {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  resourceNames: string[];
  nonResourceURLs: string[];
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

interface Binding {
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  name: string;
  namespace: string;
  roleRef: { kind: string; name: string };
  subjects: Subject[];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function rulesOf(role: KubeObject | undefined): PolicyRule[] {
  if (!role || !Array.isArray(role['rules'])) return [];
  return (role['rules'] as unknown[]).map((raw) => {
    const r = asRecord(raw);
    return {
      verbs: strings(r['verbs']),
      apiGroups: strings(r['apiGroups']),
      resources: strings(r['resources']),
      resourceNames: strings(r['resourceNames']),
      nonResourceURLs: strings(r['nonResourceURLs']),
    };
  });
}

function bindingOf(kind: Binding['kind'], o: KubeObject): Binding {
  const meta = asRecord(o['metadata']);
  const ref = asRecord(o['roleRef']);
  const subjects = Array.isArray(o['subjects'])
    ? (o['subjects'] as unknown[]).map((s) => {
        const r = asRecord(s);
        return {
          kind: String(r['kind'] ?? ''),
          name: String(r['name'] ?? ''),
          namespace: typeof r['namespace'] === 'string' ? r['namespace'] : undefined,
        };
      })
    : [];
  return {
    kind,
    name: String(meta['name'] ?? ''),
    namespace: String(meta['namespace'] ?? ''),
    roleRef: { kind: String(ref['kind'] ?? ''), name: String(ref['name'] ?? '') },
    subjects,
  };
}

/** Bootstrap policy every real cluster has; a scenario object of the same name replaces it. */
const BOOTSTRAP_ROLES: Record<string, KubeObject> = {
  'cluster-admin': {
    rules: [
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      { nonResourceURLs: ['*'], verbs: ['*'] },
    ],
  },
  'system:basic-user': {
    rules: [
      {
        apiGroups: ['authorization.k8s.io'],
        resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
        verbs: ['create'],
      },
    ],
  },
  'system:discovery': {
    rules: [
      {
        nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'],
        verbs: ['get'],
      },
    ],
  },
  'system:public-info-viewer': {
    rules: [{ nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] }],
  },
};

const BOOTSTRAP_BINDINGS: Binding[] = ['system:basic-user', 'system:discovery', 'system:public-info-viewer'].map((name) => ({
  kind: 'ClusterRoleBinding',
  name,
  namespace: '',
  roleRef: { kind: 'ClusterRole', name },
  subjects: [{ kind: 'Group', name: 'system:authenticated' }],
}));

function has(list: string[], value: string): boolean {
  return list.includes('*') || list.includes(value);
}

function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources) {
    if (r === '*' || r === combined) return true;
    if (subresource !== '' && r === `*/${subresource}`) return true;
  }
  return false;
}

function nonResourceUrlMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.replace(/\*+$/, ''))) return true;
  }
  return false;
}

/** The real RuleAllows: verb, group, resource (with a `*`-slash-subresource form), resourceNames or non-resource URL. */
export function ruleAllows(rule: PolicyRule, a: AuthorizationAttributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (a.resource === undefined) return nonResourceUrlMatches(rule, a.path ?? '');
  const sub = a.subresource ?? '';
  const combined = sub === '' ? a.resource : `${a.resource}/${sub}`;
  if (!has(rule.apiGroups, a.group ?? '')) return false;
  if (!resourceMatches(rule, combined, sub)) return false;
  if (rule.resourceNames.length > 0 && !rule.resourceNames.includes(a.name ?? '')) return false;
  return true;
}

function subjectApplies(subject: Subject, user: UserInfo, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return subject.name === user.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const ns = subject.namespace || bindingNamespace;
      return ns !== '' && user.name === `${SA_PREFIX}${ns}:${subject.name}`;
    }
    default:
      return false;
  }
}

function describeSubject(subject: Subject, bindingNamespace: string): string {
  if (subject.kind === 'ServiceAccount') return `ServiceAccount "${subject.name}/${subject.namespace || bindingNamespace}"`;
  return `${subject.kind} "${subject.name}"`;
}

function describeBinding(b: Binding, subject: Subject): string {
  const name = b.kind === 'RoleBinding' ? `${b.name}/${b.namespace}` : b.name;
  return `${b.kind} "${name}" of ${b.roleRef.kind} "${b.roleRef.name}" to ${describeSubject(subject, b.namespace)}`;
}

/** Decides requests against the RBAC objects currently in a store. */
export class RbacAuthorizer {
  constructor(private readonly store: ObjectStore) {}

  private clusterRole(name: string): KubeObject | undefined {
    return this.store.get(this.store.rbac('ClusterRole'), '', name)?.object ?? BOOTSTRAP_ROLES[name];
  }

  private roleFor(b: Binding): KubeObject | undefined {
    if (b.roleRef.kind === 'ClusterRole') return this.clusterRole(b.roleRef.name);
    if (b.roleRef.kind === 'Role' && b.kind === 'RoleBinding') {
      return this.store.get(this.store.rbac('Role'), b.namespace, b.roleRef.name)?.object;
    }
    return undefined;
  }

  private clusterBindings(): Binding[] {
    const stored = this.store.list(this.store.rbac('ClusterRoleBinding')).map((e) => bindingOf('ClusterRoleBinding', e.object));
    const names = new Set(stored.map((b) => b.name));
    return [...stored, ...BOOTSTRAP_BINDINGS.filter((b) => !names.has(b.name))];
  }

  private namespaceBindings(namespace: string): Binding[] {
    return this.store.list(this.store.rbac('RoleBinding'), namespace).map((e) => bindingOf('RoleBinding', e.object));
  }

  /**
   * Like the real RBAC authorizer: cluster role bindings apply everywhere, role bindings only to
   * requests in their namespace; RBAC never denies, so a denial has an empty reason.
   */
  authorize(a: AuthorizationAttributes): Decision {
    const bindings = this.clusterBindings();
    if (a.resource !== undefined && a.namespace) bindings.push(...this.namespaceBindings(a.namespace));
    for (const b of bindings) {
      const subject = b.subjects.find((s) => subjectApplies(s, a.user, b.namespace));
      if (!subject) continue;
      for (const rule of rulesOf(this.roleFor(b))) {
        if (ruleAllows(rule, a)) return { allowed: true, reason: `RBAC: allowed by ${describeBinding(b, subject)}` };
      }
    }
    return { allowed: false, reason: '' };
  }
}

/** The real API server's 403 message for a denied request. */
export function forbiddenMessage(a: AuthorizationAttributes): string {
  let msg: string;
  if (a.resource === undefined) {
    msg = `User "${a.user.name}" cannot ${a.verb} path "${a.path ?? ''}"`;
  } else {
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    msg = `User "${a.user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.group ?? ''}"`;
    msg += a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
  }
  if (a.resource === undefined) return `forbidden: ${msg}`;
  const qualified = a.group ? `${a.resource}.${a.group}` : a.resource;
  return a.name ? `${qualified} "${a.name}" is forbidden: ${msg}` : `${qualified} is forbidden: ${msg}`;
}
