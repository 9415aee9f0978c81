/**
 * analysis-preflight: for each AnalysisTemplate or ClusterAnalysisTemplate a Rollout references,
 * take each metric's measurement now, as the controller would when a rollout starts, and report the
 * phase it would get. The check that would have prevented the homelab's abort: a query that comes
 * back empty makes `result[0]` an Error on every measurement, and the rollout aborts after
 * consecutiveErrorLimit.
 *
 * The rules are those of the running controller's version (src/argo/controller.ts: its starting
 * line or image tag, else the newest release), named in the details; the metric providers and the
 * condition language follow it (src/argo/metric-providers.ts, src/expr).
 *
 * - prometheus provider (VictoriaMetrics answers the same API): the instant query, or the range query
 *   of `rangeQuery` (v1.8.0+), with the args the referencing Rollout passes (literal values, fieldRef,
 *   podTemplateHashValue as the current revision's hash; an arg from a Secret skips the metric with a
 *   note), then successCondition / failureCondition evaluated with expr's semantics. Whether an empty
 *   vector or NaN came back is said.
 * - web provider: the URL with the template's method, headers and body; non-2xx -> Error; JSON body
 *   read with the template's jsonPath. A body that is not JSON is Successful without the conditions
 *   being evaluated on every released controller: warn that the gate is hollow, with what upstream
 *   master's rule (evaluate them on the text) would decide.
 * - the measurement is then carried through the metric's limits as analysis/analysis.go would if
 *   every measurement came out the same (src/argo/analysis.ts predictMetric): failureLimit,
 *   inconclusiveLimit, consecutiveErrorLimit, consecutiveSuccessLimit (v1.8.0+), count/interval. The
 *   predicted phase decides: Error -> fail, Failed or Inconclusive -> warn, Successful -> ok. A spec
 *   the controller rejects (ValidateMetric by version; dryRun/measurementRetention rules matching no
 *   metric, matched as Go regular expressions) is an Error before any measurement: fail.
 * - never ok about a metric it did not query (issue 14 §2). A provider host outside `allowedHosts`
 *   or a provider left out of `providers` (the operator's own configuration): "not queried" (phase
 *   Skipped), named in the summary, counting neither way; a template with nothing else is warn,
 *   "nothing measured". Other providers, a Prometheus address left to the controller's environment,
 *   an authentication rollout-doctor does not do the way the controller does (OAuth2; SigV4 on an
 *   aps-workspaces address), or an arg that only exists at run time (a Secret, a hash not there
 *   yet): "not measured" (phase Unknown), unknown.
 * - provider unreachable (refused, timeout, DNS, TLS, outside loopback in a simulation): unknown.
 *
 * Bounded: one query per metric per cycle (a template referenced by several Rollouts is measured
 * once, with the first Rollout's args), each under the provider's timeout capped by
 * timeouts.requestMs, all within the check's deadline, a few at a time.
 *
 * Runbook: "Inconclusive analysis" and "Analysis results", before a rollout needs them.
 * Permissions: list rollouts, analysistemplates, clusteranalysistemplates, deployments (cluster-wide),
 * pods and get pods/log in the controller namespace (its version); outbound HTTP to the metric
 * providers.
 */
import { command, kubectl, type RemediationStep, renderCommand, singleQuoted, text, uniqueSteps } from '../engine/remediation.js';
import type { Check, CheckContext, CheckResult, MetricFamily, Status, UnknownDetails } from '../engine/types.js';
import { STATUS_RANK } from '../engine/types.js';
import type { CustomObject, Rollout } from '../kube/types.js';
import { type ArgValue, resolveArgs, substituteArgs } from '../argo/analysis-args.js';
import { type LimitSpec, type MeasuredPhase, metricLimits, type Prediction, predictMetric, selectMetrics, validateMetricLimits } from '../argo/analysis.js';
import { type ControllerVersion, isAtLeast, versionText } from '../argo/controller.js';
import { headerMap, type Measurement, measurePrometheus, measureWeb, prometheusQueryUrl, type RangeQuery } from '../argo/metric-providers.js';
import { readControllerVersion } from './lib/controller.js';
import { curlFor, endpointsOfRollout } from './lib/endpoints.js';
import { evaluateEach, result } from './lib/results.js';
import { rolloutsCommand } from './lib/rollout.js';
import { referencedTemplates, rolloutTarget, type TemplateReference } from '../argo/rollout-spec.js';

