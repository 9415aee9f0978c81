/**
 * Wiring: config -> kube client (real or simulated) -> engine -> HTTP server, and the process
 * lifecycle (SIGTERM stops cleanly, SIGHUP reloads the config). The CLI only parses arguments and
 * hands over to these functions; tests call them directly.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { nextSlice } from './slices.js';
import type { FastifyInstance } from 'fastify';
import { ALL_CHECKS } from './checks/index.js';
import { ConfigError, defaultConfig, type LoadedConfig, loadConfigFile } from './config/load.js';
import { Daemon } from './engine/daemon.js';
import type { Check } from './engine/types.js';
import { type HealthBody, HealthView } from './http/health-view.js';
import { DEFAULT_WIDTH, renderTextView } from './http/text-view.js';
import { buildServer } from './http/server.js';
import { CacheSource } from './kube/cache.js';
import { type Credentials, type CredentialsOptions, CredentialsError, describeIdentity, KubeClient, loadCredentials, type RequestRecord } from './kube/client.js';
import { ListSource } from './kube/lists.js';
import type { SnapshotSource } from './kube/snapshot.js';
import type { ReflectorTiming } from './kube/reflector.js';
import { unknownNameMessage } from './did-you-mean.js';
import { createLogger, type Logger, type LogLevel } from './log.js';
import { Metrics } from './metrics/registry.js';
import { HttpProber, OPEN_OUTBOUND, type OutboundPolicy } from './probe/http.js';
import type { SimulateOptions } from './simulator/session.js';
import type { SimulatedCluster } from './simulator/types.js';
import { packageRoot, VERSION } from './version.js';

export type { SimulateOptions } from './simulator/session.js';

export interface RunOptions {
  configPath?: string;
  /** An already loaded config (tests); wins over configPath and the scenario's file. */
  config?: LoadedConfig;
  kubeconfigPath?: string;
  /** --context: a kubeconfig context; also remediation's kubectlContext unless the config sets one. */
  context?: string;
  /** ROLLOUT_DOCTOR_CONFIG applies (default); the demo ignores it, its scenario has its config. */
  configFromEnvironment?: boolean;
  simulate?: SimulateOptions;
  /**
   * Told once, before the first cycle, which cluster and config a run against a real cluster uses
   * (the CLI prints it as the first stderr line).
   */
  announce?: (line: string) => void;
  logLevel?: LogLevel;
  /** Tests pass their own logger (to read what was logged). */
  log?: Logger;
  /** Only these checks. */
  only?: readonly string[];
  checks?: readonly Check[];
  /**
   * Where probes may go (default: anywhere the config says). A simulation adds its own rules to it
   * (loopback only); tests inject name resolution here.
   */
  outbound?: Partial<OutboundPolicy>;
  /** Wall clock (tests move it to exercise staleness). */
  now?: () => Date;
  /**
   * Where cycles take the cluster from: `watch`, the informer cache (serve), or `list`, every kind
   * listed per cycle (the default here: one-shot checks and tests that set faults per cycle).
   */
  snapshot?: 'watch' | 'list';
  /** The cache's timing (tests and benchmarks shorten it). */
  cache?: { graceMs?: number; timing?: Partial<ReflectorTiming> };
}

/** Where the bundled scenarios live (shipped with the package, see package.json `files`). */
export function bundledScenariosDir(): string {
  return path.join(packageRoot(), 'src', 'simulator', 'scenarios');
}

/** The bundled healthy homelab scenario the demo serves by default. */
export function demoScenarioDir(): string {
  return path.join(bundledScenariosDir(), 'homelab');
}

/**
 * --config, else ROLLOUT_DOCTOR_CONFIG (unless configFromEnvironment is false), else under a
 * simulation the scenario's rollout-doctor.yaml, else the built-in defaults. --context becomes
 * kubectlContext when the config names none.
 */
export async function resolveConfig(options: Pick<RunOptions, 'config' | 'configPath' | 'simulate' | 'context' | 'configFromEnvironment'>): Promise<LoadedConfig> {
  const loaded = await loadChosenConfig(options);
  if (options.context === undefined || loaded.config.kubectlContext !== undefined) return loaded;
  return { ...loaded, config: { ...loaded.config, kubectlContext: options.context } };
}

async function loadChosenConfig(options: Pick<RunOptions, 'config' | 'configPath' | 'simulate' | 'configFromEnvironment'>): Promise<LoadedConfig> {
  if (options.config) return options.config;
  if (options.configPath) return loadConfigFile(options.configPath);
  const fromEnvironment = options.configFromEnvironment === false ? undefined : process.env.ROLLOUT_DOCTOR_CONFIG;
  if (fromEnvironment) return loadConfigFile(fromEnvironment);
  if (options.simulate) {
    const { scenarioConfigFile } = await import('./simulator/load.js');
    const file = await scenarioFailure(options.simulate.dir, () => scenarioConfigFile(options.simulate!.dir));
    if (file) return loadConfigFile(file);
  }
  return defaultConfig();
}

