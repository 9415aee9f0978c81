/**
 * The rollout-doctor Grafana dashboard, typed against @grafana/schema and rendered to
 * grafana/rollout-doctor.json (the file Grafana imports or provisions):
 *
 *   npm run grafana:render             writes it
 *   npm run grafana:render -- --check  exits 1 when it differs from what it would write
 *
 * test/observability/dashboard.test.ts fails when the JSON differs from this source, and checks its
 * structure; test/observability/prometheus-e2e.test.ts runs every query against a real Prometheus.
 *
 * Every query goes through the `datasource` variable (type prometheus: a VictoriaMetrics datasource
 * works through it) and filters on `cluster=~"$cluster"`. The cluster variable lists the values of
 * the scrape-time `cluster` label; without that label it is empty, "All" becomes `.*`, which matches
 * series without the label too, so the dashboard works with and without it. Instance labels are
 * aggregated away (`max by (cluster, ...)`) like the alert rules do, so two replicas or a replaced pod
 * draw one line, not two.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type Dashboard,
  DashboardCursorSync,
  type DataQuery,
  type DataSourceRef,
  FieldColorModeId,
  MappingType,
  type Panel,
  type RowPanel,
  ThresholdsMode,
  type VariableModel,
  VariableHide,
  VariableRefresh,
  VariableSort,
} from '@grafana/schema';

export const DASHBOARD_FILE = path.join(import.meta.dirname, 'rollout-doctor.json');

export const DATASOURCE: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** What a panel asks of the Prometheus datasource. */
export interface QuerySpec {
  expr: string;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  format?: 'time_series' | 'table';
}

/** A Prometheus query as the Grafana Prometheus datasource stores it in a panel's targets. */
export interface PrometheusQuery extends DataQuery, QuerySpec {
  [field: string]: unknown;
}

const C = 'cluster=~"$cluster"';
const R = `${C}, namespace=~"$namespace", rollout=~"$rollout"`;

/** Unmuted results of one status, counted (0 when none). */
function countStatus(status: string): string {
  return (
    `sum(max by (cluster, check, target) (rollout_doctor_check_status{${C}, status="${status}"})` +
    ` unless on (cluster, check, target) max by (cluster, check, target) (rollout_doctor_check_muted{${C}} == 1)) or vector(0)`
  );
}

type PanelType = 'stat' | 'timeseries' | 'table' | 'state-timeline' | 'bargauge';

interface Spec {
  type: PanelType;
  title: string;
  description: string;
  /** Width (of 24) and height. */
  w: number;
  h: number;
  queries: QuerySpec[];
  unit?: string;
  min?: number;
  max?: number;
  mappings?: NonNullable<NonNullable<Panel['fieldConfig']>['defaults']['mappings']>;
  thresholds?: { color: string; value: number | null }[];
  overrides?: NonNullable<Panel['fieldConfig']>['overrides'];
  options?: Record<string, unknown>;
  transformations?: Panel['transformations'];
}

interface Row {
  title: string;
  panels: Spec[];
}

