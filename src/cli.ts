#!/usr/bin/env node
/**
 * Argument parsing only: flags win over the environment, usage and config errors exit 2, and
 * everything else is handed over to main.ts (serve, check, demo).
 */
import { parseArgs } from 'node:util';
import { isLogLevel, type LogLevel } from './log.js';
import {
  demoScenarioDir,
  isStartupError,
  parseListen,
  reloadConfig,
  type RunOptions,
  runCheckOnce,
  serve,
  type Served,
  type SimulateOptions,
} from './main.js';
import type { Fault } from './simulator/types.js';
import { VERSION } from './version.js';

const USAGE = `rollout-doctor ${VERSION}: runbook checks for Argo Rollouts, as /health and Prometheus metrics

Usage:
  rollout-doctor serve [--config FILE] [--listen HOST:PORT] [--kubeconfig FILE]
  rollout-doctor check [--config FILE] [--output table|json] [--check ID]... [--kubeconfig FILE]
  rollout-doctor demo  [--listen HOST:PORT]

Simulation (serve and check):
  --simulate DIR                 run against a simulated cluster loaded from DIR (its
                                 rollout-doctor.yaml is the config unless --config is given)
  --simulate-latency-ms N        add N ms to every simulated API request
  --simulate-fault RES=FAULT     fail every request for RES (rollouts, pods, pods/log, ...):
                                 FAULT is an HTTP status, hang, garbage or truncate (repeatable)
  --simulate-enforce-rbac USER   authorize rollout-doctor's requests as USER with the RBAC objects in DIR
  --simulate-now ISO-8601        evaluate the checks at this time

Other flags:
  --log-level LEVEL              fatal, error, warn, info, debug, trace or silent
  -h, --help                     this text
  -v, --version                  the version

Environment (flags win): LOG_LEVEL, KUBECONFIG, ROLLOUT_DOCTOR_LISTEN (serve: 0.0.0.0:9464),
ROLLOUT_DOCTOR_CONFIG, LITELLM_KEY and other endpoint tokens named in the config.

check exits 0 when nothing fails, 1 when a check fails or is unknown, 2 on usage or config errors.
`;

class UsageError extends Error {}

const OPTIONS = {
  config: { type: 'string' },
  listen: { type: 'string' },
  kubeconfig: { type: 'string' },
  output: { type: 'string' },
  check: { type: 'string', multiple: true },
  simulate: { type: 'string' },
  'simulate-latency-ms': { type: 'string' },
  'simulate-fault': { type: 'string', multiple: true },
  'simulate-enforce-rbac': { type: 'string' },
  'simulate-now': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

const ALLOWED: Record<string, readonly string[]> = {
  serve: ['config', 'listen', 'kubeconfig', 'simulate', 'simulate-latency-ms', 'simulate-fault', 'simulate-enforce-rbac', 'simulate-now', 'log-level'],
  check: ['config', 'output', 'check', 'kubeconfig', 'simulate', 'simulate-latency-ms', 'simulate-fault', 'simulate-enforce-rbac', 'simulate-now', 'log-level'],
  demo: ['listen', 'log-level', 'simulate-latency-ms', 'simulate-fault', 'simulate-now'],
};

function parseFault(value: string): [string, Fault] {
  const at = value.lastIndexOf('=');
  const resource = value.slice(0, at);
  const fault = value.slice(at + 1);
  if (at <= 0 || !fault) throw new UsageError(`--simulate-fault ${value}: expected RESOURCE=FAULT, e.g. pods=403 or rollouts=hang`);
  if (fault === 'hang' || fault === 'garbage' || fault === 'truncate') return [resource, fault];
  const status = Number(fault);
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new UsageError(`--simulate-fault ${value}: FAULT must be an HTTP status (100-599), hang, garbage or truncate`);
  }
  return [resource, status];
}

function simulateOptions(values: Record<string, unknown>, dir: string | undefined): SimulateOptions | undefined {
  const related = ['simulate-latency-ms', 'simulate-fault', 'simulate-enforce-rbac', 'simulate-now'].filter((k) => values[k] !== undefined);
  if (!dir) {
    if (related.length > 0) throw new UsageError(`--${related[0]} needs --simulate DIR`);
    return undefined;
  }
  const options: SimulateOptions = { dir };
  if (values['simulate-latency-ms'] !== undefined) {
    const ms = Number(values['simulate-latency-ms']);
    if (!Number.isFinite(ms) || ms < 0) throw new UsageError(`--simulate-latency-ms ${String(values['simulate-latency-ms'])}: expected a number of milliseconds`);
    options.latencyMs = ms;
  }
  if (values['simulate-fault']) options.faults = Object.fromEntries((values['simulate-fault'] as string[]).map(parseFault));
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
    if (!ALLOWED[command]) throw new UsageError(`unknown command "${command}" (serve, check or demo)`);
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    const misplaced = Object.keys(values).filter((k) => values[k as keyof typeof values] !== undefined && !ALLOWED[command]!.includes(k));
    if (misplaced.length > 0) throw new UsageError(`--${misplaced[0]} is not an option of ${command}`);

    if (command === 'check') {
      const output = values.output ?? 'table';
      if (output !== 'table' && output !== 'json') throw new UsageError(`--output ${output}: expected table or json`);
      const options: RunOptions = {
        configPath: values.config,
        kubeconfigPath: values.kubeconfig,
        simulate: simulateOptions(values, values.simulate),
        logLevel: logLevel(values['log-level'], 'warn'),
        only: values.check,
      };
      const result = await runCheckOnce(options);
      process.stdout.write(output === 'json' ? `${result.json}\n` : result.text);
      return result.exitCode;
    }

    const isDemo = command === 'demo';
    const listenText = values.listen ?? (isDemo ? '127.0.0.1:9464' : (process.env.ROLLOUT_DOCTOR_LISTEN ?? '0.0.0.0:9464'));
    const options: RunOptions = isDemo
      ? { simulate: simulateOptions(values, demoScenarioDir()), logLevel: logLevel(values['log-level'], 'info') }
      : {
          configPath: values.config,
          kubeconfigPath: values.kubeconfig,
          simulate: simulateOptions(values, values.simulate),
          logLevel: logLevel(values['log-level'], 'info'),
        };
    const served = await serve({ ...options, listen: parseListen(listenText) });
    onSignals(served, options);
    if (isDemo) {
      process.stdout.write(
        `rollout-doctor demo: serving the simulated homelab on ${served.url}\n\n` +
          `  curl -s ${served.url}/health | jq .\n` +
          `  curl -s '${served.url}/health?format=text'\n` +
          `  curl -s ${served.url}/metrics | grep '^rollout_doctor_'\n` +
          `  curl -s '${served.url}/health?check=endpoint'\n\n` +
          'Ctrl-C stops it.\n',
      );
    }
    return new Promise<number>(() => undefined);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`rollout-doctor: ${error.message}\n(see rollout-doctor --help)\n`);
      return 2;
    }
    if (isStartupError(error)) {
      process.stderr.write(`rollout-doctor: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`rollout-doctor: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

const exitCode = await main(process.argv.slice(2));
process.exitCode = exitCode;
