/**
 * A real VictoriaMetrics single node and a real vmalert (Debian's `victoria-metrics` package, 1.79 in
 * CI) on 127.0.0.1 for tests and `npm run stack`, the way test/helpers/prometheus.ts runs Prometheus:
 * free ports, a temporary directory each (scrape config, rule files, data), ready in well under a
 * second, and `stop()` ends the process (SIGTERM, then SIGKILL) and removes the directory.
 *
 * - `startVictoriaMetrics`: scrapes the `scrape_configs` it is given with its built-in scraper (the
 *   lib/promscrape code vmagent runs), and answers the Prometheus query API with MetricsQL.
 * - `startVmalert`: evaluates rule files against a VictoriaMetrics and sends what fires to
 *   `-notifier.url` (Alertmanager's v2 API; vmalert 1.79 requires one).
 * - `startAlertReceiver`: that notifier, a loopback HTTP server speaking the Alertmanager v2 API
 *   (POST /api/v2/alerts) that records every alert it receives.
 * - `vmalertDryRun`: `vmalert -dryRun -rule=FILE` (parses the groups, validates every expression with
 *   the MetricsQL parser and every template), the check a vmalert upgrade would make on start.
 * - `vmServiceScrapeConfig`: the scrape config vmagent derives from deploy/vmservicescrape.yaml, for
 *   one target as one cluster; `ruleFileFor`: the shipped rule file a given vmalert loads.
 *
 * Find the binaries with `requireVictoriaMetrics(...)`: missing, the tests skip loudly (CI fails).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { stringify } from 'yaml';
import { COMPAT_FILE, SOURCE_FILE } from '../../deploy/alerts/render.js';
import { requireTool } from './binaries.js';
import { listenOnLoopback } from './loopback.js';
import { freePort, type QueryAnswer } from './prometheus.js';

/** The Debian package that brings victoria-metrics, vmagent and vmalert. */
export const VICTORIA_METRICS_PACKAGE = 'victoria-metrics';
export const VICTORIA_METRICS_INSTALL = `apt-get install -y --no-install-recommends ${VICTORIA_METRICS_PACKAGE}`;

/** victoria-metrics or vmalert: the path, or undefined after printing loudly why the tests using it are skipped. Throws on CI. */
export function requireVictoriaMetrics(name: 'victoria-metrics' | 'vmalert', purpose: string): string | undefined {
  return requireTool(name, purpose, VICTORIA_METRICS_INSTALL);
}

export interface Daemon {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly pid: number;
  /** Settles when the process has exited, for whatever reason. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  log(): string;
  stop(): Promise<void>;
}

async function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return Promise.race([new Promise<boolean>((resolve) => child.once('exit', () => resolve(true))), delay(ms).then(() => false)]);
}

/**
 * Spawns `binary` with `args(port)` in a fresh temporary directory (written by `prepare`) and waits
 * for GET `readyPath` to answer 200 (/health: every VictoriaMetrics component serves it; Alertmanager
 * answers /-/ready); retries on a port another process took between freePort() and the bind.
 */
export async function startDaemon(
  name: string,
  binary: string,
  prepare: (dir: string) => void,
  args: (port: number, dir: string) => string[],
  readyTimeoutMs = 20_000,
  readyPath = '/health',
): Promise<Daemon> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(path.join(os.tmpdir(), `rd-${name}-`));
    prepare(dir);
    const child = spawn(binary, args(port, dir), { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-64 * 1024);
    });
    const spawned = new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', resolve);
    });
    const cleanup = async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        child.kill('SIGTERM');
        if (!(await waitForExit(child, 10_000))) {
          child.kill('SIGKILL');
          await waitForExit(child, 5_000);
        }
      }
      rmSync(dir, { recursive: true, force: true });
    };
    const spawnError = await spawned;
    if (spawnError) {
      await cleanup();
      throw new Error(`${name}: cannot start ${binary}: ${spawnError.message}`);
    }
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + readyTimeoutMs;
    let failure: string | undefined;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        failure = `${name} exited before it was ready (code ${child.exitCode ?? child.signalCode}):\n${stderr}`;
        break;
      }
      try {
        if ((await fetch(`${url}${readyPath}`)).status === 200) break;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        failure = `${name} was not ready within ${readyTimeoutMs} ms:\n${stderr}`;
        break;
      }
      await delay(50);
    }
    if (failure === undefined) {
      let stopping: Promise<void> | undefined;
      return {
        url,
        port,
        dir,
        pid: child.pid!,
        exited,
        log: () => stderr,
        stop() {
          stopping ??= cleanup();
          return stopping;
        },
      };
    }
    await cleanup();
    lastError = new Error(failure);
    if (!/address already in use/i.test(failure)) break;
  }
  throw lastError;
}

