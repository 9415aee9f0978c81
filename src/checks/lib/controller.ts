/**
 * The Argo Rollouts controller as every controller-side check finds it: its Deployment (configured
 * name, else the configured label selector), its pods through the Deployment's own selector (the
 * chart's dashboard shares the name label), its container and its service account.
 */
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

/** `kubectl auth can-i <verb> <resource> [-n <ns>] --as=system:serviceaccount:<ns>:<sa>`, as the runbook writes it. */
export function canICommand(verb: string, resource: string, account: Pick<ControllerAccount, 'user'>, namespace?: string): Command {
  return kubectl(['auth', 'can-i', verb, resource, ...(namespace ? ['-n', namespace] : []), `--as=${account.user}`]);
}
