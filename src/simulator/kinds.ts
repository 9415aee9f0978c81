/**
 * Which REST resources the simulated API serves: the built-in table (always present, like a real
 * API server's), the custom kinds we know (present only once the scenario installs them) and kinds
 * registered from CustomResourceDefinitions found in the scenario.
 */

/** Group of objects the simulator reads itself (FakeApp) and never serves. */
export const SIMULATOR_GROUP = 'simulator.rollout-doctor.dev';

export interface ResourceType {
  group: string;
  /** Served versions, preferred first. */
  versions: string[];
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  /** Built-ins exist even when the scenario holds none of them. */
  isBuiltin: boolean;
  /** Custom kinds installed together (one CRD or object of any of them installs all). */
  installation?: string;
  /** Verbs the simulator answers, as advertised by discovery. */
  verbs: string[];
  /** Objects the simulator reads itself; never served. */
  isInternal: boolean;
}

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** The verbs the simulator serves for every stored kind (deletecollection is not implemented). */
const READ_VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const CREATE_ONLY = ['create'];

interface TableRow {
  gv: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  shortNames?: string[];
  verbs?: string[];
  installation?: string;
}

const BUILTINS: TableRow[] = [
  { gv: 'v1', kind: 'Pod', plural: 'pods', namespaced: true, shortNames: ['po'] },
  { gv: 'v1', kind: 'Service', plural: 'services', namespaced: true, shortNames: ['svc'] },
  { gv: 'v1', kind: 'Endpoints', plural: 'endpoints', namespaced: true, shortNames: ['ep'] },
  { gv: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true, shortNames: ['cm'] },
  { gv: 'v1', kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'] },
  { gv: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false, shortNames: ['ns'] },
  { gv: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true, shortNames: ['sa'] },
  { gv: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  { gv: 'v1', kind: 'Node', plural: 'nodes', namespaced: false, shortNames: ['no'] },
  { gv: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true, shortNames: ['pvc'] },
  { gv: 'v1', kind: 'PersistentVolume', plural: 'persistentvolumes', namespaced: false, shortNames: ['pv'] },
  { gv: 'v1', kind: 'ReplicationController', plural: 'replicationcontrollers', namespaced: true, shortNames: ['rc'] },
  { gv: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true, shortNames: ['quota'] },
  { gv: 'v1', kind: 'LimitRange', plural: 'limitranges', namespaced: true, shortNames: ['limits'] },
  { gv: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true, shortNames: ['deploy'] },
  { gv: 'apps/v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true, shortNames: ['rs'] },
  { gv: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true, shortNames: ['sts'] },
  { gv: 'apps/v1', kind: 'DaemonSet', plural: 'daemonsets', namespaced: true, shortNames: ['ds'] },
  { gv: 'batch/v1', kind: 'Job', plural: 'jobs', namespaced: true },
  { gv: 'batch/v1', kind: 'CronJob', plural: 'cronjobs', namespaced: true, shortNames: ['cj'] },
  { gv: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', namespaced: true, shortNames: ['hpa'] },
  { gv: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true, shortNames: ['pdb'] },
  { gv: 'networking.k8s.io/v1', kind: 'Ingress', plural: 'ingresses', namespaced: true, shortNames: ['ing'] },
  { gv: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true, shortNames: ['netpol'] },
  { gv: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases', namespaced: true },
  { gv: 'discovery.k8s.io/v1', kind: 'EndpointSlice', plural: 'endpointslices', namespaced: true },
  { gv: 'events.k8s.io/v1', kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'] },
  { gv: 'rbac.authorization.k8s.io/v1', kind: 'Role', plural: 'roles', namespaced: true },
  { gv: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true },
  { gv: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', plural: 'clusterroles', namespaced: false },
  { gv: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', namespaced: false },
  { gv: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', namespaced: false, shortNames: ['crd', 'crds'] },
  { gv: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', plural: 'subjectaccessreviews', namespaced: false, verbs: CREATE_ONLY },
  { gv: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', plural: 'selfsubjectaccessreviews', namespaced: false, verbs: CREATE_ONLY },
  { gv: 'authorization.k8s.io/v1', kind: 'LocalSubjectAccessReview', plural: 'localsubjectaccessreviews', namespaced: true, verbs: CREATE_ONLY },
];

const KNOWN_CUSTOM: TableRow[] = [
  { gv: 'argoproj.io/v1alpha1', kind: 'Rollout', plural: 'rollouts', namespaced: true, shortNames: ['ro'], installation: 'argo-rollouts' },
  { gv: 'argoproj.io/v1alpha1', kind: 'AnalysisRun', plural: 'analysisruns', namespaced: true, shortNames: ['ar'], installation: 'argo-rollouts' },
  { gv: 'argoproj.io/v1alpha1', kind: 'AnalysisTemplate', plural: 'analysistemplates', namespaced: true, shortNames: ['at'], installation: 'argo-rollouts' },
  { gv: 'argoproj.io/v1alpha1', kind: 'ClusterAnalysisTemplate', plural: 'clusteranalysistemplates', namespaced: false, shortNames: ['cat'], installation: 'argo-rollouts' },
  { gv: 'argoproj.io/v1alpha1', kind: 'Experiment', plural: 'experiments', namespaced: true, shortNames: ['exp'], installation: 'argo-rollouts' },
  { gv: 'argoproj.io/v1alpha1', kind: 'Application', plural: 'applications', namespaced: true, shortNames: ['app', 'apps'], installation: 'argo-cd' },
  { gv: 'argoproj.io/v1alpha1', kind: 'AppProject', plural: 'appprojects', namespaced: true, shortNames: ['appproj', 'appprojs'], installation: 'argo-cd' },
  { gv: 'argoproj.io/v1alpha1', kind: 'ApplicationSet', plural: 'applicationsets', namespaced: true, shortNames: ['appset', 'appsets'], installation: 'argo-cd' },
  { gv: 'cilium.io/v2', kind: 'CiliumEnvoyConfig', plural: 'ciliumenvoyconfigs', namespaced: true, shortNames: ['cec'] },
  { gv: 'cilium.io/v2', kind: 'CiliumClusterwideEnvoyConfig', plural: 'ciliumclusterwideenvoyconfigs', namespaced: false, shortNames: ['ccec'] },
  { gv: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', plural: 'ciliumnetworkpolicies', namespaced: true, shortNames: ['cnp', 'ciliumnp'] },
  { gv: `${SIMULATOR_GROUP}/v1`, kind: 'FakeApp', plural: 'fakeapps', namespaced: false },
];

/** Splits `apps/v1` into group and version (`v1` is the core group ''). */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  if (slash === -1) return { group: '', version: apiVersion };
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The plural kubectl would guess for a kind nobody registered (English rules, lower case). */
export function guessPlural(kind: string): string {
  const lower = kind.toLowerCase();
  if (/(s|x|z|ch|sh)$/.test(lower)) return `${lower}es`;
  if (/[^aeiou]y$/.test(lower)) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}

function fromRow(row: TableRow, isBuiltin: boolean): ResourceType {
  const { group, version } = parseApiVersion(row.gv);
  return {
    group,
    versions: [version],
    kind: row.kind,
    plural: row.plural,
    singular: row.kind.toLowerCase(),
    namespaced: row.namespaced,
    shortNames: row.shortNames ?? [],
    isBuiltin,
    installation: row.installation,
    verbs: row.verbs ?? READ_VERBS,
    isInternal: group === SIMULATOR_GROUP,
  };
}

/** Resource types of one simulator: the fixed tables plus what CRDs registered. */
export class KindRegistry {
  private readonly byKind = new Map<string, ResourceType>();
  private readonly byPlural = new Map<string, ResourceType>();

  constructor() {
    for (const row of BUILTINS) this.add(fromRow(row, true));
    for (const row of KNOWN_CUSTOM) this.add(fromRow(row, false));
  }

  private add(rt: ResourceType): void {
    this.byKind.set(`${rt.group}/${rt.kind}`, rt);
    this.byPlural.set(`${rt.group}/${rt.plural}`, rt);
  }

  byGroupKind(group: string, kind: string): ResourceType | undefined {
    return this.byKind.get(`${group}/${kind}`);
  }

  byGroupPlural(group: string, plural: string): ResourceType | undefined {
    return this.byPlural.get(`${group}/${plural}`);
  }

  all(): ResourceType[] {
    return [...this.byKind.values()];
  }

  /**
   * The type an object belongs to. A kind that is in no table and has no CRD gets a guessed
   * plural and is namespaced when the object carries a namespace.
   */
  resolve(gvk: GroupVersionKind, hasNamespace: boolean): ResourceType {
    const known = this.byGroupKind(gvk.group, gvk.kind);
    if (known) {
      if (!known.versions.includes(gvk.version)) known.versions.push(gvk.version);
      return known;
    }
    const rt: ResourceType = {
      group: gvk.group,
      versions: [gvk.version],
      kind: gvk.kind,
      plural: guessPlural(gvk.kind),
      singular: gvk.kind.toLowerCase(),
      namespaced: hasNamespace,
      shortNames: [],
      isBuiltin: false,
      verbs: READ_VERBS,
      isInternal: gvk.group === SIMULATOR_GROUP,
    };
    this.add(rt);
    return rt;
  }

  /** Registers (or completes) the type a CustomResourceDefinition describes; returns it. */
  registerCrd(crd: Record<string, unknown>): ResourceType | undefined {
    const spec = asRecord(crd['spec']);
    const names = asRecord(spec['names']);
    const group = typeof spec['group'] === 'string' ? spec['group'] : undefined;
    const kind = typeof names['kind'] === 'string' ? names['kind'] : undefined;
    const plural = typeof names['plural'] === 'string' ? names['plural'] : undefined;
    if (!group || !kind || !plural) return undefined;
    const versions: string[] = [];
    if (Array.isArray(spec['versions'])) {
      for (const v of spec['versions']) {
        const version = asRecord(v);
        if (typeof version['name'] === 'string' && version['served'] !== false) versions.push(version['name']);
      }
    }
    if (typeof spec['version'] === 'string' && !versions.includes(spec['version'])) versions.push(spec['version']);
    const existing = this.byGroupKind(group, kind);
    if (existing) {
      for (const v of versions) if (!existing.versions.includes(v)) existing.versions.push(v);
      return existing;
    }
    const rt: ResourceType = {
      group,
      versions: versions.length > 0 ? versions : ['v1'],
      kind,
      plural,
      singular: typeof names['singular'] === 'string' ? names['singular'] : kind.toLowerCase(),
      namespaced: spec['scope'] !== 'Cluster',
      shortNames: Array.isArray(names['shortNames']) ? names['shortNames'].filter((s): s is string => typeof s === 'string') : [],
      isBuiltin: false,
      verbs: READ_VERBS,
      isInternal: group === SIMULATOR_GROUP,
    };
    this.add(rt);
    return rt;
  }

  /** Types installed together with `rt` (itself included). */
  installationOf(rt: ResourceType): ResourceType[] {
    if (!rt.installation) return [rt];
    return this.all().filter((other) => other.installation === rt.installation);
  }
}

/** The group and plural a CRD object declares, if it is well formed. */
export function crdTarget(crd: Record<string, unknown>): { group: string; plural: string } | undefined {
  const spec = asRecord(crd['spec']);
  const names = asRecord(spec['names']);
  if (typeof spec['group'] !== 'string' || typeof names['plural'] !== 'string') return undefined;
  return { group: spec['group'], plural: names['plural'] };
}

export function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
