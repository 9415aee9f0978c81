/**
 * The engine through its real parts: a simulated cluster, the real kube client, the store and the
 * metrics. The checks here are small test checks that exercise the contract's edges (throwing,
 * hanging, targets appearing and disappearing); the real checks have their own fixture tests.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kubeApiCheck } from '../../src/checks/kube-api.js';
import { parseConfig } from '../../src/config/load.js';
import { kubectl } from '../../src/engine/remediation.js';
import type { Check, CheckResult } from '../../src/engine/types.js';
import { testRuntime, type TestRuntime } from '../helpers/runtime.js';

let dir: string;
let runtime: TestRuntime | undefined;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rd-engine-'));
  writeFileSync(
    path.join(dir, 'objects.yaml'),
    [
      'apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: a, namespace: ns1}\nspec: {}\n',
      'apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: b, namespace: ns2}\nspec: {}\n',
    ].join('---\n'),
  );
  return () => rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

/** One result per Rollout, `ok` unless the rollout is named in `failing`. */
function rolloutCheck(failing: Set<string> = new Set(), id = 'test-rollouts'): Check {
  return {
    id,
    description: 'test',
    needs: ['rollouts'],
    async run(ctx) {
      return ctx.snapshot.list('rollouts').map((r): CheckResult => {
        const target = `${r.metadata.namespace}/${r.metadata.name}`;
        const status = failing.has(target) ? 'fail' : 'ok';
        return { target, status, summary: `${target} is ${status}`, remediation: status === 'ok' ? [] : [kubectl(['argo', 'rollouts', 'get', 'rollout', r.metadata.name ?? '', '-n', r.metadata.namespace ?? ''])], details: {} };
      });
    },
  };
}

