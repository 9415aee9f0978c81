/**
 * `npm run stack` (tools/stack.ts) as a user runs it, in a child process: it prints the URLs of
 * rollout-doctor, VictoriaMetrics and vmalert, each answers (the example query with data once the
 * first scrape landed, the alert list, the UI listing the rule groups), victoria-metrics and vmalert
 * are its own children; SIGINT stops all three, removes their directories and exits 0. Without the
 * binaries it names the Debian package and exits 2, as on an unknown scenario.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { isRunning, requireVictoriaMetrics, VICTORIA_METRICS_INSTALL } from '../helpers/victoria-metrics.js';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const victoriaMetrics = requireVictoriaMetrics('victoria-metrics', 'the npm run stack test');
const vmalert = requireVictoriaMetrics('vmalert', 'the npm run stack test');

interface Run {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

const running = new Set<ChildProcess>();

function startStack(args: string[], env: NodeJS.ProcessEnv = process.env): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('tools', 'stack.ts'), ...args], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => running.delete(child));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** The parent pid of a process (Linux /proc/PID/stat, the field after the state). */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function match(text: string, pattern: RegExp): string {
  const found = pattern.exec(text);
  if (!found) throw new Error(`${pattern} not in:\n${text}`);
  return found[1]!;
}

afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
});

describe.skipIf(!victoriaMetrics || !vmalert)('npm run stack', () => {
  it('prints URLs that answer, runs victoria-metrics and vmalert as its children, and SIGINT leaves nothing behind', async () => {
    const stack = startStack(['--scenario', 'homelab']);
    const until = Date.now() + 120_000;
    while (!stack.stdout().includes('Ctrl-C stops all three.')) {
      const code = await Promise.race([stack.exited, delay(200).then(() => 'running')]);
      if (code !== 'running') throw new Error(`npm run stack exited ${code}:\n${stack.stdout()}\n${stack.stderr()}`);
      if (Date.now() > until) throw new Error(`npm run stack printed no URLs within 120 s:\n${stack.stdout()}\n${stack.stderr()}`);
    }
    const out = stack.stdout();
    const health = match(out, /rollout-doctor +(http:\/\/127\.0\.0\.1:\d+\/health\?format=text)/);
    const query = match(out, /VictoriaMetrics +(http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query\?query=\S+)/);
    const alerts = match(out, /vmalert alerts +(http:\/\/127\.0\.0\.1:\d+\/api\/v1\/alerts)/);
    const ui = match(out, /rules: (http:\/\/127\.0\.0\.1:\d+\/vmalert\/groups)/);
    const pids = [Number(match(out, /victoria-metrics pid (\d+)/)), Number(match(out, /vmalert pid (\d+)/))];
    const dirs = [match(out, /data in (\S+);/), match(out, /rules in (\S+)\n/)];
    expect(out).toContain('scenario homelab');
    expect(out).toContain('as cluster="homelab"');

    expect((await fetch(health)).status).toBe(200);
    // The stack prints once VictoriaMetrics has scraped rollout-doctor; the example query has data once
    // a scrape follows rollout-doctor's first cycle (on a loaded machine that can be a scrape later).
    type Answer = { status: string; data: { result: { metric: Record<string, string> }[] } };
    let answer = (await (await fetch(query)).json()) as Answer;
    for (const deadline = Date.now() + 90_000; answer.status === 'success' && answer.data.result.length === 0 && Date.now() < deadline; ) {
      await delay(1000);
      answer = (await (await fetch(query)).json()) as Answer;
    }
    expect(answer.status).toBe('success');
    expect(answer.data.result.length).toBeGreaterThan(0);
    expect(answer.data.result.every((r) => r.metric.cluster === 'homelab')).toBe(true);
    const listed = (await (await fetch(alerts)).json()) as { status: string };
    expect(listed.status).toBe('success');
    const page = await fetch(ui);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('rollout-doctor.self');
    for (const pid of pids) expect(parentOf(pid), `pid ${pid}`).toBe(stack.child.pid);
    for (const dir of dirs) expect(existsSync(dir), dir).toBe(true);

    stack.child.kill('SIGINT');
    expect(await stack.exited, stack.stderr()).toBe(0);
    expect(stack.stdout()).toContain('SIGINT: stopping');
    for (const pid of pids) expect(isRunning(pid), `pid ${pid}`).toBe(false);
    for (const dir of dirs) expect(existsSync(dir), dir).toBe(false);
    for (const url of [health, query, alerts]) await expect(fetch(url), url).rejects.toThrow();
  }, 240_000);

  it('exits 2 on an unknown scenario, naming the ones there are', async () => {
    const stack = startStack(['--scenario', 'no-such-scenario']);
    expect(await stack.exited).toBe(2);
    expect(stack.stderr()).toMatch(/--scenario no-such-scenario: no such scenario \(bundled: [^)]*\bhomelab\b/);
  });
});

describe('npm run stack without victoria-metrics and vmalert', () => {
  it('names the Debian package to install and exits 2', async () => {
    // A PATH with node and nothing else.
    const bin = mkdtempSync(path.join(os.tmpdir(), 'rd-stack-path-'));
    try {
      symlinkSync(process.execPath, path.join(bin, 'node'));
      const stack = startStack([], { ...process.env, PATH: bin });
      expect(await stack.exited).toBe(2);
      expect(stack.stderr()).toContain('npm run stack needs victoria-metrics and vmalert on PATH');
      expect(stack.stderr()).toContain(VICTORIA_METRICS_INSTALL);
      expect(stack.stdout()).toBe('');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
