/**
 * The Prometheus test helper itself: rule files are loaded, rewritten and reloaded through the
 * lifecycle API, and stop() removes the temporary directory.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { requireBinary } from './binaries.js';
import { exposition, startPrometheus } from './prometheus.js';

const binary = requireBinary('prometheus', 'the Prometheus test helper');

describe.skipIf(!binary)('startPrometheus', () => {
  it('scrapes the exposition, evaluates rule files, reloads a rewritten one, and cleans up', async () => {
    const series = await exposition((scrape) => `# TYPE jobs_total counter\njobs_total ${scrape}\n`);
    const prometheus = await startPrometheus({
      binary: binary!,
      scrapeConfigs: [{ job_name: 'helper', static_configs: [{ targets: [series.target] }] }],
      ruleFiles: { 'rules.yml': 'groups:\n  - name: helper\n    rules:\n      - record: helper:jobs:first\n        expr: jobs_total * 1\n' },
    });
    try {
      expect(prometheus.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await prometheus.waitFor('helper:jobs:first');
      await prometheus.writeRuleFile('rules.yml', 'groups:\n  - name: helper\n    rules:\n      - record: helper:jobs:second\n        expr: jobs_total * 2\n');
      const answer = await prometheus.waitFor('helper:jobs:second');
      expect(answer.data?.resultType).toBe('vector');
      expect(series.scrapes).toBeGreaterThan(0);
    } finally {
      await prometheus.stop();
      await series.close();
    }
    expect(existsSync(prometheus.dir)).toBe(false);
  });
});
