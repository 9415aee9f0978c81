/**
 * rollout-services: each Service a Rollout's strategy names (canaryService, stableService,
 * activeService, previewService) exists, its selector carries the rollouts-pod-template-hash the
 * controller should have set, and it selects at least one Ready pod and one ready endpoint
 * (EndpointSlices, or Endpoints where the API server serves no EndpointSlices).
 *
 * The expected hash follows rollout/service.go: stable -> status.stableRS, canary ->
 * status.currentPodHash (the controller keeps the canary Service on its previous hash while the new
 * ReplicaSet has no available pod, and points it back at the stable hash on abort without traffic
 * routing), active -> status.blueGreen.activeSelector, preview -> status.blueGreen.previewSelector.
 * A canary or preview Service without endpoints is normal when no canary or preview pods are meant
 * to run (its ReplicaSet is scaled to 0, the rollout is aborted): ok with a note.
 *
 * Runbook: "Rollout pods not starting" (`kubectl get svc litellm-canary -n litellm -o yaml | grep -A5
 * selector`). Permissions: list rollouts, services, endpointslices (or endpoints), pods and
 * replicasets (rollouts-pod-template-hash), cluster-wide.
 */
import { POD_TEMPLATE_HASH_LABEL, SERVICE_NAME_LABEL } from '../argo/names.js';
import { kubectl, type RemediationStep, text, uniqueSteps } from '../engine/remediation.js';
import { describePodsByHash, replicaSetsByHash, rolloutPhaseYaml } from './lib/commands.js';
import type { Check, CheckContext, CheckResult, MetricFamily, Sample, UnknownDetails } from '../engine/types.js';
import type { Rollout, Service } from '../kube/types.js';
import { isPodReady, podsWithHash, replicaSetHash, rolloutReplicaSets, serviceEndpoints } from './lib/pods.js';
import { result } from './lib/results.js';
import { evaluateRollouts, rolloutLabels, type RolloutRef, rolloutsCommand } from './lib/rollout.js';
import { referencedServices, rolloutName, rolloutNamespace, rolloutTarget, type ServiceRole, type Strategy, strategyOf } from '../argo/rollout-spec.js';
import { formatLabelSelector, matchesLabelSelector } from '../kube/label-selector.js';

type Problem = 'missing' | 'wrongHash' | 'noPods' | 'noReadyPods' | 'noEndpoints';

interface ServiceReport {
  role: ServiceRole;
  name: string;
  exists: boolean;
  selector?: string;
  selectorHash?: string;
  expectedHash?: string;
  expectedFrom?: string;
  /** Whether the selector's hash is the expected one (or one the controller legitimately keeps for now). */
  hashOk?: boolean;
  pods?: number;
  readyPods?: number;
  readyEndpoints?: number;
  notReadyEndpoints?: number;
  endpointSource?: 'EndpointSlice' | 'Endpoints';
  problem?: Problem;
  note?: string;
}

interface ServicesDetails extends RolloutRef {
  strategy: Strategy;
  services: ServiceReport[];
}

type Details = ServicesDetails | UnknownDetails;

const ROLE_FIELD: Record<ServiceRole, string> = { canary: 'canaryService', stable: 'stableService', active: 'activeService', preview: 'previewService' };

interface Expectation {
  hash?: string;
  from: string;
  /** Hashes the controller may still have on the Service for a documented reason. */
  alternates: Map<string, string>;
}

function stableHash(rollout: Rollout): string | undefined {
  return rollout.status?.stableRS || rollout.status?.canary?.stableRS || undefined;
}

