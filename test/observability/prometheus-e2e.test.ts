/**
 * The observability assets against a real Prometheus (Debian's `prometheus`, on 127.0.0.1):
 *
 * - rollout-doctor `serve --simulate` on the failing scenario (every check fails somewhere) and on the
 *   healthy bundled homelab, in this process through main.ts's serve() with the scenarios' fake apps on
 *   ephemeral ports; a closed port (a rollout-doctor that is down) and a stale exposition (no cycle for
 *   an hour) as two more targets;
 * - scraped every second as job rollout-doctor the way deploy/vmservicescrape.yaml has the operator do
 *   it: `honor_labels` as the VMServiceScrape sets it, and the target labels the operator adds
 *   (namespace, service, endpoint, pod, container) plus `cluster`. The failing daemon is scraped twice:
 *   as cluster "lab" and without a cluster label (a single-cluster setup);
 * - the alert rules of deploy/alerts/rollout-doctor.rules.yaml, loaded with every `for` shortened to
 *   1s (parsed from the source and written back with only that changed), evaluated every second.
 *
 * Then: every alert of the rules fires (pending or firing) for the object the scenario breaks, for
 * "lab" and for the unlabelled copy alike, except where an incident explains the result (EXPLAINED):
 * one page per incident, shown once more on an incident case (test/fixtures/incidents/plugin-404, as
 * it is and with its root muted); nothing fires for the healthy homelab, for the muted namespace or
 * for results that are ok; every dashboard query returns data with the variables
 * substituted, for cluster "lab", for All and for series without the label; every variable query
 * resolves.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { SOURCE_FILE } from '../../deploy/alerts/render.js';
import { requireBinary } from '../helpers/binaries.js';
import { type Exposition, exposition, freePort, type RunningPrometheus, startPrometheus } from '../helpers/prometheus.js';
import { type RunningDaemon, startBlindDaemon, startFailingDaemon, startHomelabDaemon, startIncidentDaemon } from './daemons.js';
import { dashboardTargets, dashboardVariables, LABEL_VALUES, loadDashboard } from './grafana.js';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const binary = requireBinary('prometheus', 'the Prometheus end-to-end test of the alert rules and the dashboard');

interface Alert {
  labels: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
}

/** The alerts the failing scenario must raise (label subsets), each for cluster "lab" and for the unlabelled copy. */
const EXPECTED: { alertname: string; labels: Record<string, string> }[] = [
  { alertname: 'RolloutDoctorKubeApiErrors', labels: { resource: 'events' } },
  { alertname: 'RolloutDoctorPermissionMissing', labels: { target: 'core/events' } },
  { alertname: 'ArgoRolloutsPluginNotLoaded', labels: { plugin: 'argoproj-labs/cilium' } },
  { alertname: 'ArgoRolloutsPluginNotLoaded', labels: { plugin: 'argoproj-labs/gatewayAPI' } },
  { alertname: 'ArgoRolloutsControllerPermissionMissing', labels: { serviceaccount: 'argo-rollouts/argo-rollouts', group: 'cilium.io', resource: 'ciliumenvoyconfigs' } },
  { alertname: 'ArgoRolloutDegraded', labels: { namespace: 'degraded', rollout: 'litellm' } },
  { alertname: 'ArgoRolloutNotFound', labels: { namespace: 'gone', rollout: 'web' } },
  { alertname: 'ArgoRolloutAnalysisAboutToAbort', labels: { namespace: 'analysis-inconclusive', rollout: 'litellm', metric: 'error-rate', streak: 'inconclusive' } },
  { alertname: 'ArgoRolloutAnalysisAboutToAbort', labels: { namespace: 'analysis-errors', rollout: 'litellm', metric: 'error-rate', streak: 'error' } },
  { alertname: 'ArgoRolloutAnalysisFailed', labels: { namespace: 'analysis-failed', rollout: 'litellm', type: 'Step', phase: 'Error' } },
  { alertname: 'ArgoRolloutMissingReferences', labels: { namespace: 'references', rollout: 'sympozium-apiserver', kind: 'Service' } },
  { alertname: 'ArgoRolloutServiceMisrouted', labels: { namespace: 'services', rollout: 'web' } },
  { alertname: 'ArgoRolloutPodsNotStarting', labels: { namespace: 'pods', rollout: 'web' } },
  { alertname: 'ArgoCDRolloutReplicasNotIgnored', labels: { namespace: 'litellm', rollout: 'litellm' } },
  { alertname: 'ArgoRolloutAnalysisPreflightFailing', labels: { namespace: 'preflight', template: 'error-rate', metric: 'error-rate' } },
  { alertname: 'RolloutEndpointDown', labels: { endpoint: 'app-ready' } },
  { alertname: 'RolloutEndpointSlow', labels: { endpoint: 'app-slow' } },
];
/**
 * What the failing scenario's incidents explain raises nothing (src/incidents/rules.ts): the crash
 * loop is the plugin download's, every stuck or paused Rollout the crash loop's, every canary without
 * its CiliumEnvoyConfig the controller's missing permission's, the Degraded Rollout of `references`
 * its missing preview Service's. The last three alerts fire nowhere here (promtool's unit tests,
 * test/alerts, have them firing); ArgoRolloutsControllerNotReady fires for the incident case with its
 * root muted.
 */
