/**
 * The scenarios `rollout-doctor demo --scenario NAME` serves: each is found by `demo --list` with
 * its description, loads (the incident ones overlay the homelab through _controller-v1.9.1), and a
 * cycle over it reports the incident it is named after: as results, and as ONE incident
 * (docs/incidents.md) rooted at the cause with the other results it explains as effects.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledScenariosDir, runCheckOnce } from '../../src/main.js';
import { listScenarios, readScenarioDocuments, scenarioLogsDir } from '../../src/simulator/load.js';

const INCIDENTS = ['plugin-download-404', 'canary-never-started', 'empty-result-abort', 'bluegreen-paused'];

async function cycle(name: string) {
  const { body } = await runCheckOnce({ simulate: { dir: path.join(bundledScenariosDir(), name), ephemeralAppPorts: true } });
  const result = (check: string, target: string) => body.checks.find((c) => c.check === check && c.target === target);
  /** The cycle's incidents as `root: effect, effect` (sorted), one per incident. */
  const incidents = () => body.incidents.map((i) => `${i.status} ${i.root.check} ${i.root.target}: ${i.effects.map((e) => `${e.check} ${e.target}`).sort().join(', ')}`);
  return Object.assign(result, { incidents, summaries: () => body.incidents.map((i) => i.summary) });
}

/**
 * Every bundled scenario overlays the homelab, whose Sympozium healthz template names a cluster DNS
 * host outside the demo's allowedHosts: analysis-preflight warns "nothing measured", an incident of its own.
 */
const UNMEASURED_TEMPLATE = 'warn analysis-preflight sympozium-system/sympozium-healthz: ';

