/**
 * The /health document, as JSON and as a table for a human with curl. Shared by the HTTP route and
 * the one-shot `check` command so both always print the same thing.
 */
import { formatDuration } from '../config/duration.js';
import { EncodedBody } from './encoded.js';
import { STATUS_RANK, type Status, type StoredResult } from '../engine/types.js';
import type { CycleInfo } from '../engine/store.js';

export interface HealthEntry {
  check: string;
  target: string;
  status: Status;
  summary: string;
  remediation: string[];
  details: Record<string, unknown>;
  since: string;
  durationMs: number;
  muted?: boolean;
  muteReason?: string;
}

export interface HealthBody {
  schemaVersion: 1;
  status: Status;
  /** When the last completed cycle started; null before the first one. */
  checkedAt: string | null;
  cycle: { durationMs: number; apiRequests: number } | null;
  checks: HealthEntry[];
}

export interface HealthFilter {
  check?: string;
  target?: string;
}

export interface Staleness {
  /** Age of the last completed cycle, when it is older than three schedule intervals. */
  staleForMs?: number;
}

export function overallStatus(entries: readonly HealthEntry[]): Status {
  let worst: Status = 'ok';
  for (const entry of entries) if (!entry.muted && STATUS_RANK[entry.status] > STATUS_RANK[worst]) worst = entry.status;
  return worst;
}

function toEntry(result: StoredResult, staleForMs: number | undefined): HealthEntry {
  const entry: HealthEntry = {
    check: result.check,
    target: result.target,
    status: result.status,
    summary: result.summary,
    remediation: result.remediation,
    details: result.details,
    since: result.since,
    durationMs: result.durationMs,
  };
  if (result.muted) {
    entry.muted = true;
    entry.muteReason = result.muteReason;
  }
  if (staleForMs !== undefined) {
    entry.status = 'unknown';
    entry.summary = `stale: last cycle ${formatDuration(staleForMs / 1000)} ago (was ${result.status}: ${result.summary})`;
    entry.remediation = [];
  }
  return entry;
}

export function buildHealth(results: readonly StoredResult[], cycle: CycleInfo | undefined, filter: HealthFilter = {}, staleness: Staleness = {}): HealthBody {
  if (!cycle) return { schemaVersion: 1, status: 'unknown', checkedAt: null, cycle: null, checks: [] };
  const selected = results.filter((r) => (!filter.check || r.check === filter.check) && (!filter.target || r.target === filter.target));
  const checks = selected.map((r) => toEntry(r, staleness.staleForMs));
  const isFiltered = Boolean(filter.check || filter.target);
  return {
    schemaVersion: 1,
    status: isFiltered && checks.length === 0 ? 'unknown' : overallStatus(checks),
    checkedAt: new Date(cycle.completedAtMs - Math.round(cycle.durationMs)).toISOString(),
    cycle: { durationMs: Math.round(cycle.durationMs * 100) / 100, apiRequests: cycle.apiRequests },
    checks,
  };
}

/** 200 when ok or warn, 503 when fail or unknown (a filter that matches nothing: 404). */
export function httpStatusFor(body: HealthBody, filter: HealthFilter = {}): number {
  if ((filter.check || filter.target) && body.checks.length === 0 && body.cycle) return 404;
  return body.status === 'ok' || body.status === 'warn' ? 200 : 503;
}

function isCommand(line: string): boolean {
  return /^(kubectl|curl|argocd|helm|git|promtool)\s/.test(line);
}

function label(status: Status): string {
  return status === 'ok' ? 'ok' : status.toUpperCase();
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

export function renderText(body: HealthBody): string {
  const lines: string[] = [];
  const header = body.cycle
    ? `rollout-doctor: ${label(body.status)}  (checked ${body.checkedAt}, cycle ${Math.round(body.cycle.durationMs)} ms, ${body.cycle.apiRequests} API requests)`
    : `rollout-doctor: ${label(body.status)}  (no check cycle has completed yet)`;
  lines.push(header, '');
  if (body.checks.length === 0) {
    lines.push(body.cycle ? 'no results' : 'waiting for the first cycle');
    return `${lines.join('\n')}\n`;
  }
  const rows = body.checks.map((e) => [label(e.status) + (e.muted ? ' (muted)' : ''), e.check, e.target, e.summary]);
  const widths = [0, 1, 2].map((i) => Math.max(['STATUS', 'CHECK', 'TARGET'][i]!.length, ...rows.map((r) => r[i]!.length)));
  lines.push(`${pad('STATUS', widths[0]!)}  ${pad('CHECK', widths[1]!)}  ${pad('TARGET', widths[2]!)}  SUMMARY`);
  body.checks.forEach((entry, index) => {
    const row = rows[index]!;
    lines.push(`${pad(row[0]!, widths[0]!)}  ${pad(row[1]!, widths[1]!)}  ${pad(row[2]!, widths[2]!)}  ${row[3]}`);
    if (entry.status !== 'ok') {
      if (entry.muted && entry.muteReason) lines.push(`${' '.repeat(widths[0]! + 2)}muted: ${entry.muteReason}`);
      for (const step of entry.remediation) lines.push(`${' '.repeat(widths[0]! + 2)}${isCommand(step) ? '$ ' : '  '}${step}`);
    }
  });
  return `${lines.join('\n')}\n`;
}

/** One /health document with its JSON and text forms, each serialized (and encoded) at most once. */
export class RenderedHealth {
  private jsonText?: string;
  private tableText?: string;
  private jsonBody?: EncodedBody;
  private textBody?: EncodedBody;

  constructor(readonly body: HealthBody) {}

  get json(): string {
    return (this.jsonText ??= JSON.stringify(this.body));
  }

  get text(): string {
    return (this.tableText ??= renderText(this.body));
  }

  encodedJson(): EncodedBody {
    return (this.jsonBody ??= new EncodedBody(this.json));
  }

  encodedText(): EncodedBody {
    return (this.textBody ??= new EncodedBody(this.text));
  }
}
