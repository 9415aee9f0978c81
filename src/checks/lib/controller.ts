/**
 * The Argo Rollouts controller as every controller-side check finds it: its Deployment (configured
 * name, else the configured label selector), its pods through the Deployment's own selector (the
 * chart's dashboard shares the name label), its container and its service account.
 */
import { controllerLogLevel, type ControllerVersion, isStartingLine, logsInfoLines, resolveControllerVersion } from '../../argo/controller.js';
import { logLines } from '../../argo/controller-log.js';
import { type Command, kubectl } from '../../engine/remediation.js';
import type { CheckContext } from '../../engine/types.js';
import type { ContainerStatus, Deployment, Pod } from '../../kube/types.js';
import { matchesLabelSelector, matchesRequirements, parseLabelSelector } from '../../kube/label-selector.js';

/**
 * How a previous container log is read: the crash reason sits at its end. Checks that read it ask
 * with the same bounds so that the cycle's memo serves them one request.
 */
export const PREVIOUS_LOG = { tailLines: 200, limitBytes: 64 * 1024 } as const;

/**
 * How the start of the current container's log is read: the starting line and the plugin download
 * lines come first. Same bounds everywhere, so that the cycle's memo serves every check one request.
 */
export const HEAD_LOG = { limitBytes: 64 * 1024 } as const;

/**
 * How the recent window of a running controller's log is read (with `sinceSeconds` =
 * controller-plugins' recentWindow): the same bounds in every check, so that the cycle's memo serves
 * them one request.
 */
export const RECENT_LOG = { tailLines: 1000, limitBytes: 128 * 1024 } as const;

/** The controller Deployment: by configured name, else by label in the controller namespace. */
export function findControllerDeployment(ctx: Pick<CheckContext, 'snapshot' | 'config'>): Deployment | undefined {
  const { namespace, deployment, selector } = ctx.config.controller;
  const byName = ctx.snapshot.find('deployments', namespace, deployment);
  if (byName) return byName;
  // The config's selector was checked at load; one without requirements names no Deployment.
  const wanted = parseLabelSelector(selector);
  return wanted.length === 0 ? undefined : ctx.snapshot.inNamespace('deployments', namespace).find((d) => matchesRequirements(wanted, d.metadata?.labels));
}

/** The controller's pods through the Deployment's own selector (the dashboard shares the name label). */
export function controllerPods(ctx: Pick<CheckContext, 'snapshot'>, deployment: Deployment): Pod[] {
  const namespace = deployment.metadata?.namespace ?? '';
  return ctx.snapshot.list('controllerPods').filter((p) => p.metadata?.namespace === namespace && matchesLabelSelector(p.metadata?.labels, deployment.spec?.selector, { empty: 'nothing' }));
}

export interface ControllerAccount {
  namespace: string;
  name: string;
  /** `system:serviceaccount:<ns>:<name>`, the user SubjectAccessReviews and `kubectl --as` take. */
  user: string;
  /**
   * The groups its token authenticates with (Kubernetes v1.32.0 pkg/serviceaccount/util.go
   * MakeGroupNames, plus system:authenticated): a SubjectAccessReview is judged for exactly the groups
   * it sends, so permissions granted to a group are seen only when they are sent.
   */
  groups: string[];
  /** Where the name came from, for details. */
  source: 'deployment' | 'kubernetes-default' | 'chart-default';
}

/**
 * The controller's service account: the Deployment's serviceAccountName; a Deployment without one
 * runs as `default` (what Kubernetes does); without a Deployment, the chart's `argo-rollouts`.
 */
