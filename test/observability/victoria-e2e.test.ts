/**
 * The alert rules and the dashboard on the engine the homelab runs: a real VictoriaMetrics single
 * node and a real vmalert (Debian's victoria-metrics package, 1.79 in CI), on 127.0.0.1.
 *
 * - SCENARIOS is a table, one row per cluster: rollout-doctor `serve --simulate` on the failing
 *   scenario (failing-scenario.ts: every check fails somewhere), on an incident case
 *   (test/fixtures/incidents/plugin-404: one page; and with its root muted: the next cause pages) and
 *   on the healthy bundled homelab, in this process through main.ts's serve() with the scenarios' fake apps on ephemeral ports, plus
 *   a rollout-doctor that is down (a closed port) and one whose last cycle is an hour old. A new
 *   incident scenario is a new row: its cluster name, how to start it, the alerts it must fire.
 * - VictoriaMetrics scrapes each as its own cluster, the multi-cluster setup of the deploy docs, with
 *   the settings of deploy/vmservicescrape.yaml read from the file (interval, timeout, path,
 *   honorLabels, its relabelConfigs with the `cluster` replacement set per cluster as the overlay
 *   patch does) and the target labels the operator adds (job from the Service, namespace, service,
 *   endpoint, pod, container).
 * - vmalert evaluates the shipped rules this vmalert loads (rollout-doctor.compat.rules.yaml on
 *   1.79, which rejects keep_firing_for; the source on v1.92+), every second, with every `for`
 *   rewritten to 1s in a copy (5-15 minutes would make the test that slow; the expressions, labels
 *   and annotations are the shipped ones), and sends to a loopback Alertmanager v2 receiver.
 *
 * Then, per cluster, the exact set of alerts the receiver holds as firing, with all their labels
 * (the rule's severity and vmalert's `alertgroup` included); none for the homelab; no rule with an
 * evaluation error; annotations rendered. And every query of grafana/rollout-doctor.json, sent the
 * way Grafana's Prometheus data source sends it (grafana-requests.ts: variables interpolated, single
 * and multi-value and All, $__rate_interval from the provisioned data source's 30 s scrape interval,
 * range aligned to the step), answers without error on every selection and returns data for a
 * scenario that exercises its panel.
 *
 * The scrape interval is the VMServiceScrape's 30 s, so the rate()-based rules and panels need the
 * second scrape: about a minute per run.
 */
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Panel, VariableModel } from '@grafana/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { SOURCE_FILE } from '../../deploy/alerts/render.js';
import { exposition } from '../helpers/prometheus.js';
import {
  type AlertReceiver,
  hasSeries,
  labelKey,
  type PostedAlert,
  requireVictoriaMetrics,
  ruleFileFor,
  type RunningVictoriaMetrics,
  type RunningVmalert,
  startAlertReceiver,
  startVictoriaMetrics,
  startVmalert,
  vmServiceScrapeConfig,
} from '../helpers/victoria-metrics.js';
import { startBlindDaemon, startFailingDaemon, startHomelabDaemon, startIncidentDaemon } from './daemons.js';
import { dashboardTargets, dashboardVariables, LABEL_VALUES, loadDashboard } from './grafana.js';
import { grafanaRequests, interpolateDashboardVariables, relativeTime, type Selection } from './grafana-requests.js';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const victoriaMetrics = requireVictoriaMetrics('victoria-metrics', 'the VictoriaMetrics end-to-end test of the alert rules and the dashboard');
const vmalert = requireVictoriaMetrics('vmalert', 'the VictoriaMetrics end-to-end test of the alert rules and the dashboard');

interface Target {
  /** 127.0.0.1:PORT */
  target: string;
  stop(): Promise<void>;
}

/** An alert by name and the labels its expression yields, cluster left out (the row names it). */
interface ExpectedAlert {
  alertname: string;
  labels: Record<string, string>;
}

interface Scenario {
  /** The `cluster` label its scrape adds. */
  cluster: string;
  what: string;
  start(): Promise<Target>;
  /** Exactly the alerts that fire for it. */
  alerts: ExpectedAlert[];
}

const JOB = { job: 'rollout-doctor' };