export interface VictoriaMetricsOptions {
  /** Path of the victoria-metrics binary. */
  binary: string;
  /** `scrape_configs` entries for its built-in scraper (-promscrape.config). */
  scrapeConfigs?: Record<string, unknown>[];
  /** More command-line flags. */
  extraArgs?: string[];
}

export interface RunningVictoriaMetrics extends Daemon {
  /** An instant query at `time` (default: now). */
  query(metricsql: string, time?: number): Promise<QueryAnswer>;
  /** A range query (/api/v1/query_range), times in seconds. */
  queryRange(metricsql: string, start: number, end: number, stepSeconds: number): Promise<QueryAnswer>;
  /** /api/v1/label/<label>/values, optionally restricted by a series selector. */
  labelValues(label: string, match?: string, range?: { start: number; end: number }): Promise<{ status: string; data?: string[]; error?: string }>;
  /** Polls `metricsql` until `accept` says yes (default: a non-empty vector), or throws after `timeoutMs`. */
  waitFor(metricsql: string, accept?: (answer: QueryAnswer) => boolean, timeoutMs?: number): Promise<QueryAnswer>;
}

export function hasSeries(answer: QueryAnswer): boolean {
  if (answer.status !== 'success' || !answer.data) return false;
  return answer.data.resultType === 'scalar' || (Array.isArray(answer.data.result) && answer.data.result.length > 0);
}

async function postForm<T>(url: string, form: Record<string, string>): Promise<T> {
  const response = await fetch(url, { method: 'POST', body: new URLSearchParams(form) });
  return (await response.json()) as T;
}

/**
 * Starts victoria-metrics on a free loopback port. `-search.latencyOffset=1s` (default 30 s: an
 * instant query near now is moved back by it, so a sample would show up half a minute after it was
 * scraped) makes samples queryable at once; strict parsing makes a mistyped scrape config an error.
 */
export async function startVictoriaMetrics(options: VictoriaMetricsOptions): Promise<RunningVictoriaMetrics> {
  const daemon = await startDaemon(
    'victoria-metrics',
    options.binary,
    (dir) => writeFileSync(path.join(dir, 'scrape.yml'), stringify({ scrape_configs: options.scrapeConfigs ?? [] })),
    (port, dir) => [
      `-httpListenAddr=127.0.0.1:${port}`,
      `-storageDataPath=${path.join(dir, 'data')}`,
      `-promscrape.config=${path.join(dir, 'scrape.yml')}`,
      '-promscrape.config.strictParse=true',
      '-search.latencyOffset=1s',
      '-retentionPeriod=1d',
      '-loggerLevel=WARN',
      ...(options.extraArgs ?? []),
    ],
  );
  const query = (metricsql: string, time?: number) => postForm<QueryAnswer>(`${daemon.url}/api/v1/query`, { query: metricsql, ...(time === undefined ? {} : { time: String(time) }) });
  return {
    ...daemon,
    query,
    queryRange: (metricsql, start, end, stepSeconds) => postForm<QueryAnswer>(`${daemon.url}/api/v1/query_range`, { query: metricsql, start: String(start), end: String(end), step: `${stepSeconds}s` }),
    labelValues: (label, match, range) =>
      postForm(`${daemon.url}/api/v1/label/${encodeURIComponent(label)}/values`, {
        ...(match === undefined ? {} : { 'match[]': match }),
        ...(range ? { start: String(range.start), end: String(range.end) } : {}),
      }),
    async waitFor(metricsql, accept = hasSeries, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const answer = await query(metricsql);
        if (accept(answer)) return answer;
        if (Date.now() > until) throw new Error(`victoria-metrics: ${metricsql} did not return what the caller waits for within ${timeoutMs} ms; last answer ${JSON.stringify(answer).slice(0, 500)}\n${daemon.log()}`);
        await delay(250);
      }
    },
  };
}