function expectation(ctx: CheckContext, rollout: Rollout, role: ServiceRole): Expectation {
  const status = rollout.status ?? {};
  switch (role) {
    case 'stable':
      return { hash: stableHash(rollout), from: 'status.stableRS', alternates: new Map() };
    case 'active': {
      const alternates = new Map<string, string>();
      const stable = stableHash(rollout);
      // reconcileActiveService points the active Service at the stable ReplicaSet on abort.
      if (status.abort && stable) alternates.set(stable, 'the rollout is aborted: the controller points the active Service at the stable ReplicaSet');
      return { hash: status.blueGreen?.activeSelector || undefined, from: 'status.blueGreen.activeSelector', alternates };
    }
    case 'preview':
      return { hash: status.blueGreen?.previewSelector || undefined, from: 'status.blueGreen.previewSelector', alternates: new Map() };
    case 'canary': {
      const alternates = new Map<string, string>();
      const stable = stableHash(rollout);
      const hasTrafficRouting = Boolean(rollout.spec?.strategy?.canary?.trafficRouting);
      if (status.abort && !hasTrafficRouting && stable) alternates.set(stable, 'the rollout is aborted: the controller points the canary Service back at the stable ReplicaSet');
      const current = status.currentPodHash;
      const replicaSets = rolloutReplicaSets(ctx.snapshot, rollout);
      const currentRs = replicaSets.find((rs) => replicaSetHash(rs) === current);
      if (current && currentRs && (currentRs.status?.availableReplicas ?? 0) === 0) {
        // ensureSVCTargets delays the switch while the new ReplicaSet has zero availability.
        for (const rs of replicaSets) {
          const hash = replicaSetHash(rs);
          if (hash && hash !== current && !alternates.has(hash)) alternates.set(hash, `the controller keeps the canary Service on its previous ReplicaSet until ${currentRs.metadata?.name} has an available pod`);
        }
      }
      return { hash: current || undefined, from: 'status.currentPodHash', alternates };
    }
  }
}

/** Why no pods behind this Service is expected right now, or undefined when pods should be there. */
function idleReason(ctx: CheckContext, rollout: Rollout, role: ServiceRole, hash: string | undefined): string | undefined {
  if (rollout.spec?.replicas === 0) return `Rollout ${rolloutTarget(rollout)} is scaled to 0 replicas`;
  if (role !== 'canary' && role !== 'preview') return undefined;
  const kind = role === 'canary' ? 'canary' : 'preview';
  if (rollout.status?.abort) return `the rollout is aborted, so no ${kind} pods are meant to run`;
  const rs = hash ? rolloutReplicaSets(ctx.snapshot, rollout).find((r) => replicaSetHash(r) === hash) : undefined;
  if (rs && (rs.spec?.replicas ?? 0) === 0) return `ReplicaSet ${rs.metadata?.name} is scaled to 0, so no ${kind} pods are meant to run`;
  if (role === 'canary' && rollout.status?.currentPodHash !== stableHash(rollout)) {
    const firstWeight = (rollout.spec?.strategy?.canary?.steps ?? []).findIndex((step) => (step.setWeight ?? 0) > 0);
    const stepIndex = rollout.status?.currentStepIndex ?? 0;
    if (firstWeight >= 0 && stepIndex <= firstWeight) return `the rollout is at step ${stepIndex}, not past its first setWeight (step ${firstWeight}) yet`;
  }
  return undefined;
}

