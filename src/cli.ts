#!/usr/bin/env node
/**
 * Argument parsing only: flags win over the environment, usage and config errors exit 2, and
 * everything else is handed over to main.ts (serve, check, demo), or to the simulator (simulate).
 */
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, isLogLevel, type LogLevel } from './log.js';
import { loadConfigFile } from './config/load.js';
import { unknownNameMessage } from './did-you-mean.js';
import {
  bundledScenariosDir,
  isStartupError,
  type ListenAddress,
  parseListen,
  reloadConfig,
  type RunOptions,
  runCheckOnce,
  serve,
  type Served,
  type SimulateOptions,
} from './main.js';
import { renderTextView } from './http/text-view.js';
import type { Fault } from './simulator/types.js';
import { terminalOptions, watchChecks } from './terminal.js';
import { VERSION } from './version.js';

const USAGE = `rollout-doctor ${VERSION}: runbook checks for Argo Rollouts, as /health and Prometheus metrics

Usage:
  rollout-doctor serve [--config FILE] [--listen HOST:PORT] [--kubeconfig FILE] [--context NAME]
  rollout-doctor check [--config FILE] [-o|--output table|json] [--check ID]... [--kubeconfig FILE] [--context NAME]
                       [--verbose] [--watch]
  rollout-doctor config check [FILE]
  rollout-doctor demo  [--scenario NAME] [--listen HOST:PORT]
  rollout-doctor demo  --list
  rollout-doctor simulate DIR [--listen 127.0.0.1:PORT] [--kubeconfig-out FILE] [--enforce-rbac USER]
                              [--latency-ms N] [--fault RES=FAULT]... [--shuffle-lists]

serve and check run against the current kubectl context (--context NAME picks another one and
becomes the remediation's kubectlContext unless the config sets one; in a pod, its service
account), with the built-in defaults unless --config or ROLLOUT_DOCTOR_CONFIG names a config. The
first line on stderr says which context, server and config. serve listens on 127.0.0.1:9464 unless
--listen or ROLLOUT_DOCTOR_LISTEN says otherwise (the container image sets 0.0.0.0:9464).
config check validates a config file (default ROLLOUT_DOCTOR_CONFIG) and prints every error: exit 0
when valid, 2 otherwise. demo serves a bundled scenario (default homelab, healthy; --list shows the
incident scenarios) on 127.0.0.1:9464.

Simulation (serve and check):
  --simulate DIR                 run against a simulated cluster loaded from DIR (its
                                 rollout-doctor.yaml is the config unless --config or
                                 ROLLOUT_DOCTOR_CONFIG names one)
  --simulate-latency-ms N        add N ms to every simulated API request
  --simulate-fault RES=FAULT     fail every request for RES (rollouts, rollouts.argoproj.io, pods,
                                 pods/log, deployments.apps, ...): FAULT is an HTTP status, hang,
                                 garbage or truncate (repeatable)
  --simulate-enforce-rbac USER   authorize rollout-doctor's requests as USER with the RBAC objects in DIR
  --simulate-now ISO-8601        evaluate the checks at this time (default: the scenario's own time)
  --simulate-shuffle-lists       answer every list with its items in random order

simulate serves DIR as a Kubernetes API (HTTPS, a CA generated at start) for any client until
SIGTERM or SIGINT. It prints "server: URL" and "kubeconfig: FILE" (a kubeconfig with the CA and a
token; --kubeconfig-out, default a file in the OS temp dir) and logs nothing else on stdout.
--listen must be a loopback address; --fault and --latency-ms work as the --simulate-* flags, and a
VERB: prefix limits a fault to one verb (watch:pods=410, watch:pods=stall, list:*=hang).

Other flags:
  --log-level LEVEL              fatal, error, warn, info, debug, trace or silent
  -h, --help                     this text
  -v, --version                  the version

Environment (flags win): LOG_LEVEL, KUBECONFIG, ROLLOUT_DOCTOR_LISTEN (serve: 127.0.0.1:9464),
ROLLOUT_DOCTOR_CONFIG, LITELLM_KEY and other endpoint tokens named in the config.

check --output table prints the text view: problems first, ok results one line per check (every
result with --verbose), fitted to COLUMNS or the terminal (100 columns otherwise), in colour on a
terminal unless NO_COLOR is set. --watch runs the checks on the config's schedule and redraws the
view after every cycle until Ctrl-C.

check exits 0 when nothing fails, 1 when something fails, 3 when nothing fails but something is
unknown (muted results aside), 2 on usage or config errors; --watch exits with the last cycle's code.
`;

