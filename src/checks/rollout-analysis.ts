/**
 * rollout-analysis: the AnalysisRuns of each Rollout's current revision (owned by the Rollout and
 * labelled with its currentPodHash: step, background, pre- and post-promotion; and those of the
 * revision's Experiments, which the Experiment owns: src/argo/experiments.ts), per metric, judged
 * with Argo Rollouts' own semantics (src/argo/analysis.ts), not the runbook's wording: inconclusive
 * measurements count in total and the metric turns Inconclusive after inconclusiveLimit + 1 of them,
 * which pauses the Rollout; Error measurements are retried every 10 s and the metric errors after
 * consecutiveErrorLimit + 1 in a row, which aborts it. An Error that is an empty query result
 * (`reflect: slice index out of range`) is diagnosed as a metric that probably does not exist.
 * A completed run the rollout has moved past is history, never a reason to promote: `promote` on a
 * paused Inconclusive step run advances to the next step (pkg/kubectl-argo-rollouts/cmd/promote/
 * promote.go), after which that step's run (step-index below status.currentStepIndex) is not what the
 * rollout waits on.
 *
 * Runbook: "Analysis results", "Inconclusive analysis" (the two options, with the endpoint's curl),
 * "Aborting a canary".
 * Permissions: list rollouts, analysisruns and experiments (argoproj.io, cluster-wide).
 */
import { doubleQuoted, kubectl, type RemediationStep, text } from '../engine/remediation.js';
import { formatDuration } from '../config/duration.js';
import { type Check, type CheckContext, type CheckResult, type MetricFamily, type Sample, type Status, STATUS_RANK, type UnknownDetails } from '../engine/types.js';
import type { Rollout } from '../kube/types.js';
import {
  ANALYSIS_PHASES,
  analysisRunState,
  currentRevisionRuns,
  ERROR_RETRY_INTERVAL_SECONDS,
  errorsLeft,
  EXPERIMENT_RUN_TYPE,
  inconclusiveLeft,
  type MetricState,
  RUN_TYPE_TEXT,
  type RunState,
} from '../argo/analysis.js';
import { currentRevisionExperiments, experimentRuns, experimentState, type ExperimentState } from '../argo/experiments.js';
import { recentAnalysisRuns } from './lib/commands.js';
import { curlFor, endpointsOfRollout } from './lib/endpoints.js';
import { quote } from '../text.js';
import { result } from './lib/results.js';
import { evaluateRollouts, rolloutLabels, type RolloutRef, rolloutsCommand } from './lib/rollout.js';
import { type AnalysisWhere, referencedTemplates, rolloutName, rolloutNamespace, rolloutTarget } from '../argo/rollout-spec.js';
import { listOf } from '../argo/rollout-info.js';

interface Finding {
  status: Status;
  text: string;
  /** Which advice the remediation needs. */
  advice: Set<'inspect' | 'decide' | 'guard' | 'retry'>;
  run: RunState;
  metric?: MetricState;
}

interface RolloutState {
  /** The pause reasons of the Rollout (InconclusiveAnalysisRun, InconclusiveExperiment, ...). */
  pauseReasons: Set<string>;
  isAborted: boolean;
  /** stableRS is the current revision and it was not aborted: earlier verdicts were overtaken. */
  isPromotedPast: boolean;
  /** status.currentStepIndex: a step run below it is history. */
  currentStepIndex?: number;
}

interface RunDetails extends RunState {
  /** The newest run of its type (the metrics read only these). */
  isLatestOfType: boolean;
}

interface AnalysisDetails extends RolloutRef {
  currentPodHash: string;
  runs: RunDetails[];
  /** The current revision's Experiments (their runs are among `runs`). */
  experiments?: ExperimentState[];
  findings?: { status: Status; run: string; metric?: string; text: string }[];
}

type Details = AnalysisDetails | UnknownDetails;

const RUN_WHERE: Record<string, AnalysisWhere> = { Step: 'step', Background: 'background', PrePromotion: 'prePromotion', PostPromotion: 'postPromotion' };

