/**
 * A real Prometheus (Debian's `prometheus` binary) on 127.0.0.1 for tests: a free port, a temporary
 * storage and config directory, the scrape config and rule files the test gives, the lifecycle API
 * on (`reload()`), started and ready in well under a second; `waitFor` polls an instant query until
 * the series the test needs exist (the first scrape lands a few seconds after start). `stop()` ends
 * the process and removes the directory. Find the binary with `requireBinary('prometheus', ...)`.
 *
 * `exposition()` serves a metrics text from a loopback HTTP server for Prometheus to scrape; the
 * text is rendered on each scrape, so counters can grow between scrapes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { stringify } from 'yaml';

export interface PrometheusOptions {
  /** Path of the prometheus binary. */
  binary: string;
  /** `scrape_configs` entries, e.g. [{ job_name: 'app', static_configs: [{ targets: ['127.0.0.1:1234'] }] }]. */
  scrapeConfigs?: Record<string, unknown>[];
  /** Global scrape and rule evaluation interval (default 1s). */
  interval?: string;
  /** Rule files by file name (YAML text), loaded through `rule_files`. */
  ruleFiles?: Record<string, string>;
  /** More command-line flags. */
  extraArgs?: string[];
  /** How long to wait for /-/ready (default 20 s). */
  readyTimeoutMs?: number;
}

export interface QueryAnswer {
  status: 'success' | 'error';
  data?: { resultType: string; result: unknown };
  errorType?: string;
  error?: string;
}

export interface RunningPrometheus {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** The temporary directory (config, rules, data). */
  readonly dir: string;
  /** An instant query. */
  query(promql: string): Promise<QueryAnswer>;
  /** Polls `promql` until `accept` says yes (default: a non-empty vector or a scalar), or throws after `timeoutMs`. */
  waitFor(promql: string, accept?: (answer: QueryAnswer) => boolean, timeoutMs?: number): Promise<QueryAnswer>;
  /** Rewrites a rule file and reloads the configuration (lifecycle API). */
  writeRuleFile(name: string, text: string): Promise<void>;
  reload(): Promise<void>;
  /** What the process wrote to stderr (its log). */
  log(): string;
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function hasSeries(answer: QueryAnswer): boolean {
  if (answer.status !== 'success' || !answer.data) return false;
  return answer.data.resultType === 'scalar' || (Array.isArray(answer.data.result) && answer.data.result.length > 0);
}

async function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return Promise.race([new Promise<boolean>((resolve) => child.once('exit', () => resolve(true))), delay(ms).then(() => false)]);
}

async function startOnce(options: PrometheusOptions, port: number): Promise<RunningPrometheus> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rd-prometheus-'));
  const ruleNames = Object.keys(options.ruleFiles ?? {});
  for (const [name, text] of Object.entries(options.ruleFiles ?? {})) writeFileSync(path.join(dir, name), text);
  const interval = options.interval ?? '1s';
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    stringify({
      global: { scrape_interval: interval, evaluation_interval: interval },
      rule_files: ruleNames.map((name) => path.join(dir, name)),
      scrape_configs: options.scrapeConfigs ?? [],
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    options.binary,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--log.level=warn',
      ...(options.extraArgs ?? []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-64 * 1024);
  });
  const cleanup = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 10_000))) {
        child.kill('SIGKILL');
        await waitForExit(child, 5_000);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await cleanup();
      throw new Error(`prometheus exited before it was ready (code ${child.exitCode ?? child.signalCode}):\n${stderr}`);
    }
    try {
      if ((await fetch(`${url}/-/ready`)).status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await cleanup();
      throw new Error(`prometheus was not ready within ${options.readyTimeoutMs ?? 20_000} ms:\n${stderr}`);
    }
    await delay(50);
  }
  const query = async (promql: string): Promise<QueryAnswer> => {
    const response = await fetch(`${url}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: promql }) });
    return (await response.json()) as QueryAnswer;
  };
  let stopping: Promise<void> | undefined;
  const reload = async (): Promise<void> => {
    const response = await fetch(`${url}/-/reload`, { method: 'POST' });
    if (response.status !== 200) throw new Error(`prometheus reload answered ${response.status}: ${await response.text()}`);
  };
  return {
    url,
    port,
    dir,
    query,
    async waitFor(promql, accept = hasSeries, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const answer = await query(promql);
        if (accept(answer)) return answer;
        if (Date.now() > until) throw new Error(`prometheus: ${promql} did not return what the test waits for within ${timeoutMs} ms; last answer ${JSON.stringify(answer)}`);
        await delay(200);
      }
    },
    async writeRuleFile(name, text) {
      writeFileSync(path.join(dir, name), text);
      await reload();
    },
    reload,
    log: () => stderr,
    stop() {
      stopping ??= cleanup();
      return stopping;
    },
  };
}

/** Starts Prometheus on a free loopback port (retrying when another process takes the port first). */
export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options, await freePort());
    } catch (error) {
      lastError = error;
      if (!/address already in use/i.test((error as Error).message)) throw error;
    }
  }
  throw lastError;
}

export interface Exposition {
  /** 127.0.0.1:PORT, for a static_configs target. */
  readonly target: string;
  /** How many times it was scraped. */
  readonly scrapes: number;
  close(): Promise<void>;
}

/** Serves `render(scrape)` as a Prometheus text exposition on /metrics (scrape counts from 1). */
export async function exposition(render: (scrape: number) => string): Promise<Exposition> {
  let scrapes = 0;
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/metrics')) {
      scrapes += 1;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(render(scrapes));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    target: `127.0.0.1:${port}`,
    get scrapes() {
      return scrapes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
