/**
 * Wiring: config -> kube client (real or simulated) -> engine -> HTTP server, and the process
 * lifecycle (SIGTERM stops cleanly, SIGHUP reloads the config). The CLI only parses arguments and
 * hands over to these functions; tests call them directly.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ALL_CHECKS } from './checks/index.js';
import { ConfigError, defaultConfig, type LoadedConfig, loadConfigFile } from './config/load.js';
import { Daemon } from './engine/daemon.js';
import type { Check } from './engine/types.js';
import { type HealthBody, HealthView } from './http/health-view.js';
import { DEFAULT_WIDTH, renderTextView } from './http/text-view.js';
import { buildServer } from './http/server.js';
import { CredentialsError, describeIdentity, KubeClient, loadKubeConfig } from './kube/client.js';
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
  simulate?: SimulateOptions;
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
}

/** The bundled healthy homelab scenario the demo serves. */
export function demoScenarioDir(): string {
  return path.join(packageRoot(), 'src', 'simulator', 'scenarios', 'homelab');
}

/** --config, else the scenario's rollout-doctor.yaml, else ROLLOUT_DOCTOR_CONFIG, else defaults. */
export async function resolveConfig(options: Pick<RunOptions, 'config' | 'configPath' | 'simulate'>): Promise<LoadedConfig> {
  if (options.config) return options.config;
  if (options.configPath) return loadConfigFile(options.configPath);
  if (options.simulate) {
    const scenarioConfig = path.join(options.simulate.dir, 'rollout-doctor.yaml');
    if (existsSync(scenarioConfig)) return loadConfigFile(scenarioConfig);
  }
  if (process.env.ROLLOUT_DOCTOR_CONFIG) return loadConfigFile(process.env.ROLLOUT_DOCTOR_CONFIG);
  return defaultConfig();
}

/** Everything a running rollout-doctor holds, so it can be stopped in one call. */
export interface Runtime {
  daemon: Daemon;
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
  const loaded = await resolveConfig(options);
  if (options.simulate && !existsSync(options.simulate.dir)) throw new ConfigError(`${options.simulate.dir}: simulation folder not found`);
  // The simulator is loaded only when asked for: `serve` against a cluster never imports it.
  const simulation = options.simulate ? await (await import('./simulator/session.js')).startSimulation(options.simulate, options.outbound) : undefined;
  const simulator = simulation?.cluster;
  const checks = options.checks ?? ALL_CHECKS;
  const unknownChecks = (options.only ?? []).filter((id) => !checks.some((c) => c.id === id));
  if (unknownChecks.length > 0) {
    await simulator?.close();
    throw new ConfigError(`--check: unknown check ${unknownChecks.map((c) => `"${c}"`).join(', ')} (known: ${checks.map((c) => c.id).join(', ')})`);
  }
  let kc;
  const credentials = { kubeconfigPath: options.kubeconfigPath, kubeconfig: simulation?.kubeconfig };
  try {
    kc = loadKubeConfig(credentials);
  } catch (error) {
    await simulator?.close();
    throw error;
  }
  const metrics = new Metrics({ checks, version: VERSION, intervalSeconds: 30 });
  const client = new KubeClient(kc, { requestTimeoutMs: loaded.config.timeouts.requestMs, identity: describeIdentity(kc, credentials) });
  // Counting goes through the daemon's cycle observer; the client itself stays metrics-free.
  const prober = new HttpProber(simulation?.outbound ?? { ...OPEN_OUTBOUND, ...options.outbound });
  const daemon = new Daemon({
    client,
    checks,
    config: loaded,
    prober,
    log,
    onRequest: (record) => metrics.recordRequest(record),
    only: options.only,
    now: options.now,
    evaluationTime: options.simulate?.now ? () => options.simulate!.now! : undefined,
  });
  // Data flows one way: the daemon publishes each finished cycle, the renderers subscribe.
  const health = new HealthView(() => daemon.staleForMs(), () => (options.now?.() ?? new Date()).getTime());
  daemon.subscribe((event) => metrics.update(event));
  daemon.subscribe((event) => health.update(event));
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
}

export function parseListen(value: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65535) throw new ConfigError(`--listen ${value}: expected HOST:PORT (e.g. 0.0.0.0:9464, 127.0.0.1:9464, [::1]:9464)`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

export interface Served {
  runtime: Runtime;
  server: FastifyInstance;
  /** http://host:port actually bound. */
  url: string;
  stop(): Promise<void>;
}

/** Starts the HTTP server and the schedule (the first cycle runs at once). */
export async function serve(options: RunOptions & { listen: ListenAddress }): Promise<Served> {
  const runtime = await createRuntime(options);
  const { daemon, metrics, health, log } = runtime;
  const server = buildServer({ health, metrics, log });
  try {
    await server.listen({ host: options.listen.host, port: options.listen.port });
  } catch (error) {
    await runtime.close();
    throw new ConfigError(`--listen ${options.listen.host}:${options.listen.port}: ${(error as Error).message}`);
  }
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : options.listen.port;
  const host = options.listen.host.includes(':') ? `[${options.listen.host}]` : options.listen.host;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  daemon.start();
  log.info({ event: 'listening', url }, `serving /health and /metrics on ${url}`);
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
