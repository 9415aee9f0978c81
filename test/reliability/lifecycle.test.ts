/**
 * The process lifecycle with real processes and signals: SIGTERM in the middle of a hung cycle
 * exits 0 (in-flight requests aborted, server closed); SIGHUP reloads the config, and a bad reload
 * keeps the old config running with an error logged and counted.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fetch } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CLI, movedHomelab, REPO } from '../helpers/cli.js';

// The homelab with its fake apps on 127.0.58.x: cli.test.ts runs it in CLI children at the same time.
const homelab = movedHomelab(58);
afterAll(() => homelab.remove());

interface Daemon {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const running: Daemon[] = [];

afterEach(() => {
  for (const d of running.splice(0)) d.child.kill('SIGKILL');
});

async function startServe(args: string[]): Promise<Daemon> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--listen', '127.0.0.1:0', ...args], {
    cwd: REPO,
    env: { ...process.env, LOG_LEVEL: 'info', ROLLOUT_DOCTOR_CONFIG: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let url: string | undefined;
  for (let i = 0; i < 1200 && !url; i++) {
    url = /"event":"listening","url":"(http:[^"]+)"/.exec(stderr)?.[1];
    if (!url) await new Promise((r) => setTimeout(r, 50));
  }
  if (!url) throw new Error(`serve did not start:\n${stderr}`);
  const daemon = { child, url, stderr: () => stderr, exited };
  running.push(daemon);
  return daemon;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('SIGTERM', () => {
  it('in the middle of a hung cycle: aborts it, closes the server, exits 0', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rd-sigterm-'));
    try {
      const config = path.join(dir, 'config.yaml');
      // A cycle deadline may not exceed the schedule's interval: one cycle a minute.
      writeFileSync(config, 'schedule: "0 * * * * *"\ntimeouts: { requestMs: 60000, checkMs: 60000, cycleMs: 60000 }\n');
      const daemon = await startServe(['--config', config, '--simulate', homelab.dir, '--simulate-fault', 'pods=hang']);
      // The first cycle is hanging on the pod list; the server answers meanwhile.
      const health = await fetch(`${daemon.url}/health`);
      expect(health.status).toBe(503);
      expect((await fetch(`${daemon.url}/readyz`)).status).toBe(503);
      daemon.child.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
      expect(daemon.stderr()).toContain('"event":"stop","signal":"SIGTERM"');
      await expect(fetch(`${daemon.url}/livez`)).rejects.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SIGHUP', () => {
  it('reloads the config; a bad file keeps the old one, logged and counted', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rd-sighup-'));
    try {
      const config = path.join(dir, 'rollout-doctor.yaml');
      // A cycle every 2 s (its deadline then defaults to 2 s, so requests get less than that).
      const original = `${readFileSync(path.join(homelab.dir, 'rollout-doctor.yaml'), 'utf8').replace('*/10 * * * * *', '*/2 * * * * *')}\ntimeouts:\n  requestMs: 1500\n  checkMs: 2000\n`;
      copyFileSync(path.join(homelab.dir, 'demo-litellm.key'), path.join(dir, 'demo-litellm.key'));
      writeFileSync(config, original);
      const daemon = await startServe(['--config', config, '--simulate', homelab.dir]);
      await until('the first cycle', async () => ((await fetch(`${daemon.url}/readyz`)).status === 200 ? true : undefined));

      writeFileSync(config, `${original}\nmute:\n  - check: endpoint\n    target: sympozium\n    reason: reload test\n`);
      daemon.child.kill('SIGHUP');
      await until('the reload to count', async () => ((await (await fetch(`${daemon.url}/metrics`)).text()).includes('rollout_doctor_config_reloads_total{result="success"} 1') ? true : undefined));
      const muted = await until('a cycle with the new config', async () => {
        const body = (await (await fetch(`${daemon.url}/health?target=sympozium`)).json()) as { checks: { muted?: boolean }[] };
        return body.checks[0]?.muted ? body : undefined;
      });
      expect(muted.checks[0]).toMatchObject({ muted: true });

      writeFileSync(config, 'schedule: "every now and then"\n');
      daemon.child.kill('SIGHUP');
      await until('the failed reload to count', async () => ((await (await fetch(`${daemon.url}/metrics`)).text()).includes('rollout_doctor_config_reloads_total{result="failure"} 1') ? true : undefined));
      expect(daemon.stderr()).toContain('config reload failed, keeping the previous config');
      expect(daemon.stderr()).toContain('schedule: invalid cron expression \\"every now and then\\"');
      // Still running on the previous config: cycles keep completing and the mute still applies.
      const cycles = async () => Number(/^rollout_doctor_cycles_total (\d+)$/m.exec(await (await fetch(`${daemon.url}/metrics`)).text())?.[1]);
      const before = await cycles();
      await until('another cycle', async () => ((await cycles()) > before ? true : undefined));
      const body = (await (await fetch(`${daemon.url}/health?target=sympozium`)).json()) as { checks: { muted?: boolean }[] };
      expect(body.checks[0]?.muted).toBe(true);
      daemon.child.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