function runLabel(run: RunState): string {
  const kind = RUN_TYPE_TEXT[run.type] ?? 'analysis';
  const where = run.experiment ? ` of Experiment ${run.experiment}` : run.stepIndex !== undefined ? ` at step ${run.stepIndex}` : '';
  return `AnalysisRun ${run.name} (${kind}${where})`;
}

/** Why a completed run is history for the rollout, or undefined when the rollout still stands on it. */
function historyText(run: RunState, rollout: RolloutState): string | undefined {
  if (rollout.isPromotedPast) return 'but the rollout was promoted past it';
  const current = rollout.currentStepIndex;
  if (run.type === 'Step' && run.stepIndex !== undefined && current !== undefined && current > run.stepIndex) {
    return `but the rollout has moved past step ${run.stepIndex} (now at step ${current}): history, not what it waits on`;
  }
  return undefined;
}

function about(seconds: number | undefined): string {
  return seconds === undefined ? '' : `, in about ${formatDuration(seconds)}`;
}

function emptyResultText(metric: MetricState): string {
  return `metric ${metric.name}'s query returned no data ("${metric.lastMessage && /reflect: slice index out of range/.test(metric.lastMessage) ? 'reflect: slice index out of range' : 'metric result is nil or empty'}"): the metric probably does not exist or has no series for these labels; guard the query: (query) or on() vector(0)`;
}

/** What a metric of a Running run says: inconclusive totals, error streaks, NaN. */
function runningMetricFindings(run: RunState, metric: MetricState): Finding[] {
  const out: Finding[] = [];
  if (metric.isDryRun) return out;
  if (metric.consecutiveError > 0 && metric.lastPhase === 'Error') {
    const left = errorsLeft(metric);
    const text =
      `metric ${metric.name} had ${metric.consecutiveError} Error measurement${metric.consecutiveError === 1 ? '' : 's'} in a row (consecutiveErrorLimit ${metric.consecutiveErrorLimit}): ` +
      `${left} more and the metric errors and the rollout aborts${about(left * ERROR_RETRY_INTERVAL_SECONDS)} (errors are retried every ${ERROR_RETRY_INTERVAL_SECONDS}s)` +
      (metric.isEmptyResult ? `; ${emptyResultText(metric)}` : metric.lastMessage ? `: ${quote(metric.lastMessage, 200)}` : '');
    out.push({ status: 'warn', text, advice: new Set(metric.isEmptyResult ? ['inspect', 'guard'] : ['inspect']), run, metric });
  }
  if (metric.inconclusive > 0) {
    const left = inconclusiveLeft(metric);
    const text =
      `metric ${metric.name} has ${metric.inconclusive} inconclusive measurement${metric.inconclusive === 1 ? '' : 's'} (inconclusiveLimit ${metric.inconclusiveLimit}, counted in total, not in a row): ` +
      `${left} more and the metric turns Inconclusive and the rollout pauses${about(metric.intervalSeconds === undefined ? undefined : left * metric.intervalSeconds)}`;
    out.push({ status: 'warn', text, advice: new Set(['inspect', 'decide']), run, metric });
  }
  if (metric.isLastValueNaN) {
    out.push({
      status: 'warn',
      text: `metric ${metric.name}'s last value is NaN (zero requests in the window): ${
        metric.lastPhase === 'Inconclusive'
          ? 'it matches neither condition and counts as inconclusive'
          : `the measurement was ${metric.lastPhase ?? 'taken'} (failed ${metric.failed} of failureLimit ${metric.failureLimit})`
      }`,
      advice: new Set(['decide']),
      run,
      metric,
    });
  }
  return out;
}

