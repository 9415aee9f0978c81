/**
 * argocd-sync: a Rollout that takes over a Deployment (spec.workloadRef) and scales it down must not
 * fight Argo CD over the Deployment's replicas. The Argo CD Application managing that Deployment
 * needs `ignoreDifferences` on /spec/replicas (jsonPointers or jqPathExpressions, group apps, kind
 * Deployment, name/namespace optional) and `RespectIgnoreDifferences=true` so a sync does not put
 * the replicas back. With `scaleDown: never` (the default) the controller leaves the Deployment
 * alone and no rule is needed. A Deployment at 0 replicas is then expected, not a problem.
 *
 * The Application is found through its status.resources, else the Deployment's tracking annotation
 * `argocd.argoproj.io/tracking-id`, else its `app.kubernetes.io/instance` label naming an
 * Application. Without the Argo CD CRD the check does not apply and reports nothing.
 *
 * Runbook: "Argo CD shows the Deployment at 0 replicas" / "OutOfSync on replicas".
 * Permissions: list rollouts, list deployments, list applications.argoproj.io.
 */
import { ARGOCD_INSTANCE_LABEL, ARGOCD_RESPECT_IGNORE_DIFFERENCES, ARGOCD_TRACKING_ANNOTATION } from '../argo/names.js';
import { kubectl, type RemediationStep, text } from '../engine/remediation.js';
import type { Check, CheckContext, CheckResult, MetricFamily, UnknownDetails } from '../engine/types.js';
import type { CustomObject, Deployment, Rollout } from '../kube/types.js';
import { result } from './lib/results.js';
import { evaluateRollouts, rolloutLabels, type RolloutRef, rolloutsCommand } from './lib/rollout.js';
import { rolloutName, rolloutNamespace, rolloutTarget } from '../argo/rollout-spec.js';

interface ResourceStatus {
  group?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  status?: string;
  health?: { status?: string };
}

interface IgnoreDifference {
  group?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  jsonPointers?: string[];
  jqPathExpressions?: string[];
}

interface Application extends CustomObject {
  spec?: {
    ignoreDifferences?: IgnoreDifference[];
    syncPolicy?: { syncOptions?: string[]; automated?: unknown };
    destination?: { namespace?: string };
  };
  status?: {
    sync?: { status?: string };
    health?: { status?: string };
    resources?: ResourceStatus[];
  };
}

interface Found {
  application: Application;
  via: 'status.resources' | 'tracking-id' | 'instance-label';
}

interface SyncDetails extends RolloutRef {
  /** `namespace/name` of the workloadRef Deployment. */
  deployment: string;
  scaleDown: string;
  deploymentReplicas?: number;
  deploymentReplicasNote?: string;
  managed?: boolean;
  application?: string;
  foundVia?: Found['via'];
  syncStatus?: string;
  healthStatus?: string;
  deploymentSyncStatus?: string;
  ignoreDifferencesCoversReplicas?: boolean;
  respectIgnoreDifferences?: boolean;
  /** Whether Argo CD leaves the replicas to the controller (or no rule is needed). */
  replicasIgnored?: boolean;
  note?: string;
}

type Details = SyncDetails | UnknownDetails;

function isDeploymentResource(resource: ResourceStatus, namespace: string, name: string): boolean {
  return resource.group === 'apps' && resource.kind === 'Deployment' && resource.name === name && (resource.namespace ?? namespace) === namespace;
}

/** `<app>` or `<app-namespace>_<app>` as the tracking id's first part writes it. */
function applicationFromTrackingId(value: string | undefined, applications: readonly Application[]): Application | undefined {
  if (!value) return undefined;
  const appRef = value.split(':')[0] ?? '';
  const underscore = appRef.indexOf('_');
  if (underscore > 0) {
    const [ns, name] = [appRef.slice(0, underscore), appRef.slice(underscore + 1)];
    const exact = applications.find((a) => a.metadata.namespace === ns && a.metadata.name === name);
    if (exact) return exact;
  }
  return applications.find((a) => a.metadata.name === appRef);
}

