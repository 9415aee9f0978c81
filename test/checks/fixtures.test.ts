/**
 * Every check's fixture cases (test/fixtures/<check>/<case>/), each against its expectations and its
 * golden /health document; and the one fixture convention they follow: a `_base/` scenario and
 * per-case overlays the simulator's loader applies (src/simulator/load.ts), no symlinks, no copies
 * of base objects in a case, and any case folder runs as `rollout-doctor check --simulate <folder>`.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ALL_CHECKS } from '../../src/checks/index.js';
import { describeFixtureCases, fixtureCases, FIXTURE_ROOT } from '../helpers/cases.js';
import { REPO, runCli } from '../helpers/cli.js';

/** The folders of test/fixtures that hold check cases (config/, tls/ and upstream/ hold none). */
const CHECKS = readdirSync(FIXTURE_ROOT).filter((name) => fixtureCases(name).length > 0);

/** Checks whose test file runs their cases itself (analysis-preflight fills in live metric providers). */
const OWN_RUNNER = new Set(['analysis-preflight']);

for (const check of ALL_CHECKS) if (!OWN_RUNNER.has(check.id)) describeFixtureCases(check.id);

function walk(dir: string, visit: (file: string) => void): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.name === 'node_modules' || entry.name === '.git') continue;
    visit(file);
    if (entry.isDirectory()) walk(file, visit);
  }
}

type Doc = Record<string, unknown>;

function objectsOf(dir: string): Doc[] {
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name) && name !== 'expected.yaml' && name !== 'rollout-doctor.yaml')
    .flatMap((name) => parseAllDocuments(readFileSync(path.join(dir, name), 'utf8')).map((d) => d.toJS() as Doc | null))
    .filter((o): o is Doc => o !== null && typeof o === 'object');
}

const identity = (o: Doc) => {
  const m = (o.metadata ?? {}) as Doc;
  return `${String(o.apiVersion)} ${String(o.kind)} ${String(m.namespace ?? '')}/${String(m.name)}`;
};

describe('fixture convention', () => {
  it('no symlink anywhere in the repository (a clone with core.symlinks=false works)', () => {
    const links: string[] = [];
    walk(REPO, (file) => {
      if (lstatSync(file).isSymbolicLink()) links.push(path.relative(REPO, file));
    });
    expect(links).toEqual([]);
  });

  it('every check has fixture cases', () => {
    expect(ALL_CHECKS.map((c) => c.id).filter((id) => !CHECKS.includes(id))).toEqual([]);
  });

  it.each(CHECKS)('%s: a case holds only what differs from its _base', (check) => {
    const base = new Map(readdirSync(path.join(FIXTURE_ROOT, check)).includes('_base') ? objectsOf(path.join(FIXTURE_ROOT, check, '_base')).map((o) => [identity(o), o]) : []);
    const copies = fixtureCases(check).flatMap((fixture) =>
      objectsOf(fixture.dir)
        .filter((o) => o.$delete !== true && isDeepStrictEqual(base.get(identity(o)), o))
        .map((o) => `${fixture.name}: ${identity(o)}`),
    );
    expect(copies).toEqual([]);
  });

  it('any case folder runs as rollout-doctor check --simulate <folder>', async () => {
    const result = await runCli(['check', '--simulate', 'test/fixtures/rollout-services/canary-wrong-hash', '--simulate-now', '2026-11-26T12:00:00Z', '--check', 'rollout-services', '--output', 'json']);
    expect(result.code, result.stderr).toBe(1);
    const body = JSON.parse(result.stdout) as { checks: { target: string; status: string; summary: string }[] };
    expect(body.checks.map((c) => `${c.target} ${c.status}`)).toEqual(['shop/api ok', 'shop/web fail']);
    expect(body.checks[1]!.summary).toContain('selects rollouts-pod-template-hash=5d8f7c6b9a, expected 7f9c8d6e5b');
  });
});