/** A scenario that cannot be read or started is a start-up error naming it (exit 2). */
async function scenarioFailure<T>(dir: string, run: () => Promise<T>): Promise<T> {
  if (!existsSync(dir)) throw new ConfigError(`${dir}: simulation folder not found`);
  try {
    return await run();
  } catch (error) {
    throw new ConfigError(`--simulate ${dir}: ${(error as Error).message}`);
  }
}

/** Everything a running rollout-doctor holds, so it can be stopped in one call. */
export interface Runtime {
  daemon: Daemon;
  /** Where cycles take the cluster from (the cache, or lists per cycle). */
  source: SnapshotSource;
  metrics: Metrics;
  /** The /health renderer, fed by the daemon's cycles. */
  health: HealthView;
  prober: HttpProber;
  client: KubeClient;
  simulator?: SimulatedCluster;
  log: Logger;
  close(): Promise<void>;
}

export async function createRuntime(options: RunOptions): Promise<Runtime> {
  const log = options.log ?? createLogger(options.logLevel ?? 'info');
  const checks = options.checks ?? ALL_CHECKS;
  const unknownChecks = (options.only ?? []).filter((id) => !checks.some((c) => c.id === id));
  if (unknownChecks.length > 0) {
    const ids = checks.map((c) => c.id);
    throw new ConfigError(unknownChecks.map((id) => `--check: ${unknownNameMessage(`unknown check "${id}"`, id, ids, 'checks')}`).join('\n'));
  }
  const loaded = await resolveConfig(options);
  // The simulator is loaded only when asked for: `serve` against a cluster never imports it.
  const simulation = options.simulate
    ? await scenarioFailure(options.simulate.dir, async () => (await import('./simulator/session.js')).startSimulation(options.simulate!, options.outbound))
    : undefined;
  const simulator = simulation?.cluster;
  const credentialsOptions: CredentialsOptions = { kubeconfigPath: options.kubeconfigPath, context: options.context, kubeconfig: simulation?.kubeconfig };
  let credentials;
  try {
    credentials = loadCredentials(credentialsOptions);
  } catch (error) {
    await simulator?.close();
    throw error;
  }
  const kc = credentials.kc;
  const metrics = new Metrics({ checks, version: VERSION, intervalSeconds: 30 });
  const client = new KubeClient(kc, { requestTimeoutMs: loaded.config.timeouts.requestMs, identity: describeIdentity(kc, credentialsOptions) });
  // Counting goes through the daemon's cycle observer; the client itself stays metrics-free.
  const prober = new HttpProber(simulation?.outbound ?? { ...OPEN_OUTBOUND, ...options.outbound });
  const onRequest = (record: RequestRecord) => metrics.recordRequest(record);
  const source =
    options.snapshot === 'watch'
      ? new CacheSource(client, {
          // A kind that worked keeps serving from the cache through failures shorter than a schedule interval.
          graceMs: () => options.cache?.graceMs ?? daemon.scheduleIntervalSeconds * 1000,
          timing: options.cache?.timing,
          onRequest,
          onModeChange: (kind, mode, reason) => {
            if (mode === 'poll') log.warn({ event: 'watch_forbidden', kind }, `${reason}: listing ${kind} every cycle instead`);
            else log.info({ event: 'watch_allowed', kind }, `watching ${kind} again`);
          },
        })
      : new ListSource(client);
  const daemon: Daemon = new Daemon({
    client,
    source,
    checks,
    config: loaded,
    prober,
    log,
    onRequest,
    only: options.only,
    now: options.now,
    evaluationTime: simulation?.now ? () => simulation.now! : undefined,
  });
  if (!simulation) options.announce?.(describeRun(credentials, client.server, loaded));
  // Data flows one way: the daemon publishes each finished cycle, the renderers subscribe.
  const health = new HealthView(() => daemon.staleForMs(), () => (options.now?.() ?? new Date()).getTime());
  // A cycle renders /metrics, then /health, whose first render makes /readyz ready: ready means
  // both endpoints show a cycle. A re-evaluation renders /health first, so the verdict a change
  // brings does not wait for the exposition (at 1,000 Rollouts the longer render, scraped only every
  // 30 s; docs/performance.md).
  daemon.subscribe(async (event) => {
    if (event.type === 'partial') {
      await health.update(event);
      await nextSlice();
      await metrics.update(event);
    } else {
      await metrics.update(event);
      await nextSlice();
      await health.update(event);
    }
  });
  log.info(
    {
      event: 'start',
      version: VERSION,
      config: loaded.file ?? '<defaults>',
      cluster: simulator ? `simulated (${options.simulate!.dir})` : client.server,
      schedule: loaded.config.schedule,
      checks: daemon.checks().map((c) => c.id),
    },
    'rollout-doctor starting',
  );
  return {
    daemon,
    source,
    metrics,
    health,
    prober,
    client,
    simulator,
    log,
    async close() {
      await daemon.stop();
      await prober.close();
      await client.close();
      await simulator?.close();
    },
  };
}