function inspect(ctx: CheckContext, rollout: Rollout, role: ServiceRole, name: string): ServiceReport {
  const namespace = rolloutNamespace(rollout);
  const service: Service | undefined = ctx.snapshot.find('services', namespace, name);
  const report: ServiceReport = { role, name, exists: Boolean(service) };
  if (!service) return { ...report, problem: 'missing' };
  const selector = service.spec?.selector ?? {};
  report.selector = formatLabelSelector({ matchLabels: selector });
  const selectorHash = selector[POD_TEMPLATE_HASH_LABEL];
  if (selectorHash) report.selectorHash = selectorHash;
  const expected = expectation(ctx, rollout, role);
  report.expectedFrom = expected.from;
  if (expected.hash) {
    report.expectedHash = expected.hash;
    if (selectorHash === expected.hash) {
      report.hashOk = true;
    } else if (selectorHash && expected.alternates.has(selectorHash)) {
      report.hashOk = true;
      report.note = expected.alternates.get(selectorHash);
    } else {
      report.hashOk = false;
      report.problem = 'wrongHash';
    }
  } else {
    report.note = `${expected.from} is not set yet: the controller has not pointed this Service at a ReplicaSet`;
  }
  if (Object.keys(selector).length === 0) {
    report.note = 'the Service has no selector: its endpoints are managed by hand';
  } else {
    const candidates = selectorHash ? podsWithHash(ctx.snapshot, namespace, selectorHash) : ctx.snapshot.inNamespace('pods', namespace);
    const pods = candidates.filter((pod) => !pod.metadata?.deletionTimestamp && matchesLabelSelector(pod.metadata?.labels, { matchLabels: selector }, { empty: 'nothing' }));
    report.pods = pods.length;
    report.readyPods = pods.filter(isPodReady).length;
  }
  const endpoints = serviceEndpoints(ctx.snapshot, namespace, name);
  report.endpointSource = endpoints.source;
  report.readyEndpoints = endpoints.ready;
  report.notReadyEndpoints = endpoints.notReady;
  if (report.problem) return report;
  const hasNoPods = report.pods === 0;
  const hasNoReadyPods = (report.pods ?? 0) > 0 && report.readyPods === 0;
  const hasNoEndpoints = report.readyEndpoints === 0;
  if (!hasNoPods && !hasNoReadyPods && !hasNoEndpoints) return report;
  const idle = idleReason(ctx, rollout, role, selectorHash ?? expected.hash);
  if (idle) {
    report.note = `${idle}: a ${role} Service without endpoints is normal now`;
    return report;
  }
  report.problem = hasNoPods ? 'noPods' : hasNoReadyPods ? 'noReadyPods' : 'noEndpoints';
  return report;
}

function describeProblem(report: ServiceReport, namespace: string): string {
  const what = `${report.role} Service ${namespace}/${report.name}`;
  switch (report.problem) {
    case 'missing':
      return `${what} (${ROLE_FIELD[report.role]}) does not exist`;
    case 'wrongHash':
      return report.selectorHash
        ? `${what} selects ${POD_TEMPLATE_HASH_LABEL}=${report.selectorHash}, expected ${report.expectedHash} (${report.expectedFrom})`
        : `${what} selector has no ${POD_TEMPLATE_HASH_LABEL}, expected ${report.expectedHash} (${report.expectedFrom})`;
    case 'noPods':
      return `${what} selector ${report.selector} matches no pod`;
    case 'noReadyPods':
      return `${what} selects ${report.pods} pod(s), none Ready`;
    case 'noEndpoints':
      return `${what} has no ready endpoints (${report.readyPods} Ready pod(s), ${report.notReadyEndpoints} not-ready endpoint(s) in its ${report.endpointSource === 'Endpoints' ? 'Endpoints' : 'EndpointSlices'})`;
    default:
      return `${what} selects ${report.readyPods ?? 0} Ready pod(s), ${report.readyEndpoints} ready endpoint(s)`;
  }
}

function remediationFor(rollout: Rollout, reports: ServiceReport[]): RemediationStep[] {
  const namespace = rolloutNamespace(rollout);
  const steps: RemediationStep[] = [];
  for (const report of reports.filter((r) => r.problem)) {
    if (report.problem === 'missing') {
      steps.push(kubectl(['get', 'svc', '-n', namespace]));
      steps.push(rolloutPhaseYaml(namespace, rolloutName(rollout)));
      steps.push(text(`Create Service ${namespace}/${report.name} (the Rollout's ${ROLE_FIELD[report.role]}); the controller then heals itself`));
      continue;
    }
    steps.push(kubectl(['get', 'svc', report.name, '-n', namespace, '-o', 'yaml'], { pipe: ['grep', '-A5', 'selector'] }));
    const hash = report.selectorHash ?? report.expectedHash;
    if (report.problem === 'wrongHash') {
      steps.push(rolloutsCommand(rollout, 'get rollout'));
      steps.push(replicaSetsByHash(namespace));
    } else {
      if (hash) steps.push(describePodsByHash(namespace, hash));
      steps.push(replicaSetsByHash(namespace));
      steps.push(
        report.endpointSource === 'Endpoints'
          ? kubectl(['get', 'endpoints', report.name, '-n', namespace])
          : kubectl(['get', 'endpointslices', '-n', namespace, '-l', `${SERVICE_NAME_LABEL}=${report.name}`]),
      );
    }
  }
  return uniqueSteps(steps);
}