describe('bundled scenarios', () => {
  it('each has a one-line description; homelab and the four incidents are there', async () => {
    const scenarios = await listScenarios(bundledScenariosDir());
    for (const s of scenarios) expect(s.description, `${s.name}: scenario.yaml description`).toMatch(/^[^\n]{20,160}$/);
    expect(scenarios.map((s) => s.name)).toEqual(expect.arrayContaining(['homelab', ...INCIDENTS]));
    expect(scenarios.map((s) => s.name)).not.toContain('_controller-v1.9.1');
  });

  it.each(INCIDENTS)('%s runs the Argo Rollouts v1.9.1 controller image, and its log starts as v1.9.1 starts', async (name) => {
    const dir = path.join(bundledScenariosDir(), name);
    const logs = path.join(await scenarioLogsDir(dir), 'argo-rollouts');
    for (const file of readdirSync(logs)) {
      const start = readFileSync(path.join(logs, file), 'utf8').split('\n').find((line) => line.includes('controller starting'));
      // A rotated log (canary-never-started) no longer has its first lines.
      if (start) expect(start).toMatch(/level=info msg="Argo Rollouts controller starting" healthzPort=8080 instanceID= metricsPort=8090 namespace= version=v1\.9\.1\+b6bd3bc$/);
    }
    const docs = await readScenarioDocuments(dir);
    const controller = docs.map((d) => d.object).find((o) => o['kind'] === 'Deployment' && (o['metadata'] as { name: string }).name === 'argo-rollouts') as {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    expect(controller.spec.template.spec.containers[0]!.image).toBe('quay.io/argoproj/argo-rollouts:v1.9.1');
  });

  it('homelab: nothing fails or is unknown; its one warn is its one incident', async () => {
    const { body } = await runCheckOnce({ simulate: { dir: path.join(bundledScenariosDir(), 'homelab'), ephemeralAppPorts: true } });
    expect(body.checks.filter((c) => c.status === 'fail' || c.status === 'unknown')).toEqual([]);
    expect(body.incidents.map((i) => `${i.status} ${i.root.check} ${i.root.target}: ${i.effects.length}`)).toEqual([UNMEASURED_TEMPLATE.replace(/ $/, ' 0')]);
  });

  it('plugin-download-404: the controller crash-loops on the download, 6080 restarts in 21 days', async () => {
    const result = await cycle('plugin-download-404');
    expect(result('controller-pods', 'argo-rollouts/argo-rollouts')).toMatchObject({ status: 'fail' });
    expect(result('controller-pods', 'argo-rollouts/argo-rollouts')!.summary).toMatch(/CrashLoopBackOff \(6080 restarts, last exit 1 Error\).*response code Not Found/);
    expect(result('controller-plugins', 'argoproj-labs/cilium')).toMatchObject({ status: 'fail' });
    expect(result('rollout-status', 'litellm/litellm')).toMatchObject({ status: 'ok' });
    // One incident: the download failure is fatal at startup (controller/controller.go log.Fatalf
    // "Failed to download plugins", v1.9.1), so the crash loop is its effect. The Rollouts are ok
    // here (healthy at their stable revision); when they are stuck they join it (test/fixtures/incidents/plugin-404).
    expect(result.incidents()).toEqual(['fail controller-plugins argoproj-labs/cilium: controller-pods argo-rollouts/argo-rollouts', UNMEASURED_TEMPLATE]);
    expect(result.summaries()[0]).toBe('plugin argoproj-labs/cilium cannot be downloaded (Not Found) -> controller crash-looping');
  });

  it('canary-never-started: the Rollout references a plugin the ConfigMap dropped, Progressing for 39 days', async () => {
    const result = await cycle('canary-never-started');
    expect(result('controller-plugins', 'argoproj-labs/cilium')!.summary).toContain('is referenced by Rollout litellm/litellm but not configured');
    expect(result('rollout-references', 'litellm/litellm')).toMatchObject({ status: 'fail' });
    expect(result('rollout-status', 'litellm/litellm')).toMatchObject({ status: 'warn' });
    expect(result('rollout-status', 'litellm/litellm')!.summary).toMatch(/Progressing with no progress for 39d.*Step 0\/6, SetWeight 20, ActualWeight 0/);
    // One incident rooted at the plugin the controller has not loaded: the missing reference, the
    // stuck canary and its missing traffic object are its effects.
    expect(result.incidents()).toEqual(['fail controller-plugins argoproj-labs/cilium: rollout-references litellm/litellm, rollout-status litellm/litellm, rollout-traffic litellm/litellm', UNMEASURED_TEMPLATE]);
  });

  it('empty-result-abort: every measurement an Error on an empty vector, the canary aborted', async () => {
    const result = await cycle('empty-result-abort');
    expect(result('rollout-analysis', 'litellm/litellm')).toMatchObject({ status: 'fail' });
    expect(result('rollout-analysis', 'litellm/litellm')!.summary).toContain('consecutiveErrors (5) > consecutiveErrorLimit (4): "Error Message: reflect: slice index out of range"');
    expect(result('rollout-status', 'litellm/litellm')!.summary).toContain('Degraded: RolloutAborted: Rollout aborted update to revision 4: Step-based analysis phase error/failed');
    expect(result('analysis-preflight', 'litellm/litellm-error-rate')).toMatchObject({ status: 'fail' });
    // One incident: the template's query errors now -> the run errored -> the abort.
    expect(result.incidents()).toEqual(['fail analysis-preflight litellm/litellm-error-rate: rollout-analysis litellm/litellm, rollout-status litellm/litellm', UNMEASURED_TEMPLATE]);
    expect(result.summaries().slice(0, 1)).toEqual(['metric error-rate of AnalysisTemplate litellm/litellm-error-rate measures Error now -> analysis of Rollout litellm/litellm errored -> Rollout litellm/litellm Degraded (RolloutAborted)']);
  });

  it('bluegreen-paused: waiting for promotion for 4h55m', async () => {
    const result = await cycle('bluegreen-paused');
    expect(result('rollout-status', 'sympozium-system/sympozium-apiserver')).toMatchObject({ status: 'warn' });
    expect(result('rollout-status', 'sympozium-system/sympozium-apiserver')!.summary).toContain('Paused for 4h55m');
    expect(result('rollout-services', 'sympozium-system/sympozium-apiserver')).toMatchObject({ status: 'ok' });
    // The pause is the cause itself: one incident, nothing under it.
    expect(result.incidents().sort()).toEqual([UNMEASURED_TEMPLATE, 'warn rollout-status sympozium-system/sympozium-apiserver: ']);
  });
});
