/**
 * The /health document, as JSON and as a table for a human with curl. Shared by the HTTP route and
 * the one-shot `check` command so both always print the same thing.
 */
import { formatDuration } from '../config/duration.js';
import { BodyBuilder, type EncodedBody } from '../encoded-body.js';
import { STATUS_RANK, type Status, type StoredResult } from '../engine/types.js';
import type { HealthBody, HealthEntry } from './health-schema.js';

export type { HealthBody, HealthEntry } from './health-schema.js';
import type { DaemonEvent } from '../engine/daemon.js';
import type { CycleInfo } from '../engine/store.js';
import { type Correlation, NO_INCIDENTS, resultKey } from '../incidents/correlate.js';
import { incidentLines } from './incident-lines.js';

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

function toEntry(result: StoredResult, staleForMs: number | undefined, incident: string | undefined): HealthEntry {
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
  if (result.rollout) entry.rollout = result.rollout;
  if (result.muted) {
    entry.muted = true;
    entry.muteReason = result.muteReason;
  }
  if (incident !== undefined) entry.incident = incident;
  if (staleForMs !== undefined) {
    entry.status = 'unknown';
    entry.summary = `stale: last cycle ${formatDuration(staleForMs / 1000)} ago (was ${result.status}: ${result.summary})`;
    entry.remediation = [];
  }
  return entry;
}

/**
 * The document of a cycle's results and incidents. Filtered (`?check=`, `?target=`), it keeps the
 * incidents that involve a selected result.
 */
