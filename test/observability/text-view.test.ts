/**
 * The text view on the failing scenario (failing-scenario.ts: every check finds something wrong),
 * at 80, 100 and 160 columns, as `check --output table` prints it and as /health?format=text serves
 * it: no line longer than the width, counts first, problems before warnings, ok collapsed per check.
 * The same width rule on the bundled incident scenarios `rollout-doctor demo --scenario` serves.
 */
import stringWidth from 'string-width';
import { beforeAll, describe, expect, it } from 'vitest';
import { type HealthBody, RenderedHealth, textWidthBucket } from '../../src/http/health-view.js';
import { renderTextView } from '../../src/http/text-view.js';
import { bundledScenariosDir, runCheckOnce } from '../../src/main.js';
import path from 'node:path';
import { failingScenario } from './daemons.js';

const widest = (text: string | Buffer) => Math.max(...text.toString().split('\n').map((line) => stringWidth(line)));

describe('the text view of the failing scenario', () => {
  let body: HealthBody;
  let nowMs: number;

  beforeAll(async () => {
    const scenario = await failingScenario();
    try {
      const output = await runCheckOnce({ simulate: scenario.simulate, logLevel: 'silent' });
      body = output.body;
      nowMs = Date.parse(body.checkedAt!) + 12_000;
    } finally {
      scenario.remove();
    }
  });

  it.each([80, 100, 160])('at %i columns no line is longer, in every form', (width) => {
    for (const options of [{ width }, { width, verbose: true }, { width, color: true }, { width, verbose: true, color: true }]) {
      expect(widest(renderTextView(body, nowMs, options)), JSON.stringify(options)).toBeLessThanOrEqual(width);
    }
    const http = new RenderedHealth(body);
    for (const verbose of [false, true]) expect(widest(http.text(nowMs, { width: textWidthBucket(width), verbose }))).toBeLessThanOrEqual(width);
  });

  it('counts first, then the failing and unknown rows, the warnings, and one line per check of ok results', () => {
    const text = renderTextView(body, nowMs, { width: 100 });
    const lines = text.split('\n');
    const counts = { fail: 0, unknown: 0, warn: 0, ok: 0 };
    for (const entry of body.checks) if (!entry.muted) counts[entry.status]++;
    const muted = body.checks.filter((e) => e.muted).length;
    expect(lines[0]).toBe(`${counts.fail} fail, ${counts.unknown} unknown, ${counts.warn} warn, ${counts.ok} ok, ${muted} muted (checked 12 s ago, cycle ${Math.round(body.cycle!.durationMs)} ms)`);
    const firstWarn = lines.findIndex((l) => l.startsWith('WARN '));
    const lastProblem = lines.findLastIndex((l) => /^(FAIL|UNKNOWN) /.test(l));
    expect(firstWarn).toBeGreaterThan(lastProblem);
    expect(lines.filter((l) => /^(FAIL|UNKNOWN|WARN) /.test(l))).toHaveLength(counts.fail + counts.unknown + counts.warn);
    expect(lines).toContain(`self-rbac: ${body.checks.filter((e) => e.check === 'self-rbac' && e.status === 'ok').length} ok`);
    expect(lines.filter((l) => /^ok /.test(l))).toEqual([]);
    // The degraded Rollout's block names it in its header, not in the target column of its rows.
    const block = text.slice(text.indexOf('\nRollout degraded/litellm\n') + 1).split('\n\n')[0]!.split('\n');
    const rows = block.filter((l) => /^(FAIL|UNKNOWN|WARN) /.test(l));
    expect(rows.length).toBeGreaterThan(1);
    for (const row of rows) expect(row).not.toMatch(/^(FAIL|UNKNOWN|WARN) +[a-z-]+ {2}degraded\/litellm\b/);
  });
});

describe('the text view of the failing demo scenarios', () => {
  it.each(['plugin-download-404', 'canary-never-started', 'empty-result-abort', 'bluegreen-paused'])('%s at 80, 100 and 160 columns: no line longer, in every form', async (name) => {
    const { body } = await runCheckOnce({ simulate: { dir: path.join(bundledScenariosDir(), name), ephemeralAppPorts: true }, logLevel: 'silent' });
    const nowMs = Date.parse(body.checkedAt!) + 12_000;
    expect(renderTextView(body, nowMs, { width: 100 }).split('\n')[0]).toMatch(/^\d+ (fail|warn)\b/);
    for (const width of [80, 100, 160]) {
      for (const options of [{ width }, { width, verbose: true }, { width, color: true }]) {
        expect(widest(renderTextView(body, nowMs, options)), `${name} ${JSON.stringify(options)}`).toBeLessThanOrEqual(width);
      }
    }
  });
});