export interface VmalertOptions {
  /** Path of the vmalert binary. */
  binary: string;
  /** The VictoriaMetrics to query (-datasource.url). */
  datasourceUrl: string;
  /** Alertmanager v2 API base URL (-notifier.url). */
  notifierUrl: string;
  /** Rule files by file name (YAML text), each loaded through -rule. */
  ruleFiles: Record<string, string>;
  /** How often every group is evaluated (default 1s). */
  evaluationInterval?: string;
  /** More command-line flags. */
  extraArgs?: string[];
}

/** An alert as vmalert's /api/v1/alerts lists it. */
export interface VmalertAlert {
  name: string;
  state: 'pending' | 'firing' | 'inactive';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  value: string;
}

export interface RunningVmalert extends Daemon {
  /** Active alerts (pending and firing). */
  alerts(): Promise<VmalertAlert[]>;
  /** Rule groups with their last evaluation (/api/v1/rules). */
  groups(): Promise<{ name: string; lastEvaluation?: string; rules: { name: string; lastError?: string; lastEvaluation?: string }[] }[]>;
}

export async function startVmalert(options: VmalertOptions): Promise<RunningVmalert> {
  const daemon = await startDaemon(
    'vmalert',
    options.binary,
    (dir) => {
      for (const [name, text] of Object.entries(options.ruleFiles)) writeFileSync(path.join(dir, name), text);
    },
    (port, dir) => [
      `-httpListenAddr=127.0.0.1:${port}`,
      `-datasource.url=${options.datasourceUrl}`,
      `-notifier.url=${options.notifierUrl}`,
      `-evaluationInterval=${options.evaluationInterval ?? '1s'}`,
      '-loggerLevel=WARN',
      ...Object.keys(options.ruleFiles).map((name) => `-rule=${path.join(dir, name)}`),
      ...(options.extraArgs ?? []),
    ],
  );
  return {
    ...daemon,
    async alerts() {
      const body = (await (await fetch(`${daemon.url}/api/v1/alerts`)).json()) as { data: { alerts: VmalertAlert[] | null } };
      return body.data.alerts ?? [];
    },
    async groups() {
      const body = (await (await fetch(`${daemon.url}/api/v1/rules`)).json()) as { data: { groups: Awaited<ReturnType<RunningVmalert['groups']>> } };
      return body.data.groups;
    },
  };
}

/** One alert as an Alertmanager v2 client posts it (the fields vmalert sets). */
export interface PostedAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

export interface AlertReceiver {
  /** http://127.0.0.1:PORT, for -notifier.url. */
  readonly url: string;
  /** Every alert received, in order. */
  readonly received: readonly PostedAlert[];
  /** Alerts received as firing (endsAt in the future when they arrived), the last copy of each label set. */
  firing(): PostedAlert[];
  close(): Promise<void>;
}

/** The label set as one comparable string. */
export function labelKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * A loopback Alertmanager, as far as a sender sees it: POST /api/v2/alerts with a JSON array of
 * postable alerts (Alertmanager's api/v2/openapi.yaml, postAlerts), answered 200; everything else 404.
 */
export async function startAlertReceiver(onAlert?: (alert: PostedAlert) => void): Promise<AlertReceiver> {
  const received: (PostedAlert & { receivedAt: number })[] = [];
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/api/v2/alerts') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let alerts: PostedAlert[];
      try {
        alerts = JSON.parse(Buffer.concat(chunks).toString('utf8')) as PostedAlert[];
        if (!Array.isArray(alerts)) throw new Error('not an array');
      } catch (error) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 400, message: (error as Error).message }));
        return;
      }
      const now = Date.now();
      for (const alert of alerts) {
        received.push({ ...alert, receivedAt: now });
        onAlert?.(alert);
      }
      res.writeHead(200).end();
    });
  });
  const listening = await listenOnLoopback(server);
  return {
    url: listening.url,
    get received() {
      return received;
    },
    firing() {
      const last = new Map<string, PostedAlert & { receivedAt: number }>();
      for (const alert of received) last.set(labelKey(alert.labels), alert);
      return [...last.values()].filter((a) => !a.endsAt || Date.parse(a.endsAt) > a.receivedAt);
    },
    close: () => listening.close(),
  };
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const RELABEL_FIELDS: Record<string, string> = { sourceLabels: 'source_labels', separator: 'separator', targetLabel: 'target_label', regex: 'regex', modulus: 'modulus', replacement: 'replacement', action: 'action' };
const ENDPOINT_FIELDS = ['port', 'path', 'interval', 'scrapeTimeout', 'honorLabels', 'relabelConfigs'];

