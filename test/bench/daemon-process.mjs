/**
 * The daemon under measurement, in its own process, running the bundle in dist/ (no tsx loader, no
 * simulator): built with createRuntime from a kubeconfig file and a config file, as `serve
 * --kubeconfig` builds it (the informer cache, unless told to list per cycle). Driven over IPC by
 * run.ts; every figure is taken in here, the event loop's delay too (perf_hooks).
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import v8 from 'node:v8';
import { loadConfigFile } from '../../dist/config/load.js';
import { buildServer } from '../../dist/http/server.js';
import { correlate } from '../../dist/incidents/correlate.js';
import { createRuntime } from '../../dist/main.js';
import { serveRpc } from './rpc-child.mjs';

/** RSS once the runtime's modules are loaded, before anything runs. */
const importRssBytes = process.memoryUsage().rss;

/**
 * The kernel's split of the RSS (/proc/self/status, Linux): pages of files mapped in (the node
 * executable's code and data, shared libraries: clean, shared between processes, reclaimable) and
 * anonymous pages (V8's heap, malloc, thread stacks). Undefined fields off Linux.
 */
function rssSplit() {
  let status = '';
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return {};
  }
  const kb = (field) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  };
  return { rssAnon: kb('RssAnon'), rssFile: kb('RssFile') };
}
/** The longest the event loop waited, sampled every 5 ms. */
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();

/**
 * With --profile (--cpu-prof): every event-loop gap over 30 ms, as [end in the CPU profile's clock
 * (microseconds), length in ms], written beside the profile so its samples in each gap can be read.
 */
const profileDir = process.execArgv.find((a) => a.startsWith('--cpu-prof-dir='))?.slice('--cpu-prof-dir='.length);
const gaps = [];
if (profileDir) {
  let last = process.hrtime.bigint();
  setInterval(() => {
    const now = process.hrtime.bigint();
    const ms = Number(now - last) / 1e6;
    if (ms > 30) gaps.push([Number(now / 1000n), ms]);
    last = now;
  }, 2).unref();
}

let runtime;
let server;
let inFlight;
/** Requests of the cycle being traced: [endMs, durationMs, verb, resource, code]. */
let trace;

function countResources() {
  const counts = {};
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

/** Every socket the process holds, referenced or not (undici unrefs its idle keep-alive sockets). */
function socketFds() {
  try {
    return readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
      } catch {
        return false;
      }
    }).length;
  } catch {
    return -1;
  }
}

/** Series per rollout_doctor_ family. */
function familyCounts(text) {
  const counts = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('rollout_doctor_')) continue;
    const name = /^[a-z_]+/.exec(line)[0];
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** Every rollout_doctor_* series (name and labels, no value): what the soak compares set by set. */
function ownSeriesKeys(text) {
  const keys = [];
  for (const line of text.split('\n')) if (line.startsWith('rollout_doctor_')) keys.push(line.slice(0, line.lastIndexOf(' ')));
  return keys;
}

function seriesCount(text, prefix = '') {
  let n = 0;
  for (const line of text.split('\n')) if (line !== '' && !line.startsWith('#') && line.startsWith(prefix)) n++;
  return n;
}