function completedFinding(run: RunState, phase: string, rollout: RolloutState, metric?: MetricState): Finding {
  const subject = metric ? `${runLabel(run)}: metric ${metric.name} is ${phase}` : `${runLabel(run)} is ${phase}`;
  const message = run.message || (metric?.lastMessage ? metric.lastMessage : '') || metricMessages(run);
  const history = historyText(run, rollout);
  if (history) return { status: 'ok', text: `${subject}, ${history}`, advice: new Set(), run, metric };
  if (phase === 'Inconclusive') {
    // rollout/analysis.go pauses with InconclusiveAnalysisRun; rollout/experiment.go with InconclusiveExperiment.
    const reason = run.type === EXPERIMENT_RUN_TYPE ? 'InconclusiveExperiment' : 'InconclusiveAnalysisRun';
    const paused = rollout.pauseReasons.has(reason) ? `the rollout is paused for a decision (${reason})` : `the rollout pauses for a decision (${reason})`;
    return { status: 'warn', text: `${subject}: ${paused}${message ? `; ${quote(message, 200)}` : ''}`, advice: new Set(['inspect', 'decide']), run, metric };
  }
  const empty = (metric ? [metric] : run.metrics).find((m) => m.isEmptyResult);
  const advice = new Set<'inspect' | 'guard' | 'retry'>(['inspect']);
  if (empty) advice.add('guard');
  if (rollout.isAborted) advice.add('retry');
  const text = `${subject}${message ? `: ${quote(message, 300)}` : ''}${empty ? `; ${emptyResultText(empty)}` : ''}${rollout.isAborted ? '; the rollout is aborted' : ''}`;
  return { status: 'fail', text, advice, run, metric };
}

/** A message for a completed run without one: its metrics' counters against their limits. */
function metricMessages(run: RunState): string {
  return run.metrics
    .filter((m) => m.phase === 'Failed' || m.phase === 'Error' || m.phase === 'Inconclusive')
    .map(
      (m) =>
        `metric ${m.name} ${m.phase} (successful ${m.successful}, failed ${m.failed} of failureLimit ${m.failureLimit}, inconclusive ${m.inconclusive} of inconclusiveLimit ${m.inconclusiveLimit}, ` +
        `consecutive errors ${m.consecutiveError} of consecutiveErrorLimit ${m.consecutiveErrorLimit})${m.lastMessage ? `: ${m.lastMessage}` : ''}`,
    )
    .join('; ');
}

function runFindings(run: RunState, rollout: RolloutState): Finding[] {
  if (run.phase === 'Failed' || run.phase === 'Error' || run.phase === 'Inconclusive') return [completedFinding(run, run.phase, rollout)];
  if (run.phase === 'Successful') return [];
  const out: Finding[] = [];
  for (const metric of run.metrics) {
    if (metric.isDryRun) continue;
    // A metric that already failed, errored or went inconclusive terminates the run (utils/analysis IsTerminating).
    if (metric.phase === 'Failed' || metric.phase === 'Error' || metric.phase === 'Inconclusive') out.push(completedFinding(run, metric.phase, rollout, metric));
    else out.push(...runningMetricFindings(run, metric));
  }
  return out;
}

function templatesOf(rollout: Rollout, run: RunState): string[] {
  const where = RUN_WHERE[run.type];
  return referencedTemplates(rollout)
    .filter((t) => t.where === where && (where !== 'step' || t.stepIndex === run.stepIndex))
    .map((t) => (t.clusterScope ? `ClusterAnalysisTemplate ${t.name}` : `AnalysisTemplate ${t.name}`));
}

