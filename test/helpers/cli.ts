/** Runs the real CLI (TypeScript through tsx) as a child process. */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '..', '..');
export const CLI = path.join(REPO, 'src', 'cli.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: REPO,
      env: { ...process.env, LOG_LEVEL: '', ROLLOUT_DOCTOR_CONFIG: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rollout-doctor ${args.join(' ')} did not exit within ${options.timeoutMs ?? 30000} ms\n${stderr}`));
    }, options.timeoutMs ?? 30000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Every file below a folder. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/**
 * A copy of the bundled homelab with its fake apps moved from 127.0.55.x to 127.0.<block>.x, in a
 * temporary folder. A CLI child (`serve`, `simulate`) starts the apps on the addresses the scenario
 * declares, so two test files that both run the homelab in a child at once would compete for the
 * same ports: each test file that does so gets a block of its own (cli.test.ts keeps the original).
 */
export function movedHomelab(block: number): { dir: string; remove(): void } {
  const root = mkdtempSync(path.join(os.tmpdir(), `rd-homelab-${block}-`));
  const dir = path.join(root, 'homelab');
  cpSync(path.join(REPO, 'src', 'simulator', 'scenarios', 'homelab'), dir, { recursive: true });
  for (const f of filesUnder(dir)) {
    const text = readFileSync(f, 'utf8');
    if (text.includes('127.0.55.')) writeFileSync(f, text.replaceAll('127.0.55.', `127.0.${block}.`));
  }
  return { dir, remove: () => rmSync(root, { recursive: true, force: true }) };
}
