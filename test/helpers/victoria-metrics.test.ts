/**
 * The VictoriaMetrics test helper itself: victoria-metrics scrapes an exposition, vmalert evaluates a
 * rule against it and posts the alert to the loopback receiver, and stop() ends both processes and
 * removes their directories.
 */
import { existsSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { exposition } from './prometheus.js';
import { isRunning, requireVictoriaMetrics, startAlertReceiver, startVictoriaMetrics, startVmalert } from './victoria-metrics.js';

const victoriaMetrics = requireVictoriaMetrics('victoria-metrics', 'the VictoriaMetrics test helper');
const vmalert = requireVictoriaMetrics('vmalert', 'the VictoriaMetrics test helper');

describe.skipIf(!victoriaMetrics || !vmalert)('startVictoriaMetrics, startVmalert, startAlertReceiver', () => {
  it('scrape, evaluate, notify, and leave no process or directory behind', async () => {
    const series = await exposition((scrape) => `# TYPE jobs_total counter\njobs_total ${scrape}\n`);
    const receiver = await startAlertReceiver();
    const vm = await startVictoriaMetrics({ binary: victoriaMetrics!, scrapeConfigs: [{ job_name: 'helper', scrape_interval: '1s', static_configs: [{ targets: [series.target] }] }] });
    const alerter = await startVmalert({
      binary: vmalert!,
      datasourceUrl: vm.url,
      notifierUrl: receiver.url,
      ruleFiles: { 'rules.yaml': 'groups:\n  - name: helper\n    rules:\n      - alert: JobsCounted\n        expr: jobs_total > 0\n        labels: {severity: info}\n' },
    });
    try {
      expect(vm.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await vm.waitFor('jobs_total{job="helper"}', undefined, 20_000);
      const values = await vm.labelValues('job', 'jobs_total');
      expect(values).toEqual({ status: 'success', data: ['helper'] });
      const until = Date.now() + 20_000;
      while (receiver.firing().length === 0 && Date.now() < until) await delay(100);
      const [alert, ...others] = receiver.firing();
      expect(others).toEqual([]);
      expect(alert!.labels).toEqual({ alertname: 'JobsCounted', alertgroup: 'helper', job: 'helper', instance: series.target, severity: 'info' });
      expect((await alerter.alerts()).map((a) => a.state)).toEqual(['firing']);
    } finally {
      await Promise.all([alerter.stop(), vm.stop(), receiver.close(), series.close()]);
    }
    for (const daemon of [vm, alerter]) {
      expect(isRunning(daemon.pid), `${daemon.url} pid ${daemon.pid}`).toBe(false);
      expect(existsSync(daemon.dir)).toBe(false);
    }
  });
});
