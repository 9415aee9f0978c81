/**
 * The correlation step: after each cycle, the non-ok results become incidents. An incident has one
 * root result and the results it explains, found with the rules of ./rules.ts; a chain collapses to
 * its deepest cause, and a result no rule explains is an incident of its own. Muted results take no
 * part (neither cause nor effect), and ok results belong to no incident.
 *
 * When a root recovers while its effects are still failing (the controller is back, a canary still
 * catching up), those effects stay under the resolved incident, `recovering`, for `holdDownMs` before
 * they may form incidents of their own: a recovery does not page again. What the next cycle needs
 * for that is the memory this returns.
 *
 * A pure function of the results and the previous memory, run once per cycle by the daemon; /health
 * and /metrics read its output.
 */
import { createHash } from 'node:crypto';
import { type Incident, type IncidentStatus, type ResultRef } from '../engine/result-schema.js';
import { STATUS_RANK, type StoredResult } from '../engine/types.js';
import { chainSummary, phrase, stepPhrase } from './phrases.js';
import { detailsOf, INCIDENT_RULES } from './rules.js';

export interface Correlation {
  /** Sorted by status (fail, unknown, warn, recovering), then by size (most effects first), then id. */
  incidents: readonly Incident[];
  /** Every non-ok, unmuted result (by resultKey) to the id of its incident. */
  incidentOf: ReadonlyMap<string, string>;
  /** Every effect (by resultKey) to the root of the incident that explains it. */
  explainedBy: ReadonlyMap<string, ResultRef>;
}

export const NO_INCIDENTS: Correlation = { incidents: [], incidentOf: new Map(), explainedBy: new Map() };

/** An incident as the next cycle remembers it. */
interface Remembered {
  id: string;
  root: ResultRef;
  /** The root's phrase while it failed (its details say nothing about the failure once it is ok). */
  rootPhrase: string;
  /** The results it explained while it was open (by resultKey). */
  effects: ReadonlySet<string>;
  /** When its root was seen ok (or gone) first. */
  resolvedAtMs?: number;
}

/** What one cycle hands the next: its incidents, open ones and those still within their hold-down. */
export interface IncidentMemory {
  readonly incidents: readonly Remembered[];
}

export interface CorrelateOptions {
  /** The cycle's time (wall clock). */
  nowMs: number;
  /** How long the effects of a recovered root stay `recovering` (config `incidents.holdDown`). */
  holdDownMs: number;
}

export function resultKey(result: ResultRef): string {
  return `${result.check}\u0000${result.target}`;
}

/** Stable across cycles and restarts: the first 12 hex digits of sha256(check NUL target). */
export function incidentId(root: ResultRef): string {
  return createHash('sha256').update(resultKey(root)).digest('hex').slice(0, 12);
}

const ORDER: Record<IncidentStatus, number> = { fail: 0, unknown: 1, warn: 2, recovering: 3 };

function refOf(result: ResultRef): ResultRef {
  return { check: result.check, target: result.target };
}

/** Explains each non-ok, unmuted result by at most one other: effect key -> cause key. */
function explanations(members: ReadonlyMap<string, StoredResult>): Map<string, string> {
  const byCheck = new Map<string, StoredResult[]>();
  const byRollout = new Map<string, StoredResult[]>();
  const push = (index: Map<string, StoredResult[]>, key: string, result: StoredResult) => {
    const list = index.get(key);
    if (list) list.push(result);
    else index.set(key, [result]);
  };
  for (const result of members.values()) {
    push(byCheck, result.check, result);
    if (result.rollout) push(byRollout, `${result.check}\u0000${result.rollout}`, result);
  }
  const parent = new Map<string, string>();
  // Whether `from`'s chain of causes reaches `to` (an edge to `to` would close a loop).
  const reaches = (from: string, to: string) => {
    for (let key: string | undefined = from; key !== undefined; key = parent.get(key)) if (key === to) return true;
    return false;
  };
  for (const rule of INCIDENT_RULES) {
    for (const cause of byCheck.get(rule.cause) ?? []) {
      const details = detailsOf(cause, rule.cause);
      if (!details || !rule.when(details, cause)) continue;
      const causeKey = resultKey(cause);
      const checks = rule.effects === 'any' ? [...byCheck.keys()] : typeof rule.effects === 'function' ? rule.effects(details) : rule.effects;
      const rollouts = rule.rollouts?.(details, cause);
      for (const check of checks) {
        const candidates = rollouts ? rollouts.flatMap((rollout) => byRollout.get(`${check}\u0000${rollout}`) ?? []) : (byCheck.get(check) ?? []);
        for (const effect of candidates) {
          const effectKey = resultKey(effect);
          if (effectKey === causeKey || parent.has(effectKey) || reaches(causeKey, effectKey)) continue;
          if (rule.explains(details, effect, cause)) parent.set(effectKey, causeKey);
        }
      }
    }
  }
  return parent;
}

