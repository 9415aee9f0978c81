/**
 * analysis-preflight: for each AnalysisTemplate or ClusterAnalysisTemplate a Rollout references,
 * take each metric's measurement now, as the controller would when a rollout starts, and report the
 * phase it would get. The check that would have prevented the homelab's abort: a query that comes
 * back empty makes `result[0]` an Error on every measurement, and the rollout aborts after
 * consecutiveErrorLimit.
 *
 * - prometheus provider (VictoriaMetrics answers the same API): the instant query, with the args
 *   the referencing Rollout passes (literal values, fieldRef, podTemplateHashValue as the current
 *   revision's hash; an arg from a Secret skips the metric with a note), then successCondition /
 *   failureCondition evaluated with expr's semantics (src/expr). Error -> fail, Failed or
 *   Inconclusive -> warn, Successful -> ok. Whether an empty vector or NaN came back is said.
 * - web provider: the URL with the template's method, headers and body; non-2xx -> Error; JSON body
 *   read with the template's jsonPath; a body that is not JSON while a condition reads result fields
 *   -> fail (older controllers never fail such a metric, newer ones always error).
 * - other providers, an address outside `allowedHosts`, a Prometheus address left to the controller's
 *   environment, or an arg that only exists at run time: ok, "not checked" with why (phase Skipped).
 * - provider unreachable (refused, timeout, DNS, TLS, outside loopback in a simulation): unknown.
 *
 * Bounded: one query per metric per cycle (a template referenced by several Rollouts is measured
 * once, with the first Rollout's args), each under the provider's timeout capped by
 * timeouts.requestMs, all within the check's deadline, a few at a time.
 *
 * Runbook: "Inconclusive analysis" and "Analysis results", before a rollout needs them.
 * Permissions: list rollouts, analysistemplates, clusteranalysistemplates (cluster-wide); outbound
 * HTTP to the metric providers.
 */
import { command, kubectl, type RemediationStep, renderCommand, singleQuoted, text, uniqueSteps } from '../engine/remediation.js';
import type { Check, CheckContext, CheckResult, MetricFamily, Status, UnknownDetails } from '../engine/types.js';
import { STATUS_RANK } from '../engine/types.js';
import type { CustomObject, Rollout } from '../kube/types.js';
import { type ArgValue, resolveArgs, substituteArgs } from '../argo/analysis-args.js';
import { DEFAULT_CONSECUTIVE_ERROR_LIMIT, intOrStringValue } from '../argo/analysis.js';
import { headerMap, type Measurement, MEASUREMENT_PHASES, measurePrometheus, measureWeb, prometheusQueryUrl } from '../argo/metric-providers.js';
import { curlFor, endpointsOfRollout } from './lib/endpoints.js';
import { evaluateEach, result } from './lib/results.js';
import { rolloutsCommand } from './lib/rollout.js';
import { referencedTemplates, rolloutTarget, type TemplateReference } from '../argo/rollout-spec.js';

/** Templates measured at once. */
const CONCURRENCY = 4;
/** Share of the check's deadline after which no new query starts (the rest report unknown, not a lost cycle). */
const DEADLINE_SHARE = 0.8;
const PROVIDERS = ['prometheus', 'web', 'job', 'datadog', 'newRelic', 'wavefront', 'kayenta', 'cloudWatch', 'graphite', 'influxdb', 'skywalking', 'plugin'];