/** Templates measured at once. */
const CONCURRENCY = 4;
/** Share of the check's deadline after which no new query starts (the rest report unknown, not a lost cycle). */
const DEADLINE_SHARE = 0.8;
const PROVIDERS = ['prometheus', 'web', 'job', 'datadog', 'newRelic', 'wavefront', 'kayenta', 'cloudWatch', 'graphite', 'influxdb', 'skywalking', 'plugin'];

interface OAuth2 {
  tokenUrl?: string;
}

interface MetricSpec extends LimitSpec {
  name?: string;
  successCondition?: string;
  failureCondition?: string;
  provider?: {
    prometheus?: {
      address?: string;
      query?: string;
      timeout?: number;
      insecure?: boolean;
      headers?: unknown;
      rangeQuery?: RangeQuery;
      /** basicAuth: upstream master only (analysis_types.go Authentication.BasicAuth, f087c91d8). */
      authentication?: { sigv4?: Record<string, unknown>; oauth2?: OAuth2; basicAuth?: { username?: string; password?: string } };
    };
    web?: {
      url?: string;
      method?: string;
      headers?: unknown;
      body?: string;
      jsonBody?: unknown;
      jsonPath?: string;
      timeoutSeconds?: number;
      insecure?: boolean;
      authentication?: { oauth2?: OAuth2 };
    };
    [key: string]: unknown;
  };
}

interface TemplateEntry {
  target: string;
  kind: 'AnalysisTemplate' | 'ClusterAnalysisTemplate';
  namespace: string;
  template: CustomObject;
  references: { rollout: Rollout; ref: TemplateReference }[];
}

export interface MetricReport extends Measurement {
  metric: string;
  provider: string;
  dryRun?: boolean;
  address?: string;
  query?: string;
  url?: string;
  method?: string;
  successCondition?: string;
  failureCondition?: string;
  consecutiveErrorLimit?: number;
  inconclusiveLimit?: number;
  failureLimit?: number;
  /** consecutiveSuccessLimit (v1.8.0+), when set. */
  consecutiveSuccessLimit?: number;
  /** EffectiveCount; absent: no count (it measures until the run is terminated). */
  count?: number;
  /** What the analysis would decide if every measurement came out like this one. */
  predicted?: Prediction;
  args?: Record<string, string>;
  /** The curl that reproduces the measurement (for the remediation). */
  curl?: string;
  /** The Error is about creating or validating the run (an arg nobody supplies, a limit the controller rejects), not a measurement. */
  isRunCreation?: boolean;
  /** Not queried because of this key of the operator's config (phase Skipped). */
  skippedBy?: 'allowedHosts' | 'providers';
}

interface PreflightDetails {
  /** The template's namespace, `_cluster` for a ClusterAnalysisTemplate. */
  namespace: string;
  template: string;
  kind: TemplateEntry['kind'];
  referencedBy: string[];
  /** The Rollout whose args the measurement used. */
  argsFrom: string;
  /** The controller version whose rules applied, and where it was read. */
  controllerVersion: ControllerVersion;
  /** The run the controller would create is an Error before any measurement (Analysis spec invalid). */
  runError?: string;
  metrics: MetricReport[];
}

type Details = PreflightDetails | UnknownDetails;