/** The results under `roots`, step by step: what the roots explain, then what those explain, ... */
function stepsBelow(roots: readonly string[], children: ReadonlyMap<string, string[]>, members: ReadonlyMap<string, StoredResult>): StoredResult[][] {
  const steps: StoredResult[][] = [];
  for (let level = roots.flatMap((key) => children.get(key) ?? []); level.length > 0; level = level.flatMap((key) => children.get(key) ?? [])) {
    steps.push(level.sort().map((key) => members.get(key)!));
  }
  return steps;
}

/** The worst status of an incident's results (none of them ok: only non-ok results take part). */
function worstStatus(results: readonly StoredResult[]): IncidentStatus {
  let worst = results[0]!.status;
  for (const result of results) if (STATUS_RANK[result.status] > STATUS_RANK[worst]) worst = result.status;
  return worst as Exclude<typeof worst, 'ok'>;
}

export function correlate(results: readonly StoredResult[], memory: IncidentMemory | undefined, options: CorrelateOptions): { correlation: Correlation; memory: IncidentMemory } {
  // Only non-ok results take part: a healthy cycle of thousands of results costs one pass.
  const members = new Map<string, StoredResult>();
  for (const result of results) if (result.status !== 'ok' && !result.muted) members.set(resultKey(result), result);
  const parent = explanations(members);
  const children = new Map<string, string[]>();
  for (const [effect, cause] of parent) {
    const list = children.get(cause);
    if (list) list.push(effect);
    else children.set(cause, [effect]);
  }
  const roots = new Set([...members.keys()].filter((key) => !parent.has(key)));

  const incidents: Incident[] = [];
  const incidentOf = new Map<string, string>();
  const explainedBy = new Map<string, ResultRef>();
  const remembered: Remembered[] = [];
  const record = (id: string, root: ResultRef, effects: readonly StoredResult[]) => {
    for (const effect of effects) {
      incidentOf.set(resultKey(effect), id);
      explainedBy.set(resultKey(effect), root);
    }
  };

  // Roots that recovered within their hold-down take back the effects nothing else explains now.
  for (const previous of memory?.incidents ?? []) {
    if (members.has(resultKey(previous.root))) continue;
    const resolvedAtMs = previous.resolvedAtMs ?? options.nowMs;
    if (options.nowMs - resolvedAtMs >= options.holdDownMs) continue;
    remembered.push({ ...previous, resolvedAtMs });
    const taken = [...previous.effects].filter((key) => roots.has(key)).sort();
    if (taken.length === 0) continue;
    for (const key of taken) roots.delete(key);
    const steps = [taken.map((key) => members.get(key)!), ...stepsBelow(taken, children, members)];
    const effects = steps.flat();
    const root = results.find((r) => r.check === previous.root.check && r.target === previous.root.target);
    incidents.push({
      id: previous.id,
      status: 'recovering',
      root: previous.root,
      summary: `recovered: ${previous.rootPhrase}; still catching up: ${steps.map(stepPhrase).join(' -> ')}`,
      effects: effects.map(refOf),
      since: root?.since ?? new Date(resolvedAtMs).toISOString(),
      remediation: [],
    });
    record(previous.id, previous.root, effects);
  }

  // An incident keeps its id from cycle to cycle; only a new root is hashed.
  const knownIds = new Map((memory?.incidents ?? []).map((previous) => [resultKey(previous.root), previous.id]));
  for (const key of [...roots].sort()) {
    const root = members.get(key)!;
    const steps = stepsBelow([key], children, members);
    const effects = steps.flat();
    const id = knownIds.get(key) ?? incidentId(root);
    incidents.push({
      id,
      status: worstStatus([root, ...effects]),
      root: refOf(root),
      summary: effects.length === 0 ? root.summary : chainSummary(root, steps),
      effects: effects.map(refOf),
      since: root.since,
      remediation: root.remediation,
    });
    incidentOf.set(key, id);
    record(id, refOf(root), effects);
    remembered.push({ id, root: refOf(root), rootPhrase: phrase(root.check, [root]), effects: new Set(effects.map(resultKey)) });
  }

  incidents.sort((a, b) => ORDER[a.status] - ORDER[b.status] || b.effects.length - a.effects.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { correlation: { incidents, incidentOf, explainedBy }, memory: { incidents: remembered } };
}
