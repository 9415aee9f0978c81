/**
 * Behaviour gate for refactors: the whole /health document of every fixture case, recorded once and
 * compared on every run (summaries, details and remediation strings byte for byte). Only what varies
 * between runs of the same code is normalised: timings, `since`/`checkedAt`, loopback ports,
 * temporary directories and the last digits of fractions (query results of a live Prometheus).
 *
 * A missing recording is written (and the test says so); `UPDATE_GOLDEN=1` rewrites them all, for a
 * change whose new output was reviewed (`git diff test/golden` shows it).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';

export const GOLDEN_ROOT = path.resolve(import.meta.dirname, '..', 'golden');

const TMP = os.tmpdir().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const TMP_PATH = new RegExp(`${TMP}/[A-Za-z0-9._-]+`, 'g');

function normaliseString(value: string): string {
  return value
    .replace(/(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d{2,5}/g, '$1:PORT')
    .replace(TMP_PATH, '$TMP')
    .replace(/\b\d+(?:\.\d+)? ?ms\b/g, 'N ms')
    .replace(/\d+\.\d{10,}/g, (n) => String(Number(Number(n).toPrecision(10))));
}

function normalise(value: unknown, key?: string): unknown {
  if (key === 'durationMs' || key === 'latencyMs') return 0;
  if (key === 'since' || key === 'checkedAt') return typeof value === 'string' ? 'TIME' : value;
  if (typeof value === 'string') return normaliseString(value);
  // Rates computed by a real Prometheus from a live sample vary in the last digits between runs.
  if (typeof value === 'number' && !Number.isInteger(value)) return Number(value.toPrecision(10));
  if (Array.isArray(value)) return value.map((v) => normalise(v));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalise(v, k);
    return out;
  }
  return value;
}

/** The document as recorded: normalised, cycle timing dropped. */
export function goldenDocument(body: unknown): unknown {
  const doc = normalise(body) as Record<string, unknown>;
  if (doc.cycle && typeof doc.cycle === 'object') doc.cycle = { ...(doc.cycle as Record<string, unknown>), durationMs: 0 };
  return doc;
}

/** Compares the case's /health document with its recording (written when missing or UPDATE_GOLDEN=1). */
export function expectGolden(checkId: string, caseName: string, body: unknown): void {
  const file = path.join(GOLDEN_ROOT, checkId, `${caseName}.json`);
  const actual = `${JSON.stringify(goldenDocument(body), null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, actual);
    if (process.env.UPDATE_GOLDEN !== '1') process.stderr.write(`golden: recorded ${path.relative(process.cwd(), file)}\n`);
    return;
  }
  expect(actual, `${checkId}/${caseName} differs from ${path.relative(process.cwd(), file)} (UPDATE_GOLDEN=1 rewrites it after review)`).toBe(readFileSync(file, 'utf8'));
}
