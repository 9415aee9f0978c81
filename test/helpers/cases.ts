/**
 * Table-driven check tests over fixture folders (kube-state-metrics' input object -> expected
 * output): each case is a folder of Kubernetes YAML (+ logs/) and an expected.yaml with the status
 * and details expected for each (check, target). A case holds only what differs from the check's
 * `_base/` (objects that replace or add to it, `$delete` documents that remove from it; see
 * src/simulator/load.ts). The folder runs through the real simulator and the real client-node,
 * exactly as `rollout-doctor check --simulate DIR` runs it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type LoadedConfig, parseConfig, resolvePaths } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { IncidentStatus } from '../../src/engine/result-schema.js';
import type { MetricFamily, Sample, Status, StoredResult } from '../../src/engine/types.js';
import type { HealthBody } from '../../src/http/health-schema.js';
import { runCheckOnce, resolveConfig, type CheckOutput } from '../../src/main.js';
import type { Fault } from '../../src/simulator/types.js';
import { expectGolden } from './golden.js';

export interface ExpectedResult {
  target: string;
  status: Status;
  /** Substrings the summary must contain. */
  summary?: string | string[];
  /** A subset of details (toMatchObject). */
  details?: Record<string, unknown>;
  /** Substrings, each of which some remediation line must contain. */
  remediation?: string[];
}

/** An incident the cycle must form (src/incidents/correlate.ts); results as `<check> <target>`. */
export interface ExpectedIncident {
  root: string;
  status: IncidentStatus;
  /** Every effect, in any order (none when absent). */
  effects?: string[];
  /** The summary, exactly. */
  summary?: string;
}

export interface CaseFile {
  /** What the case shows (printed as the test name). */
  description?: string;
  /** The time the checks evaluate at (and the simulator's log clock). */
  now?: string;
  faults?: Record<string, Fault>;
  /** Merged over the folder's rollout-doctor.yaml (or the defaults). */
  config?: Record<string, unknown>;
  results: ExpectedResult[];
  /** Targets that must not be reported. */
  absent?: string[];
  /** When true, no other target may be reported. */
  exact?: boolean;
  /** Run as this user, authorized by the folder's RBAC objects (default: the simulator's admin). */
  enforceRbacSubject?: string;
  /** The checks enabled in the cycle (default: only the case's own); self-rbac derives its list from them. */
  checks?: string[];
  /** What other enabled checks must report. */
  also?: Record<string, ExpectedResult[]>;
  /** Environment variables set while the case runs (the tokens its endpoints read). */
  env?: Record<string, string>;
  /** The cycle's incidents, exactly and in the document's order. */
  incidents?: ExpectedIncident[];
}

export interface FixtureCase {
  name: string;
  dir: string;
  expected: CaseFile;
}

export const FIXTURE_ROOT = path.resolve(import.meta.dirname, '..', 'fixtures');

/** The case folders of test/fixtures/<checkId>/, each with an expected.yaml. */
export function fixtureCases(checkId: string): FixtureCase[] {
  const root = path.join(FIXTURE_ROOT, checkId);
  return readdirSync(root)
    .filter((name) => statSync(path.join(root, name)).isDirectory() && existsSync(path.join(root, name, 'expected.yaml')))
    .sort()
    .map((name) => ({ name, dir: path.join(root, name), expected: parse(readFileSync(path.join(root, name, 'expected.yaml'), 'utf8')) as CaseFile }));
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object' && !Array.isArray(current)
        ? merge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}

/** Short deadlines so hung-call cases end quickly. */
export const FAST_TIMEOUTS = { requestMs: 400, checkMs: 1500, cycleMs: 4000 };

export interface RunCaseOptions {
  faults?: Record<string, Fault>;
  now?: string;
  config?: Record<string, unknown>;
  only?: string[];
  /** Authorize the daemon's requests as this user with the folder's RBAC objects. */
  enforceRbacSubject?: string;
}

/** The config a case runs with: the folder's (or the defaults), short deadlines, the case's overrides. */
export async function caseConfig(dir: string, over: Record<string, unknown> = {}): Promise<LoadedConfig> {
  const loaded = await resolveConfig({ simulate: { dir } });
  const raw = loaded.file ? (parse(readFileSync(loaded.file, 'utf8')) as Record<string, unknown>) ?? {} : {};
  const merged = merge(merge({ timeouts: FAST_TIMEOUTS }, raw), over);
  const config: Config = resolvePaths(parseConfig(merged, loaded.file ?? `${dir}/<case config>`), dir);
  return { ...loaded, config };
}

/** Runs one cycle of `checkId` on the folder through the simulator. */
export async function runCase(checkId: string | string[], dir: string, options: RunCaseOptions = {}): Promise<CheckOutput> {
  return runCheckOnce({
    config: await caseConfig(dir, options.config),
    simulate: { dir, faults: options.faults, now: options.now ? new Date(options.now) : undefined, ephemeralAppPorts: true, enforceRbacSubject: options.enforceRbacSubject, shuffleLists: true },
    only: Array.isArray(checkId) ? checkId : [checkId],
    logLevel: 'silent',
  });
}

