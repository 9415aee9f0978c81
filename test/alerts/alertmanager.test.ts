/**
 * deploy/alerts/alertmanager-inhibit.yaml, the Alertmanager equivalent of the incident rules:
 * `amtool check-config` accepts it in a config, and a real Alertmanager (Debian's
 * prometheus-alertmanager, on loopback, clustering off) given a root alert and its effects marks the
 * effects suppressed, inhibited by the root (through the chain: the plugin inhibits the crash loop,
 * which inhibits the stuck Rollout), and leaves another cluster's alert active.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ALERTS_DIR } from '../../deploy/alerts/render.js';
import { requireTool } from '../helpers/binaries.js';
import { type Daemon, startDaemon } from '../helpers/victoria-metrics.js';

const INSTALL = 'apt-get install -y --no-install-recommends prometheus-alertmanager';
const amtool = requireTool('amtool', 'the Alertmanager inhibit rules check (amtool check-config)', INSTALL);
const alertmanager = requireTool('prometheus-alertmanager', 'the Alertmanager inhibit rules test', INSTALL);

const INHIBIT = path.join(ALERTS_DIR, 'alertmanager-inhibit.yaml');

/** A whole Alertmanager config: a receiver that sends nothing, and the shipped inhibit rules. */
function config(): string {
  const { inhibit_rules } = parse(readFileSync(INHIBIT, 'utf8')) as { inhibit_rules: unknown[] };
  return stringify({ route: { receiver: 'nowhere', group_wait: '0s' }, receivers: [{ name: 'nowhere' }], inhibit_rules });
}

interface AlertStatus {
  labels: Record<string, string>;
  fingerprint: string;
  status: { state: string; inhibitedBy: string[] };
}

describe.skipIf(!amtool)('amtool check-config', () => {
  it('accepts the inhibit rules in a config', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rollout-doctor-inhibit-'));
    try {
      writeFileSync(path.join(dir, 'alertmanager.yml'), config());
      const out = execFileSync(amtool!, ['check-config', path.join(dir, 'alertmanager.yml')], { encoding: 'utf8' });
      expect(out).toContain('SUCCESS');
      const rules = (parse(readFileSync(INHIBIT, 'utf8')) as { inhibit_rules: unknown[] }).inhibit_rules.length;
      expect(out).toContain(` - ${rules} inhibit rules`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!alertmanager)('a real Alertmanager with the inhibit rules', () => {
  let am: Daemon;

  beforeAll(async () => {
    am = await startDaemon(
      'alertmanager',
      alertmanager!,
      (dir) => writeFileSync(path.join(dir, 'alertmanager.yml'), config()),
      // --cluster.listen-address= turns the gossip listener (0.0.0.0:9094 by default) off.
      (port, dir) => [`--config.file=${path.join(dir, 'alertmanager.yml')}`, `--storage.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'],
      20_000,
      '/-/ready',
    );
  });

  afterAll(async () => {
    await am?.stop();
  });

  it('suppresses the crash loop and the stuck Rollout under the plugin 404, and the canary a plugin not loaded routes; not another cluster\'s or plugin\'s alert', async () => {
    const startsAt = new Date().toISOString();
    const alert = (labels: Record<string, string>) => ({ labels: { severity: 'critical', ...labels }, annotations: { summary: labels.alertname! }, startsAt });
    const posted = await fetch(`${am.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        alert({ alertname: 'ArgoRolloutsPluginNotLoaded', cluster: 'lab', plugin: 'argoproj-labs/cilium' }),
        alert({ alertname: 'ArgoRolloutsControllerNotReady', cluster: 'lab', namespace: 'argo-rollouts', deployment: 'argo-rollouts' }),
        alert({ alertname: 'ArgoRolloutStuckProgressing', cluster: 'lab', namespace: 'litellm', rollout: 'litellm', severity: 'warning' }),
        alert({ alertname: 'ArgoRolloutStuckProgressing', cluster: 'home', namespace: 'litellm', rollout: 'litellm', severity: 'warning' }),
        // A plugin the running controller has not loaded (the controller itself is up): the canary it
        // routes has no traffic object, another plugin's canary is a problem of its own.
        alert({ alertname: 'ArgoRolloutsPluginNotLoaded', cluster: 'home', plugin: 'argoproj-labs/cilium' }),
        alert({ alertname: 'ArgoRolloutCanaryWithoutTrafficObject', cluster: 'home', namespace: 'litellm', rollout: 'litellm', plugin: 'argoproj-labs/cilium' }),
        alert({ alertname: 'ArgoRolloutCanaryWithoutTrafficObject', cluster: 'home', namespace: 'web', rollout: 'web', plugin: 'argoproj-labs/gatewayAPI' }),
      ]),
    });
    expect(posted.status).toBe(200);

    const key = (a: AlertStatus) => `${a.labels.alertname} ${a.labels.cluster}${a.labels.plugin && a.labels.alertname !== 'ArgoRolloutsPluginNotLoaded' ? ` ${a.labels.plugin}` : ''}`;
    let alerts: AlertStatus[] = [];
    for (let i = 0; i < 100; i++) {
      alerts = (await (await fetch(`${am.url}/api/v2/alerts`)).json()) as AlertStatus[];
      if (alerts.length === 7 && alerts.filter((a) => a.status.state === 'suppressed').length === 3) break;
      await delay(50);
    }
    const states = Object.fromEntries(alerts.map((a) => [key(a), a.status.state]));
    expect(states).toEqual({
      'ArgoRolloutsPluginNotLoaded lab': 'active',
      'ArgoRolloutsControllerNotReady lab': 'suppressed',
      'ArgoRolloutStuckProgressing lab': 'suppressed',
      'ArgoRolloutStuckProgressing home': 'active',
      'ArgoRolloutsPluginNotLoaded home': 'active',
      'ArgoRolloutCanaryWithoutTrafficObject home argoproj-labs/cilium': 'suppressed',
      'ArgoRolloutCanaryWithoutTrafficObject home argoproj-labs/gatewayAPI': 'active',
    });
    const fingerprint = (name: string) => alerts.find((a) => key(a) === name)!.fingerprint;
    expect(alerts.find((a) => key(a) === 'ArgoRolloutsControllerNotReady lab')!.status.inhibitedBy).toEqual([fingerprint('ArgoRolloutsPluginNotLoaded lab')]);
    expect(alerts.find((a) => key(a) === 'ArgoRolloutStuckProgressing lab')!.status.inhibitedBy).toEqual([fingerprint('ArgoRolloutsControllerNotReady lab')]);
    expect(alerts.find((a) => key(a) === 'ArgoRolloutCanaryWithoutTrafficObject home argoproj-labs/cilium')!.status.inhibitedBy).toEqual([fingerprint('ArgoRolloutsPluginNotLoaded home')]);
  });
});