function remediationFor(rollout: Rollout, findings: Finding[], ctx: CheckContext): RemediationStep[] {
  const namespace = rolloutNamespace(rollout);
  const advice = new Set(findings.flatMap((f) => [...f.advice]));
  const lines: RemediationStep[] = [];
  if (advice.has('inspect') || advice.has('decide')) {
    // Runs exist only for a current revision, so the hash is set here.
    lines.push(recentAnalysisRuns(namespace, rollout.status?.currentPodHash));
    for (const name of new Set(findings.map((f) => f.run.name))) {
      lines.push(kubectl(['get', 'analysisrun', '-n', namespace, name, '-o', 'yaml'], { pipe: ['grep', '-A20', doubleQuoted('status:')] }));
    }
  }
  if (advice.has('guard')) {
    for (const finding of findings.filter((f) => f.advice.has('guard'))) {
      const metric = finding.metric ?? finding.run.metrics.find((m) => m.isEmptyResult);
      if (!metric) continue;
      const where = templatesOf(rollout, finding.run);
      const query = metric.query ? quote(metric.query, 400) : 'query';
      lines.push(text(`Guard metric ${metric.name}${where.length > 0 ? ` in ${where.join(', ')}` : ''} so an empty result reads 0: (${query}) or on() vector(0)`));
    }
  }
  if (advice.has('decide')) {
    const curls = endpointsOfRollout(ctx.config, rolloutTarget(rollout)).map((endpoint) => curlFor(endpoint));
    const traffic = curls.length > 0 ? curls.flatMap((curl, i) => (i === 0 ? [curl] : [' ; ', curl])) : ['send requests to the canary'];
    lines.push(text('Option 1: generate some traffic, then promote to re-trigger analysis: ', ...traffic));
    lines.push(rolloutsCommand(rollout, 'promote'));
    lines.push(text('Option 2: force promote if you are confident the release is fine: ', rolloutsCommand(rollout, 'promote', ['--full'])));
  }
  if (advice.has('retry')) lines.push(text('After fixing the cause: ', rolloutsCommand(rollout, 'retry rollout')));
  return lines;
}

function evaluate(rollout: Rollout, ctx: CheckContext): CheckResult<AnalysisDetails> {
  const target = rolloutTarget(rollout);
  const allRuns = ctx.snapshot.list('analysisruns');
  const hash = rollout.status?.currentPodHash ?? '';
  const experiments = currentRevisionExperiments(rollout, ctx.snapshot.inNamespace('experiments', rolloutNamespace(rollout)));
  const runs = [
    ...currentRevisionRuns(rollout, allRuns).map((run) => analysisRunState(run)),
    ...experiments.flatMap((ex) => experimentRuns(ex, allRuns).map((run) => analysisRunState(run, ex.metadata.name ?? ''))),
  ];
  const latestOfType = new Map<string, string>();
  for (const run of runs) latestOfType.set(run.type, run.name);
  const details: AnalysisDetails = {
    namespace: rolloutNamespace(rollout),
    rollout: rolloutName(rollout),
    currentPodHash: hash,
    runs: runs.map((run) => ({ ...run, isLatestOfType: latestOfType.get(run.type) === run.name })),
  };
  if (experiments.length > 0) details.experiments = experiments.map((ex) => experimentState(ex));
  const templates = referencedTemplates(rollout);
  if (runs.length === 0) {
    const summary =
      templates.length === 0
        ? `Rollout ${target} has no analysis configured`
        : hash
          ? `Rollout ${target}: no AnalysisRun for the current revision (${hash}) yet`
          : `Rollout ${target}: no revision rolled out yet, no AnalysisRun`;
    return result(target, 'ok', summary, details);
  }
  const state: RolloutState = {
    pauseReasons: new Set(listOf<{ reason?: string }>(rollout.status?.pauseConditions).map((p) => p.reason ?? '')),
    isAborted: rollout.status?.abort === true,
    isPromotedPast: rollout.status?.abort !== true && Boolean(rollout.status?.stableRS) && rollout.status?.stableRS === hash,
  };
  if (typeof rollout.status?.currentStepIndex === 'number') state.currentStepIndex = rollout.status.currentStepIndex;
  const findings = runs.flatMap((run) => runFindings(run, state));
  const worst = findings.reduce<Status>((acc, f) => (STATUS_RANK[f.status] > STATUS_RANK[acc] ? f.status : acc), 'ok');
  if (worst === 'ok') {
    const notes = findings.map((f) => f.text);
    const phases = runs.map((r) => `${r.name} ${r.phase}`).join(', ');
    return result(target, 'ok', `Rollout ${target}: AnalysisRuns of revision ${hash}: ${phases}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`, details);
  }
  const top = findings.filter((f) => f.status === worst);
  const byRun = new Map<string, Finding[]>();
  for (const finding of top) byRun.set(finding.run.name, [...(byRun.get(finding.run.name) ?? []), finding]);
  const parts = [...byRun.values()].map((list) => {
    const first = list[0]!;
    if (!first.metric || first.text.startsWith('AnalysisRun')) return list.map((f) => f.text).join('; ');
    return `${runLabel(first.run)} is ${first.run.phase}: ${list.map((f) => f.text).join('; ')}`;
  });
  details.findings = findings.map((f) => ({ status: f.status, run: f.run.name, metric: f.metric?.name, text: f.text }));
  return result(target, worst, `Rollout ${target}: ${parts.join(' | ')}`, details, remediationFor(rollout, findings.filter((f) => f.status !== 'ok'), ctx));
}

