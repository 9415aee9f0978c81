/**
 * Verdicts within seconds: with the cache, a change in the cluster re-runs the checks that read the
 * changed kind on the cached view, reusing the last cycle's targeted reads and probes, and publishes
 * the results to the same subscribers as a cycle, marked partial. /health keeps describing the last
 * full cycle (`checkedAt`, `cycle`), each result its own time. And a kind rollout-doctor may list but
 * not watch is listed every cycle instead: the log and /health say so.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DaemonEvent } from '../../src/engine/daemon.js';
import { createRuntime, demoScenarioDir, type Runtime } from '../../src/main.js';
import { FIXTURE_ROOT } from '../helpers/cases.js';
import { captureLog } from '../helpers/logs.js';
import { waitFor } from '../helpers/polling.js';

let runtime: Runtime | undefined;

afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

async function homelab(): Promise<{ runtime: Runtime; events: DaemonEvent[] }> {
  runtime = await createRuntime({ simulate: { dir: demoScenarioDir(), ephemeralAppPorts: true }, snapshot: 'watch', logLevel: 'silent' });
  const events: DaemonEvent[] = [];
  runtime.daemon.subscribe((event) => {
    events.push(event);
  });
  await runtime.daemon.runOnce();
  return { runtime, events };
}

type Object = { metadata: { name: string }; status: Record<string, unknown> };

function litellm(rt: Runtime): Object {
  return rt.simulator!.objects('Rollout').find((o) => (o as Object).metadata.name === 'litellm') as Object;
}

describe('a change between cycles', () => {
  it('re-runs the checks that read the changed kind, with the last cycle reads, and publishes it as partial', async () => {
    const { runtime: rt, events } = await homelab();
    const cycle = rt.health.health().body;
    rt.simulator!.clearRequests();
    const rollout = litellm(rt);
    rt.simulator!.apply({ ...rollout, status: { ...rollout.status, phase: 'Degraded', message: 'RolloutAborted: metric "error-rate" assessed Failed', abort: true } });

    const partial = await waitFor(() => events.find((e) => e.type === 'partial'), Boolean);
    expect(partial.type === 'partial' && partial.checks).toContain('rollout-status');
    expect(partial.type === 'partial' && partial.checks).not.toContain('self-rbac');
    expect(partial.type === 'partial' && partial.checks).not.toContain('endpoint');
    const status = rt.daemon.store.results().find((r) => r.check === 'rollout-status' && r.target === 'litellm/litellm')!;
    expect(status.status).toBe('fail');
    expect(status.summary).toContain('Degraded');

    // /health: the same cycle, the re-evaluated result with its own time.
    const health = rt.health.health().body;
    expect(health.checkedAt).toBe(cycle.checkedAt);
    expect(health.cycle).toEqual(cycle.cycle);
    const entry = health.checks.find((c) => c.check === 'rollout-status' && c.target === 'litellm/litellm')!;
    expect(Date.parse(entry.checkedAt!)).toBeGreaterThan(Date.parse(cycle.checkedAt!));
    expect(health.checks.find((c) => c.check === 'self-rbac')!.checkedAt).toBeUndefined();

    // Nothing was listed, and no log or access review was read again.
    expect(rt.simulator!.requests.filter((r) => r.verb !== 'watch').map((r) => `${r.verb} ${r.resource}`)).toEqual([]);
    expect(rt.metrics.text()).toMatch(/^rollout_doctor_reevaluations_total [1-9]/m);
    expect(rt.metrics.text()).toMatch(/^rollout_doctor_cycles_total 1$/m);
    expect(rt.metrics.text()).toMatch(/^rollout_doctor_check_status\{check="rollout-status",target="litellm\/litellm",status="fail"\} 1$/m);
  });

  it('runs at most once a second, however many changes come', async () => {
    const { runtime: rt, events } = await homelab();
    const rollout = litellm(rt);
    const started = Date.now();
    for (let i = 0; i < 20; i++) {
      rt.simulator!.apply({ ...rollout, status: { ...rollout.status, message: `step ${i}` } });
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1500));
    const partials = events.filter((e) => e.type === 'partial').length;
    const seconds = (Date.now() - started) / 1000;
    expect(partials).toBeGreaterThan(0);
    expect(partials).toBeLessThanOrEqual(Math.ceil(seconds));
  });
});

describe('a kind it may list but not watch', () => {
  it('is listed every cycle; the log and /health say so', async () => {
    const captured = captureLog('info');
    runtime = await createRuntime({
      simulate: { dir: `${FIXTURE_ROOT}/self-rbac/missing-watch`, ephemeralAppPorts: true, enforceRbacSubject: 'system:serviceaccount:rollout-doctor:rollout-doctor', now: new Date('2026-11-26T14:00:00Z') },
      only: ['self-rbac', 'controller-pods', 'argocd-sync'],
      snapshot: 'watch',
      log: captured.log,
    });
    await runtime.daemon.runOnce();
    const rt = runtime;
    await waitFor(() => rt.source.watchFallbacks(), (fallbacks) => fallbacks.length > 0);
    await rt.daemon.runOnce();
    const body = rt.health.health().body;
    expect(body.watchFallback).toEqual([{ kind: 'rollouts', reason: 'rollout-doctor may not watch rollouts.argoproj.io (403 Forbidden): listed every cycle instead' }]);
    expect(rt.health.health().text(Date.now(), { width: 200, verbose: false }).toString()).toContain('rollouts: rollout-doctor may not watch rollouts.argoproj.io (403 Forbidden): listed every cycle instead');
    expect(captured.entries().find((e) => e.event === 'watch_forbidden')).toMatchObject({ kind: 'rollouts', msg: 'rollout-doctor may not watch rollouts.argoproj.io (403 Forbidden): listing rollouts every cycle instead' });
    expect(body.checks.filter((c) => c.status === 'unknown')).toEqual([]);
  });
});