/** One alert per row: the row's values under `keys`. */
function alerts(alertname: string, keys: string[], rows: string[][]): ExpectedAlert[] {
  return rows.map((row) => ({ alertname, labels: Object.fromEntries(keys.map((key, i) => [key, row[i]!])) }));
}

/** The checks that see the plugin-404 incident (the others are ok there, and cost the shared event loop). */
const PLUGIN_404_CHECKS = ['controller-plugins', 'controller-pods', 'rollout-status'];

const SCENARIOS: Scenario[] = [
  {
    cluster: 'homelab',
    what: 'the bundled homelab, nothing fails',
    start: startHomelabDaemon,
    alerts: [],
  },
  {
    // A dot, so the dashboard queries see Grafana's regex escaping of the selected value at work.
    cluster: 'lab.failing',
    what: 'the failing scenario (test/observability/failing-scenario.ts)',
    start: startFailingDaemon,
    // Each fixture case brings more than the failure it was picked for: most hold a Rollout without
    // its Services, workload or templates, so rollout-references and rollout-services fail in most
    // namespaces. Results another incident explains raise nothing (src/incidents/rules.ts): the
    // crash-looping controller is the plugin download's (no ArgoRolloutsControllerNotReady), every
    // stuck or paused Rollout is the controller's (no ArgoRolloutStuckProgressing, no
    // ArgoRolloutPausedTooLong), the canaries without a CiliumEnvoyConfig are the controller's missing
    // create (no ArgoRolloutCanaryWithoutTrafficObject), the missing canary Services are
    // rollout-references' (ArgoRolloutServiceMisrouted only for services and references), and two
    // Degraded Rollouts are their failed analysis' and their missing preview Service's.
    alerts: [
      ...alerts('RolloutDoctorKubeApiErrors', ['job', 'resource'], [['rollout-doctor', 'events']]),
      ...alerts('RolloutDoctorPermissionMissing', ['target', 'group', 'resource'], [['core/events', 'core', 'events']]),
      ...alerts('ArgoRolloutsPluginNotLoaded', ['plugin'], [['argoproj-labs/cilium'], ['argoproj-labs/gatewayAPI']]),
      ...alerts('ArgoRolloutsControllerPermissionMissing', ['serviceaccount', 'group', 'resource'], [['argo-rollouts/argo-rollouts', 'cilium.io', 'ciliumenvoyconfigs']]),
      ...alerts('ArgoRolloutDegraded', ['namespace', 'rollout'], [['degraded', 'litellm']]),
      ...alerts('ArgoRolloutNotFound', ['namespace', 'rollout'], [['gone', 'web']]),
      ...alerts('ArgoRolloutMissingReferences', ['namespace', 'rollout', 'kind'], [
        ...['analysis-inconclusive', 'degraded', 'paused', 'stuck', 'traffic'].map((ns) => [ns, 'litellm', 'AnalysisTemplate']),
        ...['analysis-errors', 'analysis-failed', 'analysis-inconclusive', 'degraded', 'litellm', 'paused', 'plugins', 'stuck', 'traffic'].map((ns) => [ns, 'litellm', 'Service']),
        ['preflight', 'web', 'Service'],
        ['preflight-ok', 'web', 'Service'],
        ['references', 'sympozium-apiserver', 'Service'],
        ['plugins', 'litellm', 'TrafficRouterPlugin'],
        ...['analysis-errors', 'analysis-failed', 'analysis-inconclusive', 'degraded', 'paused', 'plugins', 'stuck', 'traffic'].map((ns) => [ns, 'litellm', 'Workload']),
      ]),
      ...alerts('ArgoRolloutServiceMisrouted', ['namespace', 'rollout'], [['services', 'web'], ['references', 'sympozium-apiserver']]),
      ...alerts('ArgoRolloutPodsNotStarting', ['namespace', 'rollout'], [['pods', 'web']]),
      ...alerts('ArgoCDRolloutReplicasNotIgnored', ['namespace', 'rollout'], [['litellm', 'litellm']]),
      ...alerts('ArgoRolloutAnalysisAboutToAbort', ['namespace', 'rollout', 'type', 'metric', 'streak'], [
        ['analysis-errors', 'litellm', 'Step', 'error-rate', 'error'],
        ['analysis-inconclusive', 'litellm', 'Step', 'error-rate', 'inconclusive'],
      ]),
      ...alerts('ArgoRolloutAnalysisFailed', ['namespace', 'rollout', 'type', 'phase'], [['analysis-failed', 'litellm', 'Step', 'Error']]),
      ...alerts('ArgoRolloutAnalysisPreflightFailing', ['namespace', 'template', 'metric'], [['plugins', 'litellm-error-rate', 'error-rate'], ['preflight', 'error-rate', 'error-rate']]),
      ...alerts('RolloutEndpointDown', ['endpoint'], [['app-ready']]),
      ...alerts('RolloutEndpointSlow', ['endpoint'], [['app-slow']]),
    ],
  },
  {
    cluster: 'incident',
    what: 'the homelab\'s plugin download 404 (test/fixtures/incidents/plugin-404): one incident, one page',
    start: () => startIncidentDaemon('plugin-404', PLUGIN_404_CHECKS),
    alerts: alerts('ArgoRolloutsPluginNotLoaded', ['plugin'], [['argoproj-labs/cilium']]),
  },
  {
    cluster: 'incident.muted-root',
    what: 'the same with the plugin muted: the crash loop is the root and pages, the stuck Rollouts do not',
    start: () => startIncidentDaemon('plugin-404', PLUGIN_404_CHECKS, [{ check: 'controller-plugins', reason: 'plugin upgrade under way' }]),
    alerts: alerts('ArgoRolloutsControllerNotReady', ['namespace', 'deployment'], [['argo-rollouts', 'argo-rollouts']]),
  },
  {
    cluster: 'blind',
    what: 'a rollout-doctor whose Kubernetes API is not there (a closed port): one alert, not one per resource',
    start: startBlindDaemon,
    alerts: [{ alertname: 'RolloutDoctorKubeApiUnreachable', labels: { state: 'unreachable' } }],
  },
  {
    cluster: 'down',
    what: 'a rollout-doctor that does not answer (a port that resets every connection)',
    // Held, not merely free: the other rows bind ephemeral ports while they start, and one of them
    // must not land on this target.
    start: async () => {
      const server = createServer((socket) => socket.destroy());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { target: `127.0.0.1:${(server.address() as AddressInfo).port}`, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    },
    alerts: [{ alertname: 'RolloutDoctorDown', labels: JOB }],
  },
  {
    cluster: 'stale',
    what: 'a rollout-doctor whose last completed cycle is an hour old',
    start: async () => {
      const hourAgo = Date.now() / 1000 - 3600;
      const stale = await exposition(
        () =>
          '# TYPE rollout_doctor_last_cycle_timestamp_seconds gauge\n' +
          `rollout_doctor_last_cycle_timestamp_seconds ${hourAgo}\n` +
          '# TYPE rollout_doctor_cycle_interval_seconds gauge\nrollout_doctor_cycle_interval_seconds 30\n',
      );
      return { target: stale.target, stop: () => stale.close() };
    },
    alerts: [{ alertname: 'RolloutDoctorStale', labels: JOB }],
  },
];

/**
 * A query with a series once `cluster` has two scrapes VictoriaMetrics can compute a rate() from: two
 * successful ones (`up` is written as 0 for a scrape that failed, e.g. timed out on a loaded machine,
 * so the samples are summed, not counted), or, for a target that never answers, two failed ones.
 */
function twoScrapes(cluster: string): string {
  const up = `up{job="rollout-doctor", cluster="${cluster}"}[5m]`;
  return `sum_over_time(${up}) >= 2 or (count_over_time(${up}) >= 2 and max_over_time(${up}) == 0)`;
}

/** Panels without data on any scenario, and why (none today: the failing scenario fills every one). */
const PANELS_WITHOUT_DATA: Record<string, string> = {};

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** deploy/vmservicescrape.yaml, which the scrape configs are made from (vmServiceScrapeConfig). */
const SCRAPE = parse(readFileSync(path.join(REPO, 'deploy', 'vmservicescrape.yaml'), 'utf8')) as Json;
const SCRAPE_INTERVAL_SECONDS = Number(/^(\d+)s$/.exec(String(SCRAPE.spec.endpoints[0]?.interval))?.[1]);

/**
 * The rules this vmalert loads (the source on v1.92+, the compat variant before) with every `for`
 * shortened to 1s, except in rules that compare time() with a scraped timestamp (RolloutDoctorStale):
 * between two scrapes the sample they read ages by up to one scrape interval, so with a schedule
 * faster than the scrape (5 s here, 30 s scrapes) its threshold is crossed for part of every scrape
 * interval; its shipped `for` (5m) waits that out, and so does a `for` above the scrape interval.
 */
function e2eRules(scrapeIntervalSeconds: number): { file: string; text: string } {
  const file = ruleFileFor(vmalert!);
  const rules = parse(readFileSync(file, 'utf8')) as { groups: { rules: Json[] }[] };
  for (const group of rules.groups) {
    for (const rule of group.rules) if (rule.for !== undefined) rule.for = /\btime\(\)/.test(rule.expr) ? `${scrapeIntervalSeconds + 10}s` : '1s';
  }
  return { file: path.relative(REPO, file), text: stringify(rules) };
}

/** The full label set vmalert sends for an expected alert: its labels, cluster, the rule's labels, alertname and alertgroup. */
function fullLabels(cluster: string, expected: ExpectedAlert): Record<string, string> {
  const source = parse(readFileSync(SOURCE_FILE, 'utf8')) as { groups: { name: string; rules: { alert: string; labels?: Record<string, string> }[] }[] };
  const group = source.groups.find((g) => g.rules.some((r) => r.alert === expected.alertname));
  if (!group) throw new Error(`no rule ${expected.alertname}`);
  const rule = group.rules.find((r) => r.alert === expected.alertname)!;
  return { ...expected.labels, cluster, ...rule.labels, alertname: expected.alertname, alertgroup: group.name };
}

const describeVictoria = describe.skipIf(!victoriaMetrics || !vmalert);

describeVictoria('alert rules and dashboard against a real VictoriaMetrics and vmalert', () => {
  const targets = new Map<string, Target>();
  let receiver: AlertReceiver | undefined;
  let vm: RunningVictoriaMetrics | undefined;
  let alerter: RunningVmalert | undefined;
  let rulesFile = '';
  let firing: PostedAlert[] = [];

  beforeAll(async () => {
    expect(SCRAPE_INTERVAL_SECONDS, 'the VMServiceScrape interval, in whole seconds').toBeGreaterThan(0);
    await Promise.all(SCENARIOS.map(async (s) => targets.set(s.cluster, await s.start())));
    receiver = await startAlertReceiver();
    vm = await startVictoriaMetrics({ binary: victoriaMetrics!, scrapeConfigs: SCENARIOS.map((s) => vmServiceScrapeConfig(SCRAPE, s.cluster, targets.get(s.cluster)!.target)) });
    // Every target scraped once before the rules run (no "never scraped" alert in between).
    for (const s of SCENARIOS) await vm.waitFor(`up{job="rollout-doctor", cluster="${s.cluster}"}`);
    const rules = e2eRules(SCRAPE_INTERVAL_SECONDS);
    rulesFile = rules.file;
    alerter = await startVmalert({ binary: vmalert!, datasourceUrl: vm.url, notifierUrl: receiver.url, ruleFiles: { 'rollout-doctor.rules.yaml': rules.text } });
    // Every target scraped twice (twoScrapes: rate() needs two samples), then the alerts settle: the
    // expected ones all arrive, then three more evaluation rounds pass with every series in.
    for (const s of SCENARIOS) await vm.waitFor(twoScrapes(s.cluster), hasSeries, 105_000);
    const wanted = SCENARIOS.flatMap((s) => s.alerts.map((a) => labelKey(fullLabels(s.cluster, a))));
    // Generous for a full suite's load on two cores (a cycle cut short shows its results 30 s later);
    // a pass goes on as soon as every expected alert is there.
    const deadline = Date.now() + 120_000;
    while (!wanted.every((key) => receiver!.firing().some((a) => labelKey(a.labels) === key)) && Date.now() < deadline) await delay(250);
    const settled = Date.now() + 3_000;
    for (;;) {
      const groups = await alerter.groups();
      if (groups.every((g) => g.rules.every((r) => r.lastEvaluation && Date.parse(r.lastEvaluation) > settled))) break;
      await delay(250);
    }
    firing = receiver.firing();
  }, 300_000);

  afterAll(async () => {
    await Promise.all([alerter?.stop(), vm?.stop(), receiver?.close(), ...[...targets.values()].map((t) => t.stop())]);
  });

  it.each(SCENARIOS.map((s) => [s.cluster, s] as const))('fires exactly the expected alerts for cluster %s', (cluster, scenario) => {
    const received = firing
      .filter((a) => a.labels.cluster === cluster)
      .map((a) => labelKey(a.labels))
      .sort();
    expect(received, `${scenario.what} (rules ${rulesFile})`).toEqual(scenario.alerts.map((a) => labelKey(fullLabels(cluster, a))).sort());
  });

  it('fires nothing without a cluster, for the muted namespace, or for ok and unknown results; renders every annotation', () => {
    expect(firing.filter((a) => !SCENARIOS.some((s) => s.cluster === a.labels.cluster)).map((a) => a.labels)).toEqual([]);
    expect(firing.filter((a) => a.labels.namespace === 'muted')).toEqual([]);
    expect(firing.filter((a) => a.labels.endpoint === 'app-models')).toEqual([]);
    for (const alert of firing) {
      for (const key of ['summary', 'description', 'runbook_url']) {
        expect(alert.annotations[key], `${alert.labels.alertname} ${key}`).toBeTruthy();
        expect(alert.annotations[key], `${alert.labels.alertname} ${key}`).not.toMatch(/<no value>|error calling|executing ".*" at/);
      }
      expect(alert.annotations.summary).toContain(` in cluster ${alert.labels.cluster}`);
    }
  });

  it('evaluates every rule on VictoriaMetrics without an error, and lists the same firing alerts as it sent', async () => {
    const groups = await alerter!.groups();
    expect(groups.flatMap((g) => g.rules.filter((r) => r.lastError).map((r) => `${g.name}/${r.name}: ${r.lastError}`))).toEqual([]);
    const listed = (await alerter!.alerts()).filter((a) => a.state === 'firing').map((a) => labelKey(a.labels));
    expect(listed.sort()).toEqual(firing.map((a) => labelKey(a.labels)).sort());
  });

  describe('grafana/rollout-doctor.json', () => {
    const { dashboard } = loadDashboard();
    const variables = dashboardVariables(dashboard) as VariableModel[];
    const provisioned = parse(readFileSync(path.join(REPO, 'grafana', 'provisioning', 'datasources', 'victoriametrics.yaml'), 'utf8')) as Json;
    const scrapeInterval = String(provisioned.datasources[0].jsonData.timeInterval);

    function range(): { fromMs: number; toMs: number } {
      const now = Date.now();
      return { fromMs: relativeTime(String(dashboard.time?.from), now), toMs: relativeTime(String(dashboard.time?.to), now) };
    }

    /** label_values(<selector>, <label>) over /api/v1/label/<label>/values?match[]= (metric_find_query.ts), with the selections so far. */
    async function variableValues(variable: VariableModel, selections: Record<string, Selection>): Promise<string[]> {
      const [, selector, label] = LABEL_VALUES.exec(String(variable.query))!;
      const match = selector ? interpolateDashboardVariables(selector, variables, selections) : undefined;
      const { fromMs, toMs } = range();
      const answer = await vm!.labelValues(label!, match, { start: Math.floor(fromMs / 1000), end: Math.ceil(toMs / 1000) });
      expect(answer.status, `${variable.name}: ${match} -> ${JSON.stringify(answer)}`).toBe('success');
      return answer.data ?? [];
    }

    /** Runs every target with the selections: per panel title and refId, whether it returned data; errors collected. */
    async function runDashboard(selections: Record<string, Selection>, errors: string[]): Promise<Map<string, boolean>> {
      const withData = new Map<string, boolean>();
      const scrapeIntervalMs = Number(/^(\d+)s$/.exec(scrapeInterval)?.[1]) * 1000;
      for (const { panel, target } of dashboardTargets(dashboard)) {
        const width = Math.round(((panel as Panel).gridPos?.w ?? 24) * (1920 / 24));
        const interpolated = interpolateDashboardVariables(target.expr, variables, selections);
        let data = false;
        for (const request of grafanaRequests(target, panel as Panel, range(), { scrapeIntervalMs }, width, interpolated)) {
          const answer = request.kind === 'instant' ? await vm!.query(request.expr, request.timeSeconds) : await vm!.queryRange(request.expr, request.startSeconds, request.endSeconds, request.stepSeconds);
          if (answer.status !== 'success') errors.push(`${JSON.stringify(selections)} ${panel.title} ${target.refId} (${request.kind}): ${request.expr} -> ${JSON.stringify(answer).slice(0, 300)}`);
          data ||= hasSeries(answer);
        }
        withData.set(`${panel.title} ${target.refId}`, data);
      }
      return withData;
    }

    it('lists the clusters that export rollout-doctor series in the cluster variable', async () => {
      const cluster = variables.find((v) => v.name === 'cluster')!;
      expect((await variableValues(cluster, {})).sort()).toEqual(['blind', 'homelab', 'incident', 'incident.muted-root', 'lab.failing']);
    });

    it('answers every query without error, and every panel with data on a scenario that exercises it', async () => {
      // Grafana rounds a range query's end down to the step (the scrape interval on this dashboard's
      // 6h range), and rate() needs two samples: wait until the last point sees two scrapes of each.
      const stepSeconds = SCRAPE_INTERVAL_SECONDS;
      const until = Date.now() + 3 * stepSeconds * 1000;
      for (const s of SCENARIOS) {
        for (;;) {
          const end = Math.floor(Date.now() / 1000 / stepSeconds) * stepSeconds;
          if (hasSeries(await vm!.query(twoScrapes(s.cluster), end))) break;
          if (Date.now() > until) throw new Error(`cluster ${s.cluster}: fewer than two scrapes before ${end}`);
          await delay(500);
        }
      }
      const errors: string[] = [];
      const perCluster = new Map<string, Map<string, boolean>>();
      // One cluster selected, namespace and rollout on All (the dashboard's defaults).
      for (const s of SCENARIOS) perCluster.set(s.cluster, await runDashboard({ cluster: [s.cluster], namespace: 'All', rollout: 'All' }, errors));
      // Every cluster (multi-value), and every namespace and rollout they list, as if each were ticked.
      const multi: Record<string, Selection> = { cluster: SCENARIOS.map((s) => s.cluster) };
      for (const name of ['namespace', 'rollout']) multi[name] = await variableValues(variables.find((v) => v.name === name)!, multi);
      expect((multi.namespace as string[]).length).toBeGreaterThan(1);
      const ticked = await runDashboard(multi, errors);
      const all = await runDashboard({ cluster: 'All', namespace: 'All', rollout: 'All' }, errors);
      expect(errors).toEqual([]);

      const missing: string[] = [];
      for (const [key] of ticked) {
        const clusters = SCENARIOS.filter((s) => perCluster.get(s.cluster)!.get(key)).map((s) => s.cluster);
        const panel = key.replace(/ [A-Z]$/, '');
        if (clusters.length === 0) {
          if (!PANELS_WITHOUT_DATA[panel]) missing.push(`${key}: no data on any scenario`);
          continue;
        }
        if (!ticked.get(key)) missing.push(`${key}: no data with every cluster, namespace and rollout ticked`);
        if (!all.get(key)) missing.push(`${key}: no data with All`);
      }
      expect(missing).toEqual([]);
      // Only the failing scenarios have problems to show; the homelab still fills the overview and the self panels.
      expect(perCluster.get('homelab')!.get('Version A')).toBe(true);
      expect(perCluster.get('homelab')!.get('Pods with a problem A')).toBe(false);
      expect(perCluster.get('lab.failing')!.get('Pods with a problem A')).toBe(true);
    });
  });
});
