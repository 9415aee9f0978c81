/**
 * Server-side Tables (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), what `kubectl get`
 * prints: the built-in printers of the kinds a runbook looks at, ported from Kubernetes v1.32.0
 * pkg/printers/internalversion/printers.go (pods, deployments, replicasets, services, configmaps,
 * namespaces, secrets, serviceaccounts, endpoints), custom resources through their CRD's
 * `additionalPrinterColumns` (apiextensions-apiserver pkg/registry/customresource/tableconvertor,
 * with the Age column a CRD without columns is served with), and every other kind through the
 * default convertor (apiserver pkg/registry/rest/table.go: Name, Created At).
 *
 * Rows carry the object's metadata (PartialObjectMetadata, `includeObject=Metadata`, the default),
 * the whole object with `includeObject=Object`, or nothing with `None`.
 */
import { asRecord, type ResourceType } from './kinds.js';
import type { KubeObject } from './store.js';

export interface TableContext {
  now: () => number;
  includeObject: 'None' | 'Metadata' | 'Object';
  /** The CRD of a custom kind, when the scenario holds it. */
  crdOf: (rt: ResourceType) => KubeObject | undefined;
}

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

// metav1.ObjectMeta's swagger docs (apimachinery pkg/apis/meta/v1/types_swagger_doc_generated.go, v1.32.0).
const NAME_DOC =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
const CREATED_DOC =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

function col(name: string, type: string, description: string, priority = 0, format = ''): Column {
  return { name, type, format, description, priority };
}
const NAME = col('Name', 'string', NAME_DOC, 0, 'name');
const AGE = col('Age', 'string', CREATED_DOC);
const CONTAINERS = col('Containers', 'string', 'Names of each container in the template.', 1);
const IMAGES = col('Images', 'string', 'Images referenced by each container in the template.', 1);

/**
 * HumanDuration of apimachinery pkg/util/duration/duration.go (v1.32.0): ~2-3 significant figures;
 * what the AGE and RESTARTS columns print.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${Math.trunc(days / 365)}y` : `${Math.trunc(days / 365)}y${days % 365}d`;
  return `${Math.trunc(days / 365)}y`;
}

/** translateTimestampSince: `<unknown>` without a timestamp. */
function since(ctx: TableContext, timestamp: unknown): string {
  if (typeof timestamp !== 'string' || timestamp === '') return '<unknown>';
  const t = Date.parse(timestamp);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(ctx.now() - t);
}

function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.map(asRecord) : [];
}

