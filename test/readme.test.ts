/** The README stays in step with the code: the check catalogue lists every check, and the quick start is two commands. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALL_CHECKS } from '../src/checks/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('has a catalogue row and a section for every check, in the order of src/checks/index.ts', () => {
    const ids = ALL_CHECKS.map((c) => c.id);
    const rows = [...readme.matchAll(/^\| \[([a-z-]+)\]\(#check-\1\) \|/gm)].map((m) => m[1]);
    const sections = [...readme.matchAll(/^### check: ([a-z-]+)$/gm)].map((m) => m[1]);
    expect(rows).toEqual(ids);
    expect(sections).toEqual(ids);
  });

  it('quick start is exactly the two commands', () => {
    const quick = /## Quick start\n\n```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(quick.split('\n').filter(Boolean).map((l) => l.split('#')[0]!.trim())).toEqual(['npm ci && npm run demo', 'npm test']);
  });
});
