/**
 * One simulated cluster in which every check finds something wrong and every metric family has
 * series: the observability tests (metric catalogue, dashboard queries, alert rules against a real
 * Prometheus) run the daemon on it. It is assembled from the check fixtures (test/fixtures/<check>/
 * <case>/), each rollout-side case moved into a namespace of its own (metadata.namespace, every
 * nested `namespace` field and the uids are rewritten, so the copies do not meet), plus:
 *
 * - the controller of controller-plugins/crashloop-download-404 (its new pod crash-looping on a
 *   plugin download 404, the old pod of runtime-weight-errors still running and logging plugin
 *   errors) with the RBAC of controller-rbac/missing-create (no create on ciliumenvoyconfigs);
 * - rollout-doctor's own RBAC from deploy/rbac.yaml without `events`, enforced for
 *   system:serviceaccount:rollout-doctor:rollout-doctor: self-rbac fails, the event lists answer 403
 *   (kube API errors) and rollout-pods still judges the pods;
 * - a Rollout referencing a traffic-router plugin nobody configured;
 * - VictoriaMetrics FakeApps for analysis-preflight: one answers an empty vector, one a value;
 * - an expected Rollout that does not exist;
 * - endpoints that answer 503, answer slowly, and lack their token (unknown);
 * - namespace `muted`: a Degraded rollout whose results are all muted (it must raise no alert).
 *
 * `writeFailingScenario(dir)` writes it; `node --import tsx test/observability/failing-scenario.ts DIR`
 * too, and prints the `serve` command line to run it by hand.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { readScenarioDocuments } from '../../src/simulator/load.js';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const FIXTURES = path.join(REPO, 'test', 'fixtures');
const HOMELAB = path.join(REPO, 'src', 'simulator', 'scenarios', 'homelab');

/** The clock of the controller-side fixtures; the rollout-side ones (12:00) only get older. */
export const FAILING_NOW = '2026-11-26T14:00:00Z';
export const FAILING_RBAC_SUBJECT = 'system:serviceaccount:rollout-doctor:rollout-doctor';
/** Where the fake VictoriaMetrics listen (moved to ephemeral ports in tests): one has no data, one answers 0.0041. */
const VM_EMPTY = '127.0.61.8:8428';
const VM_VALUE = '127.0.61.9:8428';
/** The checks' schedule in the scenario (cycle_interval_seconds 5). */
export const FAILING_SCHEDULE = '*/5 * * * * *';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Piece {
  /** Fixture case folder, relative to test/fixtures (read as the simulator reads it: its _base and its overlay). */
  from: string;
  /** Only the objects written in files of these names, in the case or its _base (default: all of them). */
  files?: string[];
  /** Moves the objects from the fixture's namespace to this one. */
  move?: { from: string; to: string };
  /** Changes an object after the move. */
  transform?: (object: Json) => void;
  /** Copy the folder's logs/ too. */
  logs?: boolean;
  /** The metric provider that replaces the fixtures' ${PROMETHEUS} (default: the empty one). */
  prometheus?: string;
}

/**
 * What the scenario holds, by namespace. The comments say which failure each piece brings; the
 * alerts it should fire are in FAILING_ALERTS.
 */
