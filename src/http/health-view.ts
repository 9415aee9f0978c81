/**
 * The /health document, as JSON and as the text view for a human (./text-view.ts). Shared by the
 * HTTP route and the `check` command so both always print the same thing.
 */
import { formatDuration } from '../config/duration.js';
import { BodyBuilder, type EncodedBody } from '../encoded-body.js';
import { nextSlice, runInSlices } from '../slices.js';
import { STATUS_RANK, type Status, type StoredResult } from '../engine/types.js';
import type { HealthBody, HealthEntry } from './health-schema.js';
import { clampWidth, countLines, tableSteps, writeTable } from './text-view.js';

export type { HealthBody, HealthEntry } from './health-schema.js';
import type { DaemonEvent } from '../engine/daemon.js';
import type { CycleInfo } from '../engine/store.js';
import { type Correlation, NO_INCIDENTS, resultKey } from '../incidents/correlate.js';

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

function toEntry(result: StoredResult, cycleStartMs: number, staleForMs: number | undefined, incident: string | undefined): HealthEntry {
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
  // Re-evaluated after a change since the last cycle: when.
  if (result.checkedAtMs > cycleStartMs) entry.checkedAt = new Date(result.checkedAtMs).toISOString();
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
  const cycleStartMs = cycle.completedAtMs - Math.round(cycle.durationMs);
  const checks = selected.map((r) => toEntry(r, cycleStartMs, staleness.staleForMs, correlation.incidentOf.get(resultKey(r))));
  const ids = isFiltered ? new Set(checks.map((e) => e.incident).filter((id) => id !== undefined)) : undefined;
  return {
    schemaVersion: 1,
    status: isFiltered && checks.length === 0 ? 'unknown' : overallStatus(checks),
    checkedAt: new Date(cycleStartMs).toISOString(),
    cycle: { durationMs: Math.round(cycle.durationMs * 100) / 100, apiRequests: cycle.apiRequests },
    ...(cycle.watchFallbacks.length > 0 ? { watchFallback: cycle.watchFallbacks.map((f) => ({ kind: f.kind, reason: `${f.reason}: listed every cycle instead` })) } : {}),
    incidents: ids ? correlation.incidents.filter((incident) => ids.has(incident.id)) : [...correlation.incidents],
    checks,
  };
}

/** 200 when ok or warn, 503 when fail or unknown (a filter that matches nothing: 404). */
export function httpStatusFor(body: HealthBody, filter: HealthFilter = {}): number {
  if ((filter.check || filter.target) && body.checks.length === 0 && body.cycle) return 404;
  return body.status === 'ok' || body.status === 'warn' ? 200 : 503;
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
  for (const _step of jsonSteps(body, write));
}

/** Entries serialized between two points where a render in steps may pause (see renderInSteps). */
const ENTRIES_PER_STEP = 20;

function* jsonSteps(body: HealthBody, write: (text: string) => void): Generator<void> {
  const around = JSON.stringify({ ...body, checks: CHECKS_PLACEHOLDER });
  const at = around.lastIndexOf(JSON.stringify(CHECKS_PLACEHOLDER));
  const head = around.slice(0, at);
  const tail = around.slice(at + JSON.stringify(CHECKS_PLACEHOLDER).length);
  write(`${head}[`);
  for (let index = 0; index < body.checks.length; index++) {
    const entry = JSON.stringify(body.checks[index]);
    write(index === 0 ? entry : `,${entry}`);
    if (index % ENTRIES_PER_STEP === ENTRIES_PER_STEP - 1) yield;
  }
  write(`]${tail}`);
}

/**
 * The text view's width buckets: a requested width is rounded down to a multiple of 10 (so a
 * rendering never goes past what was asked), which bounds the renderings one cycle can hold.
 */
export function textWidthBucket(width: number): number {
  return clampWidth(Math.floor(width / 10) * 10);
}

/** Renderings of the text view kept per document (width and verbosity); more are rendered anew. */
const MAX_TEXT_VARIANTS = 8;

export interface TextVariant {
  width: number;
  verbose: boolean;
}

/**
 * One /health document with its JSON form and its text view, each serialized (and encoded) at most
 * once and kept only as bytes: the JSON with its gzip, the text view's table (everything after the
 * count line, which says how long ago the cycle was and is written per request) per width and
 * verbosity.
 */
export class RenderedHealth {
  private jsonBody?: EncodedBody;
  private readonly tables = new Map<string, Buffer>();
  private readonly renderingTables = new Map<string, Promise<void>>();
  private readonly texts = new Map<string, { ageSeconds: number; text: Buffer }>();

  constructor(readonly body: HealthBody) {}

  get json(): string {
    return this.encodedJson().text();
  }