/** Where `serve` listens when neither --listen nor ROLLOUT_DOCTOR_LISTEN says: this machine only. */
const DEFAULT_LISTEN = '127.0.0.1:9464';

class UsageError extends Error {}

const OPTIONS = {
  config: { type: 'string' },
  listen: { type: 'string' },
  kubeconfig: { type: 'string' },
  output: { type: 'string', short: 'o' },
  context: { type: 'string' },
  scenario: { type: 'string' },
  list: { type: 'boolean' },
  check: { type: 'string', multiple: true },
  verbose: { type: 'boolean' },
  watch: { type: 'boolean', short: 'w' },
  simulate: { type: 'string' },
  'simulate-latency-ms': { type: 'string' },
  'simulate-fault': { type: 'string', multiple: true },
  'simulate-enforce-rbac': { type: 'string' },
  'simulate-now': { type: 'string' },
  'simulate-shuffle-lists': { type: 'boolean' },
  'kubeconfig-out': { type: 'string' },
  'enforce-rbac': { type: 'string' },
  'latency-ms': { type: 'string' },
  fault: { type: 'string', multiple: true },
  'shuffle-lists': { type: 'boolean' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

const SIMULATE_FLAGS = ['simulate', 'simulate-latency-ms', 'simulate-fault', 'simulate-enforce-rbac', 'simulate-now', 'simulate-shuffle-lists'];

const ALLOWED: Record<string, readonly string[]> = {
  serve: ['config', 'listen', 'kubeconfig', 'context', ...SIMULATE_FLAGS, 'log-level'],
  check: ['config', 'output', 'check', 'kubeconfig', 'context', 'verbose', 'watch', ...SIMULATE_FLAGS, 'log-level'],
  config: [],
  demo: ['scenario', 'list', 'listen', 'log-level', 'simulate-latency-ms', 'simulate-fault', 'simulate-now', 'simulate-shuffle-lists'],
  simulate: ['listen', 'kubeconfig-out', 'enforce-rbac', 'latency-ms', 'fault', 'shuffle-lists', 'log-level'],
};

/** Positional arguments each command takes after its name. */
const MAX_POSITIONALS: Record<string, number> = { simulate: 1, config: 2 };

function parseFault(value: string, flag = '--simulate-fault'): [string, Fault] {
  const at = value.lastIndexOf('=');
  const resource = value.slice(0, at);
  const fault = value.slice(at + 1);
  if (at <= 0 || !fault) throw new UsageError(`${flag} ${value}: expected RESOURCE=FAULT, e.g. pods=403 or rollouts=hang`);
  if (fault === 'hang' || fault === 'stall' || fault === 'garbage' || fault === 'truncate') return [resource, fault];
  const status = Number(fault);
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new UsageError(`${flag} ${value}: FAULT must be an HTTP status (100-599), hang, stall, garbage or truncate`);
  }
  return [resource, status];
}

function milliseconds(flag: string, value: unknown): number {
  const ms = Number(value);
  if (!Number.isFinite(ms) || ms < 0) throw new UsageError(`--${flag} ${String(value)}: expected a number of milliseconds`);
  return ms;
}

function simulateOptions(values: Record<string, unknown>, dir: string | undefined): SimulateOptions | undefined {
  const related = SIMULATE_FLAGS.slice(1).filter((k) => values[k] !== undefined);
  if (!dir) {
    if (related.length > 0) throw new UsageError(`--${related[0]} needs --simulate DIR`);
    return undefined;
  }
  const options: SimulateOptions = { dir };
  if (values['simulate-latency-ms'] !== undefined) options.latencyMs = milliseconds('simulate-latency-ms', values['simulate-latency-ms']);
  if (values['simulate-shuffle-lists']) options.shuffleLists = true;
  if (values['simulate-fault']) options.faults = Object.fromEntries((values['simulate-fault'] as string[]).map((f) => parseFault(f)));
  if (values['simulate-enforce-rbac']) options.enforceRbacSubject = values['simulate-enforce-rbac'] as string;
  if (values['simulate-now']) {
    const now = new Date(values['simulate-now'] as string);
    if (Number.isNaN(now.getTime())) throw new UsageError(`--simulate-now ${String(values['simulate-now'])}: expected an ISO-8601 date-time`);
    options.now = now;
  }
  return options;
}

function logLevel(value: string | undefined, fallback: LogLevel): LogLevel {
  const level = value ?? process.env.LOG_LEVEL;
  if (level === undefined || level === '') return fallback;
  if (!isLogLevel(level)) throw new UsageError(`log level "${level}": expected fatal, error, warn, info, debug, trace or silent`);
  return level;
}

function onSignals(served: Served, options: RunOptions): void {
  const log = served.runtime.log;
  const shutdown = (signal: string) => {
    log.info({ event: 'stop', signal }, `${signal}: stopping (in-flight requests aborted)`);
    served.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => void reloadConfig(served, options));
}

/** A loopback HOST:PORT for `simulate --listen` (anything else: a usage error, exit 2). */
function loopbackListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const host = m ? (m[1] ?? m[2] ?? '') : '';
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) throw new UsageError(`--listen ${value}: expected HOST:PORT with a loopback HOST (127.0.0.1:0, [::1]:6443)`);
  const isLoopback = host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  if (!isLoopback) throw new UsageError(`--listen ${value}: ${host || '(all interfaces)'} is not a loopback address; the simulated cluster only listens on 127.0.0.0/8 or ::1`);
  return { host, port };
}