const PIECES: Piece[] = [
  // The controller's new pod crash-loops on the plugin download (controller-pods, controller-plugins
  // fail) while the old one still runs and logs plugin errors (plugin_recent_error_lines).
  { from: 'controller-plugins/crashloop-download-404', files: ['configmap.yaml', 'controller-deployment.yaml', 'pod-crashloop.yaml'], logs: true },
  { from: 'controller-plugins/runtime-weight-errors', files: ['pod-running.yaml'], logs: true },
  // Its service account may not create CiliumEnvoyConfigs (controller-rbac fails).
  { from: 'controller-rbac/missing-create', files: ['rbac.yaml'] },
  { from: 'rollout-status/aborted', move: { from: 'litellm', to: 'degraded' } },
  { from: 'rollout-status/stuck-spec-not-observed', move: { from: 'litellm', to: 'stuck' } },
  { from: 'rollout-status/paused-step-long', move: { from: 'litellm', to: 'paused' } },
  // One inconclusive measurement with inconclusiveLimit 1: the next one stops the analysis.
  {
    from: 'rollout-analysis/inconclusive-streak',
    move: { from: 'litellm', to: 'analysis-inconclusive' },
    transform: (o) => {
      if (o.kind === 'AnalysisRun') for (const metric of o.spec.metrics) metric.inconclusiveLimit = 1;
    },
  },
  // Two Error measurements in a row with consecutiveErrorLimit 2: the next one aborts.
  {
    from: 'rollout-analysis/error-streak-empty-result',
    move: { from: 'litellm', to: 'analysis-errors' },
    transform: (o) => {
      if (o.kind === 'AnalysisRun') for (const metric of o.spec.metrics) metric.consecutiveErrorLimit = 2;
    },
  },
  { from: 'rollout-analysis/error-empty-result', move: { from: 'litellm', to: 'analysis-failed' } },
  { from: 'rollout-references/missing-preview-service', move: { from: 'sympozium-system', to: 'references' } },
  { from: 'rollout-services/canary-wrong-hash', move: { from: 'shop', to: 'services' } },
  { from: 'rollout-pods/image-pull-backoff', move: { from: 'shop', to: 'pods' } },
  { from: 'rollout-traffic/canary-weight-20-no-cec', files: ['rollout-canary-20.yaml'], move: { from: 'litellm', to: 'traffic' } },
  { from: 'argocd-sync/without-ignore-differences' },
  // A traffic-router plugin the ConfigMap does not configure (controller-plugins, rollout-references fail).
  {
    from: 'controller-plugins/referenced-not-configured',
    files: ['rollout.yaml'],
    move: { from: 'litellm', to: 'plugins' },
    transform: (o) => {
      if (o.kind === 'Rollout') o.spec.strategy.canary.trafficRouting.plugins = { 'argoproj-labs/gatewayAPI': {} };
    },
  },
  // The analysis query names a metric nobody exports (analysis-preflight fails); another one passes.
  { from: 'analysis-preflight/prometheus-empty-error', move: { from: 'shop', to: 'preflight' } },
  { from: 'analysis-preflight/prometheus-successful', move: { from: 'shop', to: 'preflight-ok' }, prometheus: VM_VALUE },
  // Degraded like `degraded`, but muted in the config: no alert may name it.
  { from: 'rollout-status/aborted', move: { from: 'litellm', to: 'muted' } },
];

/** Checks whose targets are `<namespace>/<name>`: all muted for namespace `muted`. */
const ROLLOUT_CHECKS = ['rollout-status', 'rollout-analysis', 'rollout-references', 'rollout-services', 'rollout-pods', 'rollout-traffic', 'argocd-sync', 'analysis-preflight'];

export const FAILING_CONFIG = {
  schedule: FAILING_SCHEDULE,
  controller: { namespace: 'argo-rollouts', deployment: 'argo-rollouts', configMap: 'argo-rollouts-config' },
  timeouts: { requestMs: 2000, checkMs: 4000, cycleMs: 4500 },
  // Missing: rollout-status fails for it without a phase.
  expectedRollouts: ['gone/web'],
  endpoints: [
    { name: 'app-ready', url: 'http://127.0.60.1:4000/health/readiness', timeoutMs: 2000 },
    { name: 'app-slow', url: 'http://127.0.60.1:4000/slow', slowAfterMs: 100, timeoutMs: 2000 },
    { name: 'app-models', url: 'http://127.0.60.1:4000/v1/models', bearerToken: { env: 'ROLLOUT_DOCTOR_OBSERVABILITY_UNSET_TOKEN' }, timeoutMs: 2000 },
  ],
  mute: ROLLOUT_CHECKS.map((check) => ({ check, target: 'muted/*', reason: 'observability test: a muted result raises no alert' })),
};

