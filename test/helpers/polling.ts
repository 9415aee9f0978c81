/** Runs one daemon cycle while polling /health and /metrics: both must keep answering the whole time. */
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