export function controllerServiceAccount(ctx: Pick<CheckContext, 'snapshot' | 'config'>, deployment?: Deployment): ControllerAccount {
  const namespace = deployment?.metadata?.namespace ?? ctx.config.controller.namespace;
  const spec = deployment?.spec?.template?.spec;
  const fromSpec = spec?.serviceAccountName || spec?.serviceAccount;
  const name = fromSpec || (deployment ? 'default' : 'argo-rollouts');
  return {
    namespace,
    name,
    user: `system:serviceaccount:${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
    source: fromSpec ? 'deployment' : deployment ? 'kubernetes-default' : 'chart-default',
  };
}

/** Same as controllerServiceAccount, but a failed Deployment list falls back to the chart default (remediation text only). */
export function controllerServiceAccountOrDefault(ctx: Pick<CheckContext, 'snapshot' | 'config'>): ControllerAccount {
  try {
    return controllerServiceAccount(ctx, findControllerDeployment(ctx));
  } catch {
    return controllerServiceAccount(ctx, undefined);
  }
}

/** The controller container: the one named like the Deployment or `argo-rollouts`, else the first. */
export function controllerContainer(pod: Pod, deployment: Deployment): ContainerStatus | undefined {
  const statuses = pod.status?.containerStatuses ?? [];
  const names = [deployment.metadata?.name, 'argo-rollouts'];
  return statuses.find((s) => names.includes(s.name)) ?? statuses[0];
}

type ContainerSpec = NonNullable<NonNullable<Pod['spec']>['containers']>[number];

/** The controller container's spec in a pod or the Deployment's template (same naming rule as controllerContainer). */
export function controllerContainerSpec(containers: readonly ContainerSpec[] | undefined, deployment: Deployment, name?: string): ContainerSpec | undefined {
  const list = containers ?? [];
  const names = name ? [name] : [deployment.metadata?.name, 'argo-rollouts'];
  return list.find((c) => names.includes(c.name)) ?? list[0];
}

/** The controller's `--loglevel` (args, then command), as the container runs it. */
export function containerLogLevel(container: ContainerSpec | undefined): string {
  return controllerLogLevel([...(container?.command ?? []), ...(container?.args ?? [])]);
}

/**
 * The running controller's version, for checks that apply version rules: the image of the first
 * running controller pod's container (else the Deployment's), and the starting line at the head of
 * that container's log (read with HEAD_LOG, shared with controller-plugins; not read when
 * `--loglevel` hides it). Never throws: what cannot be read leaves the version to the image tag or
 * the newest release, with a note.
 */
export async function readControllerVersion(ctx: Pick<CheckContext, 'snapshot' | 'config' | 'kube'>): Promise<ControllerVersion> {
  let deployment: Deployment | undefined;
  let pods: Pod[] = [];
  try {
    deployment = findControllerDeployment(ctx);
    if (deployment) pods = controllerPods(ctx, deployment).filter((p) => !p.metadata?.deletionTimestamp);
  } catch (error) {
    return { ...resolveControllerVersion({}), note: `the controller could not be looked up (${(error as Error).message}): the rules of the newest release apply` };
  }
  if (!deployment) return resolveControllerVersion({});
  const running = [...pods].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '')).find((p) => controllerContainer(p, deployment!)?.state?.running);
  const status = running ? controllerContainer(running, deployment) : undefined;
  const container = running ? controllerContainerSpec(running.spec?.containers, deployment, status?.name) : controllerContainerSpec(deployment.spec?.template?.spec?.containers, deployment);
  const logLevel = containerLogLevel(container);
  const image = container?.image;
  const withNote = (version: ControllerVersion, note: string) => ({ ...version, note: [version.note, note].filter(Boolean).join('; ') });
  if (!logsInfoLines(logLevel)) return withNote(resolveControllerVersion({ image }), `--loglevel ${logLevel} hides the starting line: the image tag is the only source`);
  if (!running) return resolveControllerVersion({ image });
  try {
    const head = await ctx.kube.podLog({ namespace: running.metadata?.namespace ?? '', pod: running.metadata?.name ?? '', container: status?.name, ...HEAD_LOG });
    return resolveControllerVersion({ image, startingLine: logLines(head).find(isStartingLine) });
  } catch (error) {
    return withNote(resolveControllerVersion({ image }), `the controller log could not be read (${(error as Error).message})`);
  }
}

/** `kubectl auth can-i <verb> <resource> [-n <ns>] --as=system:serviceaccount:<ns>:<sa>`, as the runbook writes it. */
export function canICommand(verb: string, resource: string, account: Pick<ControllerAccount, 'user'>, namespace?: string): Command {
  return kubectl(['auth', 'can-i', verb, resource, ...(namespace ? ['-n', namespace] : []), `--as=${account.user}`]);
}