function findApplication(applications: readonly Application[], deployment: Deployment | undefined, namespace: string, name: string): Found | undefined {
  const byStatus = applications.find((a) => (a.status?.resources ?? []).some((r) => isDeploymentResource(r, namespace, name)));
  if (byStatus) return { application: byStatus, via: 'status.resources' };
  const byTracking = applicationFromTrackingId(deployment?.metadata?.annotations?.[ARGOCD_TRACKING_ANNOTATION], applications);
  if (byTracking) return { application: byTracking, via: 'tracking-id' };
  const instance = deployment?.metadata?.labels?.[ARGOCD_INSTANCE_LABEL];
  const byLabel = instance ? applications.find((a) => a.metadata.name === instance) : undefined;
  return byLabel ? { application: byLabel, via: 'instance-label' } : undefined;
}

/** Argo CD matches group and kind as globs (`*`), name and namespace exactly when set. */
function matchesGlob(pattern: string | undefined, value: string): boolean {
  return pattern === '*' || pattern === value;
}

function matchesOptional(pattern: string | undefined, value: string): boolean {
  return pattern === undefined || pattern === '' || pattern === value;
}

/** Whether a pointer or jq path is /spec/replicas or one of its parents. */
function coversReplicas(entry: IgnoreDifference): boolean {
  const pointers = (entry.jsonPointers ?? []).map((p) => p.replace(/\/+$/, ''));
  if (pointers.some((p) => p === '/spec/replicas' || p === '/spec' || p === '')) return true;
  const paths = (entry.jqPathExpressions ?? []).map((p) => p.replace(/\s+/g, ''));
  return paths.some((p) => p === '.spec.replicas' || p === '.spec' || p === '.');
}

/** The ignoreDifferences entry covering /spec/replicas of this Deployment, if any. */
export function replicasRule(application: Application, namespace: string, name: string): IgnoreDifference | undefined {
  return (application.spec?.ignoreDifferences ?? []).find(
    (entry) =>
      matchesGlob(entry.group, 'apps') &&
      matchesGlob(entry.kind, 'Deployment') &&
      matchesOptional(entry.name, name) &&
      matchesOptional(entry.namespace, namespace) &&
      coversReplicas(entry),
  );
}

function ignoreDifferencesYaml(application: Application, namespace: string, name: string, hasRule: boolean, hasRespect: boolean): RemediationStep[] {
  const lines = [`# Add to Application ${application.metadata.name} (namespace ${application.metadata.namespace}) spec:`];
  if (!hasRule) {
    lines.push('  ignoreDifferences:', '    - group: apps', '      kind: Deployment', `      name: ${name}`, `      namespace: ${namespace}`, '      jsonPointers:', '        - /spec/replicas');
  }
  if (!hasRespect) lines.push('  syncPolicy:', '    syncOptions:', `      - ${ARGOCD_RESPECT_IGNORE_DIFFERENCES}`);
  return lines.map((line) => text(line));
}

