/**
 * GET pods/{name}/log as the API server and the kubelet answer it, following the pod's status:
 *
 * - Options validated first (Kubernetes v1.32.0 pkg/apis/core/validation ValidatePodLogOptions,
 *   reported as `PodLogOptions "<pod>" is invalid: ...` by pkg/registry/core/pod/rest/log.go).
 * - The container: the only one, or 400 naming the choices; an unknown one 400
 *   (pkg/registry/core/pod/strategy.go LogLocation).
 * - A pod with no node has no kubelet to ask: 200 with an empty body (LogLocation's empty location).
 * - The kubelet then follows the container's status (pkg/kubelet/kubelet_pods.go
 *   validateContainerLogStatus): `previous=true` needs `lastState.terminated` with a containerID,
 *   else 400 `previous terminated container "c" in pod "p" not found`; a waiting container is 400
 *   `container "c" in pod "p" is waiting to start: <reason>`, with the fixed texts for image pulls.
 * - The lines come from `<scenario>/logs/<namespace>/<pod>[.<container>][.previous].log`
 *   (logs.ts reads them as the kubelet reads the runtime's files).
 */
import { asRecord } from './kinds.js';
import { parseIntParam, isTrue } from './lists.js';
import { firstExisting, logFileCandidates, streamLogFile } from './logs.js';
import { TEXT_TYPE, type Reply } from './reply.js';
import { badRequest, invalid } from './status.js';
import type { KubeObject } from './store.js';

export interface PodLogContext {
  /** `<scenario>/logs`; no log files when undefined. */
  logsDir: string | undefined;
  now: () => number;
}

function names(list: unknown): string[] {
  return Array.isArray(list) ? list.map((c) => asRecord(c)['name']).filter((n): n is string => typeof n === 'string') : [];
}

function statusOf(pod: KubeObject, container: string): Record<string, unknown> | undefined {
  const status = asRecord(pod['status']);
  for (const field of ['containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses']) {
    const found = (Array.isArray(status[field]) ? (status[field] as unknown[]) : []).map(asRecord).find((s) => s['name'] === container);
    if (found) return found;
  }
  return undefined;
}

/** validateContainerLogStatus: which run's log, or the kubelet's 400. Returns the run's start. */
function containerRun(pod: KubeObject, podName: string, container: string, previous: boolean): number {
  const s = statusOf(pod, container);
  if (!s) throw badRequest(`container "${container}" in pod "${podName}" is not available`);
  const last = asRecord(asRecord(s['lastState'])['terminated']);
  const state = asRecord(s['state']);
  const waiting = state['waiting'] === undefined ? undefined : asRecord(state['waiting']);
  const running = state['running'] === undefined ? undefined : asRecord(state['running']);
  const terminated = state['terminated'] === undefined ? undefined : asRecord(state['terminated']);
  const hasLast = asRecord(s['lastState'])['terminated'] !== undefined;
  const time = (v: unknown): number => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? Date.parse(v) : 0);
  if (previous) {
    if (!hasLast || !last['containerID']) throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
    return time(last['startedAt']);
  }
  if (running) return time(running['startedAt']);
  if (terminated) {
    if (terminated['containerID']) return time(terminated['startedAt']);
    if (hasLast && last['containerID']) return time(last['startedAt']);
    throw badRequest(`container "${container}" in pod "${podName}" is terminated`);
  }
  if (hasLast) {
    if (!last['containerID']) throw badRequest(`container "${container}" in pod "${podName}" is terminated`);
    return time(last['startedAt']);
  }
  if (waiting) {
    const reason = String(waiting['reason'] ?? '');
    // images.ErrImagePull / ErrImagePullBackOff (pkg/kubelet/images/types.go).
    if (reason === 'ErrImagePull') throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: image can't be pulled`);
    if (reason === 'ImagePullBackOff') throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: trying and failing to pull image`);
    throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${reason}`);
  }
  throw badRequest(`container "${container}" in pod "${podName}" is waiting to start - no logs yet`);
}

