/**
 * Tests that need an external binary (promtool, prometheus, kubectl) skip with a loud message when
 * it is absent, and fail when CI is set (CI installs them, so absence there is a broken setup).
 */
import { execFileSync } from 'node:child_process';

export function findBinary(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Any binary a test needs: its path, or undefined after printing loudly why the tests using it are
 * skipped and how to install it. Throws on CI, where the workflow installs it.
 */
export function requireTool(name: string, purpose: string, install: string): string | undefined {
  const found = findBinary(name);
  if (found) return found;
  const message = `${name} not found: ${purpose} cannot run. Install it: ${install}`;
  if (process.env.CI) throw new Error(`CI is set and ${message}`);
  process.stderr.write(`\n${'!'.repeat(100)}\n!!! SKIPPING: ${message}\n${'!'.repeat(100)}\n\n`);
  return undefined;
}

/** promtool or prometheus (Debian's prometheus package): the path, or undefined after printing why. Throws on CI. */
export function requireBinary(name: string, purpose: string): string | undefined {
  return requireTool(name, purpose, 'apt-get install -y --no-install-recommends prometheus');
}
