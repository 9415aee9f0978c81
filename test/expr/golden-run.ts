/** Runs every row of a golden table through src/expr; shared by the table test and local diagnosis. */
import { readFileSync } from 'node:fs';
import { argoEnvironment } from '../../src/expr/argo.js';
import { CompileError, compile, type Dialect, EXPR_V1_15_5, EXPR_V1_17_7, NotEvaluated, run, RuntimeError, type Value } from '../../src/expr/index.js';
import { decode, encode } from './golden.js';

export interface GoldenRow {
  id: string;
  expr: string;
  env?: string;
  argo?: { result: unknown };
  source: string;
  value?: unknown;
  error?: string;
  phase?: 'compile' | 'run';
  unordered?: boolean;
}

export interface GoldenTable {
  library: { module: string; version: string; repository: string; commit: string };
  sources: string[];
  environments: Record<string, Record<string, unknown>>;
  rows: GoldenRow[];
  excluded: { reason: string; count: number; sample: string[] }[];
}

export type Outcome = { value: unknown } | { error: string; phase: 'compile' | 'run' } | { notEvaluated: string };

export function loadTable(version: string): GoldenTable {
  return JSON.parse(readFileSync(new URL(`./golden-${version}.json`, import.meta.url), 'utf8')) as GoldenTable;
}

export const dialectOf = (table: GoldenTable): Dialect => (table.library.version === 'v1.15.5' ? EXPR_V1_15_5 : EXPR_V1_17_7);

export function runRow(table: GoldenTable, row: GoldenRow, envCache = new Map<string, Map<string, Value>>()): Outcome {
  let env: Map<string, Value>;
  if (row.argo) {
    env = argoEnvironment(decode(row.argo.result));
  } else {
    env = envCache.get(row.env!) ?? new Map(Object.entries(table.environments[row.env!]!).map(([k, v]) => [k, decode(v)]));
    envCache.set(row.env!, env);
  }
  try {
    return { value: encode(run(compile(row.expr, env, dialectOf(table)), env)) };
  } catch (error) {
    if (error instanceof CompileError || error instanceof RuntimeError) return { error: error.message, phase: error.phase };
    if (error instanceof NotEvaluated) return { notEvaluated: error.message };
    return { error: `THROWN ${error instanceof Error ? error.stack : String(error)}`, phase: 'run' };
  }
}

function sortedItems(encoded: unknown): string {
  if (encoded && typeof encoded === 'object') {
    const [entry] = Object.entries(encoded as Record<string, unknown>);
    if (entry && Array.isArray(entry[1])) return JSON.stringify([entry[0], entry[1].map((i) => JSON.stringify(i)).sort()]);
  }
  return JSON.stringify(encoded);
}

/** Whether our outcome agrees with the row: the same value, or an error of the same phase and text. */
export function agrees(row: GoldenRow, outcome: Outcome): boolean {
  if ('value' in outcome) {
    if (row.error !== undefined) return false;
    return row.unordered ? sortedItems(outcome.value) === sortedItems(row.value) : JSON.stringify(outcome.value) === JSON.stringify(row.value);
  }
  if ('error' in outcome) return row.error === outcome.error && row.phase === outcome.phase;
  return false;
}