interface MetricSpec {
  name?: string;
  successCondition?: string;
  failureCondition?: string;
  consecutiveErrorLimit?: number | string;
  inconclusiveLimit?: number | string;
  failureLimit?: number | string;
  provider?: {
    prometheus?: { address?: string; query?: string; timeout?: number; insecure?: boolean; headers?: unknown; authentication?: { sigv4?: unknown; oauth2?: unknown } };
    web?: { url?: string; method?: string; headers?: unknown; body?: string; jsonBody?: unknown; jsonPath?: string; timeoutSeconds?: number; insecure?: boolean };
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
  args?: Record<string, string>;
  /** The curl that reproduces the measurement (for the remediation). */
  curl?: string;
  /** The Error is about creating the run (an arg nobody supplies), not a measurement. */
  isRunCreation?: boolean;
}

interface PreflightDetails {
  /** The template's namespace, `_cluster` for a ClusterAnalysisTemplate. */
  namespace: string;
  template: string;
  kind: TemplateEntry['kind'];
  referencedBy: string[];
  /** The Rollout whose args the measurement used. */
  argsFrom: string;
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

function dryRunNames(template: CustomObject, ref: TemplateReference): string[] {
  const fromTemplate = ((template.spec?.dryRun ?? []) as { metricName?: string }[]).map((d) => d.metricName ?? '');
  const fromRollout = ((ref.analysis.dryRun ?? []) as { metricName?: string }[]).map((d) => d.metricName ?? '');
  return [...fromTemplate, ...fromRollout].filter(Boolean);
}

async function measureMetric(ctx: CheckContext, metric: MetricSpec, args: ReadonlyMap<string, ArgValue>, runtimeOnly: ReadonlyMap<string, string>, missing: ReadonlySet<string>): Promise<MetricReport> {
  const name = metric.name ?? '';
  const provider = PROVIDERS.find((p) => metric.provider?.[p] !== undefined) ?? Object.keys(metric.provider ?? {})[0] ?? 'none';
  const substituted = substituteArgs(metric, args);
  const resolved = substituted.value;
  const report: MetricReport = { metric: name, provider, phase: 'Skipped' };
  if (resolved.successCondition) report.successCondition = resolved.successCondition;
  if (resolved.failureCondition) report.failureCondition = resolved.failureCondition;
  report.consecutiveErrorLimit = intOrStringValue(metric.consecutiveErrorLimit, DEFAULT_CONSECUTIVE_ERROR_LIMIT);
  report.inconclusiveLimit = intOrStringValue(metric.inconclusiveLimit, 0);
  const used = substituted.used.filter((a) => args.get(a)?.from);
  if (substituted.used.length > 0) report.args = Object.fromEntries(substituted.used.map((a) => [a, args.get(a)!.value]));
  if (used.length > 0) report.note = used.map((a) => `args.${a} = ${args.get(a)!.value} from ${args.get(a)!.from}`).join('; ');
  const unresolvedArgs = substituted.unresolved.map((tag) => (tag.startsWith('args.') ? tag.slice(5) : tag));
  const atRuntime = unresolvedArgs.filter((a) => runtimeOnly.has(a));
  if (atRuntime.length > 0) return { ...report, phase: 'Skipped', message: `not queried: args.${atRuntime[0]} ${runtimeOnly.get(atRuntime[0]!)}` };
  const unsupplied = unresolvedArgs.filter((a) => !runtimeOnly.has(a));
  if (unsupplied.length > 0) {
    const why = missing.has(unsupplied[0]!) ? `argument "${unsupplied[0]}" was not supplied` : `failed to resolve {{${substituted.unresolved.find((t) => !runtimeOnly.has(t.replace(/^args\./, '')))}}}`;
    return { ...report, phase: 'Error', message: `${why}: the controller cannot create the AnalysisRun`, isRunCreation: true };
  }
  const conditions = { successCondition: resolved.successCondition, failureCondition: resolved.failureCondition };
  const { allowedHosts } = ctx.config.checks['analysis-preflight'];
  const requestMs = ctx.config.timeouts.requestMs;
  const prometheus = resolved.provider?.prometheus;
  const web = resolved.provider?.web;
  if (prometheus) {
    const address = prometheus.address ?? '';
    report.query = prometheus.query ?? '';
    if (!address) return { ...report, message: 'not queried: the address comes from ARGO_ROLLOUTS_PROMETHEUS_ADDRESS in the controller' };
    report.address = address;
    if (prometheus.authentication?.sigv4 || prometheus.authentication?.oauth2 || address.includes('aps-workspaces')) {
      return { ...report, message: 'not queried: the provider authenticates with SigV4 or OAuth2, which rollout-doctor does not do' };
    }
    if (!isHostAllowed(address, allowedHosts)) return { ...report, message: `not queried: host ${hostOf(address)} is not in checks.analysis-preflight.allowedHosts` };
    try {
      report.curl = renderCommand(command(['curl', '-s', singleQuoted(prometheusQueryUrl(address).toString()), '--data-urlencode', singleQuoted(`query=${oneLine(report.query)}`)]));
    } catch {
      // The measurement reports the bad address.
    }
    const measured = await measurePrometheus(ctx, address, report.query, conditions, {
      timeoutMs: Math.min((prometheus.timeout ?? 30) * 1000 || requestMs, requestMs),
      tlsVerify: !prometheus.insecure,
      headers: headerMap(prometheus.headers),
    });
    return merge(report, measured);
  }
  if (web) {
    report.url = web.url ?? '';
    report.method = web.method || 'GET';
    if (!isHostAllowed(report.url, allowedHosts)) return { ...report, message: `not queried: host ${hostOf(report.url)} is not in checks.analysis-preflight.allowedHosts` };
    const headers = headerMap(web.headers);
    report.curl = renderCommand(command(['curl', '-s', '-X', report.method, singleQuoted(report.url), ...Object.keys(headers).flatMap((k) => ['-H', singleQuoted(`${k}: ...`)])]));
    const measured = await measureWeb(
      ctx,
      { url: report.url, method: report.method, body: web.body, jsonBody: web.jsonBody, jsonPath: web.jsonPath },
      conditions,
      { timeoutMs: Math.min((web.timeoutSeconds || 10) * 1000, requestMs), tlsVerify: !web.insecure, headers },
    );
    return merge(report, measured);
  }
  return { ...report, message: `not checked: rollout-doctor does not query the ${provider} provider` };
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

function statusOf(report: MetricReport): Status {
  const status: Status = { Successful: 'ok', Skipped: 'ok', Failed: 'warn', Inconclusive: 'warn', Error: 'fail', Unknown: 'unknown' }[report.phase] as Status;
  // A dry-run metric never decides the rollout: an Error still deserves a look, the rest does not.
  if (report.dryRun) return status === 'fail' ? 'warn' : status === 'warn' ? 'ok' : status;
  return status;
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

function describeMetric(report: MetricReport): string {
  const what = `metric ${report.metric}`;
  const said = resultWords(report);
  const withResult = said ? `; ${said}` : '';
  switch (report.phase) {
    case 'Successful':
      return `${what} would be Successful${said ? ` (${said})` : ''}`;
    case 'Skipped':
      return `${what} ${report.message}`;
    case 'Unknown':
      return `${what}: ${report.message}`;
    case 'Error':
      if (report.isRunCreation) return `${what}: ${report.message}`;
      if (report.resultKind === 'text' && report.legacyPhase === 'Successful') {
        return `${what}: ${report.message}; up to v1.8 every measurement is Successful without evaluating it, so the analysis can never fail; later versions record an Error on every measurement and the rollout aborts after consecutiveErrorLimit (${report.consecutiveErrorLimit})`;
      }
      return `${what} would be an Error now (${report.message}${withResult}): every measurement would be an Error and the rollout aborts after consecutiveErrorLimit (${report.consecutiveErrorLimit})`;
    case 'Inconclusive':
      return `${what} would be Inconclusive now (${said || 'neither condition holds'}): after inconclusiveLimit + 1 = ${(report.inconclusiveLimit ?? 0) + 1} such measurements the rollout pauses (InconclusiveAnalysisRun)`;
    case 'Failed': {
      const why = report.failure ? `failureCondition ${report.failureCondition} holds` : `successCondition ${report.successCondition} does not hold`;
      return `${what} would be Failed now (${said ? `${said}, ` : ''}${why}): a rollout started now would fail analysis`;
    }
  }
}

function remediationFor(ctx: CheckContext, entry: TemplateEntry, reports: MetricReport[]): RemediationStep[] {
  const steps: RemediationStep[] = [];
  const name = entry.template.metadata.name ?? '';
  const get = entry.kind === 'ClusterAnalysisTemplate' ? kubectl(['get', 'clusteranalysistemplate', name, '-o', 'yaml']) : kubectl(['get', 'analysistemplate', name, '-n', entry.namespace, '-o', 'yaml']);
  for (const report of reports) {
    const status = statusOf(report);
    if (status === 'ok' || status === 'unknown') continue;
    // The curl is in the details already, rendered from a command (no kubectl, so no context to add).
    if (report.curl) steps.push(text(report.curl));
    steps.push(get);
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

async function evaluate(ctx: CheckContext, entry: TemplateEntry, startedMs: number): Promise<CheckResult<PreflightDetails>> {
  const { rollout, ref } = entry.references[0]!;
  const spec = (entry.template.spec ?? {}) as { args?: { name?: string; value?: string }[]; metrics?: MetricSpec[] };
  const args = resolveArgs(spec.args ?? [], ref.analysis.args ?? [], rollout);
  const dryRun = dryRunNames(entry.template, ref);
  const reports: MetricReport[] = [];
  const budgetMs = ctx.config.timeouts.checkMs * DEADLINE_SHARE;
  for (const metric of spec.metrics ?? []) {
    const report: MetricReport =
      Date.now() - startedMs > budgetMs
        ? { metric: metric.name ?? '', provider: PROVIDERS.find((p) => metric.provider?.[p] !== undefined) ?? 'none', phase: 'Unknown', message: `not measured this cycle: the check's deadline (timeouts.checkMs ${ctx.config.timeouts.checkMs} ms) is near` }
        : await measureMetric(ctx, metric, args.values, args.runtimeOnly, args.missing);
    if (dryRun.some((d) => d === report.metric || d === '.*')) report.dryRun = true;
    reports.push(report);
  }
  const label = `${entry.kind} ${entry.target === `_cluster/${entry.template.metadata.name}` ? entry.template.metadata.name : entry.target}`;
  const details: PreflightDetails = {
    namespace: entry.namespace,
    template: entry.template.metadata.name ?? '',
    kind: entry.kind,
    referencedBy: [...new Set(entry.references.map((r) => rolloutTarget(r.rollout)))],
    argsFrom: rolloutTarget(rollout),
    metrics: reports,
  };
  if (reports.length === 0) return result(entry.target, 'ok', `${label} has no metrics`, details);
  const worst = reports.reduce((a, b) => (STATUS_RANK[statusOf(b)] > STATUS_RANK[statusOf(a)] ? b : a));
  const status = statusOf(worst);
  const others = reports.length > 1 ? ` (${reports.filter((r) => statusOf(r) === 'ok').length}/${reports.length} metrics ok)` : '';
  if (status === 'ok') {
    const parts = reports.map((r) => describeMetric(r)).join('; ');
    const measured = reports.filter((r) => r.phase !== 'Skipped').length;
    const verdict = measured === 0 ? '' : measured === reports.length ? 'a rollout started now would pass analysis: ' : 'the metrics checked would pass: ';
    return result(entry.target, 'ok', `${label}: ${verdict}${parts}`, details);
  }
  const dry = worst.dryRun ? ' [dry-run metric: it does not decide the rollout]' : '';
  return result(entry.target, status, `${label}: ${describeMetric(worst)}${dry}${others}`, details, remediationFor(ctx, entry, reports));
}

/** Each measured metric with the labels of its series. */
const measured = (d: Details) => ('metrics' in d ? d.metrics.map((m) => ({ m, labels: { namespace: d.namespace, template: d.template, metric: m.metric } })) : []);

export const metrics: MetricFamily<Details>[] = [
  {
    name: 'rollout_doctor_analysis_preflight_phase',
    help: 'The measurement phase a rollout started now would get for each template metric (one-hot; Skipped = not checked, Unknown = provider not reachable).',
    labelNames: ['namespace', 'template', 'metric', 'phase'],
    collect: (d) => measured(d).flatMap(({ m, labels }) => MEASUREMENT_PHASES.map((phase) => ({ labels: { ...labels, phase }, value: m.phase === phase ? 1 : 0 }))),
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
  needs: ['rollouts', 'analysistemplates', 'clusteranalysistemplates'],
  metrics,
  async run(ctx) {
    const startedMs = Date.now();
    return evaluateEach(discover(ctx), (entry) => entry.target, (entry) => evaluate(ctx, entry, startedMs), { concurrency: CONCURRENCY });
  },
};