const green = 'green';
const stateMappings = (values: Record<string, [string, string]>) => [
  { type: MappingType.ValueToText as const, options: Object.fromEntries(Object.entries(values).map(([value, [text, color]], index) => [value, { text, color, index }])) },
];
const boolMappings = (zero: [string, string], one: [string, string]) => stateMappings({ '0': zero, '1': one });
const tableQuery = (expr: string): QuerySpec => ({ expr, instant: true, range: false, format: 'table' });
const series = (expr: string, legendFormat: string): QuerySpec => ({ expr, legendFormat, range: true, instant: false, format: 'time_series' });
/** Hides the Time column of instant table queries and merges several queries on their labels. */
const tableTransforms = (merge: boolean): Panel['transformations'] => [
  ...(merge ? [{ id: 'merge', options: {} }] : []),
  { id: 'organize', options: { excludeByName: { Time: true }, renameByName: {} } },
];
const countStat = (title: string, status: string, description: string, color: string): Spec => ({
  type: 'stat',
  title,
  description,
  w: 4,
  h: 4,
  queries: [{ ...series(countStatus(status), title), instant: true, range: false }],
  thresholds: [
    { color: green, value: null },
    { color, value: 1 },
  ],
  options: { colorMode: 'background', graphMode: 'none', reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
});

const ROWS: Row[] = [
  {
    title: 'Overall state',
    panels: [
      countStat('Failing checks', 'fail', 'Unmuted results that are fail: we looked and the target is broken.', 'red'),
      countStat('Warning checks', 'warn', 'Unmuted results that are warn.', 'orange'),
      countStat('Unknown checks', 'unknown', 'Unmuted results that are unknown: rollout-doctor could not look (API error, its own 403, timeout).', 'purple'),
      {
        type: 'stat',
        title: 'Muted results',
        description: 'Results muted by the config (mute:): they keep their status but raise no alert.',
        w: 4,
        h: 4,
        queries: [{ ...series(`sum(max by (cluster, check, target) (rollout_doctor_check_muted{${C}})) or vector(0)`, 'muted'), instant: true, range: false }],
        thresholds: [{ color: 'blue', value: null }],
        options: { colorMode: 'value', graphMode: 'none', reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
      },
      {
        type: 'stat',
        title: 'Last cycle age',
        description: 'Time since the last completed check cycle, per cluster. Beyond three schedule intervals every result is stale (RolloutDoctorStale).',
        w: 4,
        h: 4,
        unit: 's',
        queries: [{ ...series(`time() - max by (cluster) (rollout_doctor_last_cycle_timestamp_seconds{${C}})`, '{{cluster}}'), instant: true, range: false }],
        thresholds: [
          { color: green, value: null },
          { color: 'orange', value: 120 },
          { color: 'red', value: 300 },
        ],
        options: { colorMode: 'value', graphMode: 'none', reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
      },
      {
        type: 'stat',
        title: 'Version',
        description: 'rollout-doctor versions running (rollout_doctor_build_info).',
        w: 4,
        h: 4,
        queries: [{ ...series(`max by (cluster, version) (rollout_doctor_build_info{${C}})`, '{{cluster}} {{version}}'), instant: true, range: false }],
        options: { colorMode: 'none', graphMode: 'none', textMode: 'name', reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
      },
    ],
  },
  {
    title: 'Check results',
    panels: [
      {
        type: 'table',
        title: 'Check status',
        description: 'Every (check, target) with its current status and whether it is muted. The details, evidence and remediation are in /health?format=text&check=<check>&target=<target>.',
        w: 24,
        h: 10,
        queries: [
          tableQuery(`max by (cluster, check, target, status) (rollout_doctor_check_status{${C}}) == 1`),
          tableQuery(`max by (cluster, check, target) (rollout_doctor_check_muted{${C}})`),
        ],
        transformations: [
          { id: 'merge', options: {} },
          { id: 'organize', options: { excludeByName: { Time: true, 'Value #A': true }, renameByName: { 'Value #B': 'muted' } } },
        ],
        overrides: [
          {
            matcher: { id: 'byName', options: 'status' },
            properties: [
              { id: 'custom.cellOptions', value: { type: 'color-background' } },
              {
                id: 'mappings',
                value: stateMappings({ ok: ['ok', 'green'], warn: ['warn', 'orange'], fail: ['fail', 'red'], unknown: ['unknown', 'purple'] }),
              },
            ],
          },
          { matcher: { id: 'byName', options: 'muted' }, properties: [{ id: 'mappings', value: boolMappings(['', 'transparent'], ['muted', 'blue']) }] },
        ],
      },
    ],
  },
  {
    title: 'Rollouts',
    panels: [
      {
        type: 'state-timeline',
        title: 'Rollout phase',
        description: 'The phase kubectl argo rollouts shows (rollout_doctor_rollout_phase).',
        w: 24,
        h: 8,
        queries: [
          series(
            `max by (cluster, namespace, rollout) (` +
              `(rollout_doctor_rollout_phase{${R}, phase="Healthy"} * 1) or (rollout_doctor_rollout_phase{${R}, phase="Progressing"} * 2)` +
              ` or (rollout_doctor_rollout_phase{${R}, phase="Paused"} * 3) or (rollout_doctor_rollout_phase{${R}, phase="Degraded"} * 4))`,
            '{{namespace}}/{{rollout}}',
          ),
        ],
        mappings: stateMappings({ '1': ['Healthy', 'green'], '2': ['Progressing', 'blue'], '3': ['Paused', 'orange'], '4': ['Degraded', 'red'] }),
        options: { showValue: 'never', mergeValues: true, rowHeight: 0.8 },
      },
      {
        type: 'timeseries',
        title: 'Canary weight: set vs actual',
        description: 'SetWeight (what the current step sets) and ActualWeight (what is in effect). A gap that does not close is a traffic router that did not apply the weight.',
        w: 12,
        h: 8,
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [
          series(`max by (cluster, namespace, rollout) (rollout_doctor_rollout_canary_set_weight_ratio{${R}})`, '{{namespace}}/{{rollout}} set'),
          series(`max by (cluster, namespace, rollout) (rollout_doctor_rollout_canary_actual_weight_ratio{${R}})`, '{{namespace}}/{{rollout}} actual'),
        ],
        overrides: [{ matcher: { id: 'byRegexp', options: '.* set$' }, properties: [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }] }],
      },
      {
        type: 'timeseries',
        title: 'Canary step',
        description: 'status.currentStepIndex against the number of steps.',
        w: 12,
        h: 8,
        queries: [
          series(`max by (cluster, namespace, rollout) (rollout_doctor_rollout_current_step{${R}})`, '{{namespace}}/{{rollout}} step'),
          series(`max by (cluster, namespace, rollout) (rollout_doctor_rollout_steps{${R}})`, '{{namespace}}/{{rollout}} steps'),
        ],
        overrides: [{ matcher: { id: 'byRegexp', options: '.* steps$' }, properties: [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }] }],
      },
      {
        type: 'timeseries',
        title: 'Replicas: desired vs available',
        description: 'rollout_doctor_rollout_replicas by state.',
        w: 12,
        h: 8,
        queries: [series(`max by (cluster, namespace, rollout, state) (rollout_doctor_rollout_replicas{${R}, state=~"desired|available"})`, '{{namespace}}/{{rollout}} {{state}}')],
      },
      {
        type: 'table',
        title: 'Time in phase, aborted',
        description: 'How long each Rollout has been in its phase (from its own timestamps) and whether it is aborted.',
        w: 12,
        h: 8,
        queries: [
          tableQuery(`max by (cluster, namespace, rollout) (rollout_doctor_rollout_phase_duration_seconds{${R}})`),
          tableQuery(`max by (cluster, namespace, rollout) (rollout_doctor_rollout_aborted{${R}})`),
        ],
        transformations: [
          { id: 'merge', options: {} },
          { id: 'organize', options: { excludeByName: { Time: true }, renameByName: { 'Value #A': 'in phase', 'Value #B': 'aborted' } } },
        ],
        overrides: [
          { matcher: { id: 'byName', options: 'in phase' }, properties: [{ id: 'unit', value: 's' }] },
          { matcher: { id: 'byName', options: 'aborted' }, properties: [{ id: 'mappings', value: boolMappings(['no', green], ['aborted', 'red']) }] },
        ],
      },
    ],
  },
  {
    title: 'Rollout resources',
    panels: [
      {
        type: 'table',
        title: 'Missing references',
        description: 'Objects a Rollout spec references that do not exist (rollout-references), by kind.',
        w: 8,
        h: 8,
        queries: [tableQuery(`max by (cluster, namespace, rollout, kind) (rollout_doctor_rollout_missing_references{${R}}) > 0`)],
        transformations: tableTransforms(false),
      },
      {
        type: 'table',
        title: 'Strategy Services',
        description: 'Ready endpoints and pods of each Service a Rollout strategy names, and whether it selects the expected rollouts-pod-template-hash.',
        w: 16,
        h: 8,
        queries: [
          tableQuery(`max by (cluster, namespace, rollout, service, role) (rollout_doctor_rollout_service_ready_endpoints{${R}})`),
          tableQuery(`max by (cluster, namespace, rollout, service, role) (rollout_doctor_rollout_service_ready_pods{${R}})`),
          tableQuery(`max by (cluster, namespace, rollout, service, role) (rollout_doctor_rollout_service_selector_hash_ok{${R}})`),
        ],
        transformations: [
          { id: 'merge', options: {} },
          { id: 'organize', options: { excludeByName: { Time: true }, renameByName: { 'Value #A': 'ready endpoints', 'Value #B': 'ready pods', 'Value #C': 'hash' } } },
        ],
        overrides: [{ matcher: { id: 'byName', options: 'hash' }, properties: [{ id: 'mappings', value: boolMappings(['wrong', 'red'], ['ok', green]) }] }],
      },
      {
        type: 'timeseries',
        title: 'Rollout pods ready',
        description: 'Ready pods of the current and stable ReplicaSets (rollout-pods).',
        w: 8,
        h: 8,
        queries: [series(`max by (cluster, namespace, rollout, role) (rollout_doctor_rollout_pods_ready{${R}})`, '{{namespace}}/{{rollout}} {{role}}')],
      },
      {
        type: 'timeseries',
        title: 'Pods with a problem',
        description: 'Pods by problem: waiting reasons (ImagePullBackOff, CrashLoopBackOff, ...), Unschedulable, long Pending, not Ready.',
        w: 8,
        h: 8,
        queries: [series(`max by (cluster, namespace, rollout, reason) (rollout_doctor_rollout_pods_with_problem{${R}}) > 0`, '{{namespace}}/{{rollout}} {{reason}}')],
      },
      {
        type: 'timeseries',
        title: 'Pod restarts and Warning events',
        description: 'Container restarts of the rollout pods and their Warning events of the last hour.',
        w: 8,
        h: 8,
        queries: [
          series(`max by (cluster, namespace, rollout) (rollout_doctor_rollout_pod_restarts{${R}})`, '{{namespace}}/{{rollout}} restarts'),
          series(`max by (cluster, namespace, rollout) (rollout_doctor_rollout_pod_warning_events{${R}})`, '{{namespace}}/{{rollout}} warning events'),
        ],
      },
      {
        type: 'table',
        title: 'Traffic router object',
        description: "Whether the traffic-router plugin's object (a CiliumEnvoyConfig by default) exists, and whether that is ok now (0: the canary holds traffic without it).",
        w: 12,
        h: 7,
        queries: [
          tableQuery(`max by (cluster, namespace, rollout, plugin) (rollout_doctor_rollout_traffic_object_present{${R}})`),
          tableQuery(`max by (cluster, namespace, rollout, plugin) (rollout_doctor_rollout_traffic_object_ok{${R}})`),
        ],
        transformations: [
          { id: 'merge', options: {} },
          { id: 'organize', options: { excludeByName: { Time: true }, renameByName: { 'Value #A': 'present', 'Value #B': 'ok' } } },
        ],
        overrides: [
          { matcher: { id: 'byName', options: 'present' }, properties: [{ id: 'mappings', value: boolMappings(['absent', 'text'], ['present', 'text']) }] },
          { matcher: { id: 'byName', options: 'ok' }, properties: [{ id: 'mappings', value: boolMappings(['missing while holding traffic', 'red'], ['ok', green]) }] },
        ],
      },
      {
        type: 'table',
        title: 'Argo CD replicas ignored',
        description: '0: the Argo CD Application managing the workloadRef Deployment would reset its replicas (no ignoreDifferences on /spec/replicas, or no RespectIgnoreDifferences=true).',
        w: 12,
        h: 7,
        queries: [tableQuery(`max by (cluster, namespace, rollout) (rollout_doctor_argocd_replicas_ignored{${R}})`)],
        transformations: tableTransforms(false),
        overrides: [{ matcher: { id: 'byName', options: 'Value' }, properties: [{ id: 'mappings', value: boolMappings(['Argo CD fights the controller', 'red'], ['ignored', green]) }] }],
      },
    ],
  },
  {
    title: 'Analysis',
    panels: [
      {
        type: 'timeseries',
        title: 'Inconclusive measurements vs limit',
        description: 'Inconclusive measurements of each metric of the newest runs (a total, not a streak) against inconclusiveLimit: one more than the limit makes the metric Inconclusive and pauses the rollout.',
        w: 12,
        h: 8,
        queries: [
          series(`max by (cluster, namespace, rollout, type, metric) (rollout_doctor_analysis_metric_inconclusive_measurements{${R}})`, '{{namespace}}/{{rollout}} {{type}} {{metric}}'),
          series(`max by (cluster, namespace, rollout, type, metric) (rollout_doctor_analysis_metric_inconclusive_limit{${R}})`, '{{namespace}}/{{rollout}} {{type}} {{metric}} limit'),
        ],
        overrides: [{ matcher: { id: 'byRegexp', options: '.* limit$' }, properties: [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }] }],
      },
      {
        type: 'timeseries',
        title: 'Consecutive errors vs limit',
        description: 'Error measurements in a row against consecutiveErrorLimit: one more than the limit aborts the rollout.',
        w: 12,
        h: 8,
        queries: [
          series(`max by (cluster, namespace, rollout, type, metric) (rollout_doctor_analysis_metric_consecutive_errors{${R}})`, '{{namespace}}/{{rollout}} {{type}} {{metric}}'),
          series(`max by (cluster, namespace, rollout, type, metric) (rollout_doctor_analysis_metric_consecutive_error_limit{${R}})`, '{{namespace}}/{{rollout}} {{type}} {{metric}} limit'),
        ],
        overrides: [{ matcher: { id: 'byRegexp', options: '.* limit$' }, properties: [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }] }],
      },
      {
        type: 'table',
        title: 'Analysis runs',
        description: 'Phase of the newest AnalysisRun of each type of the current revision.',
        w: 12,
        h: 8,
        queries: [tableQuery(`max by (cluster, namespace, rollout, type, phase) (rollout_doctor_analysis_run_phase{${R}}) == 1`)],
        transformations: [{ id: 'organize', options: { excludeByName: { Time: true, Value: true }, renameByName: {} } }],
        overrides: [
          {
            matcher: { id: 'byName', options: 'phase' },
            properties: [
              { id: 'custom.cellOptions', value: { type: 'color-text' } },
              { id: 'mappings', value: stateMappings({ Successful: ['Successful', green], Running: ['Running', 'blue'], Pending: ['Pending', 'text'], Inconclusive: ['Inconclusive', 'orange'], Failed: ['Failed', 'red'], Error: ['Error', 'red'] }) },
            ],
          },
        ],
      },
      {
        type: 'table',
        title: 'Analysis preflight',
        description: 'The phase each referenced template metric would get if measured now, and the first value its query returned (analysis-preflight). _cluster: a ClusterAnalysisTemplate.',
        w: 12,
        h: 8,
        queries: [
          tableQuery(`max by (cluster, namespace, template, metric, phase) (rollout_doctor_analysis_preflight_phase{${C}, namespace=~"$namespace|_cluster"}) == 1`),
          tableQuery(`max by (cluster, namespace, template, metric) (rollout_doctor_analysis_preflight_value{${C}, namespace=~"$namespace|_cluster"})`),
        ],
        transformations: [
          { id: 'merge', options: {} },
          { id: 'organize', options: { excludeByName: { Time: true, 'Value #A': true }, renameByName: { 'Value #B': 'value now' } } },
        ],
        overrides: [
          {
            matcher: { id: 'byName', options: 'phase' },
            properties: [
              { id: 'custom.cellOptions', value: { type: 'color-text' } },
              { id: 'mappings', value: stateMappings({ Successful: ['Successful', green], Failed: ['Failed', 'orange'], Inconclusive: ['Inconclusive', 'orange'], Error: ['Error', 'red'], Skipped: ['Skipped', 'text'], Unknown: ['Unknown', 'purple'] }) },
            ],
          },
        ],
      },
    ],
  },
  {
    title: 'Endpoints',
    panels: [
      {
        type: 'state-timeline',
        title: 'Endpoint up',
        description: '1 when the endpoint answered as expected (ok or slow), 0 when the probe failed; nothing when not probed.',
        w: 12,
        h: 7,
        queries: [series(`max by (cluster, endpoint) (rollout_doctor_endpoint_up{${C}})`, '{{endpoint}}')],
        mappings: boolMappings(['down', 'red'], ['up', green]),
        options: { showValue: 'never', mergeValues: true, rowHeight: 0.8 },
      },
      {
        type: 'timeseries',
        title: 'Endpoint latency',
        description: 'Duration of the last probe of each endpoint, including reading the body.',
        w: 12,
        h: 7,
        unit: 's',
        queries: [series(`max by (cluster, endpoint) (rollout_doctor_endpoint_probe_duration_seconds{${C}})`, '{{endpoint}}')],
      },
      {
        type: 'table',
        title: 'Endpoint status code',
        description: 'HTTP status code of the last probe (absent when no answer came).',
        w: 24,
        h: 5,
        queries: [tableQuery(`max by (cluster, endpoint) (rollout_doctor_endpoint_status_code{${C}})`)],
        transformations: tableTransforms(false),
      },
    ],
  },
  {
    title: 'Argo Rollouts controller',
    panels: [
      {
        type: 'timeseries',
        title: 'Controller readiness',
        description: 'Ready pods of the Argo Rollouts controller Deployment against its desired replicas.',
        w: 8,
        h: 7,
        queries: [
          series(`max by (cluster, namespace, deployment) (rollout_doctor_controller_ready_replicas{${C}})`, '{{namespace}}/{{deployment}} ready'),
          series(`max by (cluster, namespace, deployment) (rollout_doctor_controller_desired_replicas{${C}})`, '{{namespace}}/{{deployment}} desired'),
        ],
      },
      {
        type: 'timeseries',
        title: 'Controller restarts',
        description: 'Container restart count over the controller pods (as the kubelet reports it): a rising line is a crash loop.',
        w: 8,
        h: 7,
        queries: [series(`max by (cluster, namespace, deployment) (rollout_doctor_controller_container_restarts{${C}})`, '{{namespace}}/{{deployment}}')],
      },
      {
        type: 'state-timeline',
        title: 'Controller crash-looping',
        description: '1 when a controller container is in CrashLoopBackOff.',
        w: 8,
        h: 7,
        queries: [series(`max by (cluster, namespace, deployment) (rollout_doctor_controller_crashlooping{${C}})`, '{{namespace}}/{{deployment}}')],
        mappings: boolMappings(['running', green], ['CrashLoopBackOff', 'red']),
        options: { showValue: 'never', mergeValues: true, rowHeight: 0.8 },
      },
    ],
  },
  {
    title: 'Plugins and RBAC',
    panels: [
      {
        type: 'table',
        title: 'Plugins',
        description: 'Whether the running controller loaded each configured plugin, and its plugin error lines in the recent window.',
        w: 8,
        h: 8,
        queries: [
          tableQuery(`max by (cluster, plugin) (rollout_doctor_plugin_loaded{${C}})`),
          tableQuery(`max by (cluster, plugin) (rollout_doctor_plugin_recent_error_lines{${C}})`),
        ],
        transformations: [
          { id: 'merge', options: {} },
          { id: 'organize', options: { excludeByName: { Time: true }, renameByName: { 'Value #A': 'loaded', 'Value #B': 'recent error lines' } } },
        ],
        overrides: [{ matcher: { id: 'byName', options: 'loaded' }, properties: [{ id: 'mappings', value: boolMappings(['not loaded', 'red'], ['loaded', green]) }] }],
      },
      {
        type: 'table',
        title: 'Controller permissions for its plugins',
        description: "What the controller's service account may do for its traffic-router plugins (SubjectAccessReview).",
        w: 8,
        h: 8,
        queries: [tableQuery(`min by (cluster, serviceaccount, group, resource, verb) (rollout_doctor_controller_permission_allowed{${C}})`)],
        transformations: tableTransforms(false),
        overrides: [{ matcher: { id: 'byName', options: 'Value' }, properties: [{ id: 'mappings', value: boolMappings(['denied', 'red'], ['allowed', green]) }] }],
      },
      {
        type: 'table',
        title: "rollout-doctor's missing permissions",
        description: 'Permissions rollout-doctor needs and does not have (self-rbac); the checks that need them report unknown.',
        w: 8,
        h: 8,
        queries: [tableQuery(`min by (cluster, group, resource, verb) (rollout_doctor_self_permission_allowed{${C}}) == 0`)],
        transformations: [{ id: 'organize', options: { excludeByName: { Time: true, Value: true }, renameByName: {} } }],
      },
    ],
  },
  {
    title: 'rollout-doctor',
    panels: [
      {
        type: 'timeseries',
        title: 'Cycle duration',
        description: 'How long a check cycle takes (snapshot and checks): the 90th percentile and the mean.',
        w: 8,
        h: 7,
        unit: 's',
        queries: [
          series(`histogram_quantile(0.9, sum by (cluster, le) (rate(rollout_doctor_cycle_duration_seconds_bucket{${C}}[$__rate_interval])))`, '{{cluster}} p90'),
          series(
            `sum by (cluster) (rate(rollout_doctor_cycle_duration_seconds_sum{${C}}[$__rate_interval])) / sum by (cluster) (rate(rollout_doctor_cycle_duration_seconds_count{${C}}[$__rate_interval]))`,
            '{{cluster}} mean',
          ),
        ],
      },
      {
        type: 'timeseries',
        title: 'Cycles',
        description: 'Completed cycles per minute, and cycles skipped because the previous one was still running.',
        w: 8,
        h: 7,
        queries: [
          series(`sum by (cluster) (rate(rollout_doctor_cycles_total{${C}}[$__rate_interval])) * 60`, '{{cluster}} completed'),
          series(`sum by (cluster) (rate(rollout_doctor_cycles_skipped_total{${C}}[$__rate_interval])) * 60`, '{{cluster}} skipped'),
        ],
      },
      {
        type: 'timeseries',
        title: 'Slowest checks',
        description: 'Run time of the slowest checks in their last cycle.',
        w: 8,
        h: 7,
        unit: 's',
        queries: [series(`topk(5, max by (cluster, check) (rollout_doctor_check_duration_seconds{${C}}))`, '{{cluster}} {{check}}')],
      },
      {
        type: 'timeseries',
        title: 'Kubernetes API requests by code',
        description: 'Requests rollout-doctor makes to the Kubernetes API, per second, by answer code.',
        w: 8,
        h: 7,
        unit: 'reqps',
        queries: [series(`sum by (cluster, code) (rate(rollout_doctor_kube_requests_total{${C}}[$__rate_interval]))`, '{{cluster}} {{code}}')],
      },
      {
        type: 'timeseries',
        title: 'Kubernetes API errors',
        description: 'Failing requests (not 2xx; 404 is how an absent CRD answers) by verb, resource and code: a 403 is a permission rollout-doctor lacks (see self-rbac).',
        w: 8,
        h: 7,
        unit: 'reqps',
        queries: [series(`sum by (cluster, verb, resource, code) (rate(rollout_doctor_kube_requests_total{${C}, code!~"2..|404"}[$__rate_interval]))`, '{{cluster}} {{verb}} {{resource}} {{code}}')],
      },
      {
        type: 'timeseries',
        title: 'Check result age',
        description: 'Time since the cycle that produced the oldest result of each check.',
        w: 8,
        h: 7,
        unit: 's',
        queries: [series(`time() - min by (cluster, check) (rollout_doctor_check_last_run_timestamp_seconds{${C}})`, '{{cluster}} {{check}}')],
      },
      {
        type: 'timeseries',
        title: 'Config reloads',
        description: 'Config reloads in the last hour by result (a failure keeps the previous config).',
        w: 8,
        h: 7,
        queries: [series(`sum by (cluster, result) (increase(rollout_doctor_config_reloads_total{${C}}[1h]))`, '{{cluster}} {{result}}')],
      },
      {
        type: 'timeseries',
        title: 'Memory',
        description: 'Resident memory and V8 heap of each rollout-doctor process (per pod).',
        w: 8,
        h: 7,
        unit: 'bytes',
        queries: [
          series(`process_resident_memory_bytes{${C}} and on (cluster, job, instance) rollout_doctor_build_info`, '{{cluster}} {{instance}} resident'),
          series(`sum by (cluster, job, instance) (nodejs_heap_size_used_bytes{${C}} and on (cluster, job, instance) rollout_doctor_build_info)`, '{{cluster}} {{instance}} heap used'),
        ],
      },
      {
        type: 'timeseries',
        title: 'CPU',
        description: 'CPU used by each rollout-doctor process (per pod), in cores.',
        w: 8,
        h: 7,
        queries: [series(`rate(process_cpu_seconds_total{${C}}[$__rate_interval]) and on (cluster, job, instance) rollout_doctor_build_info`, '{{cluster}} {{instance}}')],
      },
    ],
  },
];