/** `host` or `host:port` entries; an entry without a port allows every port of that host. */
export function isHostAllowed(url: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const host = parsed.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
  return allowed.some((entry) => {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry.trim().toLowerCase());
    if (!m) return false;
    return m[1]!.replace(/^\[|\]$/g, '') === host && (m[2] === undefined || m[2] === port);
  });
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function discover(ctx: CheckContext): TemplateEntry[] {
  const rollouts = [...ctx.snapshot.list('rollouts')].sort((a, b) => rolloutTarget(a).localeCompare(rolloutTarget(b)));
  // Both lists must have answered: a failed list turns the check unknown (the runner reports why).
  ctx.snapshot.list('analysistemplates');
  ctx.snapshot.list('clusteranalysistemplates');
  const entries = new Map<string, TemplateEntry>();
  for (const rollout of rollouts) {
    const namespace = rollout.metadata.namespace ?? 'default';
    for (const ref of referencedTemplates(rollout)) {
      const template = ref.clusterScope ? ctx.snapshot.find('clusteranalysistemplates', '', ref.name) : ctx.snapshot.find('analysistemplates', namespace, ref.name);
      // A missing template is rollout-references' finding; there is nothing to measure here.
      if (!template) continue;
      const target = ref.clusterScope ? `_cluster/${ref.name}` : `${namespace}/${ref.name}`;
      let entry = entries.get(target);
      if (!entry) {
        entry = { target, kind: ref.clusterScope ? 'ClusterAnalysisTemplate' : 'AnalysisTemplate', namespace: ref.clusterScope ? '_cluster' : namespace, template, references: [] };
        entries.set(target, entry);
      }
      entry.references.push({ rollout, ref });
    }
  }
  return [...entries.values()].sort((a, b) => a.target.localeCompare(b.target));
}

type Rules = readonly { metricName?: string }[];

/**
 * The run the controller would create for this reference (utils/analysis/helpers.go
 * NewAnalysisRunFromTemplates): the metrics of every template of the analysis block, and its dryRun
 * and measurementRetention rules, the Rollout's first, then each template's. Its spec error, if any:
 * analysis/analysis.go makes such a run Error before any measurement.
 */
function runSpec(ctx: CheckContext, rollout: Rollout, ref: TemplateReference): { dryRun: Set<string>; error?: string } {
  const namespace = rollout.metadata.namespace ?? 'default';
  const templates = (ref.analysis.templates ?? [])
    .map((t) => (t.clusterScope ? ctx.snapshot.find('clusteranalysistemplates', '', t.templateName ?? '') : ctx.snapshot.find('analysistemplates', namespace, t.templateName ?? '')))
    .filter((t): t is CustomObject => t !== undefined);
  const specOf = (t: CustomObject) => (t.spec ?? {}) as { metrics?: { name?: string }[]; dryRun?: Rules; measurementRetention?: Rules };
  const names = templates.flatMap((t) => (specOf(t).metrics ?? []).map((m) => m.name ?? ''));
  const rules = (field: 'dryRun' | 'measurementRetention') => [...((ref.analysis[field] ?? []) as Rules), ...templates.flatMap((t) => specOf(t)[field] ?? [])];
  const dryRun = selectMetrics(rules('dryRun'), names, 'dryRun');
  const error = dryRun.error ?? selectMetrics(rules('measurementRetention'), names, 'measurementRetention').error;
  return { dryRun: dryRun.names, ...(error ? { error: `Analysis spec invalid: ${error}` } : {}) };
}

const OAUTH2_NOTE = 'the provider authenticates with OAuth2 client credentials (tokenUrl), which rollout-doctor does not do';