function validateOptions(podName: string, params: URLSearchParams): { tailLines?: number; limitBytes?: number; sinceSeconds?: number; sinceTime?: string } {
  const causes: { type: string; field: string; message: string }[] = [];
  const int = (name: string): number | undefined => parseIntParam(params, name, Number.MIN_SAFE_INTEGER);
  const tailLines = int('tailLines');
  const limitBytes = int('limitBytes');
  const sinceSeconds = int('sinceSeconds');
  const sinceTime = params.get('sinceTime') || undefined;
  if (tailLines !== undefined && tailLines < 0) causes.push({ type: 'FieldValueInvalid', field: 'tailLines', message: `Invalid value: ${tailLines}: must be greater than or equal to 0` });
  if (limitBytes !== undefined && limitBytes < 1) causes.push({ type: 'FieldValueInvalid', field: 'limitBytes', message: `Invalid value: ${limitBytes}: must be greater than 0` });
  if (sinceSeconds !== undefined && sinceTime !== undefined) causes.push({ type: 'FieldValueForbidden', field: '', message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified' });
  else if (sinceSeconds !== undefined && sinceSeconds < 1) causes.push({ type: 'FieldValueInvalid', field: 'sinceSeconds', message: `Invalid value: ${sinceSeconds}: must be greater than 0` });
  if (causes.length > 0) throw invalid('PodLogOptions', '', podName, causes);
  return { tailLines, limitBytes, sinceSeconds, sinceTime };
}

export async function podLog(ctx: PodLogContext, pod: KubeObject, params: URLSearchParams, reply: Reply): Promise<void> {
  const meta = asRecord(pod['metadata']);
  const podName = String(meta['name']);
  const namespace = String(meta['namespace'] ?? 'default');
  const spec = asRecord(pod['spec']);
  const containers = names(spec['containers']);
  const initContainers = names(spec['initContainers']);
  const ephemeral = names(spec['ephemeralContainers']);
  const options = validateOptions(podName, params);
  let container = params.get('container') ?? '';
  if (container === '') {
    if (containers.length === 1) container = containers[0] as string;
    else if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${podName}`);
    else {
      let msg = `a container name must be specified for pod ${podName}, choose one of: [${containers.join(' ')}]`;
      if (initContainers.length > 0) msg += ` or one of the init containers: [${initContainers.join(' ')}]`;
      throw badRequest(msg);
    }
  } else if (!containers.includes(container) && !initContainers.includes(container) && !ephemeral.includes(container)) {
    throw badRequest(`container ${container} is not valid for pod ${podName}`);
  }
  if (typeof spec['nodeName'] !== 'string' || spec['nodeName'] === '') {
    reply.send(200, TEXT_TYPE, '');
    return;
  }
  const previous = isTrue(params, 'previous');
  const startedAtMs = containerRun(pod, podName, container, previous);
  let sinceMs: number | undefined;
  if (options.sinceSeconds !== undefined) sinceMs = ctx.now() - options.sinceSeconds * 1000;
  else if (options.sinceTime !== undefined) {
    sinceMs = Date.parse(options.sinceTime);
    if (Number.isNaN(sinceMs)) throw badRequest(`parsing time "${options.sinceTime}" as "2006-01-02T15:04:05Z07:00": cannot parse "${options.sinceTime}" as "2006"`);
  }
  const file = ctx.logsDir ? await firstExisting(logFileCandidates(ctx.logsDir, namespace, podName, container, container === containers[0], previous)) : undefined;
  if (!file) {
    // A container the runtime has no file for has logged nothing.
    reply.send(200, TEXT_TYPE, '');
    return;
  }
  await reply.stream(200, TEXT_TYPE, undefined, (write) =>
    streamLogFile(file, { sinceMs, tailLines: options.tailLines, limitBytes: options.limitBytes, timestamps: isTrue(params, 'timestamps'), startedAtMs }, write),
  );
}