function variable(name: string, label: string, query: string, description: string): VariableModel {
  return {
    type: 'query',
    name,
    label,
    description,
    datasource: DATASOURCE,
    query,
    refresh: VariableRefresh.onTimeRangeChanged,
    includeAll: true,
    allValue: '.*',
    multi: true,
    sort: VariableSort.alphabeticalAsc,
    current: { text: ['All'], value: ['$__all'] },
    options: [],
    hide: VariableHide.dontHide,
    skipUrlSync: false,
    regex: '',
  };
}

export const VARIABLES: VariableModel[] = [
  {
    type: 'datasource',
    name: 'datasource',
    label: 'Data source',
    description: 'A Prometheus or VictoriaMetrics (Prometheus type) data source that scrapes rollout-doctor.',
    query: 'prometheus',
    options: [],
    refresh: VariableRefresh.onDashboardLoad,
    hide: VariableHide.dontHide,
    skipUrlSync: false,
    regex: '',
  },
  variable('cluster', 'Cluster', 'label_values(rollout_doctor_build_info, cluster)', 'The cluster label added at scrape time; empty without it (All then matches series without the label).'),
  variable('namespace', 'Namespace', `label_values(rollout_doctor_rollout_phase{${C}}, namespace)`, 'Rollout namespaces.'),
  variable('rollout', 'Rollout', `label_values(rollout_doctor_rollout_phase{${C}, namespace=~"$namespace"}, rollout)`, 'Rollouts of the selected namespaces.'),
];

