/**
 * The result store as a pure function of finished cycles (src/engine/store.ts): `since`, mutes,
 * targets that disappear, and a check that cannot run keeping its targets `unknown` with what
 * they last were. No cluster: cycles are built by hand, so these run in milliseconds.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { CheckRun, CycleOutcome, ValidatedResult } from '../../src/engine/runner.js';
import { ANY_TARGET, ResultStore } from '../../src/engine/store.js';
import type { Check, Status } from '../../src/engine/types.js';
import { ListSnapshot } from '../../src/kube/snapshot.js';

const T0 = Date.parse('2026-11-26T12:00:00Z');
const check = (id: string): Check => ({ id, description: id, needs: [], run: async () => [] });
const CHECKS = { status: check('rollout-status'), pods: check('rollout-pods') };

function ok(target: string, status: Status = 'ok', extra: Partial<ValidatedResult> = {}): ValidatedResult {
  return { target, status, summary: `${target} is ${status}`, remediation: [], details: { seen: status }, ...extra };
}

/** A cycle that started `atSeconds` after T0 and took 1.5 s. */
function cycle(atSeconds: number, runs: CheckRun[]): CycleOutcome {
  const startedAt = new Date(T0 + atSeconds * 1000);
  return { startedAt, durationMs: 1500, apiRequests: 3, runs, snapshot: new ListSnapshot(startedAt, new Map()) };
}

const ran = (c: Check, results: ValidatedResult[]): CheckRun => ({ check: c, results, durationMs: 12.3456 });
const failed = (c: Check, error: string): CheckRun => ({ check: c, results: [], durationMs: 5, error: { summary: error, remediation: [], details: { reason: error } } });

const config = (raw: Record<string, unknown> = {}) => parseConfig(raw, 'test-config.yaml');

describe('ResultStore', () => {
  it('stores one result per (check, target), sorted, with timing and the cycle facts', () => {
    const store = new ResultStore();
    store.apply(cycle(0, [ran(CHECKS.status, [ok('b/y'), ok('a/x', 'ok', { rollout: 'a/x' })]), ran(CHECKS.pods, [ok('a/x', 'fail')])]), config());
    expect(store.results().map((r) => [r.check, r.target, r.status, r.rollout ?? null, r.origin])).toEqual([
      ['rollout-pods', 'a/x', 'fail', null, 'check'],
      ['rollout-status', 'a/x', 'ok', 'a/x', 'check'],
      ['rollout-status', 'b/y', 'ok', null, 'check'],
    ]);
    expect(store.results()[0]).toMatchObject({ durationMs: 12.35, checkedAtMs: T0, since: '2026-11-26T12:00:00.000Z' });
    expect(store.lastCycle).toEqual({ completedAtMs: T0 + 1500, durationMs: 1500, apiRequests: 3, watchFallbacks: [] });
    expect(store.cycles).toBe(1);
  });

  it.each([
    ['same status', 'ok', 'ok', '2026-11-26T12:00:00.000Z'],
    ['status changed', 'ok', 'warn', '2026-11-26T12:00:30.000Z'],
  ] as const)('since: %s', (_name, first, second, since) => {
    const store = new ResultStore();
    store.apply(cycle(0, [ran(CHECKS.status, [ok('a/x', first)])]), config());
    const changes = store.apply(cycle(30, [ran(CHECKS.status, [ok('a/x', second)])]), config());
    expect(store.results()[0]!.since).toBe(since);
    expect(changes).toHaveLength(first === second ? 0 : 1);
  });

  it('a target no longer reported leaves, and the change says so', () => {
    const store = new ResultStore();
    store.apply(cycle(0, [ran(CHECKS.status, [ok('a/x'), ok('b/y')])]), config());
    const changes = store.apply(cycle(30, [ran(CHECKS.status, [ok('a/x')])]), config());
    expect(store.results().map((r) => r.target)).toEqual(['a/x']);
    expect(changes).toEqual([{ check: 'rollout-status', target: 'b/y', from: 'ok', summary: 'target no longer reported' }]);
  });

  it('a check that cannot run turns the targets it knew unknown, keeping what they last were and their Rollout', () => {
    const store = new ResultStore();
    store.apply(cycle(0, [ran(CHECKS.status, [ok('a/x', 'fail', { rollout: 'a/x' })])]), config());
    store.apply(cycle(30, [failed(CHECKS.status, 'rollout-doctor may not list rollouts.argoproj.io (403 Forbidden)')]), config());
    const [carried] = store.results();
    expect(carried).toMatchObject({
      target: 'a/x',
      status: 'unknown',
      summary: 'rollout-doctor may not list rollouts.argoproj.io (403 Forbidden)',
      remediation: [],
      rollout: 'a/x',
      origin: 'engine',
      details: { reason: 'rollout-doctor may not list rollouts.argoproj.io (403 Forbidden)', lastKnownStatus: 'fail', lastKnownSummary: 'a/x is fail' },
    });
    // A second failure keeps what the target really was, not the unknown in between.
    store.apply(cycle(60, [failed(CHECKS.status, 'timed out')]), config());
    expect(store.results()[0]!.details).toEqual({ reason: 'timed out', lastKnownStatus: 'fail', lastKnownSummary: 'a/x is fail' });
    expect(store.results()[0]!.since).toBe('2026-11-26T12:00:30.000Z');
  });

  it('a check that cannot run with no target known yet is one unknown result for target *', () => {
    const store = new ResultStore();
    store.apply(cycle(0, [failed(CHECKS.pods, 'check failed: boom')]), config());
    expect(store.results()).toMatchObject([{ check: 'rollout-pods', target: ANY_TARGET, status: 'unknown', details: { reason: 'check failed: boom' }, origin: 'engine' }]);
    expect(store.results()[0]).not.toHaveProperty('rollout');
  });

  it.each([
    ['a matching glob', { check: 'rollout-status', target: 'a/*', reason: 'ticket 7' }, true],
    ['`*` spans slashes', { check: 'rollout-status', target: '*', reason: 'all' }, true],
    ['`?` is one character', { check: 'rollout-status', target: 'a/?', reason: 'one' }, true],
    ['another target', { check: 'rollout-status', target: 'b/*', reason: 'other' }, false],
    ['another check', { check: 'rollout-pods', target: 'a/*', reason: 'other check' }, false],
    ['an expired mute', { check: 'rollout-status', target: 'a/*', reason: 'old', until: '2026-11-26' }, false],
    ['a mute until later', { check: 'rollout-status', target: 'a/*', reason: 'later', until: '2026-11-27' }, true],
  ])('mutes: %s', (_name, rule, isMuted) => {
    const store = new ResultStore();
    store.apply(cycle(0, [ran(CHECKS.status, [ok('a/x', 'fail')])]), config({ mute: [rule] }));
    const [result] = store.results();
    expect(result!.status).toBe('fail');
    if (isMuted) expect(result).toMatchObject({ muted: true, muteReason: rule.reason });
    else expect(result).not.toHaveProperty('muted');
  });
});

