/**
 * controller-plugins' metric families, read from fixture cases (test/fixtures/controller-plugins/<case>/:
 * ConfigMap, controller pods, Rollouts and templates, the controller's logs; the cases run in
 * fixtures.test.ts), and the reading of controller log lines.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { metrics } from '../../src/checks/controller-plugins.js';
import { namesPlugin, pluginErrorLines, readStartup } from '../../src/argo/plugin-log.js';
import { collectSeries, FIXTURE_ROOT, runCase } from '../helpers/cases.js';

const ID = 'controller-plugins';


describe(`${ID} metrics`, () => {
  const series = async (caseName: string, now: string) => {
    const output = await runCase(ID, path.join(FIXTURE_ROOT, ID, caseName), { now });
    return output.body.checks
      .filter((c) => c.check === ID)
      .flatMap((result) => metrics.flatMap((family) => collectSeries(family, result).map((s) => `${family.name}{plugin="${s.labels.plugin}"} ${s.value}`)))
      .sort();
  };

  it('reports 0/1 loaded and the recent error lines per plugin', async () => {
    expect(await series('referenced-not-configured', '2026-11-26T14:00:00Z')).toEqual([
      'rollout_doctor_plugin_loaded{plugin="argoproj-labs/cilium"} 0',
      'rollout_doctor_plugin_recent_error_lines{plugin="argoproj-labs/cilium"} 4',
    ]);
    expect(await series('ok', '2026-11-26T14:00:00Z')).toEqual([
      'rollout_doctor_plugin_loaded{plugin="argoproj-labs/cilium"} 1',
      'rollout_doctor_plugin_recent_error_lines{plugin="argoproj-labs/cilium"} 0',
    ]);
  });

  it('emits nothing for an unknown plugin', async () => {
    const output = await runCase(ID, path.join(FIXTURE_ROOT, ID, 'ok'), { faults: { 'pods/log': 403 } });
    const unknown = output.body.checks.find((c) => c.check === ID)!;
    expect(unknown.status).toBe('unknown');
    expect(metrics.flatMap((family) => collectSeries(family, unknown))).toEqual([]);
  });
});

describe(`${ID} log reading`, () => {
  const cilium = { name: 'argoproj-labs/cilium', location: 'https://example.invalid/cilium-linux-amd64' };

  it('a log without the starting line still begins at the container start when its first line is that old', () => {
    const text = 'time="2026-11-02T08:11:45Z" level=info msg="Setting up event handlers"\ntime="2026-11-02T08:11:46Z" level=info msg="Starting Controllers"\n';
    expect(readStartup(text, [cilium], Date.parse('2026-11-02T08:11:40Z')).isContainerStart).toBe(true);
    expect(readStartup(text, [cilium], Date.parse('2026-10-01T00:00:00Z')).isContainerStart).toBe(false);
    expect(readStartup(text, [cilium], undefined).isContainerStart).toBe(false);
  });

  it('a fatal download line naming no plugin concerns the plugin being downloaded', () => {
    const text = [
      'time="2026-11-26T13:54:12Z" level=info msg="Argo Rollouts starting"',
      'time="2026-11-26T13:54:12Z" level=info msg="Downloading plugin argoproj-labs/cilium from: https://example.invalid/cilium-linux-amd64"',
      'time="2026-11-26T13:54:12Z" level=info msg="Download complete, it took 1s"',
      'time="2026-11-26T13:54:12Z" level=info msg="Downloading plugin argoproj-labs/gatewayAPI from: https://example.invalid/gw"',
      'time="2026-11-26T13:54:13Z" level=fatal msg="Failed to download plugins: failed to create plugin folder for plugin (argoproj-labs/gatewayAPI): (mkdir /home/argo-rollouts/plugin-bin: read-only file system)"',
    ].join('\n');
    const evidence = readStartup(text, [cilium, { name: 'argoproj-labs/gatewayAPI', location: 'https://example.invalid/gw' }]);
    expect(evidence.failure?.plugins).toEqual(['argoproj-labs/gatewayAPI']);
    expect([...evidence.downloads.keys()]).toEqual(['argoproj-labs/cilium']);
  });

  it('names a plugin only as a whole name', () => {
    expect(namesPlugin('failed to get traffic router plugin argoproj-labs/cilium: unable to start plugin system', 'argoproj-labs/cilium')).toBe(true);
    expect(namesPlugin('unable to find plugin (argoproj-labs/cilium-v2)', 'argoproj-labs/cilium')).toBe(false);
  });

  it('counts a setWeight error naming no plugin for the plugins of its rollout', () => {
    const text = 'time="2026-11-26T13:55:00Z" level=error msg="roCtx.reconcile err failed to set weight via plugin: rpc error" namespace=litellm rollout=litellm\n';
    const lines = pluginErrorLines(text, ['argoproj-labs/cilium', 'argoproj-labs/gatewayAPI'], (rollout) => (rollout === 'litellm/litellm' ? ['argoproj-labs/cilium'] : []));
    expect([...lines.keys()]).toEqual(['argoproj-labs/cilium']);
  });
});