function num(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

const meta = (o: KubeObject): Record<string, unknown> => asRecord(o['metadata']);
const spec = (o: KubeObject): Record<string, unknown> => asRecord(o['spec']);
const status = (o: KubeObject): Record<string, unknown> => asRecord(o['status']);

function selectorText(selector: unknown): string {
  const s = asRecord(selector);
  const parts: string[] = [];
  const matchLabels = asRecord(s['matchLabels']);
  for (const key of Object.keys(matchLabels).sort()) parts.push(`${key}=${String(matchLabels[key])}`);
  for (const r of records(s['matchExpressions'])) {
    const values = Array.isArray(r['values']) ? (r['values'] as string[]) : [];
    const op = str(r['operator']);
    if (op === 'In') parts.push(`${str(r['key'])} in (${values.join(',')})`);
    else if (op === 'NotIn') parts.push(`${str(r['key'])} notin (${values.join(',')})`);
    else if (op === 'Exists') parts.push(str(r['key']));
    else if (op === 'DoesNotExist') parts.push(`!${str(r['key'])}`);
  }
  return parts.length === 0 ? '<none>' : parts.join(',');
}

function templateContainers(template: unknown): [string, string] {
  const containers = records(asRecord(asRecord(template)['spec'])['containers']);
  return [containers.map((c) => str(c['name'])).join(','), containers.map((c) => str(c['image'])).join(',')];
}

function isRestartableInit(container: Record<string, unknown> | undefined): boolean {
  return container?.['restartPolicy'] === 'Always';
}

function terminatedAt(s: Record<string, unknown>): number | undefined {
  const finished = asRecord(asRecord(asRecord(s['lastState'])['terminated']))['finishedAt'];
  const t = typeof finished === 'string' ? Date.parse(finished) : Number.NaN;
  return Number.isNaN(t) ? undefined : t;
}

/** printPod (printers.go, v1.32.0): READY, STATUS (the kubelet's reasons), RESTARTS with when. */
function podCells(ctx: TableContext, pod: KubeObject): unknown[] {
  const podSpec = spec(pod);
  const podStatus = status(pod);
  const initSpecs = new Map(records(podSpec['initContainers']).map((c) => [str(c['name']), c]));
  let total = records(podSpec['containers']).length;
  for (const c of initSpecs.values()) if (isRestartableInit(c)) total++;
  let restarts = 0;
  let restartableInitRestarts = 0;
  let lastRestart = 0;
  let lastRestartableInitRestart = 0;
  let ready = 0;
  let reason = str(podStatus['reason']) || str(podStatus['phase']);
  const conditions = records(podStatus['conditions']);
  if (conditions.some((c) => c['type'] === 'PodScheduled' && c['reason'] === 'SchedulingGated')) reason = 'SchedulingGated';
  const initStatuses = records(podStatus['initContainerStatuses']);
  let initializing = false;
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i] as Record<string, unknown>;
    restarts += num(c['restartCount']);
    const finished = terminatedAt(c);
    if (finished !== undefined && finished > lastRestart) lastRestart = finished;
    const restartable = isRestartableInit(initSpecs.get(str(c['name'])));
    if (restartable) {
      restartableInitRestarts += num(c['restartCount']);
      if (finished !== undefined && finished > lastRestartableInitRestart) lastRestartableInitRestart = finished;
    }
    const state = asRecord(c['state']);
    const terminated = state['terminated'] === undefined ? undefined : asRecord(state['terminated']);
    const waiting = state['waiting'] === undefined ? undefined : asRecord(state['waiting']);
    if (terminated && num(terminated['exitCode']) === 0) continue;
    if (restartable && c['started'] === true) {
      if (c['ready'] === true) ready++;
      continue;
    }
    if (terminated) {
      if (str(terminated['reason']) === '') reason = num(terminated['signal']) !== 0 ? `Init:Signal:${num(terminated['signal'])}` : `Init:ExitCode:${num(terminated['exitCode'])}`;
      else reason = `Init:${str(terminated['reason'])}`;
    } else if (waiting && str(waiting['reason']) !== '' && waiting['reason'] !== 'PodInitializing') {
      reason = `Init:${str(waiting['reason'])}`;
    } else {
      reason = `Init:${i}/${initSpecs.size}`;
    }
    initializing = true;
    break;
  }
  const initialized = conditions.some((c) => c['type'] === 'Initialized' && c['status'] === 'True');
  if (!initializing || initialized) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses = records(podStatus['containerStatuses']);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i] as Record<string, unknown>;
      restarts += num(c['restartCount']);
      const finished = terminatedAt(c);
      if (finished !== undefined && finished > lastRestart) lastRestart = finished;
      const state = asRecord(c['state']);
      const waiting = asRecord(state['waiting']);
      const terminated = state['terminated'] === undefined ? undefined : asRecord(state['terminated']);
      if (str(waiting['reason']) !== '') reason = str(waiting['reason']);
      else if (terminated && str(terminated['reason']) !== '') reason = str(terminated['reason']);
      else if (terminated) reason = num(terminated['signal']) !== 0 ? `Signal:${num(terminated['signal'])}` : `ExitCode:${num(terminated['exitCode'])}`;
      else if (c['ready'] === true && state['running'] !== undefined) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = conditions.some((c) => c['type'] === 'Ready' && c['status'] === 'True') ? 'Running' : 'NotReady';
  }
  const phase = str(podStatus['phase']);
  if (meta(pod)['deletionTimestamp'] && podStatus['reason'] === 'NodeLost') reason = 'Unknown';
  else if (meta(pod)['deletionTimestamp'] && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';
  const restartsText = restarts !== 0 && lastRestart !== 0 ? `${restarts} (${humanDuration(ctx.now() - lastRestart)} ago)` : String(restarts);
  const podIPs = records(podStatus['podIPs']);
  const ip = str(podIPs[0]?.['ip']) || str(podStatus['podIP']) || '<none>';
  const gates = records(podSpec['readinessGates']);
  let gatesText = '<none>';
  if (gates.length > 0) {
    const trueConditions = new Set(conditions.filter((c) => c['status'] === 'True').map((c) => str(c['type'])));
    gatesText = `${gates.filter((g) => trueConditions.has(str(g['conditionType']))).length}/${gates.length}`;
  }
  return [
    str(meta(pod)['name']),
    `${ready}/${total}`,
    reason,
    restartsText,
    since(ctx, meta(pod)['creationTimestamp']),
    ip,
    str(podSpec['nodeName']) || '<none>',
    str(podStatus['nominatedNodeName']) || '<none>',
    gatesText,
  ];
}