const EXPLAINED: { alertname: string; labels: Record<string, string> }[] = [
  { alertname: 'ArgoRolloutsControllerNotReady', labels: { cluster: 'lab' } },
  { alertname: 'ArgoRolloutDegraded', labels: { cluster: 'lab', namespace: 'references' } },
  { alertname: 'ArgoRolloutStuckProgressing', labels: {} },
  { alertname: 'ArgoRolloutPausedTooLong', labels: {} },
  { alertname: 'ArgoRolloutCanaryWithoutTrafficObject', labels: {} },
];
/** rollout-doctor's own alerts, from the down, the stale and the blind (API unreachable) target; and the incident case's one page, and the next cause's with its root muted. */
const EXPECTED_SELF: { alertname: string; labels: Record<string, string> }[] = [
  { alertname: 'RolloutDoctorDown', labels: { cluster: 'gone' } },
  { alertname: 'RolloutDoctorStale', labels: { cluster: 'stale' } },
  { alertname: 'ArgoRolloutsPluginNotLoaded', labels: { cluster: 'incident', plugin: 'argoproj-labs/cilium' } },
  { alertname: 'ArgoRolloutsControllerNotReady', labels: { cluster: 'incident.muted-root', namespace: 'argo-rollouts', deployment: 'argo-rollouts' } },
  { alertname: 'RolloutDoctorKubeApiUnreachable', labels: { cluster: 'blind', state: 'unreachable' } },
];

/** The checks that see the plugin-404 incident (the others are ok there, and cost the shared event loop). */
const PLUGIN_404_CHECKS = ['controller-plugins', 'controller-pods', 'rollout-status'];

/** The source rules with every `for` shortened to 1s: the same expressions, labels and annotations. */
function e2eRules(): string {
  const source = parse(readFileSync(SOURCE_FILE, 'utf8')) as { groups: { rules: Record<string, unknown>[] }[] };
  for (const group of source.groups) for (const rule of group.rules) if (rule.for !== undefined) rule.for = '1s';
  return stringify(source);
}

/** A scrape target as the operator labels it (kubernetes_sd through the VMServiceScrape or ServiceMonitor). */
function operatorLabels(pod: string, cluster?: string): Record<string, string> {
  return { ...(cluster ? { cluster } : {}), namespace: 'rollout-doctor', service: 'rollout-doctor', endpoint: 'http-metrics', pod, container: 'rollout-doctor' };
}

function matches(alert: Alert, alertname: string, labels: Record<string, string>): boolean {
  return alert.labels.alertname === alertname && Object.entries(labels).every(([k, v]) => alert.labels[k] === v);
}

