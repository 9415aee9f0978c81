/**
 * The metric catalogue (docs/metrics.md) is what /metrics exposes: on the failing scenario, in which
 * every check reports and every metric family has series, nothing is missing from the table and
 * nothing exposed is undocumented (prom-client's process_* and nodejs_* defaults as one row), with
 * the same type, labels, HELP text (exactly) and setting check, each check linked to its page. The
 * exposition passes `promtool check metrics`, and follows the conventions of STYLE.md: the prefix,
 * `_total` only on counters, one-hot state sets that emit every state.
 */
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALL_CHECKS } from '../../src/checks/index.js';
import { requireBinary } from '../helpers/binaries.js';
import { readRepoFile } from '../helpers/markdown.js';
import { failingExposition } from './daemons.js';

const CATALOGUE = 'docs/metrics.md';
const promtool = requireBinary('promtool', 'the /metrics lint (promtool check metrics)');

interface Family {
  name: string;
  type: string;
  help?: string;
  labels: Set<string>;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

/** Parses a text exposition into families (histogram series folded into their family). */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, type: 'untyped', labels: new Set(), samples: [] }));
    return f;
  };
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      family(type[1]!).type = type[2]!;
      continue;
    }
    const help = /^# HELP (\S+) (.*)$/.exec(line);
    if (help) {
      family(help[1]!).help = help[2]!.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!sample) throw new Error(`unparsable exposition line: ${line}`);
    const labels = Object.fromEntries([...(sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    let name = sample[1]!;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    if (base !== name && families.get(base)?.type === 'histogram') name = base;
    const f = family(name);
    for (const label of Object.keys(labels)) if (label !== 'le') f.labels.add(label);
    f.samples.push({ name: sample[1]!, labels, value: Number(sample[3]) });
  }
  return families;
}

interface Row {
  names: string[];
  type: string;
  labels: string[];
  help: string;
  setBy: string;
}

/** The rows of the table in docs/metrics.md: Metric | Type | Labels | HELP | Set by. */
function catalogue(): Row[] {
  return readRepoFile(CATALOGUE)
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const cells = line.split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, '').trim());
      const names = [...cells[0]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
      return { names, type: cells[1]!, labels: [...cells[2]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!), help: cells[3]!, setBy: cells[4]! };
    });
}

/** The check that declares a metric family, or undefined for the daemon's own. */
function declaringCheck(name: string): string | undefined {
  return ALL_CHECKS.find((check) => (check.metrics ?? []).some((family) => family.name === name))?.id;
}

const DEFAULT_PREFIXES = ['process_', 'nodejs_'];
/** Complete one-hot state sets: every state has a series, the current one is 1 (STYLE.md). */
const STATE_SETS: Record<string, { label: string; states: string[] }> = {
  rollout_doctor_kube_api_state: { label: 'state', states: ['ok', 'unreachable', 'tls_error', 'unauthorized', 'error'] },
  rollout_doctor_rollout_phase: { label: 'phase', states: ['Healthy', 'Progressing', 'Paused', 'Degraded'] },
  rollout_doctor_analysis_run_phase: { label: 'phase', states: ['Pending', 'Running', 'Successful', 'Failed', 'Error', 'Inconclusive'] },
};

/**
 * Per-result verdicts with only the current state's series, 1 (issue 17's series budget: the zeros
 * of a one-hot set per result were ~25 series per Rollout that no alert rule or panel reads).
 */
const CURRENT_STATE_ONLY: Record<string, { label: string; states: string[] }> = {
  rollout_doctor_check_status: { label: 'status', states: ['ok', 'warn', 'fail', 'unknown'] },
  rollout_doctor_analysis_preflight_phase: { label: 'phase', states: ['Successful', 'Failed', 'Inconclusive', 'Error', 'Skipped', 'Unknown'] },
};

/** Counts by reason or kind with a series only above 0 (kube-state-metrics' waiting reasons since v2.0). */
const ONLY_ABOVE_ZERO = ['rollout_doctor_rollout_pods_with_problem', 'rollout_doctor_rollout_missing_references', 'rollout_doctor_check_muted'];

