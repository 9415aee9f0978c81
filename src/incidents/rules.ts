/**
 * The incident rules: which failing result explains which other one. One table, read by the
 * correlation step (./correlate.ts) after every cycle and by docs/incidents.md, which describes each
 * row. A rule reads only what the checks put in their results' details (typed from each check's
 * `Check<D>`), so it is a pure function of the cycle's results; none needs the snapshot, because the
 * checks already recorded the relations a rule matches on (the Rollouts that reference a plugin or
 * a template, the endpoint's Rollout, the pod-template hashes a Service selects).
 *
 * Order matters: when a result matches several rules, the first row wins. Rows run from the
 * proximate causes (a Service, a Rollout's pods) to the ones further up (the controller, its
 * plugins, rollout-doctor's own access), so a chain reads cause -> effect -> effect and collapses to
 * its deepest cause whichever way it was found.
 *
 * Upstream citations are argoproj/argo-rollouts at v1.8.4 (the same in v1.7.2 and v1.9.1 unless
 * the row says otherwise).
 */
import { qualifiedResource } from '../checks/lib/rbac.js';
import type { analysisPreflightCheck } from '../checks/analysis-preflight.js';
import type { controllerPluginsCheck } from '../checks/controller-plugins.js';
import type { controllerPodsCheck } from '../checks/controller-pods.js';
import type { controllerRbacCheck } from '../checks/controller-rbac.js';
import type { endpointCheck } from '../checks/endpoint.js';
import { kubeApiCheck } from '../checks/kube-api.js';
import type { rolloutAnalysisCheck } from '../checks/rollout-analysis.js';
import type { rolloutPodsCheck } from '../checks/rollout-pods.js';
import type { rolloutReferencesCheck } from '../checks/rollout-references.js';
import type { rolloutServicesCheck } from '../checks/rollout-services.js';
import type { rolloutStatusCheck } from '../checks/rollout-status.js';
import type { rolloutTrafficCheck } from '../checks/rollout-traffic.js';
import type { selfRbacCheck } from '../checks/self-rbac.js';
import type { Check, StoredResult } from '../engine/types.js';

type DetailsOf<C> = C extends Check<infer D> ? D : never;

/** Each check's details, as its `Check<D>` declares them. */
export interface DetailsByCheck {
  'controller-pods': DetailsOf<typeof controllerPodsCheck>;
  'controller-plugins': DetailsOf<typeof controllerPluginsCheck>;
  'controller-rbac': DetailsOf<typeof controllerRbacCheck>;
  'self-rbac': DetailsOf<typeof selfRbacCheck>;
  'rollout-traffic': DetailsOf<typeof rolloutTrafficCheck>;
  'rollout-status': DetailsOf<typeof rolloutStatusCheck>;
  'rollout-analysis': DetailsOf<typeof rolloutAnalysisCheck>;
  'rollout-references': DetailsOf<typeof rolloutReferencesCheck>;
  'rollout-services': DetailsOf<typeof rolloutServicesCheck>;
  'rollout-pods': DetailsOf<typeof rolloutPodsCheck>;
  'analysis-preflight': DetailsOf<typeof analysisPreflightCheck>;
  endpoint: DetailsOf<typeof endpointCheck>;
  'kube-api': DetailsOf<typeof kubeApiCheck>;
}

export type RuleCheck = keyof DetailsByCheck;

/**
 * A result's details typed as its check declares them, or undefined when the result is another
 * check's or was written by the engine for a check that could not run (only a reason, no evidence).
 */
export function detailsOf<K extends RuleCheck>(result: StoredResult, check: K): DetailsByCheck[K] | undefined {
  // The store keeps details as the runner validated them (a record); the check that produced them
  // declared their type, as the metric families read them (src/metrics/exposition.ts).
  return result.check === check && result.origin === 'check' ? (result.details as unknown as DetailsByCheck[K]) : undefined;
}

