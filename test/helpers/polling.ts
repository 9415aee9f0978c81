/** Polling helpers: a cycle while /health and /metrics are polled, and waiting for a condition. */
import { fetch } from 'undici';
import type { Runtime } from '../../src/main.js';

export async function cycleWhilePolling(runtime: Runtime, base: string): Promise<{ healthAnswers: number; metricsAnswers: number }> {
  let running = true;
  let healthAnswers = 0;
  let metricsAnswers = 0;
  const poll = (async () => {
    while (running) {
      const [health, metrics] = await Promise.all([fetch(`${base}/health`), fetch(`${base}/metrics`)]);
      await health.arrayBuffer();
      await metrics.arrayBuffer();
      if ([200, 503].includes(health.status)) healthAnswers++;
      if (metrics.status === 200) metricsAnswers++;
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  await runtime.daemon.runOnce();
  running = false;
  await poll;
  return { healthAnswers, metricsAnswers };
}

/** Polls `probe` until `isDone` says yes (every 25 ms, up to `timeoutMs`); returns the last value. */
export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, isDone: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && isDone(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