async function measureMetric(
  ctx: CheckContext,
  metric: MetricSpec,
  index: number,
  args: ReadonlyMap<string, ArgValue>,
  runtimeOnly: ReadonlyMap<string, string>,
  missing: ReadonlySet<string>,
  version: string,
): Promise<MetricReport> {
  const name = metric.name ?? '';
  const provider = PROVIDERS.find((p) => metric.provider?.[p] !== undefined) ?? Object.keys(metric.provider ?? {})[0] ?? 'none';
  const substituted = substituteArgs(metric, args);
  const resolved = substituted.value;
  const report: MetricReport = { metric: name, provider, phase: 'Skipped' };
  if (resolved.successCondition) report.successCondition = resolved.successCondition;
  if (resolved.failureCondition) report.failureCondition = resolved.failureCondition;
  const limits = metricLimits(metric, version);
  report.consecutiveErrorLimit = limits.consecutiveErrorLimit;
  report.inconclusiveLimit = limits.inconclusiveLimit;
  report.failureLimit = limits.failureLimit;
  if (limits.consecutiveSuccessLimit > 0) report.consecutiveSuccessLimit = limits.consecutiveSuccessLimit;
  if (limits.count !== undefined) report.count = limits.count;
  const invalid = validateMetricLimits(metric, version);
  if (invalid) return { ...report, phase: 'Error', message: `Analysis spec invalid: metrics[${index}]: ${invalid}`, isRunCreation: true };
  const used = substituted.used.filter((a) => args.get(a)?.from);
  if (substituted.used.length > 0) report.args = Object.fromEntries(substituted.used.map((a) => [a, args.get(a)!.value]));
  if (used.length > 0) report.note = used.map((a) => `args.${a} = ${args.get(a)!.value} from ${args.get(a)!.from}`).join('; ');
  const unresolvedArgs = substituted.unresolved.map((tag) => (tag.startsWith('args.') ? tag.slice(5) : tag));
  const atRuntime = unresolvedArgs.filter((a) => runtimeOnly.has(a));
  if (atRuntime.length > 0) return { ...report, phase: 'Unknown', message: `not measured: args.${atRuntime[0]} ${runtimeOnly.get(atRuntime[0]!)}` };
  const unsupplied = unresolvedArgs.filter((a) => !runtimeOnly.has(a));
  if (unsupplied.length > 0) {
    const why = missing.has(unsupplied[0]!) ? `argument "${unsupplied[0]}" was not supplied` : `failed to resolve {{${substituted.unresolved.find((t) => !runtimeOnly.has(t.replace(/^args\./, '')))}}}`;
    return { ...report, phase: 'Error', message: `${why}: the controller cannot create the AnalysisRun`, isRunCreation: true };
  }
  const conditions = { successCondition: resolved.successCondition, failureCondition: resolved.failureCondition };
  const { allowedHosts, providers } = ctx.config.checks['analysis-preflight'];
  const requestMs = ctx.config.timeouts.requestMs;
  const prometheus = resolved.provider?.prometheus;
  const web = resolved.provider?.web;
  if ((prometheus || web) && !(providers as readonly string[]).includes(provider)) {
    return { ...report, skippedBy: 'providers', message: `not queried: the ${provider} provider is turned off (checks.analysis-preflight.providers)` };
  }
  if (prometheus) {
    const address = prometheus.address ?? '';
    report.query = prometheus.query ?? '';
    if (!address) return { ...report, phase: 'Unknown', message: 'not measured: the address comes from ARGO_ROLLOUTS_PROMETHEUS_ADDRESS in the controller, which rollout-doctor does not read' };
    report.address = address;
    // prometheus.go: OAuth2 when tokenUrl is set (v1.7.0+); SigV4 only for an aps-workspaces address with sigv4 set.
    if (prometheus.authentication?.oauth2?.tokenUrl) return { ...report, phase: 'Unknown', message: `not measured: ${OAUTH2_NOTE}` };
    const sigv4 = prometheus.authentication?.sigv4;
    if (address.includes('aps-workspaces') && sigv4 && Object.values(sigv4).some(Boolean)) {
      return { ...report, phase: 'Unknown', message: 'not measured: the controller signs requests to this aps-workspaces address with AWS SigV4, which rollout-doctor does not do' };
    }
    if (!isHostAllowed(address, allowedHosts)) return { ...report, skippedBy: 'allowedHosts', message: `not queried: host ${hostOf(address)} is not in checks.analysis-preflight.allowedHosts` };
    const isRange = Boolean(prometheus.rangeQuery) && isAtLeast(version, '1.8.0');
    try {
      report.curl = renderCommand(
        command(['curl', '-s', singleQuoted(prometheusQueryUrl(address, isRange ? 'query_range' : 'query').toString()), '--data-urlencode', singleQuoted(`query=${oneLine(report.query)}`)]),
      );
    } catch {
      // The measurement reports the bad address.
    }
    const measured = await measurePrometheus(
      ctx,
      address,
      report.query,
      conditions,
      { timeoutMs: Math.min((prometheus.timeout ?? 30) * 1000 || requestMs, requestMs), tlsVerify: !prometheus.insecure, headers: headerMap(prometheus.headers), controllerVersion: version },
      prometheus.rangeQuery,
    );
    const basicAuth = prometheus.authentication?.basicAuth;
    if (basicAuth?.username || basicAuth?.password) {
      // authentication.basicAuth exists only on upstream master (f087c91d8; prometheus.go reads it when
      // either field is set): a released controller sends none, and its CRD prunes the field.
      measured.rules = [...(measured.rules ?? []), 'basicAuth is not read by any release up to v1.10.0-rc1 (prometheus.go; upstream master f087c91d8, unreleased): queried without it'];
    }
    return merge(report, measured);
  }
  if (web) {
    report.url = web.url ?? '';
    report.method = web.method || 'GET';
    if (web.authentication?.oauth2?.tokenUrl) return { ...report, phase: 'Unknown', message: `not measured: ${OAUTH2_NOTE}` };
    if (!isHostAllowed(report.url, allowedHosts)) return { ...report, skippedBy: 'allowedHosts', message: `not queried: host ${hostOf(report.url)} is not in checks.analysis-preflight.allowedHosts` };
    const headers = headerMap(web.headers);
    report.curl = renderCommand(command(['curl', '-s', '-X', report.method, singleQuoted(report.url), ...Object.keys(headers).flatMap((k) => ['-H', singleQuoted(`${k}: ...`)])]));
    const measured = await measureWeb(
      ctx,
      { url: report.url, method: report.method, body: web.body, jsonBody: web.jsonBody, jsonPath: web.jsonPath },
      conditions,
      { timeoutMs: Math.min((web.timeoutSeconds || 10) * 1000, requestMs), tlsVerify: !web.insecure, headers, controllerVersion: version },
    );
    return merge(report, measured);
  }
  return { ...report, phase: 'Unknown', message: `not measured: rollout-doctor does not query the ${provider} provider` };
}