function servicePorts(svc: KubeObject): string {
  const ports = records(spec(svc)['ports']).map((p) => {
    const protocol = str(p['protocol']) || 'TCP';
    return p['nodePort'] !== undefined ? `${num(p['port'])}:${num(p['nodePort'])}/${protocol}` : `${num(p['port'])}/${protocol}`;
  });
  return ports.length === 0 ? '<none>' : ports.join(',');
}

function serviceExternalIp(svc: KubeObject): string {
  const s = spec(svc);
  const external = Array.isArray(s['externalIPs']) ? (s['externalIPs'] as string[]) : [];
  switch (str(s['type']) || 'ClusterIP') {
    case 'LoadBalancer': {
      const ingress = records(asRecord(status(svc)['loadBalancer'])['ingress']).map((i) => str(i['ip']) || str(i['hostname']));
      const all = [...ingress, ...external];
      return all.length === 0 ? '<pending>' : all.join(',');
    }
    case 'ExternalName':
      return str(s['externalName']);
    default:
      return external.length === 0 ? '<none>' : external.join(',');
  }
}

function endpointsText(ep: KubeObject): string {
  const list: string[] = [];
  let count = 0;
  for (const subset of records(ep['subsets'])) {
    const addresses = records(subset['addresses']);
    const ports = records(subset['ports']);
    for (const a of addresses) {
      const targets = ports.length === 0 ? [str(a['ip'])] : ports.map((p) => `${str(a['ip'])}:${num(p['port'])}`);
      for (const t of targets) {
        count++;
        if (list.length < 3) list.push(t);
      }
    }
  }
  if (count === 0) return '<none>';
  return count > 3 ? `${list.join(',')} + ${count - 3} more...` : list.join(',');
}

interface Printer {
  columns: Column[];
  cells: (ctx: TableContext, o: KubeObject) => unknown[];
}

const age = (ctx: TableContext, o: KubeObject): string => since(ctx, meta(o)['creationTimestamp']);
const name = (o: KubeObject): string => str(meta(o)['name']);

