/**
 * The README is the front page and stays in step with the code: the quick start is two commands,
 * it stays small, its check table lists every check of src/checks/index.ts in order, each linking
 * to its page in docs/checks/, and its alert table every alert of the rules file in order, with its
 * severity and `for`, each linking to its section of docs/alerts.md; its failing example is the text
 * view of the plugin-download-404 demo scenario at 100 columns, as rendered now (`UPDATE_GOLDEN=1`
 * rewrites it after review). The pages themselves are test/docs.test.ts's.
 */
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_CHECKS } from '../src/checks/index.js';
import { bundledScenariosDir, createRuntime } from '../src/main.js';
import { loadAlerts } from './helpers/alert-rules.js';
import { REPO, readRepoFile, section, slug } from './helpers/markdown.js';

const readme = readRepoFile('README.md');

/** A front page, not the manual: what it is, the two commands, your cluster, deploy, the two tables. */
const MAX_README_BYTES = 15_000;

describe('README', () => {
  it('quick start is exactly the two commands', () => {
    const quick = /## Quick start\n\n```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(quick.split('\n').filter(Boolean).map((l) => l.split('#')[0]!.trim())).toEqual(['npm ci && npm run demo', 'npm test']);
  });

  it(`is at most ${MAX_README_BYTES} bytes`, () => {
    expect(statSync(path.join(REPO, 'README.md')).size).toBeLessThanOrEqual(MAX_README_BYTES);
  });

  it('has a catalogue row for every check, in the order of src/checks/index.ts, linking to its page', () => {
    const catalogue = section(readme, 'Check catalogue') ?? '';
    const rows = [...catalogue.matchAll(/^\| \[([a-z-]+)\]\(([^)]+)\) \|/gm)].map((m) => ({ id: m[1], link: m[2] }));
    expect(rows).toEqual(ALL_CHECKS.map((c) => ({ id: c.id, link: `docs/checks/${c.id}.md` })));
  });

  it('has an alert row for every alert of the rules file, in order, with its severity and for, linking to its section', () => {
    const table = section(readme, 'Alerts') ?? '';
    const rows = [...table.matchAll(/^\| \[(\w+)\]\(([^)]+)\) \| (\w+) \| ([\w ]+) \|/gm)].map((m) => ({ alert: m[1], link: m[2], severity: m[3], for: m[4] }));
    expect(rows).toEqual(
      loadAlerts().map((a) => ({ alert: a.alert, link: `docs/alerts.md#${slug(a.alert)}`, severity: a.labels.severity, for: a.for ?? 'none' })),
    );
  });

  it('shows a failing example: the text view of the plugin-download-404 scenario at 100 columns, as it renders now', async () => {
    const marker = /(<!-- FAILING-EXAMPLE[^\n]*\n```\n\$ curl -s 'http:\/\/127\.0\.0\.1:9464\/health\?format=text&check=controller-pods'\n)([\s\S]*?)(```)/;
    const shown = marker.exec(readme);
    expect(shown, 'README lacks the FAILING-EXAMPLE block').not.toBeNull();
    // Every check runs, as in the demo; the document is /health's, filtered to controller-pods, so its
    // incident line names the root the other checks found (the plugin download).
    const runtime = await createRuntime({ simulate: { dir: path.join(bundledScenariosDir(), 'plugin-download-404'), ephemeralAppPorts: true }, logLevel: 'silent' });
    let rendered: string;
    try {
      await runtime.daemon.runOnce();
      const filtered = runtime.health.health({ check: 'controller-pods' });
      rendered = filtered.text(Date.parse(filtered.body.checkedAt!) + 2000, { width: 100, verbose: false }).toString('utf8');
    } finally {
      await runtime.close();
    }
    // The count line's age and cycle time vary from run to run.
    const timing = (text: string) => text.replace(/\(checked \d+ s ago, cycle \d+ ms\)/, '(checked N s ago, cycle N ms)');
    if (process.env['UPDATE_GOLDEN'] === '1' && timing(shown![2]!) !== timing(rendered)) {
      writeFileSync(path.join(REPO, 'README.md'), readme.replace(marker, (_, head: string, _old: string, end: string) => `${head}${rendered}${end}`));
      return;
    }
    expect(timing(shown![2]!)).toBe(timing(rendered));
    expect(rendered.split('\n')[0]).toMatch(/^1 fail \(/);
  });
});