serveRpc({
  async init({ kubeconfigPath, configPath, apps = [], only, timeouts, snapshot = 'watch', cache }) {
    const loaded = await loadConfigFile(configPath);
    if (timeouts) Object.assign(loaded.config.timeouts, timeouts);
    // The simulator's fake apps (endpoints, the analysis provider) are declared at fixed addresses but
    // listen on ephemeral ports: the outbound policy sends probes there, as --simulate arranges it.
    const moved = apps.filter((app) => app.url !== app.declared);
    const outbound = { loopbackOnly: true, origins: moved.length > 0 ? new Map(moved.map((app) => [new URL(app.declared).origin, app.url])) : undefined };
    runtime = await createRuntime({ kubeconfigPath, config: loaded, logLevel: 'silent', only, outbound, snapshot, cache });
    // Every request passes the metrics on its way out: the trace reads them there, without a change to src.
    const record = runtime.metrics.recordRequest.bind(runtime.metrics);
    runtime.metrics.recordRequest = (r) => {
      trace?.push([performance.now(), r.durationMs, r.verb, r.resource, r.code]);
      record(r);
    };
    return { checks: runtime.daemon.checks().map((c) => c.id), importRssBytes };
  },

  /** The event loop's longest wait (and p99) since the last call, in ms. */
  loopDelay() {
    const figures = { maxMs: loopDelay.max / 1e6, p99Ms: loopDelay.percentile(99) / 1e6, count: loopDelay.count };
    loopDelay.reset();
    return figures;
  },

  /** Re-evaluations published since start (the cache's verdicts between cycles). */
  reevaluations() {
    return Number(/^rollout_doctor_reevaluations_total (\d+)$/m.exec(runtime.metrics.text())?.[1] ?? 0);
  },

  /** One cycle through the engine's API, with its wall time, CPU time and memory. */
  async cycle({ traced = false } = {}) {
    trace = traced ? [] : undefined;
    const cpu = process.cpuUsage();
    const started = performance.now();
    const outcome = await runtime.daemon.runOnce();
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const requests = trace?.map(([end, ms, verb, resource, code]) => ({ startMs: end - ms - started, ms, verb, resource, code }));
    trace = undefined;
    const statuses = {};
    for (const r of runtime.daemon.store.results()) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    return {
      wallMs,
      engineMs: outcome?.durationMs,
      apiRequests: outcome?.apiRequests,
      cpuMs: (used.user + used.system) / 1000,
      rssBytes: process.memoryUsage().rss,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      results: runtime.daemon.store.results().length,
      statuses,
      checkMs: Object.fromEntries((outcome?.runs ?? []).map((run) => [run.check.id, run.durationMs])),
      checkErrors: (outcome?.runs ?? []).filter((run) => run.error).map((run) => `${run.check.id}: ${run.error}`),
      requests,
    };
  },

  /**
   * The correlation step (src/incidents/correlate.ts) on the results of the last cycle, timed alone
   * `iterations` times: the daemon runs it once per cycle, between the store and the renderers.
   */
  correlate({ iterations = 50 } = {}) {
    const results = runtime.daemon.store.results();
    const options = { nowMs: Date.now(), holdDownMs: runtime.daemon.config.config.incidents.holdDown * 1000 };
    const times = [];
    let last;
    for (let i = 0; i < iterations; i++) {
      const started = performance.now();
      last = correlate(results, undefined, options);
      times.push(performance.now() - started);
    }
    const { incidents } = last.correlation;
    return { times, results: results.length, nonOk: results.filter((r) => r.status !== 'ok').length, incidents: incidents.length, largest: Math.max(0, ...incidents.map((i) => i.effects.length)), summary: incidents[0]?.summary };
  },

  /** Starts a cycle without waiting for it (a cycle in flight while the API hangs). */
  startCycle() {
    inFlight = runtime.daemon.runOnce();
    return { isCycleRunning: runtime.daemon.isCycleRunning };
  },

  isCycleRunning() {
    return runtime.daemon.isCycleRunning;
  },

  /** The daemon's own schedule, as serve starts it (the first cycle at once). */
  startSchedule() {
    runtime.daemon.start();
    return { intervalSeconds: runtime.daemon.scheduleIntervalSeconds };
  },

  isStale() {
    return runtime.daemon.staleForMs() !== undefined;
  },

  /** A V8 heap snapshot (bench --heap-snapshot), written where the orchestrator says. */
  heapSnapshot({ path }) {
    return v8.writeHeapSnapshot(path);
  },

  /** Where the memory is right after a cycle, before any forced GC: V8's heap by space, code, and what lies outside the heap. */
  memory() {
    const usage = process.memoryUsage();
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]));
    const code = v8.getHeapCodeStatistics();
    return {
      rss: usage.rss,
      heapTotal: usage.heapTotal,
      heapUsed: usage.heapUsed,
      external: usage.external,
      arrayBuffers: usage.arrayBuffers,
      spaces,
      bytecodeAndMetadata: code.bytecode_and_metadata_size,
      codeAndMetadata: code.code_and_metadata_size,
      externalScriptSource: code.external_script_source_size,
      ...rssSplit(),
    };
  },

  /** Memory after a full GC, series in /metrics, open sockets and timers, between two cycles. */
  sample({ keys = false } = {}) {
    globalThis.gc?.();
    const memory = process.memoryUsage();
    const text = runtime.metrics.text();
    const resources = countResources();
    return {
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      externalBytes: memory.external,
      series: seriesCount(text),
      ownSeries: seriesCount(text, 'rollout_doctor_'),
      seriesByFamily: familyCounts(text),
      ownSeriesKeys: keys ? ownSeriesKeys(text) : [],
      results: runtime.daemon.store.results().length,
      sockets: resources.TCPSocketWrap ?? 0,
      socketFds: socketFds(),
      handles: process._getActiveHandles().length,
      timers: resources.Timeout ?? 0,
      resources,
    };
  },

  /** The HTTP server as serve builds it, plus a bare route to compare with, on an ephemeral port. */
  async serve() {
    server = buildServer({ health: runtime.health, metrics: runtime.metrics, log: runtime.log, checkIds: () => runtime.daemon.checks().map((c) => c.id) });
    server.get('/bare', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok\n'));
    await server.listen({ host: '127.0.0.1', port: 0 });
    const { port } = server.server.address();
    const health = runtime.health.health({});
    // The gzip is made off the event loop after the render: wait for it so the load measures it.
    for (let i = 0; i < 200 && !runtime.metrics.body().gzip; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    return {
      url: `http://127.0.0.1:${port}`,
      bodyBytes: {
        health: Buffer.byteLength(health.json),
        healthText: health.text(Date.now(), { width: 100, verbose: false }).length,
        metrics: Buffer.byteLength(runtime.metrics.text()),
        metricsGzip: runtime.metrics.body().gzip?.length ?? 0,
      },
    };
  },

  async close() {
    if (profileDir) writeFileSync(`${profileDir}/gaps-${process.pid}.json`, JSON.stringify(gaps));
    await runtime?.close();
    await inFlight?.catch(() => undefined);
    await server?.close();
    return { maxRssBytes: process.resourceUsage().maxRSS * 1024 };
  },
});