const PRINTERS: Record<string, Printer> = {
  '/pods': {
    columns: [
      NAME,
      col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'string', 'The aggregate status of the containers in this pod.'),
      col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      AGE,
      col('IP', 'string', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
      col('Node', 'string', 'NodeName indicates in which node this pod is scheduled.', 1),
      col('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node.', 1),
      col('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
    ],
    cells: podCells,
  },
  'apps/deployments': {
    columns: [
      NAME,
      col('Ready', 'string', 'Number of the pod with ready state'),
      col('Up-to-date', 'string', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
      col('Available', 'string', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
      AGE,
      CONTAINERS,
      IMAGES,
      col('Selector', 'string', 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.', 1),
    ],
    cells: (ctx, d) => {
      const [containers, images] = templateContainers(spec(d)['template']);
      return [name(d), `${num(status(d)['readyReplicas'])}/${num(spec(d)['replicas'])}`, num(status(d)['updatedReplicas']), num(status(d)['availableReplicas']), age(ctx, d), containers, images, selectorText(spec(d)['selector'])];
    },
  },
  'apps/replicasets': {
    columns: [
      NAME,
      col('Desired', 'integer', 'Replicas is the number of desired pods.'),
      col('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
      col('Ready', 'integer', 'readyReplicas is the number of pods targeted by this ReplicaSet with a Ready Condition.'),
      AGE,
      CONTAINERS,
      IMAGES,
      col('Selector', 'string', 'Selector is a label query over pods that should match the replica count.', 1),
    ],
    cells: (ctx, rs) => {
      const [containers, images] = templateContainers(spec(rs)['template']);
      return [name(rs), num(spec(rs)['replicas']), num(status(rs)['replicas']), num(status(rs)['readyReplicas']), age(ctx, rs), containers, images, selectorText(spec(rs)['selector'])];
    },
  },
  '/services': {
    columns: [
      NAME,
      col('Type', 'string', 'type determines how the Service is exposed.'),
      col('Cluster-IP', 'string', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
      col('External-IP', 'string', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
      col('Port(s)', 'string', 'The list of ports that are exposed by this service.'),
      AGE,
      col('Selector', 'string', 'Route service traffic to pods with label keys and values matching this selector.', 1),
    ],
    cells: (ctx, svc) => {
      const selector = asRecord(spec(svc)['selector']);
      const keys = Object.keys(selector).sort();
      return [
        name(svc),
        str(spec(svc)['type']) || 'ClusterIP',
        str(spec(svc)['clusterIP']) || '<none>',
        serviceExternalIp(svc),
        servicePorts(svc),
        age(ctx, svc),
        keys.length === 0 ? '<none>' : keys.map((k) => `${k}=${String(selector[k])}`).join(','),
      ];
    },
  },
  '/configmaps': {
    columns: [NAME, col('Data', 'string', 'Data contains the configuration data.'), AGE],
    cells: (ctx, cm) => [name(cm), Object.keys(asRecord(cm['data'])).length + Object.keys(asRecord(cm['binaryData'])).length, age(ctx, cm)],
  },
  '/secrets': {
    columns: [NAME, col('Type', 'string', 'Used to facilitate programmatic handling of secret data.'), col('Data', 'string', 'Data contains the secret data.'), AGE],
    cells: (ctx, s) => [name(s), str(s['type']), Object.keys(asRecord(s['data'])).length, age(ctx, s)],
  },
  '/namespaces': {
    columns: [NAME, col('Status', 'string', 'The status of the namespace'), AGE],
    cells: (ctx, ns) => [name(ns), str(status(ns)['phase']), age(ctx, ns)],
  },
  '/serviceaccounts': {
    columns: [NAME, col('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), AGE],
    cells: (ctx, sa) => [name(sa), records(sa['secrets']).length, age(ctx, sa)],
  },
  '/endpoints': {
    columns: [NAME, col('Endpoints', 'string', 'The set of all endpoints is the union of all subsets.'), AGE],
    cells: (ctx, ep) => [name(ep), endpointsText(ep), age(ctx, ep)],
  },
};

/** Evaluates the simple JSONPath of a printer column (`.a.b`, `.a[0].b`, `.a[?(@.k=="v")].b`). */
export function jsonPathValue(object: unknown, path: string): unknown {
  const tokens = path.match(/\.[^.[\]]+|\[\?\(@\.[^=]+==\s*"[^"]*"\)\]|\[\d+\]/g) ?? [];
  let current: unknown = object;
  for (const token of tokens) {
    if (current === undefined || current === null) return undefined;
    if (token.startsWith('.')) current = asRecord(current)[token.slice(1)];
    else if (token.startsWith('[?')) {
      const m = /^\[\?\(@\.([^=]+)==\s*"([^"]*)"\)\]$/.exec(token) as RegExpExecArray;
      current = Array.isArray(current) ? current.find((item) => String(asRecord(item)[(m[1] as string).trim()]) === m[2]) : undefined;
    } else current = Array.isArray(current) ? current[Number(token.slice(1, -1))] : undefined;
  }
  return current;
}

interface CrdColumn {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
  jsonPath: string;
}

function crdColumns(crd: KubeObject | undefined, version: string): CrdColumn[] {
  const v = records(asRecord(crd?.['spec'])['versions']).find((x) => x['name'] === version);
  const declared = records(v?.['additionalPrinterColumns']);
  if (declared.length === 0) {
    // apiextensions-apiserver pkg/apihelpers: serveDefaultColumnsIfEmpty.
    return [{ name: 'Age', type: 'date', format: '', description: CREATED_DOC, priority: 0, jsonPath: '.metadata.creationTimestamp' }];
  }
  return declared.map((c) => ({
    name: str(c['name']),
    type: str(c['type']),
    format: str(c['format']),
    description: str(c['description']) || `Custom resource definition column (in JSONPath format): ${str(c['jsonPath'])}`,
    priority: num(c['priority']),
    jsonPath: str(c['jsonPath']),
  }));
}

/** cellForJSONValue of the CRD table convertor. */
function crdCell(ctx: TableContext, type: string, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date':
      return typeof value === 'string' ? (Number.isNaN(Date.parse(value)) ? '<invalid>' : since(ctx, value)) : null;
    default:
      return null;
  }
}

function printerFor(ctx: TableContext, rt: ResourceType, version: string): Printer {
  const builtin = PRINTERS[`${rt.group}/${rt.plural}`];
  if (builtin) return builtin;
  if (!rt.isBuiltin) {
    const columns = crdColumns(ctx.crdOf(rt), version);
    return {
      columns: [NAME, ...columns.map(({ jsonPath: _jsonPath, ...c }) => c)],
      cells: (c, o) => [name(o), ...columns.map((column) => crdCell(c, column.type, jsonPathValue(o, column.jsonPath)))],
    };
  }
  return {
    columns: [NAME, { name: 'Created At', type: 'date', format: '', description: CREATED_DOC, priority: 0 }],
    cells: (_c, o) => {
      const created = Date.parse(str(meta(o)['creationTimestamp']));
      return [name(o), new Date(Number.isNaN(created) ? 0 : created).toISOString().replace(/\.\d{3}Z$/, 'Z')];
    },
  };
}

function rowObject(ctx: TableContext, o: KubeObject): Record<string, unknown> | undefined {
  if (ctx.includeObject === 'None') return undefined;
  if (ctx.includeObject === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: meta(o) };
}

export function tableRows(ctx: TableContext, rt: ResourceType, version: string, objects: KubeObject[]): Record<string, unknown>[] {
  const printer = printerFor(ctx, rt, version);
  return objects.map((o) => {
    const row: Record<string, unknown> = { cells: printer.cells(ctx, o) };
    const object = rowObject(ctx, o);
    if (object) row['object'] = object;
    return row;
  });
}

/** A Table of `objects` with the list's (or object's) metadata. */
export function tableFor(ctx: TableContext, rt: ResourceType, version: string, objects: KubeObject[], metadata: Record<string, unknown>): Record<string, unknown> {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: printerFor(ctx, rt, version).columns,
    rows: tableRows(ctx, rt, version, objects),
  };
}
