/** The command line's small edges and `config check`, with the real CLI (test/helpers/cli.ts). */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthSchema } from '../src/http/health-schema.js';
import { CLI, REPO, runCli } from './helpers/cli.js';

/** A scenario without FakeApps (nothing listens on fixed addresses). */
const SCENARIO = 'test/fixtures/controller-pods/ok';
const CONFIGS = 'test/fixtures/config';
let work: string;

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'rd-cli-edges-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('config check [FILE]', () => {
  it('a valid file: exit 0 and what it configures', async () => {
    const result = await runCli(['config', 'check', 'checks/homelab.yaml']);
    expect(result).toEqual({
      code: 0,
      stdout: 'checks/homelab.yaml: valid: schedule "*/30 * * * * *", 14 of 14 checks enabled, 2 endpoints, 2 expected rollouts, 0 mutes\n',
      stderr: '',
    });
  });

  it('every error of a bad file, as check prints them, exit 2; ROLLOUT_DOCTOR_CONFIG when no FILE', async () => {
    const file = path.join(work, 'two-errors.yaml');
    writeFileSync(file, 'timeouts: { requestMs: 9000, checkMs: 1000, cycleMs: 2000 }\n');
    const result = await runCli(['config', 'check'], { env: { ROLLOUT_DOCTOR_CONFIG: file } });
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr:
        `rollout-doctor: ${file}: timeouts.checkMs: 1000 ms is less than timeouts.requestMs (9000 ms): every check would be cut off before one API request times out\n` +
        `${file}: timeouts.cycleMs: 2000 ms is less than timeouts.requestMs (9000 ms): every cycle would be cut off before one API request times out\n`,
    });
    const viaCheck = await runCli(['check', '--config', file, '--simulate', SCENARIO]);
    expect(viaCheck).toMatchObject({ code: 2, stderr: result.stderr });
  });

  it('an alias bomb: exit 2 naming the file and why, not a stack trace (a directory: test/config)', async () => {
    expect(await runCli(['config', 'check', `${CONFIGS}/invalid-alias-bomb.yaml`])).toEqual({
      code: 2,
      stdout: '',
      stderr: `rollout-doctor: ${CONFIGS}/invalid-alias-bomb.yaml: YAML aliases expand too far (the parser stops past 100 expansions: an alias bomb?); write the values out instead of aliasing them\n`,
    });
  });
});

describe('check', () => {
  it('-o json is --output json; a misspelt --check id gets a did-you-mean', async () => {
    const result = await runCli(['check', '--simulate', SCENARIO, '--check', 'controller-pods', '-o', 'json']);
    expect(result.code).toBe(0);
    expect(healthSchema.parse(JSON.parse(result.stdout)).checks.map((c) => c.check)).toEqual(['controller-pods']);
    const typo = await runCli(['check', '--simulate', SCENARIO, '--check', 'controler-pods']);
    expect(typo).toMatchObject({ code: 2, stderr: 'rollout-doctor: --check: unknown check "controler-pods" (did you mean "controller-pods"?)\n' });
  });

  it('--simulate-fault takes the resource names rollout-doctor prints and refuses ones the cluster does not serve', async () => {
    const result = await runCli(['check', '--simulate', SCENARIO, '--check', 'controller-pods', '--simulate-fault', 'deployments.apps=403', '-o', 'json']);
    expect(healthSchema.parse(JSON.parse(result.stdout)).checks).toMatchObject([
      { check: 'controller-pods', status: 'unknown', summary: 'rollout-doctor may not list deployments.apps (403 Forbidden)' },
    ]);
    const unknown = await runCli(['check', '--simulate', SCENARIO, '--simulate-fault', 'rolouts.argoproj.io=500']);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toBe(`rollout-doctor: --simulate ${SCENARIO}: fault for rolouts.argoproj.io: the simulated cluster serves no resource rolouts.argoproj.io (did you mean "rollouts.argoproj.io"?)\n`);
  });

  it('--config and ROLLOUT_DOCTOR_CONFIG win over the scenario\'s own rollout-doctor.yaml', async () => {
    const scenario = 'test/fixtures/controller-rbac/configured-rules';
    const config = path.join(work, 'only-pods.yaml');
    writeFileSync(config, 'checks:\n  controller-rbac: { enabled: false }\n');
    const ids = async (args: string[], env: NodeJS.ProcessEnv = {}) =>
      new Set(healthSchema.parse(JSON.parse((await runCli(['check', '--simulate', scenario, '-o', 'json', ...args], { env })).stdout)).checks.map((c) => c.check));
    expect((await ids(['--config', config])).has('controller-rbac')).toBe(false);
    expect((await ids([], { ROLLOUT_DOCTOR_CONFIG: config })).has('controller-rbac')).toBe(false);
  });

  it('a scenario file that trips the alias guard exits 2 naming it', async () => {
    const scenario = path.join(work, 'bomb-scenario');
    const file = path.join(scenario, 'objects.yaml');
    mkdirSync(scenario);
    writeFileSync(file, readFileSync(`${CONFIGS}/invalid-alias-bomb.yaml`, 'utf8'));
    expect(await runCli(['check', '--simulate', scenario])).toEqual({
      code: 2,
      stdout: '',
      stderr: `rollout-doctor: --simulate ${scenario}: ${file}: document 1: YAML aliases expand too far (the parser stops past 100 expansions: an alias bomb?); write the values out instead of aliasing them\n`,
    });
  });
});

describe('serve: where it listens', () => {
  it('errors about ROLLOUT_DOCTOR_LISTEN name the variable, errors about --listen the flag', async () => {
    expect(await runCli(['serve', '--simulate', SCENARIO], { env: { ROLLOUT_DOCTOR_LISTEN: 'everywhere' } })).toMatchObject({
      code: 2,
      stderr: 'rollout-doctor: ROLLOUT_DOCTOR_LISTEN=everywhere: expected HOST:PORT (e.g. 127.0.0.1:9464, 0.0.0.0:9464, [::1]:9464)\n',
    });
    expect(await runCli(['serve', '--simulate', SCENARIO, '--listen', 'everywhere'], { env: { ROLLOUT_DOCTOR_LISTEN: '127.0.0.1:0' } })).toMatchObject({
      code: 2,
      stderr: 'rollout-doctor: --listen everywhere: expected HOST:PORT (e.g. 127.0.0.1:9464, 0.0.0.0:9464, [::1]:9464)\n',
    });
  });

  it('without --listen or ROLLOUT_DOCTOR_LISTEN it is 127.0.0.1:9464 (shown here by holding that port)', async () => {
    // Whoever holds the port (this test, or another process on the machine), serve cannot have it.
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.once('error', () => resolve()).listen(9464, '127.0.0.1', () => resolve()));
    try {
      const result = await runCli(['serve', '--simulate', SCENARIO], { env: { ROLLOUT_DOCTOR_LISTEN: '' } });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('rollout-doctor: 127.0.0.1:9464 (the default; --listen HOST:PORT picks another): listen EADDRINUSE');
    } finally {
      holder.close();
    }
  });

  it('ROLLOUT_DOCTOR_LISTEN is used when there is no --listen', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--simulate', SCENARIO], {
      cwd: REPO,
      env: { ...process.env, ROLLOUT_DOCTOR_LISTEN: '127.0.0.1:0', LOG_LEVEL: 'info', ROLLOUT_DOCTOR_CONFIG: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not listen:\n${stderr}`)), 30_000);
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const found = /"event":"listening","url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(stderr)?.[1];
        if (found) {
          clearTimeout(timer);
          resolve(found);
        }
      });
    });
    try {
      expect((await fetch(`${url}/livez`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