describe('cycles', () => {
  it('runs every check on one snapshot and stores one result per target', async () => {
    runtime = await testRuntime({ dir, checks: [rolloutCheck()] });
    const outcome = await runtime.daemon.runOnce();
    expect(outcome?.apiRequests).toBe(1);
    expect(runtime.daemon.store.results().map((r) => [r.check, r.target, r.status])).toEqual([
      ['test-rollouts', 'ns1/a', 'ok'],
      ['test-rollouts', 'ns2/b', 'ok'],
    ]);
  });

  it('a check that throws yields unknown with the reason; the others keep their status', async () => {
    const throwing: Check = { id: 'boom', description: 'test', needs: [], run: async () => Promise.reject(new Error('kaboom')) };
    runtime = await testRuntime({ dir, checks: [rolloutCheck(), throwing] });
    await runtime.daemon.runOnce();
    const boom = runtime.daemon.store.results().find((r) => r.check === 'boom');
    expect(boom).toMatchObject({ target: '*', status: 'unknown', summary: 'check failed: kaboom' });
    expect(runtime.daemon.store.results().filter((r) => r.check === 'test-rollouts').map((r) => r.status)).toEqual(['ok', 'ok']);
  });

  it('a check that ignores its deadline is cut off at checkMs and reported unknown', async () => {
    const hanging: Check = { id: 'hang', description: 'test', needs: [], run: () => new Promise(() => undefined) };
    runtime = await testRuntime({ dir, checks: [hanging], config: { timeouts: { requestMs: 100, checkMs: 200, cycleMs: 2000 } } });
    await runtime.daemon.runOnce();
    // The check's own deadline ended it, before the cycle's (how fast is for npm run bench to say).
    expect(runtime.daemon.store.results()[0]).toMatchObject({ check: 'hang', status: 'unknown', summary: 'check hang deadline of 200 ms reached' });
  });

  it('never overlaps: a run while one is in flight is skipped and counted', async () => {
    let release: () => void = () => undefined;
    const slow: Check = { id: 'slow', description: 'test', needs: [], run: () => new Promise((resolve) => (release = () => resolve([])) ) };
    runtime = await testRuntime({ dir, checks: [slow] });
    const first = runtime.daemon.runOnce();
    await new Promise((r) => setTimeout(r, 50));
    expect(await runtime.daemon.runOnce()).toBeUndefined();
    expect(runtime.metrics.text()).toMatch(/^rollout_doctor_cycles_skipped_total 1$/m);
    release();
    expect(await first).toBeDefined();
  });

  it('a target that disappears leaves /health and /metrics; since only moves on a status change', async () => {
    const failing = new Set<string>();
    runtime = await testRuntime({ dir, checks: [rolloutCheck(failing)] });
    await runtime.daemon.runOnce();
    const firstSince = runtime.daemon.store.results()[0]!.since;
    await new Promise((r) => setTimeout(r, 20));
    await runtime.daemon.runOnce();
    expect(runtime.daemon.store.results()[0]!.since).toBe(firstSince);
    failing.add('ns1/a');
    await runtime.daemon.runOnce();
    expect(runtime.daemon.store.results()[0]!.since).not.toBe(firstSince);
    expect(runtime.metrics.text()).toContain('rollout_doctor_check_status{check="test-rollouts",target="ns2/b",status="ok"} 1');

    runtime.simulator!.remove('argoproj.io/v1alpha1', 'Rollout', 'ns2', 'b');
    await runtime.daemon.runOnce();
    expect(runtime.daemon.store.results().map((r) => r.target)).toEqual(['ns1/a']);
    expect(runtime.metrics.text()).not.toContain('target="ns2/b"');
    expect(runtime.health.health().body.checks.map((c) => c.target)).toEqual(['ns1/a']);
    const changes = runtime.captured.entries().filter((e) => e.event === 'status_change');
    expect(changes.map((e) => [e.target, e.from, e.to])).toEqual([
      ['ns1/a', null, 'ok'],
      ['ns2/b', null, 'ok'],
      ['ns1/a', 'ok', 'fail'],
      ['ns2/b', 'ok', null],
    ]);
  });

  it('a failed discovery list turns known targets unknown (not dropped, not fail) and recovers', async () => {
    runtime = await testRuntime({ dir, checks: [rolloutCheck(new Set(['ns1/a']))] });
    await runtime.daemon.runOnce();
    runtime.simulator!.setFault('rollouts', 403);
    await runtime.daemon.runOnce();
    const results = runtime.daemon.store.results();
    expect(results.map((r) => [r.target, r.status])).toEqual([
      ['ns1/a', 'unknown'],
      ['ns2/b', 'unknown'],
    ]);
    expect(results[0]!.summary).toBe('rollout-doctor may not list rollouts.argoproj.io (403 Forbidden)');
    expect(results[0]!.details).toMatchObject({ lastKnownStatus: 'fail' });
    expect(runtime.metrics.text()).toContain('rollout_doctor_kube_requests_total{verb="list",resource="rollouts.argoproj.io",code="403"} 1');
    runtime.simulator!.clearFault('rollouts');
    await runtime.daemon.runOnce();
    expect(runtime.daemon.store.results().map((r) => [r.target, r.status])).toEqual([
      ['ns1/a', 'fail'],
      ['ns2/b', 'ok'],
    ]);
  });

  it('when the API refuses our credentials, kube-api says so once and the known targets point at it', async () => {
    runtime = await testRuntime({ dir, checks: [kubeApiCheck, rolloutCheck(new Set(['ns1/a']))] });
    await runtime.daemon.runOnce();
    runtime.simulator!.setFault('*', 401);
    await runtime.daemon.runOnce();
    const results = runtime.daemon.store.results();
    expect(results.map((r) => [r.check, r.target, r.status, r.details.blockedBy ?? null, r.details.lastKnownStatus ?? null])).toEqual([
      ['kube-api', 'simulator', 'unknown', null, null],
      ['test-rollouts', 'ns1/a', 'unknown', 'kube-api', 'fail'],
      ['test-rollouts', 'ns2/b', 'unknown', 'kube-api', 'ok'],
    ]);
    expect(results[1]).toMatchObject({ summary: "not checked: the Kubernetes API rejects rollout-doctor's credentials (see kube-api)", remediation: ['Fix what kube-api reports first; this is checked again next cycle'] });
    expect(results[1]!.details).toMatchObject({ apiError: { reason: 'Unauthorized', status: 401, verb: 'list', resource: 'rollouts.argoproj.io' } });
    runtime.simulator!.clearFault('*');
    await runtime.daemon.runOnce();
    expect(runtime.daemon.store.results().map((r) => `${r.check} ${r.target} ${r.status}`)).toEqual(['kube-api simulator ok', 'test-rollouts ns1/a fail', 'test-rollouts ns2/b ok']);
  });

  it('with no target known yet, a failed discovery is one unknown result with target *', async () => {
    runtime = await testRuntime({ dir, checks: [rolloutCheck()], faults: { rollouts: 500 } });
    await runtime.daemon.runOnce();
    expect(runtime.daemon.store.results()).toMatchObject([{ check: 'test-rollouts', target: '*', status: 'unknown' }]);
    expect(runtime.daemon.store.results()[0]!.summary).toContain('Kubernetes API error on list rollouts.argoproj.io: 500');
  });

  it('a reloaded timeouts.requestMs applies to the next cycle', async () => {
    runtime = await testRuntime({ dir, checks: [rolloutCheck()], config: { timeouts: { requestMs: 100 } } });
    runtime.simulator!.setLatency(300);
    await runtime.daemon.runOnce();
    expect(runtime.daemon.store.results()).toMatchObject([{ target: '*', status: 'unknown' }]);
    expect(runtime.daemon.store.results()[0]!.summary).toContain('no answer within 100 ms');
    await runtime.daemon.reload({ config: parseConfig({ timeouts: { requestMs: 2000 } }, 'test-config.yaml'), file: 'test-config.yaml', baseDir: process.cwd() });
    await runtime.daemon.runOnce();
    expect(runtime.daemon.store.results().map((r) => `${r.target} ${r.status}`)).toEqual(['ns1/a ok', 'ns2/b ok']);
  });

  it('staleness: when no cycle completed for 3 intervals, /health shows every result unknown', async () => {
    let now = Date.now();
    runtime = await testRuntime({ dir, checks: [rolloutCheck()], now: () => new Date(now), config: { schedule: '*/10 * * * * *' } });
    await runtime.daemon.runOnce();
    expect(runtime.health.health().body.status).toBe('ok');
    now += 29_000;
    expect(runtime.health.health().body.status).toBe('ok');
    now += 2_000;
    const stale = runtime.health.health().body;
    expect(stale.status).toBe('unknown');
    expect(stale.checks.every((c) => c.status === 'unknown')).toBe(true);
    expect(stale.checks[0]!.summary).toBe('stale: last cycle 31s ago (was ok: ns1/a is ok)');
    expect(runtime.metrics.text()).toMatch(/^rollout_doctor_cycle_interval_seconds 10$/m);
  });

  it('muted results keep their status, do not count, and are marked in metrics', async () => {
    runtime = await testRuntime({
      dir,
      // A mute names a check of the catalogue (the config rejects any other id): the test check takes one.
      checks: [rolloutCheck(new Set(['ns1/a']), 'rollout-status')],
      config: { mute: [{ check: 'rollout-status', target: 'ns1/*', reason: 'known, ticket 7' }, { check: 'rollout-status', target: 'ns2/*', reason: 'expired', until: '2020-01-01' }] },
    });
    await runtime.daemon.runOnce();
    const body = runtime.health.health().body;
    expect(body.status).toBe('ok');
    expect(body.checks[0]).toMatchObject({ target: 'ns1/a', status: 'fail', muted: true, muteReason: 'known, ticket 7' });
    expect(body.checks[1]).not.toHaveProperty('muted');
    expect(runtime.metrics.text()).toContain('rollout_doctor_check_muted{check="rollout-status",target="ns1/a"} 1');
    expect(runtime.metrics.text()).toContain('rollout_doctor_check_muted{check="rollout-status",target="ns2/b"} 0');
  });

  it('kubectlContext puts --context on every kubectl command of the remediation', async () => {
    runtime = await testRuntime({ dir, checks: [rolloutCheck(new Set(['ns1/a']))], config: { kubectlContext: 'homelab' } });
    await runtime.daemon.runOnce();
    expect(runtime.daemon.store.results()[0]!.remediation).toEqual(['kubectl argo rollouts get rollout a -n ns1 --context homelab']);
  });

  it('namespace include/exclude scopes rollout discovery', async () => {
    runtime = await testRuntime({ dir, checks: [rolloutCheck()], config: { namespaces: { exclude: ['ns2'] } } });
    await runtime.daemon.runOnce();
    expect(runtime.daemon.store.results().map((r) => r.target)).toEqual(['ns1/a']);
  });
});