function evaluate(ctx: CheckContext, rollout: Rollout): CheckResult<ServicesDetails> {
  const target = rolloutTarget(rollout);
  const namespace = rolloutNamespace(rollout);
  const refs = referencedServices(rollout);
  const base: ServicesDetails = { namespace, rollout: rolloutName(rollout), strategy: strategyOf(rollout), services: [] };
  if (refs.length === 0) return result(target, 'ok', `Rollout ${target} names no canary, stable, active or preview Service`, base);
  const reports = refs.map((ref) => inspect(ctx, rollout, ref.role, ref.name));
  const details = { ...base, services: reports };
  const broken = reports.filter((r) => r.problem);
  if (broken.length > 0) {
    const more = broken.length > 1 ? ` (and ${broken.length - 1} more problem${broken.length > 2 ? 's' : ''})` : '';
    return result(target, 'fail', `Rollout ${target}: ${describeProblem(broken[0]!, namespace)}${more}`, details, remediationFor(rollout, reports));
  }
  const notes = reports.filter((r) => r.note).map((r) => `${r.name}: ${r.note}`);
  const serving = reports.map((r) => `${r.name} ${r.readyEndpoints}`).join(', ');
  return result(target, 'ok', `Rollout ${target}: every Service selects the right ReplicaSet (ready endpoints: ${serving})${notes.length ? `; ${notes.join('; ')}` : ''}`, details);
}

function serviceSamples(d: Details, value: (s: ServiceReport) => number | undefined): Sample[] {
  if (!('services' in d)) return [];
  return d.services.flatMap((s) => {
    const v = value(s);
    return v === undefined ? [] : [{ labels: { ...rolloutLabels(d), service: s.name, role: s.role }, value: v }];
  });
}

export const metrics: MetricFamily<Details>[] = [
  {
    name: 'rollout_doctor_rollout_service_ready_endpoints',
    help: 'Ready endpoints of a Service a Rollout strategy names (EndpointSlices, or Endpoints where slices are not served).',
    labelNames: ['namespace', 'rollout', 'service', 'role'],
    collect: (d) => serviceSamples(d, (s) => s.readyEndpoints),
  },
  {
    name: 'rollout_doctor_rollout_service_ready_pods',
    help: 'Ready pods the Service selector matches.',
    labelNames: ['namespace', 'rollout', 'service', 'role'],
    collect: (d) => serviceSamples(d, (s) => s.readyPods),
  },
  {
    name: 'rollout_doctor_rollout_service_selector_hash_ok',
    help: '1 when the Service selects the rollouts-pod-template-hash the controller should have set, 0 when it selects another; absent when there is nothing to compare.',
    labelNames: ['namespace', 'rollout', 'service', 'role'],
    collect: (d) => serviceSamples(d, (s) => (s.hashOk === undefined ? undefined : s.hashOk ? 1 : 0)),
  },
];

export const rolloutServicesCheck: Check<Details> = {
  id: 'rollout-services',
  description: "Each strategy Service selects the ReplicaSet the controller points it at, and has Ready pods and ready endpoints.",
  needs: ['rollouts', 'services', 'endpointslices', 'pods', 'replicasets'],
  metrics,
  async run(ctx) {
    const rollouts = ctx.snapshot.list('rollouts');
    return evaluateRollouts(rollouts, (rollout) => evaluate(ctx, rollout));
  },
};