export function buildHealth(
  results: readonly StoredResult[],
  cycle: CycleInfo | undefined,
  filter: HealthFilter = {},
  staleness: Staleness = {},
  correlation: Correlation = NO_INCIDENTS,
): HealthBody {
  if (!cycle) return { schemaVersion: 1, status: 'unknown', checkedAt: null, cycle: null, incidents: [], checks: [] };
  const isFiltered = Boolean(filter.check || filter.target);
  const selected = isFiltered ? results.filter((r) => (!filter.check || r.check === filter.check) && (!filter.target || r.target === filter.target)) : results;
  const checks = selected.map((r) => toEntry(r, staleness.staleForMs, correlation.incidentOf.get(resultKey(r))));
  const ids = isFiltered ? new Set(checks.map((e) => e.incident).filter((id) => id !== undefined)) : undefined;
  return {
    schemaVersion: 1,
    status: isFiltered && checks.length === 0 ? 'unknown' : overallStatus(checks),
    checkedAt: new Date(cycle.completedAtMs - Math.round(cycle.durationMs)).toISOString(),
    cycle: { durationMs: Math.round(cycle.durationMs * 100) / 100, apiRequests: cycle.apiRequests },
    incidents: ids ? correlation.incidents.filter((incident) => ids.has(incident.id)) : [...correlation.incidents],
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

/** The table a human reads with curl: a header line, then one row per result with its remediation. */
export function writeText(body: HealthBody, write: (text: string) => void): void {
  const header = body.cycle
    ? `rollout-doctor: ${label(body.status)}  (checked ${body.checkedAt}, cycle ${Math.round(body.cycle.durationMs)} ms, ${body.cycle.apiRequests} API requests)`
    : `rollout-doctor: ${label(body.status)}  (no check cycle has completed yet)`;
  write(`${header}\n`);
  for (const line of incidentLines(body)) write(`${line}\n`);
  write('\n');
  if (body.checks.length === 0) {
    write(body.cycle ? 'no results\n' : 'waiting for the first cycle\n');
    return;
  }
  const rows = body.checks.map((e) => [label(e.status) + (e.muted ? ' (muted)' : ''), e.check, e.target, e.summary]);
  const widths = [0, 1, 2].map((i) => Math.max(['STATUS', 'CHECK', 'TARGET'][i]!.length, ...rows.map((r) => r[i]!.length)));
  write(`${pad('STATUS', widths[0]!)}  ${pad('CHECK', widths[1]!)}  ${pad('TARGET', widths[2]!)}  SUMMARY\n`);
  const writeRow = (index: number) => {
    const entry = body.checks[index]!;
    const row = rows[index]!;
    write(`${pad(row[0]!, widths[0]!)}  ${pad(row[1]!, widths[1]!)}  ${pad(row[2]!, widths[2]!)}  ${row[3]}\n`);
    if (entry.status !== 'ok') {
      if (entry.muted && entry.muteReason) write(`${' '.repeat(widths[0]! + 2)}muted: ${entry.muteReason}\n`);
      for (const step of entry.remediation) write(`${' '.repeat(widths[0]! + 2)}${isCommand(step) ? '$ ' : '  '}${step}\n`);
    }
  };
  // The cluster-wide results first, then one block per Rollout with everything about it (its
  // rollout-* and argocd-sync results and the endpoints that name it), each in the document's order.
  const byRollout = new Map<string, number[]>();
  body.checks.forEach((entry, index) => {
    if (entry.rollout === undefined) return writeRow(index);
    let group = byRollout.get(entry.rollout);
    if (!group) byRollout.set(entry.rollout, (group = []));
    group.push(index);
  });
  for (const rollout of [...byRollout.keys()].sort()) {
    write(`\nRollout ${rollout}\n`);
    for (const index of byRollout.get(rollout)!) writeRow(index);
  }
}

export function renderText(body: HealthBody): string {
  let text = '';
  writeText(body, (piece) => {
    text += piece;
  });
  return text;
}

/** Stands in for the checks array while the rest of the document is serialized around it. */
const CHECKS_PLACEHOLDER = '\u0000checks\u0000';

/**
 * Exactly `JSON.stringify(body)`, written entry by entry: the document around the checks array is
 * serialized with a placeholder in its place, then the entries go between the two halves. `checks`
 * is the last key, so the placeholder is the last occurrence (an incident's summary before it could
 * hold the same text).
 */
export function writeJson(body: HealthBody, write: (text: string) => void): void {
  const around = JSON.stringify({ ...body, checks: CHECKS_PLACEHOLDER });
  const at = around.lastIndexOf(JSON.stringify(CHECKS_PLACEHOLDER));
  const head = around.slice(0, at);
  const tail = around.slice(at + JSON.stringify(CHECKS_PLACEHOLDER).length);
  write(`${head}[`);
  body.checks.forEach((entry, index) => write(index === 0 ? JSON.stringify(entry) : `,${JSON.stringify(entry)}`));
  write(`]${tail}`);
}

function encode(body: HealthBody, write: (body: HealthBody, write: (text: string) => void) => void): EncodedBody {
  const builder = new BodyBuilder();
  write(body, (piece) => builder.write(piece));
  return builder.finish();
}

/**
 * One /health document with its JSON and text forms, each serialized (and encoded) at most once and
 * kept only as bytes: the text forms are decoded from them on demand (the CLI, tests).
 */
export class RenderedHealth {
  private jsonBody?: EncodedBody;
  private textBody?: EncodedBody;

  constructor(readonly body: HealthBody) {}

  get json(): string {
    return this.encodedJson().identity.toString('utf8');
  }

  get text(): string {
    return this.encodedText().identity.toString('utf8');
  }

  encodedJson(): EncodedBody {
    return (this.jsonBody ??= encode(this.body, writeJson));
  }

  encodedText(): EncodedBody {
    return (this.textBody ??= encode(this.body, writeText));
  }
}

/**
 * The /health renderer, subscribed to the daemon's cycles (main.ts): the unfiltered document is
 * built and encoded once per cycle (and once per second of age while stale); filtered ones, small
 * by nature, on demand.
 */
export class HealthView {
  private results: readonly StoredResult[] = [];
  private correlation: Correlation = NO_INCIDENTS;
  private cycle?: CycleInfo;
  private rendered?: RenderedHealth;
  /** The stale document, per whole second of age (its summaries say the age in seconds). */
  private renderedStale?: { ageSeconds: number; rendered: RenderedHealth };

  /** `staleForMs`: the age of the last cycle when it is stale (the daemon knows its schedule and clock). */
  constructor(private readonly staleForMs: () => number | undefined) {}

  /** Takes a finished cycle (a skipped tick changes nothing here). */
  update(event: DaemonEvent): void {
    if (event.type !== 'cycle') return;
    this.results = event.results;
    this.correlation = event.incidents;
    this.cycle = event.cycle;
    this.rendered = new RenderedHealth(buildHealth(this.results, this.cycle, {}, {}, this.correlation));
    this.rendered.encodedJson();
    this.rendered.encodedText();
    this.renderedStale = undefined;
  }

  /** Ready once a cycle has completed. */
  get isReady(): boolean {
    return this.cycle !== undefined;
  }

  health(filter: HealthFilter = {}): RenderedHealth {
    const staleForMs = this.staleForMs();
    const isFiltered = Boolean(filter.check || filter.target);
    if (isFiltered) return new RenderedHealth(buildHealth(this.results, this.cycle, filter, { staleForMs }, this.correlation));
    if (staleForMs === undefined) return (this.rendered ??= new RenderedHealth(buildHealth(this.results, this.cycle, {}, {}, this.correlation)));
    const ageSeconds = Math.round(staleForMs / 1000);
    if (this.renderedStale?.ageSeconds !== ageSeconds) {
      this.renderedStale = { ageSeconds, rendered: new RenderedHealth(buildHealth(this.results, this.cycle, {}, { staleForMs: ageSeconds * 1000 }, this.correlation)) };
    }
    return this.renderedStale.rendered;
  }
}