/**
 * The scrape config vmagent gets from a VMServiceScrape (deploy/vmservicescrape.yaml, parsed) for
 * one target of its Service, with `cluster` as the value of the relabeling that sets the cluster
 * label (what the per-cluster overlay patch of the deploy docs changes): its interval, timeout, path,
 * honorLabels and relabelConfigs translated; the target labels the operator's kubernetes_sd
 * relabeling leaves (namespace, service, endpoint, pod, container); job named after the Service.
 * An endpoint field this does not translate is an error, so the tests notice a new one.
 */
export function vmServiceScrapeConfig(scrape: Json, cluster: string, target: string): Record<string, unknown> {
  const [endpoint, ...more] = (scrape.spec?.endpoints ?? []) as Json[];
  if (!endpoint || more.length > 0) throw new Error('the VMServiceScrape must have exactly one endpoint');
  const unknown = Object.keys(endpoint).filter((key) => !ENDPOINT_FIELDS.includes(key));
  if (unknown.length > 0) throw new Error(`VMServiceScrape endpoint fields not translated: ${unknown.join(', ')}`);
  const relabelings = (endpoint.relabelConfigs ?? []) as Json[];
  if (!relabelings.some((r) => r.targetLabel === 'cluster')) throw new Error('the VMServiceScrape sets no cluster label');
  const service = String(scrape.spec.selector?.matchLabels?.['app.kubernetes.io/name'] ?? scrape.metadata.name);
  return {
    job_name: `serviceScrape/${scrape.metadata.namespace}/${scrape.metadata.name}/${cluster}`,
    scrape_interval: endpoint.interval,
    scrape_timeout: endpoint.scrapeTimeout,
    metrics_path: endpoint.path,
    honor_labels: endpoint.honorLabels ?? false,
    static_configs: [
      {
        targets: [target],
        labels: { namespace: scrape.metadata.namespace, service, endpoint: endpoint.port, pod: `${service}-${cluster.replace(/[^a-z0-9]/gi, '-')}`, container: service },
      },
    ],
    relabel_configs: [
      { target_label: 'job', replacement: service },
      ...relabelings.map((relabel) => {
        const out = Object.fromEntries(
          Object.entries(relabel).map(([key, value]) => {
            if (!RELABEL_FIELDS[key]) throw new Error(`VMServiceScrape relabelConfigs field not translated: ${key}`);
            return [RELABEL_FIELDS[key], value];
          }),
        );
        if (relabel.targetLabel === 'cluster') out.replacement = cluster;
        return out;
      }),
    ],
  };
}

/** The shipped rule file this vmalert loads: the source (keep_firing_for, v1.92+) when it accepts it, else the compat variant. */
export function ruleFileFor(vmalertBinary: string): string {
  return vmalertDryRun(vmalertBinary, readFileSync(SOURCE_FILE, 'utf8')).ok ? SOURCE_FILE : COMPAT_FILE;
}

/** `vmalert -dryRun -rule=FILE` on the rule groups given as YAML text: whether vmalert accepts them, and what it said. */
export function vmalertDryRun(binary: string, ruleText: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rd-vmalert-dry-'));
  try {
    const file = path.join(dir, 'rules.yaml');
    writeFileSync(file, ruleText);
    const result = spawnSync(binary, ['-dryRun', `-rule=${file}`, '-loggerLevel=WARN'], { encoding: 'utf8', timeout: 30_000 });
    return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.replaceAll(dir, '<dir>') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether a process (victoria-metrics, vmalert) still exists: the tests check that stop() left none. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
