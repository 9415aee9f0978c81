/**
 * Label and field selectors with the grammar and error texts of the real API server, so that a
 * malformed selector in the daemon fails here the way it would fail against a cluster. Label
 * selectors are the shared implementation in src/kube/label-selector.ts.
 */
import { type LabelRequirement, LabelSelectorError, matchesRequirements, parseLabelSelector as parseRequirements } from '../kube/label-selector.js';
import { asRecord } from './kinds.js';
import type { KubeObject } from './store.js';

/** A selector the API server would reject with 400 BadRequest. */
export class SelectorError extends Error {}

export type { LabelRequirement } from '../kube/label-selector.js';

/** labels.Parse (src/kube/label-selector.ts, shared with the checks); throws SelectorError with the API server's message. */
export function parseLabelSelector(selector: string): LabelRequirement[] {
  try {
    return parseRequirements(selector);
  } catch (error) {
    if (error instanceof LabelSelectorError) throw new SelectorError(error.message);
    throw error;
  }
}

export function matchesLabels(requirements: readonly LabelRequirement[], labels: Record<string, unknown>): boolean {
  return matchesRequirements(requirements, labels);
}

export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

/** Splits on an unescaped separator; `\` escapes `,`, `=`, `!` and itself as in the real parser. */
function splitUnescaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '\\' && i + 1 < s.length) {
      current += c + (s[i + 1] as string);
      i++;
    } else if (c === sep) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

function unescapeValue(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

function findOperator(term: string): { index: number; op: '=' | '==' | '!=' } | undefined {
  for (let i = 0; i < term.length; i++) {
    const c = term[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '!' && term[i + 1] === '=') return { index: i, op: '!=' };
    if (c === '=' && term[i + 1] === '=') return { index: i, op: '==' };
    if (c === '=') return { index: i, op: '=' };
  }
  return undefined;
}

/** Parses `metadata.name=x,status.phase!=Running`; throws SelectorError like the API server. */
export function parseFieldSelector(selector: string): FieldRequirement[] {
  if (selector.trim() === '') return [];
  const out: FieldRequirement[] = [];
  for (const term of splitUnescaped(selector, ',')) {
    const found = findOperator(term);
    const field = found ? term.slice(0, found.index).trim() : '';
    if (!found || field === '') throw new SelectorError(`invalid selector: '${selector}'; can't understand '${term}'`);
    out.push({
      field,
      operator: found.op === '!=' ? '!=' : '=',
      value: unescapeValue(term.slice(found.index + found.op.length)),
    });
  }
  return out;
}

type FieldGetter = (o: KubeObject) => unknown;

function at(...pathParts: string[]): FieldGetter {
  return (o) => {
    let cur: unknown = o;
    for (const p of pathParts) cur = asRecord(cur)[p];
    return cur;
  };
}

const OBJECT_META: Record<string, FieldGetter> = {
  'metadata.name': at('metadata', 'name'),
  'metadata.namespace': at('metadata', 'namespace'),
};

const INVOLVED = ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'];

function eventFields(objectField: 'involvedObject' | 'regarding'): Record<string, FieldGetter> {
  const out: Record<string, FieldGetter> = {
    reason: at('reason'),
    type: at('type'),
    reportingComponent: at('reportingComponent'),
    source: objectField === 'involvedObject' ? at('source', 'component') : at('deprecatedSource', 'component'),
  };
  for (const f of INVOLVED) {
    out[`involvedObject.${f}`] = at(objectField, f);
    out[`regarding.${f}`] = at(objectField, f);
  }
  return out;
}

/** Field labels per `group/plural` beyond metadata.name and metadata.namespace (as the real server). */
const FIELDS: Record<string, Record<string, FieldGetter>> = {
  '/pods': {
    'status.phase': at('status', 'phase'),
    'spec.nodeName': at('spec', 'nodeName'),
    'spec.restartPolicy': at('spec', 'restartPolicy'),
    'spec.schedulerName': at('spec', 'schedulerName'),
    'spec.serviceAccountName': at('spec', 'serviceAccountName'),
    'spec.hostNetwork': (o) => asRecord(o['spec'])['hostNetwork'] === true,
    'status.podIP': at('status', 'podIP'),
    'status.nominatedNodeName': at('status', 'nominatedNodeName'),
  },
  '/events': eventFields('involvedObject'),
  'events.k8s.io/events': eventFields('regarding'),
  '/namespaces': { 'status.phase': at('status', 'phase') },
  '/secrets': { type: at('type') },
  '/nodes': { 'spec.unschedulable': (o) => asRecord(o['spec'])['unschedulable'] === true },
  'apps/replicasets': { 'status.replicas': at('status', 'replicas') },
};

/** Resolves each requirement to a getter; throws `field label not supported: <field>`. */
export function compileFieldSelector(
  group: string,
  plural: string,
  requirements: FieldRequirement[],
): ((o: KubeObject) => boolean) | undefined {
  if (requirements.length === 0) return undefined;
  const extra = FIELDS[`${group}/${plural}`] ?? {};
  const compiled = requirements.map((r) => {
    const getter = OBJECT_META[r.field] ?? extra[r.field];
    if (!getter) throw new SelectorError(`field label not supported: ${r.field}`);
    return { getter, r };
  });
  return (o) =>
    compiled.every(({ getter, r }) => {
      const raw = getter(o);
      const value = raw === undefined || raw === null ? '' : String(raw);
      return r.operator === '=' ? value === r.value : value !== r.value;
    });
}