function hashedUid(namespace: string, uid: string): string {
  const hex = createHash('sha256').update(`${namespace}\u0000${uid}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Rewrites every `namespace` field equal to `from`, and every uid, throughout the object. */
function move(value: unknown, from: string, to: string): unknown {
  if (Array.isArray(value)) return value.map((v) => move(v, from, to));
  if (value === null || typeof value !== 'object') return value;
  const out: Json = {};
  for (const [key, v] of Object.entries(value as Json)) {
    if (key === 'namespace' && v === from) out[key] = to;
    else if (key === 'uid' && typeof v === 'string') out[key] = hashedUid(to, v);
    else out[key] = move(v, from, to);
  }
  return out;
}

function readObjects(file: string): Json[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((doc) => doc.toJS() as Json | null)
    .filter((o): o is Json => o !== null && typeof o === 'object');
}

function pieceName(piece: Piece): string {
  return `${piece.move?.to ?? piece.from.split('/')[0]}--${piece.from.replace('/', '--')}`;
}

/** Writes the scenario into `dir` (which must exist or will be created). */
export async function writeFailingScenario(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  // The CRDs of Argo Rollouts, Argo CD and Cilium, as the homelab installs them.
  for (const sub of ['argo-rollouts', 'argocd', 'cilium']) cpSync(path.join(HOMELAB, sub, 'crds.yaml'), path.join(dir, `crds-${sub}.yaml`));
  for (const piece of PIECES) {
    const source = path.join(FIXTURES, piece.from);
    const objects = (await readScenarioDocuments(source)).filter((doc) => !piece.files || piece.files.includes(path.basename(doc.source))).map((doc) => doc.object as Json);
    const text = objects
      .map((object) => {
        const moved = piece.move ? (move(object, piece.move.from, piece.move.to) as Json) : object;
        piece.transform?.(moved);
        return stringify(moved).replaceAll('${PROMETHEUS}', `http://${piece.prometheus ?? VM_EMPTY}`);
      })
      .join('---\n');
    writeFileSync(path.join(dir, `${pieceName(piece)}.yaml`), `# From test/fixtures/${piece.from}${piece.move ? `, moved to namespace ${piece.move.to}` : ''}.\n${text}`);
    if (piece.logs && existsSync(path.join(source, 'logs'))) cpSync(path.join(source, 'logs'), path.join(dir, 'logs'), { recursive: true, dereference: true });
  }
  // Endpoints: the LiteLLM-like app of the endpoint fixtures, and a VictoriaMetrics with no data.
  cpSync(path.join(FIXTURES, 'endpoint', '_base', 'apps.yaml'), path.join(dir, 'fake-apps.yaml'), { dereference: true });
  const victoriaMetrics = (name: string, listen: string, result: unknown[]) => ({
    apiVersion: 'simulator.rollout-doctor.dev/v1',
    kind: 'FakeApp',
    metadata: { name },
    spec: { listen, routes: [{ path: '/api/v1/query', headers: { 'content-type': 'application/json' }, body: { status: 'success', data: { resultType: 'vector', result } } }] },
  });
  writeFileSync(
    path.join(dir, 'fake-victoriametrics.yaml'),
    [victoriaMetrics('victoriametrics-empty', VM_EMPTY, []), victoriaMetrics('victoriametrics', VM_VALUE, [{ metric: {}, value: [1795701600, '0.0041'] }])].map((o) => stringify(o)).join('---\n'),
  );
  // rollout-doctor's own RBAC as deploy/ grants it, less the event list.
  const rbac = readObjects(path.join(REPO, 'deploy', 'rbac.yaml')).map((o) => {
    if (o.kind === 'ClusterRole') {
      for (const rule of o.rules as Json[]) rule.resources = (rule.resources as string[]).filter((r) => r !== 'events');
    }
    return stringify(o);
  });
  writeFileSync(path.join(dir, 'rollout-doctor-rbac.yaml'), `# deploy/rbac.yaml without events (self-rbac fails, event lists answer 403).\n${rbac.join('---\n')}`);
  writeFileSync(path.join(dir, 'rollout-doctor.yaml'), `# The failing scenario's config (test/observability/failing-scenario.ts).\n${stringify(FAILING_CONFIG)}`);
}

/** `serve` arguments for the scenario in `dir`. */
export function failingServeArgs(dir: string): string[] {
  return ['serve', '--simulate', dir, '--simulate-now', FAILING_NOW, '--simulate-enforce-rbac', FAILING_RBAC_SUBJECT];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: node --import tsx test/observability/failing-scenario.ts DIR\n');
    process.exit(2);
  }
  await writeFailingScenario(path.resolve(dir));
  process.stdout.write(`wrote ${dir}; run it with:\n  node --import tsx src/cli.ts ${failingServeArgs(dir).join(' ')} --listen 127.0.0.1:9464\n`);
}