  /**
   * Serializes the JSON in slices (src/slices.ts): at 1,000 Rollouts the document is ~6,500
   * entries, whose serialization in one go kept requests waiting.
   */
  async renderInSteps(): Promise<void> {
    if (this.jsonBody) return;
    const builder = new BodyBuilder({ gzipWhileWriting: true });
    await builder.fill((write) => runInSlices(jsonSteps(this.body, write)));
    this.jsonBody ??= builder.finish();
  }

  encodedJson(): EncodedBody {
    if (!this.jsonBody) {
      const builder = new BodyBuilder();
      writeJson(this.body, (piece) => builder.write(piece));
      this.jsonBody = builder.finish();
    }
    return this.jsonBody;
  }

  /** The text view after its count line, plain, rendered once per width and verbosity. */
  table(variant: TextVariant): Buffer {
    const key = `${variant.width}:${variant.verbose ? 1 : 0}`;
    let table = this.tables.get(key);
    if (!table) {
      const builder = new BodyBuilder();
      writeTable(this.body, variant, (piece) => builder.write(piece));
      table = this.keepTable(key, builder.toBuffer());
    }
    return table;
  }

  /**
   * Renders a variant of the table in slices (src/slices.ts), once: the text view's route awaits it
   * before its first answer. Not rendered ahead for every cycle: at 1,000 Rollouts the table was ~8 %
   * of a cycle's allocations and CPU (`npm run bench -- --only cycle --profile`) for a view that
   * only a human asks for now and then.
   */
  renderTableInSteps(variant: TextVariant): Promise<void> {
    const key = `${variant.width}:${variant.verbose ? 1 : 0}`;
    if (this.tables.has(key)) return Promise.resolve();
    let rendering = this.renderingTables.get(key);
    if (!rendering) {
      rendering = this.renderTable(key, variant).finally(() => this.renderingTables.delete(key));
      this.renderingTables.set(key, rendering);
    }
    return rendering;
  }

  private async renderTable(key: string, variant: TextVariant): Promise<void> {
    const builder = new BodyBuilder();
    // tableSteps sorts the document into sections before its first step: on a slice of its own.
    await nextSlice();
    await runInSlices(tableSteps(this.body, variant, (piece) => builder.write(piece)));
    if (!this.tables.has(key)) this.keepTable(key, builder.toBuffer());
  }

  private keepTable(key: string, table: Buffer): Buffer {
    if (this.tables.size >= MAX_TEXT_VARIANTS) this.tables.delete(this.tables.keys().next().value!);
    this.tables.set(key, table);
    return table;
  }

  /**
   * The whole text view: the count line (its age at `nowMs`), then the table. The count line says
   * the age in whole seconds, so the body is put together at most once a second per variant:
   * copying a 40 kB table for every request would cost more than serving it.
   */
  text(nowMs: number, variant: TextVariant): Buffer {
    const key = `${variant.width}:${variant.verbose ? 1 : 0}`;
    const ageSeconds = this.body.checkedAt ? Math.round((nowMs - Date.parse(this.body.checkedAt)) / 1000) : 0;
    const cached = this.texts.get(key);
    if (cached?.ageSeconds === ageSeconds) return cached.text;
    const head = countLines(this.body, nowMs, variant).map((line) => `${line}\n`).join('');
    const text = Buffer.concat([Buffer.from(head, 'utf8'), this.table(variant)]);
    if (!cached && this.texts.size >= MAX_TEXT_VARIANTS) this.texts.delete(this.texts.keys().next().value!);
    this.texts.set(key, { ageSeconds, text });
    return text;
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
  /** Updates started, so that only the last one started is kept. */
  private updates = 0;
  /** The stale document, per whole second of age (its summaries say the age in seconds). */
  private renderedStale?: { ageSeconds: number; rendered: RenderedHealth };

  /**
   * `staleForMs`: the age of the last cycle when it is stale (the daemon knows its schedule and
   * clock); `nowMs`: the same clock, for the text view's "checked 12 s ago".
   */
  constructor(
    private readonly staleForMs: () => number | undefined,
    readonly nowMs: () => number = Date.now,
  ) {}

  /**
   * Takes a finished cycle or re-evaluation (a skipped tick changes nothing here). Rendered in steps,
   * with turns of the event loop between them; until it is done (its gzip included), /health serves
   * the previous document.
   */
  async update(event: DaemonEvent): Promise<void> {
    if (event.type === 'skip') return;
    // A re-evaluation's render can still be under way when a cycle's starts: the later one wins.
    const update = ++this.updates;
    const rendered = new RenderedHealth(buildHealth(event.results, event.cycle, {}, {}, event.incidents));
    await nextSlice();
    await rendered.renderInSteps();
    const json = rendered.encodedJson();
    await json.ready;
    if (update !== this.updates || !json.isComplete) return;
    this.results = event.results;
    this.correlation = event.incidents;
    this.cycle = event.cycle;
    this.rendered = rendered;
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