describe('metric catalogue', () => {
  let exposition = '';
  let families: Map<string, Family>;
  const rows = catalogue();
  const documented = new Map(rows.flatMap((row) => row.names.filter((n) => !n.endsWith('*')).map((n) => [n, row] as const)));

  beforeAll(async () => {
    exposition = await failingExposition();
    families = parseExposition(exposition);
  });

  it('documents every family /metrics exposes on the failing scenario, and nothing it does not', () => {
    const exposed = [...families.keys()].filter((name) => !DEFAULT_PREFIXES.some((p) => name.startsWith(p)));
    expect(exposed.filter((name) => !documented.has(name)), `exposed but not in ${CATALOGUE}`).toEqual([]);
    expect([...documented.keys()].filter((name) => !families.has(name)), `in ${CATALOGUE} but not exposed`).toEqual([]);
    const defaults = rows.find((row) => row.names.includes('process_*'));
    expect(defaults?.names).toEqual(['process_*', 'nodejs_*']);
    expect([...families.keys()].filter((name) => DEFAULT_PREFIXES.some((p) => name.startsWith(p))).length).toBeGreaterThan(10);
  });

  it('gives each family its exposed type, labels and HELP text, and the check that sets it', () => {
    for (const [name, row] of documented) {
      const family = families.get(name)!;
      expect(`${name}: ${row.type}`).toBe(`${name}: ${family.type}`);
      expect(`${name}: ${[...row.labels].sort().join(',')}`).toBe(`${name}: ${[...family.labels].sort().join(',')}`);
      expect(`${name}: ${row.help}`).toBe(`${name}: ${family.help}`);
      const check = declaringCheck(name);
      expect(`${name}: ${row.setBy}`).toBe(`${name}: ${check ? `[${check}](checks/${check}.md)` : 'rollout-doctor'}`);
    }
  });

  it('covers every metric family every check declares, each with series on the failing scenario', () => {
    for (const check of ALL_CHECKS) {
      for (const family of check.metrics ?? []) {
        expect(documented.has(family.name), `${check.id}: ${family.name} not in ${CATALOGUE}`).toBe(true);
        expect(families.get(family.name)?.samples.length ?? 0, `${check.id}: ${family.name} has no series on the failing scenario`).toBeGreaterThan(0);
      }
    }
  });

  it('follows the naming conventions: prefix, _total only on counters, base units', () => {
    for (const family of families.values()) {
      if (DEFAULT_PREFIXES.some((p) => family.name.startsWith(p))) continue;
      expect(family.name).toMatch(/^rollout_doctor_[a-z0-9_]+$/);
      expect(`${family.name} ${family.type}`).toMatch(family.name.endsWith('_total') ? / counter$/ : / (gauge|histogram)$/);
      expect(family.name).not.toMatch(/_(milliseconds|ms|minutes|hours|kilobytes|megabytes|percent)(_|$)/);
    }
  });

  it('emits every state of each one-hot state set, exactly one of them 1', () => {
    for (const [name, { label, states }] of Object.entries(STATE_SETS)) {
      const groups = new Map<string, Map<string, number>>();
      for (const sample of families.get(name)!.samples) {
        const { [label]: state, ...rest } = sample.labels;
        const key = JSON.stringify(rest);
        const group = groups.get(key) ?? new Map<string, number>();
        group.set(state!, sample.value);
        groups.set(key, group);
      }
      expect(groups.size, name).toBeGreaterThan(0);
      for (const [key, group] of groups) {
        expect([...group.keys()].sort(), `${name} ${key}`).toEqual([...states].sort());
        expect([...group.values()].filter((v) => v === 1).length, `${name} ${key}`).toBe(1);
      }
    }
  });

  it('emits one series per result for a verdict, its current state, 1', () => {
    for (const [name, { label, states }] of Object.entries(CURRENT_STATE_ONLY)) {
      const groups = new Map<string, string[]>();
      for (const sample of families.get(name)!.samples) {
        const { [label]: state, ...rest } = sample.labels;
        expect(`${name} ${state} ${sample.value}`).toBe(`${name} ${state} 1`);
        expect(states, name).toContain(state);
        const key = JSON.stringify(rest);
        groups.set(key, [...(groups.get(key) ?? []), state!]);
      }
      expect(groups.size, name).toBeGreaterThan(1);
      for (const [key, seen] of groups) expect(seen, `${name} ${key}`).toHaveLength(1);
      // The failing scenario has results in more than one state, so the set is not trivially one state.
      expect(new Set([...groups.values()].flat()).size, name).toBeGreaterThan(1);
    }
  });

  it('emits counts by reason or kind only above 0', () => {
    for (const name of ONLY_ABOVE_ZERO) {
      const samples = families.get(name)!.samples;
      expect(samples.length, name).toBeGreaterThan(0);
      expect(samples.filter((s) => !(s.value > 0)), name).toEqual([]);
    }
  });

  it.skipIf(!promtool)('passes promtool check metrics', () => {
    let output = '';
    try {
      output = execFileSync(promtool!, ['check', 'metrics'], { input: exposition, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      throw new Error(`promtool check metrics:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
    expect(output.trim()).toBe('');
  });
});