/** What failed when a result is `unknown` because an API call failed. */
interface ApiFailure {
  /** KubeError's reason: Forbidden, Unauthorized, Unreachable, TLSError, Timeout, ... (src/kube/errors.ts). */
  reason: string;
  /** REST resource as the error names it: `pods`, `pods/log`, `rollouts.argoproj.io`. */
  resource: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The API call behind an `unknown` result: `details.apiError`, which the runner and every check
 * record for a failed call (src/kube/errors.ts apiErrorDetails). Undefined when the result did not
 * come from an API call (a probe, a log without pods).
 */
function apiFailureOf(details: Record<string, unknown>): ApiFailure | undefined {
  const recorded = details.apiError;
  return isRecord(recorded) && typeof recorded.reason === 'string' && typeof recorded.resource === 'string' ? { reason: recorded.reason, resource: recorded.resource } : undefined;
}

/** Server-side answers to GET /version that every other call of the cycle gets too (src/kube/errors.ts). */
const SERVER_REASONS: ReadonlySet<string> = new Set(['ServerError', 'TooManyRequests', 'HttpError', 'InvalidResponse']);

/** The API error reasons a kube-api result accounts for. */
function apiReasons(d: DetailsByCheck['kube-api'], r: StoredResult): readonly string[] {
  const explained = kubeApiCheck.explains!({ ...r, details: d });
  if (explained) return explained.reasons;
  return d.state === 'error' && d.apiError && SERVER_REASONS.has(d.apiError.reason) ? [d.apiError.reason] : [];
}

type RouterDetail = Extract<DetailsByCheck['rollout-traffic'], { routers: unknown }>['routers'][number];

/**
 * A traffic router the check found failing for a reason the controller would cause: not when its
 * CRD is not installed (nothing the controller does creates a CRD).
 */
function isRouterFailing(router: RouterDetail): boolean {
  return router.checked && router.ok === false && !('crdInstalled' in router && router.crdInstalled === false);
}

function isBadPhase(phase: string | undefined): boolean {
  return phase === 'Error' || phase === 'Failed' || phase === 'Inconclusive';
}

/** The Rollouts (`namespace/name`) among controller-plugins' `referencedBy` (`Rollout <ns>/<name>`, `AnalysisTemplate ...`). */
function referencingRollouts(referencedBy: readonly string[]): string[] {
  return referencedBy.filter((r) => r.startsWith('Rollout ')).map((r) => r.slice('Rollout '.length));
}

/** A Rollout that does not move on: Progressing without progress, or Paused. */
function isNotProgressing(effect: StoredResult): boolean {
  const status = detailsOf(effect, 'rollout-status');
  return status !== undefined && 'phase' in status && (status.phase === 'Progressing' || status.phase === 'Paused');
}

function isDegraded(effect: StoredResult, reason: string): boolean {
  const status = detailsOf(effect, 'rollout-status');
  return status !== undefined && 'phase' in status && status.phase === 'Degraded' && status.degradedReason === reason;
}

/**
 * One row: when a non-ok, unmuted result of `cause` satisfies `when`, it explains the non-ok,
 * unmuted results of `effects` (about one of `rollouts`, when given) that satisfy `explains`.
 */
export interface IncidentRule<C extends RuleCheck = RuleCheck> {
  /** Stable name (docs/incidents.md has a section per rule). */
  id: string;
  cause: C;
  /** The checks whose results it may explain (`any`: every check); a function when the cause names them. */
  effects: readonly string[] | 'any' | ((cause: DetailsByCheck[C]) => readonly string[]);
  when(cause: DetailsByCheck[C], result: StoredResult): boolean;
  /** The Rollouts the effects must be about (an index lookup instead of a scan), when the rule is about Rollouts. */
  rollouts?(cause: DetailsByCheck[C], result: StoredResult): readonly string[];
  explains(cause: DetailsByCheck[C], effect: StoredResult, result: StoredResult): boolean;
}

/** Keeps each row's cause check and its details' type together (the table holds many). */
function rule<C extends RuleCheck>(row: IncidentRule<C>): IncidentRule {
  return row as unknown as IncidentRule;
}

export const INCIDENT_RULES: readonly IncidentRule[] = [
  // A Service of the Rollout without a working backend explains the probe of the endpoint configured
  // for that Rollout (`endpoints[].rollout`): the probe goes through the stable/active Service (and
  // the canary's share of it), which rollout/service.go ensureSVCTargets points at a
  // rollouts-pod-template-hash. Runbook "Rollout pods not starting" (`kubectl get svc ... | grep -A5
  // selector`). The preview Service takes no production traffic, so it explains nothing here.
  rule({
    id: 'service-explains-endpoint',
    cause: 'rollout-services',
    effects: ['endpoint'],
    when: (d, r) => r.status === 'fail' && 'services' in d && d.services.some((s) => s.problem !== undefined && s.role !== 'preview'),
    rollouts: (_d, r) => (r.rollout ? [r.rollout] : []),
    explains: (_d, effect, r) => effect.status === 'fail' && detailsOf(effect, 'endpoint')?.rollout === r.rollout,
  }),

  // Pods of the Rollout that do not start explain (1) its ProgressDeadlineExceeded: the controller
  // marks the Rollout timed out when the new ReplicaSet shows no progress for progressDeadlineSeconds
  // (utils/conditions/conditions.go RolloutTimedOut, TimedOutReason), which utils/rollout/rolloututil.go
  // CalculateRolloutPhase shows as Degraded; and (2) its Services without ready endpoints, when the
  // Service selects the pod-template hash of those pods (rollout/service.go points canary, preview
  // and active Services at a ReplicaSet by hash; its pods are not Ready, so neither are the
  // endpoints). Runbook "Rollout pods not starting".
  rule({
    id: 'pods-explain-deadline-and-endpoints',
    cause: 'rollout-pods',
    effects: ['rollout-status', 'rollout-services'],
    when: (d) => 'podCount' in d,
    rollouts: (_d, r) => (r.rollout ? [r.rollout] : []),
    explains: (d, effect) => {
      if (!('podCount' in d)) return false;
      if (effect.check === 'rollout-status') return isDegraded(effect, 'ProgressDeadlineExceeded');
      const services = detailsOf(effect, 'rollout-services');
      if (!services || !('services' in services)) return false;
      const brokenHashes = new Set([...d.pods.filter((p) => !p.ready && !p.terminating).map((p) => p.hash), ...d.replicaSets.filter((rs) => rs.replicaFailure && rs.hash).map((rs) => rs.hash!)]);
      const broken = services.services.filter((s) => s.problem !== undefined);
      return broken.length > 0 && broken.every((s) => (s.problem === 'noPods' || s.problem === 'noReadyPods' || s.problem === 'noEndpoints') && brokenHashes.has(s.selectorHash ?? s.expectedHash ?? ''));
    },
  }),

  // An AnalysisRun that failed or errored aborts the Rollout: rollout/analysis.go setPauseOrAbort
  // calls AddAbort on AnalysisPhaseFailed and AnalysisPhaseError, and the abort is the Degraded
  // `RolloutAborted` of CalculateRolloutPhase. Runbook "Aborting a canary" (the Rollout is then
  // "Degraded").
  rule({
    id: 'analysis-explains-abort',
    cause: 'rollout-analysis',
    effects: ['rollout-status'],
    when: (d, r) => r.status === 'fail' && 'runs' in d,
    rollouts: (_d, r) => (r.rollout ? [r.rollout] : []),
    explains: (_d, effect) => isDegraded(effect, 'RolloutAborted'),
  }),

  // An Inconclusive AnalysisRun pauses the Rollout: setPauseOrAbort adds the pause condition
  // InconclusiveAnalysisRun (rollout/analysis.go), which CalculateRolloutPhase shows as Paused.
  // Runbook "Inconclusive analysis".
  rule({
    id: 'inconclusive-analysis-explains-pause',
    cause: 'rollout-analysis',
    effects: ['rollout-status'],
    when: (d) => 'runs' in d && d.runs.some((run) => run.phase === 'Inconclusive' || run.metrics.some((m) => m.phase === 'Inconclusive')),
    rollouts: (_d, r) => (r.rollout ? [r.rollout] : []),
    explains: (_d, effect) => {
      const status = detailsOf(effect, 'rollout-status');
      return status !== undefined && 'phase' in status && status.phase === 'Paused' && status.pauseReasons.includes('InconclusiveAnalysisRun');
    },
  }),

  // A template metric that errors, fails or is inconclusive when measured now explains the same
  // verdict in the runs of the Rollouts that use the template: an AnalysisRun copies the template's
  // metrics (utils/analysis/factory.go NewAnalysisRunFromTemplates), so the same query gets the
  // same answer. Matched by metric name, so another template's metric of the Rollout is not explained.
  rule({
    id: 'preflight-explains-analysis',
    cause: 'analysis-preflight',
    effects: ['rollout-analysis'],
    when: (d) => 'metrics' in d && d.metrics.some((m) => !m.dryRun && isBadPhase(m.phase)),
    rollouts: (d) => ('referencedBy' in d ? d.referencedBy : []),
    explains: (d, effect) => {
      if (!('metrics' in d)) return false;
      const bad = new Set(d.metrics.filter((m) => !m.dryRun && isBadPhase(m.phase)).map((m) => m.metric));
      const analysis = detailsOf(effect, 'rollout-analysis');
      if (!analysis || !('runs' in analysis)) return false;
      const failing = [
        ...(analysis.findings ?? []).filter((f) => f.status !== 'ok' && f.metric).map((f) => f.metric!),
        ...analysis.runs.flatMap((run) => run.metrics.filter((m) => isBadPhase(m.phase)).map((m) => m.name)),
      ];
      return failing.some((metric) => bad.has(metric));
    },
  }),

  // A reference to something that does not exist is what makes the Rollout's spec invalid: the
  // controller's reconcile (rollout/controller.go getRolloutReferencedResources, then
  // createInvalidRolloutCondition) sets the InvalidSpec condition, which CalculateRolloutPhase shows
  // as Degraded; and a missing strategy Service is the same finding rollout-services reports as
  // "does not exist". Runbook "Troubleshooting" (Rollout stuck in "Degraded": AnalysisTemplate,
  // Service or workloadRef Deployment not found).
  rule({
    id: 'missing-references-explain-invalid-spec',
    cause: 'rollout-references',
    effects: ['rollout-status', 'rollout-services'],
    when: (d) => 'missing' in d && d.missing.length > 0,
    rollouts: (_d, r) => (r.rollout ? [r.rollout] : []),
    explains: (d, effect) => {
      if (effect.check === 'rollout-status') return isDegraded(effect, 'InvalidSpec');
      const services = detailsOf(effect, 'rollout-services');
      if (!('references' in d) || !services || !('services' in services)) return false;
      const missing = new Set(d.references.filter((ref) => ref.kind === 'Service' && !ref.exists).map((ref) => ref.name));
      const broken = services.services.filter((s) => s.problem !== undefined);
      return broken.length > 0 && broken.every((s) => s.problem === 'missing' && missing.has(s.name));
    },
  }),

  // A traffic-router plugin runs inside the controller with the controller's service account
  // (docs/plugins.md "Kubernetes RBAC": the plugin "will inherit the same RBAC permissions as the
  // controller"), so a verb the account is denied is an object the plugin cannot create or update:
  // the canary holds weight without its routing object. Runbook "CiliumEnvoyConfig not created
  // (canary)" (`kubectl auth can-i create ciliumenvoyconfigs --as=...`). Any plugin: the names come
  // from controller-rbac's details and rollout-traffic's routers.
  rule({
    id: 'controller-rbac-explains-traffic',
    cause: 'controller-rbac',
    effects: ['rollout-traffic'],
    when: (d, r) => r.status === 'fail' && 'denied' in d && d.denied.length > 0,
    explains: (d, effect) => {
      const traffic = detailsOf(effect, 'rollout-traffic');
      if (!('plugins' in d) || !traffic || !('routers' in traffic)) return false;
      return traffic.routers.some((router) => isRouterFailing(router) && d.plugins.includes(router.plugin));
    },
  }),

  // Without a running controller nothing reconciles: a changed spec stays "waiting for rollout spec
  // update to be observed" (utils/rollout/rolloututil.go GetRolloutPhase), no step advances, no pause
  // ends, the traffic-router plugin (a child process of the controller, docs/plugins.md) creates no
  // routing object, and there is no controller log to read plugin evidence from. Runbook "Controller
  // health" (`kubectl get pods -n argo-rollouts`). Degraded Rollouts are not included: the
  // controller wrote that phase itself, before it stopped.
  rule({
    id: 'controller-down-explains-rollouts',
    cause: 'controller-pods',
    effects: ['rollout-status', 'rollout-traffic', 'controller-plugins'],
    when: (d, r) => r.status === 'fail' && 'pods' in d,
    explains: (_d, effect) => {
      if (effect.check === 'rollout-status') return isNotProgressing(effect);
      if (effect.check === 'controller-plugins') return effect.status === 'unknown' && apiFailureOf(effect.details) === undefined;
      const traffic = detailsOf(effect, 'rollout-traffic');
      return traffic !== undefined && 'routers' in traffic && traffic.routers.some(isRouterFailing);
    },
  }),

  // A plugin the running controller has not loaded (`loaded: false`: not configured, configured
  // under another key, which v1.8+ misses because GetPlugin matches name and type
  // (utils/config/config.go), disabled, or downloaded after the controller started) cannot serve the
  // Rollouts that reference it: the controller logs "failed to get traffic router plugin ... plugin
  // ... not configured in configmap" on every reconcile and never sets a weight
  // (rollout/trafficrouting/plugin/plugin.go wrapping utils/plugin/plugin.go, v1.9.1), so the Rollout does not progress, rollout-references
  // finds the plugin missing (explained when nothing else is), and the plugin creates no routing
  // object. Runbook "Controller health" (`kubectl logs ... | grep -i plugin`).
  rule({
    id: 'plugin-not-loaded-explains-rollouts',
    cause: 'controller-plugins',
    effects: ['rollout-references', 'rollout-status', 'rollout-traffic'],
    when: (d) => 'plugin' in d && d.loaded === false,
    rollouts: (d) => ('referencedBy' in d ? referencingRollouts(d.referencedBy) : []),
    explains: (d, effect) => {
      if (!('plugin' in d)) return false;
      if (effect.check === 'rollout-status') return isNotProgressing(effect);
      const references = detailsOf(effect, 'rollout-references');
      if (references) {
        // Only when the plugin is all that is missing: another missing object has a cause of its own.
        const missing = 'references' in references ? references.references.filter((ref) => !ref.exists) : [];
        return missing.length > 0 && missing.every((ref) => ref.kind === 'TrafficRouterPlugin' && ref.name === d.plugin);
      }
      const traffic = detailsOf(effect, 'rollout-traffic');
      return traffic !== undefined && 'routers' in traffic && traffic.routers.some((router) => router.plugin === d.plugin && isRouterFailing(router));
    },
  }),

  // A plugin the controller cannot start with (`failureLine`: the download answered 404, the sha256
  // does not match, the name is invalid) is fatal at startup: controller/controller.go calls
  // log.Fatalf("Failed to download plugins: %v") (and "Failed to init config: %v"), so the pod exits
  // on every start and crash-loops (the homelab's 21 days). Everything the crash loop explains
  // follows. Runbook "Controller health" (the plugin lines of the controller log).
  rule({
    id: 'plugin-failure-explains-crash-loop',
    cause: 'controller-plugins',
    effects: ['controller-pods'],
    when: (d) => 'plugin' in d && d.failureLine !== undefined,
    explains: (_d, effect) => effect.status === 'fail',
  }),

  // rollout-doctor's own missing permission is why the checks that need it could not look: the API
  // answers their call with 403 (self-rbac derives the list of checks from the same `needs` and
  // `reads` that make those calls, src/kube/permissions.ts). Matched by resource, so another 403 of
  // the same check is not explained by this one; with no binding at all (one self-rbac result,
  // `noBinding`), every 403 of the checks it lists is.
  rule({
    id: 'own-permission-explains-unknown',
    cause: 'self-rbac',
    effects: (d) => ('affectedChecks' in d ? (d.affectedChecks ?? []) : []),
    when: (d, r) => r.status === 'fail' && ('missing' in d || 'noBinding' in d),
    explains: (d, effect) => {
      if (effect.status !== 'unknown') return false;
      const failure = apiFailureOf(effect.details);
      if (failure?.reason !== 'Forbidden') return false;
      return 'noBinding' in d || ('group' in d && failure.resource === qualifiedResource(d.group === 'core' ? '' : d.group, d.resource));
    },
  }),

  // When the API server does not answer, or refuses rollout-doctor's credentials, every other API
  // call of the cycle fails the same way: kube-api's own GET /version says so once, and the checks'
  // `unknown` results with the same kind of API error (the runner already points them at kube-api,
  // `details.blockedBy`) are its effects. Which errors those states account for is kube-api's own
  // `explains` (src/checks/kube-api.ts), so the runner and this row cannot disagree. A server that
  // answers GET /version with a server-side error (500, 429, a broken body) is rejecting every
  // request the same way: the unknowns with that same error are its effects too, though each keeps
  // its own reason and remediation (the call that failed may still be worth reading).
  rule({
    id: 'api-down-explains-unknown',
    cause: 'kube-api',
    effects: 'any',
    when: (d, r) => apiReasons(d, r).length > 0,
    explains: (d, effect, r) => {
      if (effect.status !== 'unknown' || effect.check === 'kube-api') return false;
      if (effect.details.blockedBy === 'kube-api') return true;
      const failure = apiFailureOf(effect.details);
      return failure !== undefined && apiReasons(d, r).includes(failure.reason);
    },
  }),
];