export function assertResults(checkId: string, results: readonly { check: string; target: string; status: Status; summary: string; details: Record<string, unknown>; remediation: string[] }[], expected: CaseFile): void {
  const mine = results.filter((r) => r.check === checkId);
  for (const want of expected.results) {
    const got = mine.find((r) => r.target === want.target);
    expect(got, `no result for ${checkId} ${want.target}; got ${mine.map((r) => `${r.target}=${r.status}`).join(', ') || 'nothing'}`).toBeDefined();
    expect({ target: got!.target, status: got!.status, summary: got!.summary }).toMatchObject({ target: want.target, status: want.status });
    for (const part of [want.summary ?? []].flat()) expect(got!.summary).toContain(part);
    if (want.details) expect(got!.details).toMatchObject(want.details);
    for (const part of want.remediation ?? []) {
      expect(got!.remediation.some((line) => line.includes(part)), `remediation of ${want.target} lacks "${part}":\n${got!.remediation.join('\n')}`).toBe(true);
    }
    if (want.status === 'ok') expect(got!.remediation).toEqual([]);
  }
  assertRemediated(mine);
  for (const target of expected.absent ?? []) expect(mine.map((r) => r.target)).not.toContain(target);
  if (expected.exact) expect(mine.map((r) => r.target).sort()).toEqual(expected.results.map((r) => r.target).sort());
}

const ref = (r: { check: string; target: string }) => `${r.check} ${r.target}`;

/**
 * The document's incidents are exactly `expected`, in order; every non-ok, unmuted result names the
 * incident it belongs to, and no other result names one.
 */
export function assertIncidents(body: HealthBody, expected: readonly ExpectedIncident[]): void {
  const got = body.incidents.map((i) => ({ root: ref(i.root), status: i.status, effects: i.effects.map(ref).sort(), summary: i.summary }));
  expect(got.map((i) => `${i.status} ${i.root}`), `incidents:\n${got.map((i) => `${i.status} ${i.root}: ${i.summary}`).join('\n')}`).toEqual(expected.map((i) => `${i.status} ${i.root}`));
  expected.forEach((want, index) => {
    expect(got[index]!.effects, `effects of ${want.root}`).toEqual([...(want.effects ?? [])].sort());
    if (want.summary !== undefined) expect(got[index]!.summary).toBe(want.summary);
  });
  const ids = new Map(body.incidents.flatMap((i) => [i.root, ...i.effects].map((r) => [ref(r), i.id] as const)));
  for (const entry of body.checks) {
    const isMember = entry.status !== 'ok' && !entry.muted;
    expect(entry.incident, `${ref(entry)} (${entry.status}${entry.muted ? ', muted' : ''})`).toBe(isMember ? ids.get(ref(entry)) : undefined);
    if (isMember) expect(entry.incident, ref(entry)).toBeDefined();
  }
}

/** Every result that is not ok says what to do: at least one remediation line, unknown included. */
export function assertRemediated(results: readonly { check: string; target: string; status: Status; summary: string; details: Record<string, unknown>; remediation: string[] }[]): void {
  const bare = results.filter((r) => r.status !== 'ok' && r.remediation.length === 0);
  expect(bare.map((r) => `${r.check} ${r.target} ${r.status}: ${r.summary}`), 'non-ok results without a remediation line').toEqual([]);
}

/** A case's output and the expectations it is held to (a test may fill in what the case leaves open). */
export interface FixtureRun {
  output: CheckOutput;
  expected: CaseFile;
}

export interface FixtureCaseOptions {
  /** How a case runs (default: runFixture). */
  run?: (fixture: FixtureCase) => Promise<FixtureRun>;
  /** Cases that cannot run here (vitest lists them as skipped). */
  skipIf?: (fixture: FixtureCase) => boolean;
}

/** One cycle of the case as its expected.yaml sets it up: faults, clock, config, user and enabled checks. */
export async function runFixture(checkId: string, fixture: FixtureCase): Promise<CheckOutput> {
  const { faults, now, config, enforceRbacSubject, checks, env = {} } = fixture.expected;
  return withEnv(env, () => runCase(checks ?? checkId, fixture.dir, { faults, now, config, enforceRbacSubject }));
}

/** Runs `run` with these environment variables set (the tokens a case's endpoints read), then restores them. */
export async function withEnv<T>(env: Record<string, string>, run: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  try {
    return await run();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/**
 * One test per case folder of test/fixtures/<checkId>/: the case's expected results, then its
 * whole /health document against the recording in test/golden (the behaviour gate).
 */
export function describeFixtureCases(checkId: string, options: FixtureCaseOptions = {}): void {
  const run = options.run ?? (async (fixture: FixtureCase) => ({ output: await runFixture(checkId, fixture), expected: fixture.expected }));
  describe(`${checkId} fixtures`, () => {
    for (const fixture of fixtureCases(checkId)) {
      it.skipIf(options.skipIf?.(fixture) ?? false)(`${fixture.name}: ${fixture.expected.description ?? ''}`, async () => {
        const { output, expected } = await run(fixture);
        assertResults(checkId, output.body.checks, expected);
        for (const [check, results] of Object.entries(expected.also ?? {})) assertResults(check, output.body.checks, { results });
        if (expected.incidents) assertIncidents(output.body, expected.incidents);
        assertRemediated(output.body.checks);
        expectGolden(checkId, fixture.name, output.body);
      });
    }
  });
}

/**
 * A family's samples for one result read back from /health, as the metrics layer collects them: the
 * check's own details, typed by the family's check (a result the check produced, so its shape).
 */
export function collectSeries(family: MetricFamily, result: { target: string; status: Status; details: Record<string, unknown> }): Sample[] {
  return family.collect(result.details, result);
}

export type { StoredResult };