/** `rollout-doctor simulate DIR`: the simulated cluster for any client, until SIGTERM/SIGINT. */
async function simulate(values: Record<string, unknown>, dir: string | undefined): Promise<number> {
  if (!dir) throw new UsageError('simulate needs a scenario folder: rollout-doctor simulate DIR');
  const listen = loopbackListen((values['listen'] as string | undefined) ?? '127.0.0.1:0');
  const faults = Object.fromEntries(((values['fault'] as string[] | undefined) ?? []).map((f) => parseFault(f, '--fault')));
  const latencyMs = values['latency-ms'] === undefined ? undefined : milliseconds('latency-ms', values['latency-ms']);
  const kubeconfigPath = path.resolve((values['kubeconfig-out'] as string | undefined) ?? path.join(os.tmpdir(), `rollout-doctor-simulate-${process.pid}.kubeconfig`));
  if (!existsSync(dir)) throw new StartupError(`${dir}: simulation folder not found`);
  const log = createLogger(logLevel(values['log-level'] as string | undefined, 'info'));
  const { startSimulator } = await import('./simulator/index.js');
  let cluster;
  try {
    cluster = await startSimulator({
      dir,
      host: listen.host,
      port: listen.port,
      faults,
      latencyMs,
      enforceRbacSubject: values['enforce-rbac'] as string | undefined,
      shuffleLists: Boolean(values['shuffle-lists']),
    });
  } catch (error) {
    throw new StartupError(`simulate ${dir}: ${(error as Error).message}`);
  }
  writeFileSync(kubeconfigPath, cluster.kubeconfigYaml(), { mode: 0o600 });
  log.info({ event: 'simulating', dir, server: cluster.url, kubeconfig: kubeconfigPath, apps: cluster.apps }, `serving ${dir} at ${cluster.url}`);
  process.stdout.write(`server: ${cluster.url}\nkubeconfig: ${kubeconfigPath}\n`);
  const running = cluster;
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info({ event: 'stop', signal }, `${signal}: stopping the simulated cluster`);
      void running.close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/** `check --watch`: the text view redrawn every cycle until SIGINT or SIGTERM. */
async function watch(options: RunOptions, output: string, verbose: boolean): Promise<number> {
  if (output !== 'table') throw new UsageError('--watch redraws the table: it takes no --output json');
  const stop = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  return watchChecks(options, process.stdout, process.env, verbose, stop);
}

/** A start-up failure of `simulate` (a missing folder, a bad scenario, a port in use): exit 2. */
class StartupError extends Error {}

/** `rollout-doctor config check [FILE]`: every error of the file, or what it configures; 0 or 2. */
async function configCheck(file: string | undefined): Promise<number> {
  const target = file ?? process.env.ROLLOUT_DOCTOR_CONFIG;
  if (!target) throw new UsageError('config check needs a FILE (or ROLLOUT_DOCTOR_CONFIG): rollout-doctor config check checks/example.yaml');
  const { config } = await loadConfigFile(target);
  const enabled = Object.values(config.checks).filter((c) => c.enabled).length;
  process.stdout.write(
    `${target}: valid: schedule "${config.schedule}", ${enabled} of ${Object.keys(config.checks).length} checks enabled, ` +
      `${config.endpoints.length} endpoints, ${config.expectedRollouts.length} expected rollouts, ${config.mute.length} mutes\n`,
  );
  return 0;
}

/** serve's address: --listen, else ROLLOUT_DOCTOR_LISTEN, else this machine only. */
function serveListen(flag: string | undefined): ListenAddress {
  if (flag !== undefined) return parseListen(flag);
  const fromEnvironment = process.env.ROLLOUT_DOCTOR_LISTEN;
  if (fromEnvironment) return parseListen(fromEnvironment, `ROLLOUT_DOCTOR_LISTEN=${fromEnvironment}`);
  return defaultListen();
}

function defaultListen(): ListenAddress {
  return parseListen(DEFAULT_LISTEN, `${DEFAULT_LISTEN} (the default; --listen HOST:PORT picks another)`);
}

/** Against a real cluster, the first stderr line: which context, server and config. */
function announce(line: string): void {
  process.stderr.write(`rollout-doctor: ${line}\n`);
}

/** --context picks a kubeconfig context: a simulation has its own cluster. */
function contextOption(values: { context?: string; simulate?: string }): string | undefined {
  if (values.context !== undefined && values.simulate !== undefined) throw new UsageError('--context picks a kubeconfig context; --simulate DIR brings its own cluster');
  return values.context;
}

/** What `check` and `serve` share: the config, the cluster (kubeconfig, context or simulation), the log level. */
function runOptions(
  values: { config?: string; kubeconfig?: string; context?: string; simulate?: string; 'log-level'?: string } & Record<string, unknown>,
  defaultLevel: LogLevel,
): RunOptions {
  return {
    configPath: values.config,
    kubeconfigPath: values.kubeconfig,
    context: contextOption(values),
    simulate: simulateOptions(values, values.simulate),
    logLevel: logLevel(values['log-level'], defaultLevel),
    announce,
  };
}

/** `rollout-doctor demo --list`: each bundled scenario with its one-line description. */
async function listDemoScenarios(): Promise<number> {
  const { listScenarios } = await import('./simulator/load.js');
  const scenarios = await listScenarios(bundledScenariosDir());
  const width = Math.max(...scenarios.map((s) => s.name.length));
  for (const scenario of scenarios) process.stdout.write(`${scenario.name.padEnd(width)}  ${scenario.description ?? '(no description: add a scenario.yaml)'}\n`);
  return 0;
}

/** The bundled scenario `name` (default homelab), or a usage error listing them. */
async function demoScenario(name: string): Promise<{ name: string; dir: string; description?: string }> {
  const { listScenarios } = await import('./simulator/load.js');
  const scenarios = await listScenarios(bundledScenariosDir());
  const found = scenarios.find((s) => s.name === name);
  if (!found) throw new UsageError(unknownNameMessage(`--scenario ${name}: no such scenario`, name, scenarios.map((s) => s.name), 'scenarios'));
  return found;
}

/** What the demo prints before its first cycle: every URL, and kubectl against its cluster. */
function demoBanner(scenario: { name: string; description?: string }, url: string, kubeconfig: string): string {
  const urls: [string, string][] = [
    [`curl -s '${url}/health?format=text'`, 'the results, a table'],
    [`curl -s ${url}/health | jq .`, 'the same as JSON'],
    [`curl -s '${url}/health?check=controller-pods'`, 'one check (?target=T: one target)'],
    [`curl -s ${url}/metrics | grep '^rollout_doctor_'`, 'Prometheus metrics'],
    [`curl -s ${url}/livez`, '200 while the process serves'],
    [`curl -s ${url}/readyz`, '200 once the first cycle completed'],
  ];
  const width = Math.max(...urls.map(([command]) => command.length));
  const kubectl = `kubectl --kubeconfig ${kubeconfig}`;
  return (
    `rollout-doctor demo: serving the simulated ${scenario.name === 'homelab' ? 'homelab' : `scenario ${scenario.name}`} on ${url}\n` +
    (scenario.description ? `  (${scenario.description})\n` : '') +
    '\n' +
    urls.map(([command, what]) => `  ${command.padEnd(width)}  # ${what}\n`).join('') +
    `\nThe simulated cluster answers kubectl (kubeconfig: ${kubeconfig}):\n\n` +
    `  ${kubectl} get rollouts -A\n` +
    `  ${kubectl} get pods -n argo-rollouts\n` +
    `  ${kubectl} logs -n argo-rollouts deploy/argo-rollouts --tail=20\n` +
    `  ${kubectl} auth can-i create ciliumenvoyconfigs --as=system:serviceaccount:argo-rollouts:argo-rollouts\n\n` +
    'Other scenarios: rollout-doctor demo --list. Ctrl-C stops it.\n' +
    'Logs follow on stderr (level warn; LOG_LEVEL=info also logs every status change).\n\n'
  );
}

/** `rollout-doctor demo`: a bundled scenario served as `serve --simulate` would, until Ctrl-C. */
async function demo(values: Record<string, unknown>): Promise<number> {
  if (values['list']) return listDemoScenarios();
  const scenario = await demoScenario((values['scenario'] as string | undefined) ?? 'homelab');
  const kubeconfigPath = path.join(os.tmpdir(), `rollout-doctor-demo-${process.pid}.kubeconfig`);
  const options: RunOptions = {
    simulate: { ...simulateOptions(values, scenario.dir)!, kubeconfigPath },
    configFromEnvironment: false,
    logLevel: logLevel(values['log-level'] as string | undefined, 'warn'),
  };
  const listen = values['listen'] === undefined ? defaultListen() : parseListen(values['listen'] as string);
  const served = await serve({ ...options, listen, onListening: (url) => process.stdout.write(demoBanner(scenario, url, kubeconfigPath)) });
  onSignals(served, options);
  return new Promise<number>(() => undefined);
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`rollout-doctor: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = positionals[0];
  if (values.help || !command) {
    (values.help ? process.stdout : process.stderr).write(USAGE);
    return values.help ? 0 : 2;
  }
  try {
    if (!ALLOWED[command]) throw new UsageError(`unknown command "${command}" (serve, check, config check, demo or simulate)`);
    const maxPositionals = 1 + (MAX_POSITIONALS[command] ?? 0);
    if (positionals.length > maxPositionals) throw new UsageError(`unexpected argument "${positionals[maxPositionals]}"`);
    const misplaced = Object.keys(values).filter((k) => values[k as keyof typeof values] !== undefined && !ALLOWED[command]!.includes(k));
    if (misplaced.length > 0) throw new UsageError(`--${misplaced[0]} is not an option of ${command}`);

    if (command === 'simulate') return await simulate(values, positionals[1]);
    if (command === 'config') {
      if (positionals[1] !== 'check') throw new UsageError(`config ${positionals[1] ?? ''}`.trim() + ': the config command is "config check [FILE]"');
      return await configCheck(positionals[2]);
    }
    if (command === 'demo') return await demo(values);

    if (command === 'check') {
      const output = values.output ?? 'table';
      if (output !== 'table' && output !== 'json') throw new UsageError(`--output ${output}: expected table or json`);
      const options: RunOptions = { ...runOptions(values, 'warn'), only: values.check };
      if (values.watch) return await watch(options, output, Boolean(values.verbose));
      const result = await runCheckOnce(options);
      process.stdout.write(output === 'json' ? `${result.json}\n` : renderTextView(result.body, Date.now(), terminalOptions(process.stdout, process.env, Boolean(values.verbose))));
      return result.exitCode;
    }

    const options = runOptions(values, 'info');
    const served = await serve({ ...options, listen: serveListen(values.listen) });
    onSignals(served, options);
    return new Promise<number>(() => undefined);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`rollout-doctor: ${error.message}\n(see rollout-doctor --help)\n`);
      return 2;
    }
    if (isStartupError(error) || error instanceof StartupError) {
      process.stderr.write(`rollout-doctor: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`rollout-doctor: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

const exitCode = await main(process.argv.slice(2));
process.exitCode = exitCode;