describe('ResultStore in slices', () => {
  /** 20,000 results over two checks, some changing, some gone, some new, one check failing next. */
  const many = (offset: number, failing: boolean): CycleOutcome =>
    cycle(offset, [
      ran(CHECKS.status, Array.from({ length: 10_000 }, (_, i) => ok(`ns-${(i + offset) % 97}/r-${i + offset}`, i % (3 + offset) === 0 ? 'warn' : 'ok'))),
      failing ? failed(CHECKS.pods, 'timed out') : ran(CHECKS.pods, Array.from({ length: 10_000 }, (_, i) => ok(`ns-${i % 89}/r-${i}`, i % 7 === 0 ? 'fail' : 'ok'))),
    ]);

  it('folds to the same results and changes as in one go, and a timer due meanwhile runs before the fold ends', async () => {
    const whole = new ResultStore();
    const sliced = new ResultStore();
    for (const [offset, failing] of [[0, false], [30, false], [60, true]] as const) {
      const expected = whole.apply(many(offset, failing), config());
      const events: string[] = [];
      setTimeout(() => events.push('timer'), 0);
      const changes = await sliced.applyInSlices(many(offset, failing), config());
      events.push('folded');
      expect(changes).toEqual(expected);
      expect(sliced.results()).toEqual(whole.results());
      expect(sliced.lastCycle).toEqual(whole.lastCycle);
      expect(events).toEqual(['timer', 'folded']);
    }
  });

  it('folds one after the other: a re-evaluation folded while a cycle is being folded starts from the cycle', async () => {
    const store = new ResultStore();
    store.apply(many(0, false), config());
    const first = store.applyInSlices(many(30, false), config());
    const partial = store.applyPartialInSlices({ startedAt: new Date(T0 + 45_000), durationMs: 10, runs: [ran(CHECKS.pods, [ok('ns-1/r-1', 'fail')])] }, config());
    await Promise.all([first, partial]);
    expect(store.results().filter((r) => r.check === 'rollout-pods').map((r) => [r.target, r.status])).toEqual([['ns-1/r-1', 'fail']]);
    expect(store.results().filter((r) => r.check === 'rollout-status')).toHaveLength(10_000);
    expect(store.lastCycle?.completedAtMs).toBe(T0 + 30_000 + 1500);
  });
});