const MEASURED = new Set<string>(['Successful', 'Failed', 'Inconclusive', 'Error']);

/** A metric the operator's configuration keeps rollout-doctor from querying counts neither way. */
function isCounted(report: MetricReport): boolean {
  return report.phase !== 'Skipped';
}

/** The measurement carried through the metric's limits (not for a run that cannot be created). */
function withPrediction(report: MetricReport, spec: MetricSpec, version: string): MetricReport {
  if (!MEASURED.has(report.phase) || report.isRunCreation) return report;
  return { ...report, predicted: predictMetric(report.phase as MeasuredPhase, metricLimits(spec, version), version) };
}

function merge(report: MetricReport, measured: Measurement): MetricReport {
  const note = [report.note, measured.note].filter(Boolean).join('; ');
  const out: MetricReport = { ...report, ...measured };
  if (note) out.note = note;
  return out;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * Skipped: not queried because of the operator's own configuration (skippedBy); such a metric
 * counts neither way (isCounted). Unknown: not measured because something failed or is not
 * supported (unreachable, a provider or authentication rollout-doctor does not do, a Secret arg).
 */
function statusOf(report: MetricReport): Status {
  const phase = report.predicted?.phase ?? report.phase;
  const status: Status = { Successful: 'ok', Running: 'ok', Skipped: 'ok', Failed: 'warn', Inconclusive: 'warn', Error: 'fail', Unknown: 'unknown' }[phase] as Status;
  // A condition never evaluated is a gate that cannot close: worth a look, never a failure.
  const adjusted = status === 'ok' && report.isNotEvaluated ? 'warn' : status;
  // A dry-run metric never decides the rollout: an Error still deserves a look, the rest does not.
  if (report.dryRun) return adjusted === 'fail' ? 'warn' : adjusted === 'warn' ? 'ok' : adjusted;
  return adjusted;
}

function resultWords(report: MetricReport): string {
  if (report.resultKind === 'empty') {
    return report.server === 'VictoriaMetrics'
      ? 'VictoriaMetrics answered an empty vector (it drops NaN samples: a ratio over zero requests comes back empty there, NaN on Prometheus)'
      : 'the query returned an empty vector (no series matched)';
  }
  if (report.resultKind === 'nan') return `the query returned NaN (${report.value}; a ratio over zero requests in the window)`;
  if (report.resultKind === 'text') return `a body that is not JSON: ${JSON.stringify(report.value)}`;
  return report.value !== undefined ? `result ${report.value}` : '';
}

/** What the limits make of the measurement, when it is not what the measurement alone says. */
function predictionText(report: MetricReport): string {
  const predicted = report.predicted;
  if (!predicted) return '';
  const limits = [`failureLimit ${report.failureLimit ?? 0}`, ...(report.consecutiveSuccessLimit ? [`consecutiveSuccessLimit ${report.consecutiveSuccessLimit}`] : []), report.count === undefined ? 'no count' : `count ${report.count}`].join(', ');
  if (predicted.phase === 'Running') return `, but with ${limits} the metric never ends by itself: it keeps measuring until the run is terminated`;
  return `, but with ${limits} the analysis would be ${predicted.phase} after ${predicted.measurements} such measurement${predicted.measurements === 1 ? '' : 's'} (${predicted.reason})`;
}

function describeMetric(report: MetricReport): string {
  const what = `metric ${report.metric}`;
  const said = resultWords(report);
  const withResult = said ? `; ${said}` : '';
  const differs = report.predicted !== undefined && report.predicted.phase !== report.phase;
  switch (report.phase) {
    case 'Successful':
      if (report.isNotEvaluated) {
        const conditions = [report.successCondition, report.failureCondition].filter(Boolean).join(' / ');
        return `${what}: ${said}, which every released controller records as Successful without evaluating ${conditions}: the analysis cannot fail on it; upstream master (unreleased) would record ${report.newerPhase}`;
      }
      return `${what} would be Successful${said ? ` (${said})` : ''}${differs ? predictionText(report) : ''}`;
    case 'Skipped':
      return `${what} ${report.message}`;
    case 'Unknown':
      return `${what}: ${report.message}`;
    case 'Error':
      if (report.isRunCreation) return `${what}: ${report.message}`;
      return `${what} would be an Error now (${report.message}${withResult}): every measurement would be an Error and the rollout aborts after consecutiveErrorLimit (${report.consecutiveErrorLimit})`;
    case 'Inconclusive':
      if (differs) return `${what} would be Inconclusive now (${said || 'neither condition holds'})${predictionText(report)}`;
      return `${what} would be Inconclusive now (${said || 'neither condition holds'}): after inconclusiveLimit + 1 = ${(report.inconclusiveLimit ?? 0) + 1} such measurements the rollout pauses (InconclusiveAnalysisRun)`;
    case 'Failed': {
      const why = report.failure ? `failureCondition ${report.failureCondition} holds` : `successCondition ${report.successCondition} does not hold`;
      if (differs) return `${what} would be Failed now (${said ? `${said}, ` : ''}${why})${predictionText(report)}`;
      return `${what} would be Failed now (${said ? `${said}, ` : ''}${why}): a rollout started now would fail analysis`;
    }
  }
}

function templateGet(entry: TemplateEntry): RemediationStep {
  const name = entry.template.metadata.name ?? '';
  return entry.kind === 'ClusterAnalysisTemplate' ? kubectl(['get', 'clusteranalysistemplate', name, '-o', 'yaml']) : kubectl(['get', 'analysistemplate', name, '-n', entry.namespace, '-o', 'yaml']);
}

function remediationFor(ctx: CheckContext, entry: TemplateEntry, reports: MetricReport[]): RemediationStep[] {
  const steps: RemediationStep[] = [];
  const get = templateGet(entry);
  for (const report of reports) {
    if (!isCounted(report) || statusOf(report) === 'ok') continue;
    // The curl is in the details already, rendered from a command (no kubectl, so no context to add).
    if (report.curl) steps.push(text(report.curl));
    steps.push(get);
    if (report.phase === 'Unknown' && !report.curl) {
      steps.push(text('rollout-doctor cannot measure this metric; the next AnalysisRun does, watch it with ', rolloutsCommand(entry.references[0]!.rollout, 'get rollout', ['--watch'])));
    }
    if (report.isNotEvaluated && report.url) {
      steps.push(text(`The controller never evaluates a condition on a body that is not JSON: make ${report.url} answer JSON (e.g. {"status":"ok"}) and compare a field (result.status == "ok"), or read it with jsonPath`));
    }
    if (report.phase === 'Error' && report.resultKind === 'empty' && report.query) {
      steps.push(text(`The query returns no series: check the metric and label names, or guard the query so it never comes back empty: (${oneLine(report.query)}) or on() vector(0); or guard the condition with len(result) > 0`));
    }
    if (report.phase === 'Inconclusive' || report.resultKind === 'nan') {
      const rollout = entry.references[0]!.rollout;
      const endpoint = endpointsOfRollout(ctx.config, rolloutTarget(rollout))[0];
      steps.push(
        text(
          'No traffic in the window makes this query NaN: during a rollout, generate some traffic',
          ...(endpoint ? [' (', curlFor(endpoint), ')'] : []),
          ' and then ',
          rolloutsCommand(rollout, 'promote'),
          ', or ',
          rolloutsCommand(rollout, 'promote', ['--full']),
          ' when you are confident',
        ),
      );
    }
  }
  return uniqueSteps(steps);
}

async function evaluate(ctx: CheckContext, entry: TemplateEntry, startedMs: number, controllerVersion: ControllerVersion): Promise<CheckResult<PreflightDetails>> {
  const { rollout, ref } = entry.references[0]!;
  const version = controllerVersion.version;
  const spec = (entry.template.spec ?? {}) as { args?: { name?: string; value?: string }[]; metrics?: MetricSpec[] };
  const args = resolveArgs(spec.args ?? [], ref.analysis.args ?? [], rollout);
  const run = runSpec(ctx, rollout, ref);
  const reports: MetricReport[] = [];
  const budgetMs = ctx.config.timeouts.checkMs * DEADLINE_SHARE;
  for (const [index, metric] of (spec.metrics ?? []).entries()) {
    let report: MetricReport;
    if (run.error) report = { metric: metric.name ?? '', provider: PROVIDERS.find((p) => metric.provider?.[p] !== undefined) ?? 'none', phase: 'Skipped', message: 'not measured: the run would be an Error before any measurement' };
    else if (Date.now() - startedMs > budgetMs) {
      report = { metric: metric.name ?? '', provider: PROVIDERS.find((p) => metric.provider?.[p] !== undefined) ?? 'none', phase: 'Unknown', message: `not measured this cycle: the check's deadline (timeouts.checkMs ${ctx.config.timeouts.checkMs} ms) is near` };
    } else report = withPrediction(await measureMetric(ctx, metric, index, args.values, args.runtimeOnly, args.missing, version), metric, version);
    if (run.dryRun.has(report.metric)) report.dryRun = true;
    reports.push(report);
  }
  const label = `${entry.kind} ${entry.target === `_cluster/${entry.template.metadata.name}` ? entry.template.metadata.name : entry.target}`;
  const details: PreflightDetails = {
    namespace: entry.namespace,
    template: entry.template.metadata.name ?? '',
    kind: entry.kind,
    referencedBy: [...new Set(entry.references.map((r) => rolloutTarget(r.rollout)))],
    argsFrom: rolloutTarget(rollout),
    controllerVersion,
    metrics: reports,
  };
  if (run.error) {
    details.runError = run.error;
    return result(entry.target, 'fail', `${label}: a run created now would be an Error before any measurement (controller ${versionText(controllerVersion)}): "${run.error}"`, details, [
      rolloutsCommand(rollout, 'get rollout'),
      text('dryRun and measurementRetention metricName are Go regular expressions matched against the metric names; every rule must match at least one metric of the run (utils/analysis/helpers.go)'),
    ]);
  }
  if (reports.length === 0) return result(entry.target, 'ok', `${label} has no metrics`, details);
  const counted = reports.filter(isCounted);
  const skipped = reports.filter((r) => !isCounted(r));
  if (counted.length === 0) {
    const list = (values: string[]) => [...new Set(values)].join(', ');
    const byHost = skipped.filter((r) => r.skippedBy === 'allowedHosts');
    const byProvider = skipped.filter((r) => r.skippedBy === 'providers');
    return result(entry.target, 'warn', `${label}: nothing measured: ${skipped.map(describeMetric).join('; ')}`, details, [
      ...(byHost.length > 0 ? [text(`To measure it, add ${list(byHost.map((r) => hostOf(r.address ?? r.url ?? '')))} to checks.analysis-preflight.allowedHosts in the config (then: rollout-doctor config check FILE)`)] : []),
      ...(byProvider.length > 0 ? [text(`To measure it, add ${list(byProvider.map((r) => r.provider))} to checks.analysis-preflight.providers in the config (then: rollout-doctor config check FILE)`)] : []),
      templateGet(entry),
    ]);
  }
  const worst = counted.reduce((a, b) => (STATUS_RANK[statusOf(b)] > STATUS_RANK[statusOf(a)] ? b : a));
  const status = statusOf(worst);
  const others = counted.length > 1 ? ` (${counted.filter((r) => statusOf(r) === 'ok').length}/${counted.length} metrics ok)` : '';
  const notQueried = skipped.length > 0 ? `; ${skipped.map(describeMetric).join('; ')}` : '';
  if (status === 'ok') {
    const parts = reports.map((r) => describeMetric(r)).join('; ');
    const verdict = skipped.length === 0 ? 'a rollout started now would pass analysis: ' : 'the metrics checked would pass: ';
    return result(entry.target, 'ok', `${label}: ${verdict}${parts}`, details);
  }
  const dry = worst.dryRun ? ' [dry-run metric: it does not decide the rollout]' : '';
  return result(entry.target, status, `${label}: ${describeMetric(worst)}${dry}${others}${notQueried}`, details, remediationFor(ctx, entry, reports));
}

/** Each measured metric with the labels of its series. */
const measured = (d: Details) => ('metrics' in d ? d.metrics.map((m) => ({ m, labels: { namespace: d.namespace, template: d.template, metric: m.metric } })) : []);

export const metrics: MetricFamily<Details>[] = [
  {
    name: 'rollout_doctor_analysis_preflight_phase',
    help: 'The measurement phase a rollout started now would get for each template metric: 1 on its phase, no series for the others (Skipped = not queried by configuration, Unknown = not measured).',
    labelNames: ['namespace', 'template', 'metric', 'phase'],
    // The current phase only: the alert rule and the dashboard read `== 1`, and the five zeros were
    // 5 series per Rollout (issue 17), as rollout_doctor_check_status (src/metrics/exposition.ts).
    collect: (d) => measured(d).map(({ m, labels }) => ({ labels: { ...labels, phase: m.phase }, value: 1 })),
  },
  {
    name: 'rollout_doctor_analysis_preflight_value',
    help: 'The first value the metric query returned now (absent for an empty result or a non-numeric value).',
    labelNames: ['namespace', 'template', 'metric'],
    collect: (d) => measured(d).flatMap(({ m, labels }) => (typeof m.number === 'number' ? [{ labels, value: m.number }] : [])),
  },
];

export const analysisPreflightCheck: Check<Details> = {
  id: 'analysis-preflight',
  description: 'Each analysis template a Rollout references is measured now: the phase a rollout started now would get (Error on an empty query result, Inconclusive on NaN).',
  needs: ['rollouts', 'analysistemplates', 'clusteranalysistemplates', 'deployments', 'controllerPods'],
  reads: ['pods/log'],
  metrics,
  async run(ctx) {
    const startedMs = Date.now();
    const entries = discover(ctx);
    if (entries.length === 0) return [];
    const version = await readControllerVersion(ctx);
    return evaluateEach(entries, (entry) => entry.target, (entry) => evaluate(ctx, entry, startedMs, version), { concurrency: CONCURRENCY });
  },
};

