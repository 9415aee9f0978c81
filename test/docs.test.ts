/**
 * docs/ stays in step with the code, every list derived from the code itself:
 * - one page per check of src/checks/index.ts (and no other), with the sections every page has, the
 *   metric families the check declares and the permissions src/kube/permissions.ts derives for it;
 * - docs/alerts.md: a section per alert of the rules file, in order, with its severity, `for`,
 *   meaning, first three commands and what resolves it;
 * - docs/configuration.md: every key of the config schema (src/config/schema.ts);
 * - every relative link in README.md and docs/**\/*.md, and every link into this repository from
 *   the dashboard and the alert rules, resolves to a file and, when it names one, a heading.
 * The metric catalogue (docs/metrics.md) is compared with a running daemon's /metrics in
 * test/observability/catalogue.test.ts.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { core } from 'zod';
import { ALL_CHECKS } from '../src/checks/index.js';
import { configSchema } from '../src/config/schema.js';
import { checkNeeds } from '../src/engine/runner.js';
import { permissionTarget, requiredPermissions } from '../src/kube/permissions.js';
import { ALERTS_DOC, loadAlerts, repositoryBlobUrl } from './helpers/alert-rules.js';
import { brokenLink, codeBlocks, headings, isExternal, links, markdownFiles, REPO, readRepoFile, resolveLink, section } from './helpers/markdown.js';

const CHECK_SECTIONS = ['What it looks at', 'Verdicts', 'Details', 'Metrics', 'Permissions', 'Runbook', 'What to do'];
const defaults = configSchema.parse({});

describe('docs/checks', () => {
  it('has exactly one page per check of src/checks/index.ts', () => {
    const pages = readdirSync(path.join(REPO, 'docs', 'checks')).sort();
    expect(pages).toEqual(ALL_CHECKS.map((c) => `${c.id}.md`).sort());
  });

  describe.each(ALL_CHECKS.map((c) => [c.id, c] as const))('%s', (id, check) => {
    const page = readRepoFile(`docs/checks/${id}.md`);

    it('is titled with the check id and has every section', () => {
      expect(headings(page)[0]?.text).toBe(`check: ${id}`);
      const titles = headings(page).filter((h) => h.level === 2).map((h) => h.text);
      for (const title of CHECK_SECTIONS) expect(titles, `docs/checks/${id}.md: ## ${title}`).toContain(title);
    });

    it('lists exactly the metric families the check declares', () => {
      const named = new Set((section(page, 'Metrics') ?? '').match(/\brollout_doctor_[a-z0-9_]+/g) ?? []);
      expect([...named].sort()).toEqual((check.metrics ?? []).map((f) => f.name).sort());
    });

    it('lists exactly the permissions self-rbac derives for it', () => {
      const listed = [...(section(page, 'Permissions') ?? '').matchAll(/^- `(\w+) ([\w./-]+)`, (cluster-wide|in the controller namespace)/gm)].map((m) => `${m[1]} ${m[2]}, ${m[3]}`);
      const derived = requiredPermissions(checkNeeds([check], defaults), defaults).map(
        (p) => `${p.verb} ${permissionTarget(p)}, ${p.namespace ? 'in the controller namespace' : 'cluster-wide'}`,
      );
      expect(listed.sort()).toEqual(derived.sort());
    });
  });
});

describe('docs/alerts.md', () => {
  const doc = readRepoFile(ALERTS_DOC);
  const alerts = loadAlerts();

  it('has a section per alert of the rules file, in order, and no other alert section', () => {
    const camelCase = headings(doc)
      .filter((h) => h.level === 2 && /^[A-Z][a-z]+[A-Z]\w*$/.test(h.text))
      .map((h) => h.text);
    expect(camelCase).toEqual(alerts.map((a) => a.alert));
  });

  it.each(alerts.map((a) => [a.alert, a] as const))('%s: severity, for, meaning, first three commands, what resolves it', (name, alert) => {
    const text = section(doc, name) ?? '';
    expect(text).toContain(`Severity ${alert.labels.severity}, ${alert.for ? `for ${alert.for}` : 'no `for`'}`);
    for (const part of ['**Meaning**', '**First three commands**', '**Resolves when**']) expect(text, `${name}: ${part}`).toContain(part);
    const commands = codeBlocks(text.slice(text.indexOf('**First three commands**')))[0] ?? '';
    expect(commands.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'))).toHaveLength(3);
  });
});

/** Every key path of a zod schema: `timeouts.requestMs`, `endpoints[].url`, `plugins.<name>.trafficObject.kind`. */
function keyPaths(schema: core.$ZodType, prefix = ''): string[] {
  let node = schema;
  let def = node._zod.def as unknown as { type: string; innerType?: core.$ZodType; in?: core.$ZodType; shape?: Record<string, core.$ZodType>; element?: core.$ZodType; valueType?: core.$ZodType };
  while (def.type === 'pipe' || def.innerType) {
    node = (def.type === 'pipe' ? def.in : def.innerType)!;
    def = node._zod.def as unknown as typeof def;
  }
  if (def.type === 'object') return Object.entries(def.shape!).flatMap(([key, child]) => [`${prefix}${prefix ? '.' : ''}${key}`, ...keyPaths(child, `${prefix}${prefix ? '.' : ''}${key}`)]);
  if (def.type === 'array') return keyPaths(def.element!, `${prefix}[]`);
  if (def.type === 'record') return keyPaths(def.valueType!, `${prefix}.<name>`);
  return [];
}

describe('docs/configuration.md', () => {
  it('documents every key of the config schema (src/config/schema.ts)', () => {
    const doc = readRepoFile('docs/configuration.md');
    const paths = keyPaths(configSchema as unknown as core.$ZodType);
    const leaves = paths.filter((p) => !paths.some((other) => other.startsWith(`${p}.`) || other.startsWith(`${p}[]`)));
    expect(leaves.length).toBeGreaterThan(40);
    expect(leaves.filter((key) => !doc.includes(`\`${key}\``))).toEqual([]);
  });
});

describe('links', () => {
  const files = ['README.md', ...markdownFiles('docs')];

  it.each(files)('%s: every relative link resolves to a file and heading', (file) => {
    const broken = links(readRepoFile(file))
      .filter((link) => !isExternal(link.target))
      .map((link) => ({ link, why: brokenLink(file, link.target) }))
      .filter(({ why }) => why !== undefined)
      .map(({ link, why }) => `${file}:${link.line}: ${link.target}: ${why}`);
    expect(broken).toEqual([]);
  });

  it('every link into this repository from the dashboard and the alert rules resolves', () => {
    const base = repositoryBlobUrl();
    const sources = ['grafana/dashboard.ts', 'grafana/rollout-doctor.json', 'deploy/alerts/rollout-doctor.rules.yaml', 'deploy/alerts/vmrule.yaml', 'deploy/alerts/prometheusrule.yaml'];
    const found = sources.flatMap((file) => [...readRepoFile(file).matchAll(new RegExp(`${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^\\s"'\`)]+)`, 'g'))].map((m) => ({ file, target: m[1]! })));
    expect(found.length).toBeGreaterThan(20);
    expect(found.map(({ file, target }) => ({ file, target, why: brokenLink('.', target) })).filter((l) => l.why)).toEqual([]);
  });
});
