/**
 * `check --output table` and `check --watch` as an operator runs them: the real binary, on a pipe and
 * on a real terminal (util-linux `script` gives the process a pseudo-terminal, and Ctrl-C is the byte
 * the terminal turns into SIGINT).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import stringWidth from 'string-width';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool } from './helpers/binaries.js';
import { CLI, REPO, runCli } from './helpers/cli.js';

const script = requireTool('script', 'the terminal tests of the text view', 'apt-get install -y bsdutils');
const FAILING = ['--simulate', 'test/fixtures/controller-plugins/crashloop-download-404', '--simulate-now', '2026-11-26T14:00:00Z'];
const HEALTHY = ['--simulate', 'test/fixtures/kube-api/ok', '--check', 'kube-api', '--check', 'rollout-status'];
const COUNT_LINE = /^(?:\u001b\[[\d;]*m)?\d+ (?:fail|unknown|warn|ok)\b.*\(checked \d+ s ago, cycle \d+ ms\)/gm;
const CLEAR = '\u001b[H\u001b[2J';

let dir: string;
let everySecond: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rd-cli-text-'));
  everySecond = path.join(dir, 'every-second.yaml');
  writeFileSync(everySecond, 'schedule: "*/1 * * * * *"\ntimeouts: { requestMs: 400, checkMs: 800, cycleMs: 900 }\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const widest = (text: string) => Math.max(...text.split(/\r?\n/).map((line) => stringWidth(line)));

/** Runs the CLI in a pseudo-terminal; `untilOutput` decides when to press Ctrl-C (never: it exits by itself). */
function inTerminal(args: string[], env: Record<string, string>, untilOutput?: (out: string) => boolean): Promise<{ code: number | null; out: string }> {
  // `exec env`: the shell script(1) starts (SHELL, else /bin/sh) hands the terminal to node itself, so
  // Ctrl-C reaches only the CLI and the exit code is the CLI's, whatever that shell does with SIGINT.
  const line = ['exec', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, '--import', 'tsx', CLI, ...args].map((w) => (/^[\w@%+=:,./-]*$/.test(w) ? w : `'${w}'`)).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(script!, ['-qfec', line, '/dev/null'], { cwd: REPO, env: { ...process.env, LOG_LEVEL: '', ROLLOUT_DOCTOR_CONFIG: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let pressed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit within 60 s:\n${out}`));
    }, 60_000);
    child.stdout.on('data', (data: Buffer) => {
      out += data.toString();
      if (untilOutput && !pressed && untilOutput(out)) {
        pressed = true;
        child.stdin.write('\u0003');
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('check --output table', () => {
  it('on a pipe: plain text fitted to COLUMNS, exit 1 when something fails', async () => {
    const result = await runCli(['check', ...FAILING], { env: { COLUMNS: '60' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(COUNT_LINE);
    expect(result.stdout).not.toContain('\u001b');
    expect(widest(result.stdout)).toBeLessThanOrEqual(60);
    expect(result.stdout).toMatch(/^FAIL {2}controller-plugins/m);
  });

  it('--verbose lists the ok results too', async () => {
    const result = await runCli(['check', ...HEALTHY, '--verbose']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok {2}kube-api +simulator {2}Kubernetes API https:\/\/127\.0\.0\.1:\d+ \(context simulator\) answers\n {31}\(v1\.32\.0\)$/m);
    expect(result.stdout).not.toContain('kube-api: 1 ok');
  });

  it.skipIf(!script)('on a terminal: colour and status symbols, none with NO_COLOR', async () => {
    const coloured = await inTerminal(['check', ...FAILING], { COLUMNS: '100' });
    expect(coloured.code).toBe(1);
    expect(coloured.out).toContain('\u001b[31m✖ FAIL\u001b[0m');
    expect(widest(coloured.out)).toBeLessThanOrEqual(100);
    const plain = await inTerminal(['check', ...FAILING], { COLUMNS: '100', NO_COLOR: '1' });
    expect(plain.code).toBe(1);
    expect(plain.out).not.toContain('\u001b');
    expect(plain.out).toMatch(/^FAIL {2}controller-plugins/m);
  });
});

describe('--help', () => {
  it('documents the exit codes of check, the text view and --watch', async () => {
    const help = (await runCli(['--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('[--verbose] [--watch]');
    expect(help).toContain('check exits 0 when nothing fails, 1 when something fails, 3 when nothing fails but something is unknown (muted results aside), 2 on usage or config errors');
    expect(help).toContain('--watch runs the checks on the config\'s schedule and redraws the view after every cycle until Ctrl-C');
    expect(help).toContain('unless NO_COLOR is set');
  });
});

describe('check --watch', () => {
  it('redraws the view every cycle until SIGINT, then exits with the last cycle\'s code', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'check', '--watch', '--config', everySecond, ...HEALTHY], {
      cwd: REPO,
      env: { ...process.env, LOG_LEVEL: '', ROLLOUT_DOCTOR_CONFIG: '', COLUMNS: '80' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const twoFrames = new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if ((out.match(COUNT_LINE) ?? []).length >= 2) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await Promise.race([twoFrames, exited.then(() => Promise.reject(new Error(`exited early:\n${err}`)))]);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    // On a pipe the frames follow one another, a blank line apart, and never clear the screen.
    const frames = out.split(/\n(?=\d+ ok )/);
    expect(frames.length).toBeGreaterThanOrEqual(2);
    for (const frame of frames) expect(frame).toMatch(/^2 ok \(checked \d+ s ago, cycle \d+ ms\)\n\nkube-api: 1 ok\nrollout-status: 1 ok\n/);
    expect(out).not.toContain('\u001b');
  });

  it.skipIf(!script)('on a terminal each frame replaces the last, and Ctrl-C ends it', async () => {
    const result = await inTerminal(['check', '--watch', '--config', everySecond, ...HEALTHY], { COLUMNS: '80' }, (out) => out.split(CLEAR).length > 2);
    expect(result.code, `what the terminal showed:\n${result.out.slice(-2000)}`).toBe(0);
    const frames = result.out.split(CLEAR).slice(1);
    expect(frames.length).toBeGreaterThanOrEqual(2);
    for (const frame of frames) expect(frame).toMatch(/^\u001b\[32m2 ok\u001b\[0m \(checked \d+ s ago/);
  });

  it('takes no --output json (exit 2)', async () => {
    const result = await runCli(['check', '--watch', '--output', 'json', ...HEALTHY]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--watch redraws the table');
  });
});
