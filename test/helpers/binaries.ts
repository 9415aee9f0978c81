/**
 * Tests that need promtool or prometheus skip with a loud message when the binary is absent, and
 * fail when CI is set (CI installs Debian's prometheus package, so absence there is a broken setup).
 */
import { execFileSync } from 'node:child_process';

export function findBinary(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The binary's path, or undefined after printing why the tests using it are skipped. Throws on CI. */
export function requireBinary(name: string, purpose: string): string | undefined {
  const found = findBinary(name);
  if (found) return found;
  const message = `${name} not found: ${purpose} cannot run. Install it: apt-get install -y --no-install-recommends prometheus`;
  if (process.env.CI) throw new Error(`CI is set and ${message}`);
  process.stderr.write(`\n${'!'.repeat(100)}\n!!! SKIPPING: ${message}\n${'!'.repeat(100)}\n\n`);
  return undefined;
}
