/**
 * The README is the front page and stays in step with the code: the quick start is two commands,
 * it stays small, its check table lists every check of src/checks/index.ts in order, each linking
 * to its page in docs/checks/, and its alert table every alert of the rules file in order, with its
 * severity and `for`, each linking to its section of docs/alerts.md. The pages themselves are
 * test/docs.test.ts's.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_CHECKS } from '../src/checks/index.js';
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
});