function evaluate(ctx: CheckContext, rollout: Rollout, applications: readonly Application[]): CheckResult<SyncDetails> {
  const target = rolloutTarget(rollout);
  const namespace = rolloutNamespace(rollout);
  const workloadRef = rollout.spec!.workloadRef!;
  const deploymentName = workloadRef.name ?? '';
  const scaleDown = workloadRef.scaleDown ?? 'never';
  const deployment = ctx.snapshot.find('deployments', namespace, deploymentName);
  const details: SyncDetails = { namespace, rollout: rolloutName(rollout), deployment: `${namespace}/${deploymentName}`, scaleDown };
  if (deployment) {
    const replicas = deployment.spec?.replicas ?? 1;
    details.deploymentReplicas = replicas;
    if (replicas === 0 && scaleDown !== 'never') details.deploymentReplicasNote = 'expected: the Rollout scaled the Deployment to 0 and runs the pods itself';
  }
  const found = findApplication(applications, deployment, namespace, deploymentName);
  if (!found) {
    details.managed = false;
    details.replicasIgnored = true;
    return result(target, 'ok', `Rollout ${target}: Deployment ${namespace}/${deploymentName} is not managed by an Argo CD Application`, { ...details, note: 'not managed by Argo CD' });
  }
  const { application } = found;
  const appName = `${application.metadata.namespace}/${application.metadata.name}`;
  const deploymentStatus = (application.status?.resources ?? []).find((r) => isDeploymentResource(r, namespace, deploymentName));
  const rule = replicasRule(application, namespace, deploymentName);
  const hasRespect = (application.spec?.syncPolicy?.syncOptions ?? []).includes(ARGOCD_RESPECT_IGNORE_DIFFERENCES);
  const isOutOfSync = deploymentStatus?.status === 'OutOfSync';
  Object.assign(details, {
    managed: true,
    application: appName,
    foundVia: found.via,
    syncStatus: application.status?.sync?.status ?? 'Unknown',
    healthStatus: application.status?.health?.status ?? 'Unknown',
    deploymentSyncStatus: deploymentStatus?.status ?? 'Unknown',
    ignoreDifferencesCoversReplicas: Boolean(rule),
    respectIgnoreDifferences: hasRespect,
  });
  const appRef = `Application ${appName}`;
  const show = kubectl(['get', 'application', application.metadata.name ?? '', '-n', application.metadata.namespace ?? '', '-o', 'yaml'], { pipe: ['grep', '-A8', 'ignoreDifferences'] });
  if (scaleDown === 'never') {
    details.replicasIgnored = true;
    return result(target, 'ok', `Rollout ${target}: workloadRef.scaleDown is never, the controller leaves Deployment ${namespace}/${deploymentName} alone (${appRef} ${details.syncStatus})`, {
      ...details,
      note: 'scaleDown never: no ignoreDifferences needed',
    });
  }
  if (!rule) {
    details.replicasIgnored = false;
    const outOfSync = isOutOfSync ? `, and Argo CD shows Deployment ${namespace}/${deploymentName} OutOfSync` : '';
    return result(
      target,
      'fail',
      `Rollout ${target} scales Deployment ${namespace}/${deploymentName} (scaleDown ${scaleDown}) but ${appRef} does not ignore /spec/replicas${outOfSync}: Argo CD will fight the controller`,
      details,
      [show, ...ignoreDifferencesYaml(application, namespace, deploymentName, false, hasRespect), rolloutsCommand(rollout, 'get rollout')],
    );
  }
  if (!hasRespect) {
    details.replicasIgnored = false;
    return result(
      target,
      'warn',
      `Rollout ${target}: ${appRef} ignores /spec/replicas of Deployment ${namespace}/${deploymentName} but lacks syncOption ${ARGOCD_RESPECT_IGNORE_DIFFERENCES}, so a sync still resets the replicas`,
      details,
      [show, ...ignoreDifferencesYaml(application, namespace, deploymentName, true, false)],
    );
  }
  details.replicasIgnored = true;
  const zero = details.deploymentReplicas === 0 ? ' (Deployment at 0 replicas, as expected)' : '';
  return result(target, 'ok', `Rollout ${target}: ${appRef} ignores /spec/replicas of Deployment ${namespace}/${deploymentName}${zero}; ${details.syncStatus}, ${details.healthStatus}`, details);
}

export const metrics: MetricFamily<Details>[] = [
  {
    name: 'rollout_doctor_argocd_replicas_ignored',
    help: '1 when Argo CD ignores /spec/replicas of the Deployment a Rollout scales (or no rule is needed), 0 when Argo CD would fight the controller.',
    labelNames: ['namespace', 'rollout'],
    collect: (d) => ('scaleDown' in d && d.replicasIgnored !== undefined ? [{ labels: rolloutLabels(d), value: d.replicasIgnored ? 1 : 0 }] : []),
  },
];

export const argocdSyncCheck: Check<Details> = {
  id: 'argocd-sync',
  description: 'Rollouts that scale their workloadRef Deployment have the Argo CD ignoreDifferences on /spec/replicas (and RespectIgnoreDifferences=true).',
  needs: ['rollouts', 'deployments', 'applications'],
  metrics,
  async run(ctx) {
    const rollouts = ctx.snapshot.list('rollouts').filter((r) => r.spec?.workloadRef?.name);
    // Without the Argo CD CRD there is nothing to fight the controller: the check does not apply.
    if (ctx.snapshot.state('applications').state === 'absent') return [];
    return evaluateRollouts(rollouts, (rollout) => evaluate(ctx, rollout, ctx.snapshot.list('applications') as Application[]));
  },
};