/** The newest run of each type, with the labels of its series. */
const latestRuns = (d: Details) => ('runs' in d ? d.runs.filter((run) => run.isLatestOfType).map((run) => ({ run, labels: { ...rolloutLabels(d), type: run.type } })) : []);

function perMetric(d: Details, value: (m: MetricState) => number): Sample[] {
  return latestRuns(d).flatMap(({ run, labels }) => run.metrics.map((m) => ({ labels: { ...labels, metric: m.name }, value: value(m) })));
}

export const metrics: MetricFamily<Details>[] = [
  {
    name: 'rollout_doctor_analysis_run_phase',
    help: 'Phase of the newest AnalysisRun of each type (Step, Background, PrePromotion, PostPromotion) of the Rollout\'s current revision: 1 for its phase, 0 for the others.',
    labelNames: ['namespace', 'rollout', 'type', 'phase'],
    collect: (d) => latestRuns(d).flatMap(({ run, labels }) => ANALYSIS_PHASES.map((phase) => ({ labels: { ...labels, phase }, value: run.phase === phase ? 1 : 0 }))),
  },
  {
    name: 'rollout_doctor_analysis_metric_inconclusive_measurements',
    help: 'Inconclusive measurements of the metric in the run (a total, not a streak); the metric turns Inconclusive above its limit.',
    labelNames: ['namespace', 'rollout', 'type', 'metric'],
    collect: (d) => perMetric(d, (m) => m.inconclusive),
  },
  {
    name: 'rollout_doctor_analysis_metric_inconclusive_limit',
    help: 'inconclusiveLimit in force for the metric (default 0).',
    labelNames: ['namespace', 'rollout', 'type', 'metric'],
    collect: (d) => perMetric(d, (m) => m.inconclusiveLimit),
  },
  {
    name: 'rollout_doctor_analysis_metric_consecutive_errors',
    help: 'Error measurements of the metric in a row; the metric errors (and the rollout aborts) above its limit.',
    labelNames: ['namespace', 'rollout', 'type', 'metric'],
    collect: (d) => perMetric(d, (m) => m.consecutiveError),
  },
  {
    name: 'rollout_doctor_analysis_metric_consecutive_error_limit',
    help: 'consecutiveErrorLimit in force for the metric (default 4).',
    labelNames: ['namespace', 'rollout', 'type', 'metric'],
    collect: (d) => perMetric(d, (m) => m.consecutiveErrorLimit),
  },
];

export const rolloutAnalysisCheck: Check<Details> = {
  id: 'rollout-analysis',
  description: 'The AnalysisRuns of each Rollout\'s current revision, per metric, with Argo Rollouts\' inconclusive/error limits: streaks about to pause or abort the rollout, NaN, empty query results, failed runs.',
  needs: ['rollouts', 'analysisruns', 'experiments'],
  metrics,
  async run(ctx) {
    const rollouts = ctx.snapshot.list('rollouts');
    return evaluateRollouts(rollouts, (rollout) => evaluate(rollout, ctx));
  },
};