/** `context "homelab" at https://127.0.0.1:6443 (~/.kube/config); config: checks/homelab.yaml`. */
function describeRun(credentials: Credentials, server: string, loaded: LoadedConfig): string {
  const cluster = credentials.context === undefined ? `${credentials.source} at ${server}` : `context "${credentials.context}" at ${server} (${credentials.source})`;
  return `${cluster}; config: ${loaded.file ?? 'built-in defaults (no --config, ROLLOUT_DOCTOR_CONFIG unset)'}`;
}

export interface CheckOutput {
  body: HealthBody;
  json: string;
  text: string;
  exitCode: CheckExitCode;
}

/** `check`'s exit code: 0 nothing fails, 1 something fails, 3 nothing fails but something is unknown (2: usage and config errors). */
export type CheckExitCode = 0 | 1 | 3;

/** The exit code for a /health document: its overall status, muted results left out. */
export function checkExitCode(body: HealthBody): CheckExitCode {
  return body.status === 'fail' ? 1 : body.status === 'unknown' ? 3 : 0;
}

/** One cycle, the /health document of it, and the exit code (checkExitCode). */
export async function runCheckOnce(options: RunOptions): Promise<CheckOutput> {
  const runtime = await createRuntime({ ...options, logLevel: options.logLevel ?? 'warn' });
  try {
    await runtime.daemon.runOnce();
    const { body } = runtime.health.health();
    return { body, json: JSON.stringify(body, null, 2), text: renderTextView(body, runtime.health.nowMs(), { width: DEFAULT_WIDTH }), exitCode: checkExitCode(body) };
  } finally {
    await runtime.close();
  }
}

export interface ListenAddress {
  host: string;
  port: number;
  /** Where it came from, for messages: `--listen 0.0.0.0:9464`, `ROLLOUT_DOCTOR_LISTEN=...`. */
  label?: string;
}

/** HOST:PORT; `label` names where the text came from in the error (a flag or a variable). */
export function parseListen(value: string, label = `--listen ${value}`): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65535) throw new ConfigError(`${label}: expected HOST:PORT (e.g. 127.0.0.1:9464, 0.0.0.0:9464, [::1]:9464)`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port, label };
}

export interface Served {
  runtime: Runtime;
  server: FastifyInstance;
  /** http://host:port actually bound. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts the HTTP server and the schedule (the first cycle runs at once). `onListening` runs once
 * the server listens, before the first cycle (the demo prints its banner there, above the logs).
 */
export async function serve(options: RunOptions & { listen: ListenAddress; onListening?: (url: string) => void }): Promise<Served> {
  const runtime = await createRuntime({ snapshot: 'watch', ...options });
  const { daemon, metrics, health, log } = runtime;
  const server = buildServer({ health, metrics, log, checkIds: () => daemon.checks().map((c) => c.id) });
  try {
    await server.listen({ host: options.listen.host, port: options.listen.port });
  } catch (error) {
    await runtime.close();
    throw new ConfigError(`${options.listen.label ?? `--listen ${options.listen.host}:${options.listen.port}`}: ${(error as Error).message}`);
  }
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : options.listen.port;
  const host = options.listen.host.includes(':') ? `[${options.listen.host}]` : options.listen.host;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  log.info({ event: 'listening', url }, `serving /health and /metrics on ${url}`);
  options.onListening?.(url);
  daemon.start();
  let stopping: Promise<void> | undefined;
  return {
    runtime,
    server,
    url,
    stop() {
      stopping ??= (async () => {
        await runtime.close();
        await server.close();
      })();
      return stopping;
    },
  };
}

/** Reloads the config file on SIGHUP; a bad file keeps the old config, logged and counted. */
export async function reloadConfig(served: Served, options: RunOptions): Promise<boolean> {
  const { daemon, metrics, log } = served.runtime;
  try {
    const next = await resolveConfig(options);
    await daemon.reload(next);
    metrics.recordReload(true);
    log.info({ event: 'config_reloaded', config: next.file ?? '<defaults>' }, 'config reloaded');
    return true;
  } catch (error) {
    metrics.recordReload(false);
    log.error({ event: 'config_reload_failed' }, `config reload failed, keeping the previous config: ${(error as Error).message}`);
    return false;
  }
}

export function isStartupError(error: unknown): error is ConfigError | CredentialsError {
  return error instanceof ConfigError || error instanceof CredentialsError;
}