describe.skipIf(!binary)('alert rules and dashboard against a real Prometheus', () => {
  let failing: RunningDaemon | undefined;
  let homelab: RunningDaemon | undefined;
  let incident: RunningDaemon | undefined;
  let mutedRoot: RunningDaemon | undefined;
  let blind: RunningDaemon | undefined;
  let stale: Exposition | undefined;
  let prometheus: RunningPrometheus | undefined;
  let alerts: Alert[] = [];

  beforeAll(async () => {
    [failing, homelab, incident, mutedRoot, blind] = await Promise.all([
      startFailingDaemon(),
      startHomelabDaemon(),
      startIncidentDaemon('plugin-404', PLUGIN_404_CHECKS),
      startIncidentDaemon('plugin-404', PLUGIN_404_CHECKS, [{ check: 'controller-plugins', reason: 'plugin upgrade under way' }]),
      startBlindDaemon(),
    ]);
    const hourAgo = Date.now() / 1000 - 3600;
    stale = await exposition(
      () =>
        '# TYPE rollout_doctor_last_cycle_timestamp_seconds gauge\n' +
        `rollout_doctor_last_cycle_timestamp_seconds ${hourAgo}\n` +
        '# TYPE rollout_doctor_cycle_interval_seconds gauge\nrollout_doctor_cycle_interval_seconds 30\n',
    );
    const down = `127.0.0.1:${await freePort()}`;
    const scrape = (parse(readFileSync(path.join(REPO, 'deploy', 'vmservicescrape.yaml'), 'utf8')) as { spec: { endpoints: { honorLabels?: boolean; path: string }[] } }).spec.endpoints[0]!;
    prometheus = await startPrometheus({
      binary: binary!,
      interval: '1s',
      ruleFiles: { 'rollout-doctor.rules.yaml': e2eRules() },
      scrapeConfigs: [
        {
          job_name: 'rollout-doctor',
          metrics_path: scrape.path,
          honor_labels: scrape.honorLabels ?? false,
          static_configs: [
            { targets: [failing.target], labels: operatorLabels('rollout-doctor-lab', 'lab') },
            { targets: [failing.target], labels: operatorLabels('rollout-doctor-single') },
            { targets: [homelab.target], labels: operatorLabels('rollout-doctor-homelab', 'homelab') },
            { targets: [incident.target], labels: operatorLabels('rollout-doctor-incident', 'incident') },
            { targets: [mutedRoot.target], labels: operatorLabels('rollout-doctor-muted-root', 'incident.muted-root') },
            { targets: [stale.target], labels: operatorLabels('rollout-doctor-stale', 'stale') },
            { targets: [blind.target], labels: operatorLabels('rollout-doctor-blind', 'blind') },
            { targets: [down], labels: operatorLabels('rollout-doctor-gone', 'gone') },
          ],
        },
      ],
    });
    // Every expected alert active, then two more rule evaluations with the healthy homelab's series
    // in, so "nothing fires for it" has been evaluated.
    const wanted = [...EXPECTED.flatMap((e) => [{ ...e, labels: { ...e.labels, cluster: 'lab' } }, e]), ...EXPECTED_SELF];
    // Generous: under CI every test file shares two cores, and a first cycle cut short by the load
    // shows its results on the next one, 30 s later. A pass returns as soon as every alert is there.
    const deadline = Date.now() + 150_000;
    let missing = wanted;
    for (;;) {
      const answer = (await (await fetch(`${prometheus.url}/api/v1/alerts`)).json()) as { data: { alerts: Alert[] } };
      alerts = answer.data.alerts;
      missing = wanted.filter((w) => !alerts.some((a) => matches(a, w.alertname, w.labels) && (w.labels.cluster !== undefined || a.labels.cluster === undefined)));
      if (missing.length === 0 || Date.now() > deadline) break;
      await delay(250);
    }
    if (missing.length > 0) throw new Error(`alerts not raised within 150 s: ${JSON.stringify(missing)}\nactive: ${JSON.stringify(alerts.map((a) => a.labels))}\n${prometheus.log()}`);
    await prometheus.waitFor('rollout_doctor_check_status{cluster="homelab"}');
    const seen = Date.now() / 1000;
    for (;;) {
      const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as { data: { groups: { lastEvaluation: string }[] } };
      if (rules.data.groups.every((g) => Date.parse(g.lastEvaluation) / 1000 > seen + 2)) break;
      await delay(250);
    }
    alerts = ((await (await fetch(`${prometheus.url}/api/v1/alerts`)).json()) as { data: { alerts: Alert[] } }).data.alerts;
  }, 240_000);

  afterAll(async () => {
    await Promise.all([prometheus?.stop(), failing?.stop(), homelab?.stop(), incident?.stop(), mutedRoot?.stop(), blind?.stop(), stale?.close()]);
  });

  it('raises every alert of the rules for what the failing scenario breaks, with and without a cluster label', () => {
    for (const expected of EXPECTED) {
      for (const cluster of ['lab', undefined]) {
        const found = alerts.filter((a) => matches(a, expected.alertname, expected.labels) && a.labels.cluster === cluster);
        expect(found.length, `${expected.alertname} ${JSON.stringify(expected.labels)} cluster=${cluster}`).toBe(1);
        expect(['pending', 'firing']).toContain(found[0]!.state);
      }
    }
    for (const expected of EXPECTED_SELF) expect(alerts.some((a) => matches(a, expected.alertname, expected.labels)), expected.alertname).toBe(true);
    const names = (parse(readFileSync(SOURCE_FILE, 'utf8')) as { groups: { rules: { alert: string }[] }[] }).groups.flatMap((g) => g.rules.map((r) => r.alert));
    const neverHere = new Set(EXPLAINED.filter((e) => Object.keys(e.labels).length === 0).map((e) => e.alertname));
    expect([...new Set(alerts.map((a) => a.labels.alertname))].sort()).toEqual([...new Set(names)].filter((n) => !neverHere.has(n)).sort());
  });

  it('raises nothing for what an incident explains: one page per incident', () => {
    for (const explained of EXPLAINED) expect(alerts.filter((a) => matches(a, explained.alertname, explained.labels)).map((a) => a.labels)).toEqual([]);
    expect(alerts.filter((a) => a.labels.cluster === 'incident').map((a) => a.labels.alertname)).toEqual(['ArgoRolloutsPluginNotLoaded']);
    expect(alerts.filter((a) => a.labels.cluster === 'incident.muted-root').map((a) => a.labels.alertname)).toEqual(['ArgoRolloutsControllerNotReady']);
  });

  it('raises nothing for the healthy homelab, the muted namespace, or ok and unknown results', () => {
    expect(alerts.filter((a) => a.labels.cluster === 'homelab')).toEqual([]);
    expect(alerts.filter((a) => a.labels.namespace === 'muted')).toEqual([]);
    // The template that passes preflight, the endpoint that is not probed (unknown: its token is unset).
    expect(alerts.filter((a) => a.labels.alertname === 'ArgoRolloutAnalysisPreflightFailing' && a.labels.namespace === 'preflight-ok')).toEqual([]);
    expect(alerts.filter((a) => a.labels.endpoint === 'app-models')).toEqual([]);
    // Aggregated: no alert carries the instance labels of a scrape target.
    for (const alert of alerts) for (const label of ['instance', 'pod', 'container', 'service']) expect(alert.labels[label], `${alert.labels.alertname} ${label}`).toBeUndefined();
  });

  it('answers every dashboard query with data, for cluster "lab", for All, and for series without the label', async () => {
    const { dashboard } = loadDashboard();
    const failures: string[] = [];
    for (const cluster of ['lab', '.*', '']) {
      for (const { panel, target } of dashboardTargets(dashboard)) {
        const expr = target.expr
          .replaceAll('$cluster', cluster)
          .replaceAll('$namespace', '.*')
          .replaceAll('$rollout', '.*')
          .replaceAll('$__rate_interval', '1m');
        const answer = await prometheus!.query(expr);
        const result = answer.data?.result;
        if (answer.status !== 'success' || !Array.isArray(result) || result.length === 0) failures.push(`cluster=~"${cluster}" ${panel.title} ${target.refId}: ${expr} -> ${JSON.stringify(answer).slice(0, 300)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('resolves every variable query (label_values over the series API, as Grafana does)', async () => {
    const { dashboard } = loadDashboard();
    for (const cluster of ['lab', '.*']) {
      for (const variable of dashboardVariables(dashboard).filter((v) => v.type === 'query')) {
        const [, selector, label] = LABEL_VALUES.exec(String(variable.query))!;
        const match = selector!.replaceAll('$cluster', cluster).replaceAll('$namespace', '.*');
        const response = await fetch(`${prometheus!.url}/api/v1/series?${new URLSearchParams({ 'match[]': match })}`);
        const body = (await response.json()) as { status: string; data: Record<string, string>[] };
        expect(body.status, `${variable.name}: ${match}`).toBe('success');
        const values = new Set(body.data.map((s) => s[label!]).filter(Boolean));
        expect(values.size, `${variable.name} (cluster ${cluster}): ${match}`).toBeGreaterThan(0);
        // The unlabelled copy adds no value: "All" (.*) is what selects it.
        if (variable.name === 'cluster') expect([...values].sort()).toEqual(['blind', 'homelab', 'incident', 'incident.muted-root', 'lab']);
      }
    }
  });
});
