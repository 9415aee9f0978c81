/**
 * A recovery does not page again, end to end: the daemon on a simulated cluster (the pods-not-starting
 * case), the root fixed between two cycles by a write to the simulated API, its effects still failing.
 * They stay under the same incident, `recovering`, in /health and in /metrics (where the alert rules
 * read `rollout_doctor_check_explained_by`), until the hold-down ends.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig, resolvePaths } from '../../src/config/load.js';
import { createRuntime, type Runtime } from '../../src/main.js';
import { FIXTURE_ROOT } from '../helpers/cases.js';

const CASE = path.join(FIXTURE_ROOT, 'incidents', 'pods-not-starting');
const BASE_CONFIG = path.join(FIXTURE_ROOT, 'incidents', '_base', 'rollout-doctor.yaml');
const NOW = Date.parse('2026-11-26T14:00:00Z');

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

function series(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`));
}

describe('a recovered root holds its effects down', () => {
  it('keeps them under its incident, recovering, in /health and /metrics, then lets them form their own', async () => {
    let clock = NOW;
    const config = resolvePaths(parseConfig({ ...(parse(readFileSync(BASE_CONFIG, 'utf8')) as object), incidents: { holdDown: '5m' } }, BASE_CONFIG), path.dirname(BASE_CONFIG));
    runtime = await createRuntime({
      config: { config, file: BASE_CONFIG, baseDir: path.dirname(BASE_CONFIG) },
      simulate: { dir: CASE, now: new Date(NOW), ephemeralAppPorts: true },
      now: () => new Date(clock),
      logLevel: 'silent',
    });
    const { daemon, health, metrics, simulator } = runtime;

    await daemon.runOnce();
    const [open] = health.health().body.incidents;
    expect(open).toMatchObject({ status: 'fail', root: { check: 'rollout-pods', target: 'sympozium-system/sympozium-apiserver' } });

    // The image gets pushed: the new pods start and become Ready. The Rollout still reads
    // ProgressDeadlineExceeded and the preview endpoints are not ready yet: the controller and the
    // endpoint controller have not caught up.
    for (const pod of simulator!.objects('Pod').filter((p) => String((p as { metadata: { name: string } }).metadata.name).startsWith('sympozium-apiserver-6f8b7c9d54-'))) {
      const ready = structuredClone(pod) as { status: Record<string, unknown> };
      ready.status = {
        ...ready.status,
        phase: 'Running',
        conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastTransitionTime: '2026-11-26T14:00:10Z' })),
        containerStatuses: [{ name: 'apiserver', image: 'ghcr.io/sympozium-ai/sympozium-apiserver:v0.9.3', imageID: '', ready: true, started: true, restartCount: 0, state: { running: { startedAt: '2026-11-26T14:00:05Z' } } }],
      };
      simulator!.apply(ready);
    }
    clock += 30_000;
    await daemon.runOnce();
    const body = health.health().body;
    expect(body.checks.find((c) => c.check === 'rollout-pods' && c.target === 'sympozium-system/sympozium-apiserver')?.status).toBe('ok');
    expect(body.incidents).toEqual([
      expect.objectContaining({ id: open!.id, status: 'recovering', effects: [{ check: 'rollout-services', target: 'sympozium-system/sympozium-apiserver' }, { check: 'rollout-status', target: 'sympozium-system/sympozium-apiserver' }] }),
    ]);
    expect(body.checks.filter((c) => c.incident === open!.id).map((c) => c.check)).toEqual(['rollout-services', 'rollout-status']);
    expect(series(metrics.text(), 'rollout_doctor_incident')).toEqual([`rollout_doctor_incident{id="${open!.id}",root_check="rollout-pods",root_target="sympozium-system/sympozium-apiserver",status="recovering"} 1`]);
    expect(series(metrics.text(), 'rollout_doctor_check_explained_by')).toEqual([
      'rollout_doctor_check_explained_by{check="rollout-services",target="sympozium-system/sympozium-apiserver",root_check="rollout-pods",root_target="sympozium-system/sympozium-apiserver"} 1',
      'rollout_doctor_check_explained_by{check="rollout-status",target="sympozium-system/sympozium-apiserver",root_check="rollout-pods",root_target="sympozium-system/sympozium-apiserver"} 1',
    ]);

    clock += 6 * 60_000;
    await daemon.runOnce();
    expect(health.health().body.incidents.map((i) => `${i.status} ${i.root.check}`)).toEqual(['fail rollout-services', 'fail rollout-status']);
    expect(series(metrics.text(), 'rollout_doctor_check_explained_by')).toEqual([]);
  });
});