function fieldConfig(spec: Spec): NonNullable<Panel['fieldConfig']> {
  return {
    defaults: {
      ...(spec.unit ? { unit: spec.unit } : {}),
      ...(spec.min !== undefined ? { min: spec.min } : {}),
      ...(spec.max !== undefined ? { max: spec.max } : {}),
      ...(spec.mappings ? { mappings: spec.mappings } : {}),
      thresholds: { mode: ThresholdsMode.Absolute, steps: spec.thresholds ?? [{ color: green, value: null }] },
      color: { mode: spec.thresholds || spec.mappings ? FieldColorModeId.Thresholds : FieldColorModeId.PaletteClassic },
    },
    overrides: spec.overrides ?? [],
  };
}

/** Lays the rows out top to bottom, each row's panels left to right, wrapping at 24 columns. */
export function buildDashboard(): Dashboard {
  const panels: Array<Panel | RowPanel> = [];
  let id = 1;
  let y = 0;
  for (const row of ROWS) {
    panels.push({ type: 'row', id: id++, title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const spec of row.panels) {
      if (x + spec.w > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      const targets: PrometheusQuery[] = spec.queries.map((query, index) => ({ refId: String.fromCharCode(65 + index), datasource: DATASOURCE, ...query }));
      const panel: Panel = {
        type: spec.type,
        id: id++,
        title: spec.title,
        description: spec.description,
        datasource: DATASOURCE,
        gridPos: { h: spec.h, w: spec.w, x, y },
        targets,
        fieldConfig: fieldConfig(spec),
        options: spec.options ?? {},
        ...(spec.transformations ? { transformations: spec.transformations } : {}),
      };
      panels.push(panel);
      x += spec.w;
      rowHeight = Math.max(rowHeight, spec.h);
    }
    y += rowHeight;
  }
  return {
    uid: 'rollout-doctor',
    title: 'rollout-doctor',
    description: 'Argo Rollouts health as rollout-doctor checks it: check results, rollouts, analysis, endpoints, the controller, plugins and RBAC, and rollout-doctor itself.',
    tags: ['argo-rollouts', 'rollout-doctor'],
    timezone: 'browser',
    editable: true,
    graphTooltip: DashboardCursorSync.Crosshair,
    schemaVersion: 39,
    version: 1,
    refresh: '1m',
    time: { from: 'now-6h', to: 'now' },
    fiscalYearStartMonth: 0,
    links: [
      { title: 'Check catalogue', type: 'link', url: 'https://github.com/homelab/rollout-doctor/blob/main/README.md#check-catalogue', icon: 'doc', tags: [], asDropdown: false, includeVars: false, keepTime: false, targetBlank: true, tooltip: 'What each check looks at' },
    ],
    annotations: { list: [{ builtIn: 1, datasource: { type: 'grafana', uid: '-- Grafana --' }, enable: true, hide: true, iconColor: 'rgba(0, 211, 255, 1)', name: 'Annotations & Alerts', type: 'dashboard' }] },
    templating: { list: VARIABLES },
    panels,
  };
}

export function renderDashboard(): string {
  return `${JSON.stringify(buildDashboard(), null, 2)}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const text = renderDashboard();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(DASHBOARD_FILE, 'utf8');
    } catch {
      // Missing counts as stale.
    }
    if (current !== text) {
      process.stderr.write('grafana/rollout-doctor.json differs from grafana/dashboard.ts: run npm run grafana:render\n');
      process.exit(1);
    }
  } else {
    writeFileSync(DASHBOARD_FILE, text);
    process.stdout.write('grafana: wrote rollout-doctor.json\n');
  }
}
