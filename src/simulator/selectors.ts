/**
 * Label and field selectors with the grammar and error texts of the real API server, so that a
 * malformed selector in the daemon fails here the way it would fail against a cluster.
 */
import { asRecord } from './kinds.js';
import type { KubeObject } from './store.js';

/** A selector the API server would reject with 400 BadRequest. */
export class SelectorError extends Error {}

export type LabelOperator = 'exists' | 'notexists' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

type TokenType = 'id' | '(' | ')' | ',' | '!' | '=' | '==' | '!=' | 'in' | 'notin' | '>' | '<' | 'end';

interface Token {
  type: TokenType;
  text: string;
}

const SPECIAL = new Set(['!', '(', ')', ',', '=', '<', '>']);

function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const two = input.slice(i, i + 2);
    if (two === '==' || two === '!=') {
      tokens.push({ type: two, text: two });
      i += 2;
      continue;
    }
    if (SPECIAL.has(c)) {
      tokens.push({ type: c as TokenType, text: c });
      i++;
      continue;
    }
    let j = i;
    while (j < input.length && !SPECIAL.has(input[j] as string) && !/\s/.test(input[j] as string)) j++;
    const text = input.slice(i, j);
    tokens.push({ type: text === 'in' ? 'in' : text === 'notin' ? 'notin' : 'id', text });
    i = j;
  }
  tokens.push({ type: 'end', text: '' });
  return tokens;
}

const NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function validateKey(key: string): void {
  const slash = key.lastIndexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN_RE.test(prefix))) {
    throw new SelectorError(`key: Invalid value: "${key}": prefix part must be a lowercase RFC 1123 subdomain`);
  }
  if (name.length === 0 || name.length > 63 || !NAME_RE.test(name)) {
    throw new SelectorError(
      `key: Invalid value: "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    );
  }
}

function validateValue(key: string, value: string, index: number): void {
  if (value === '') return;
  if (value.length > 63 || !NAME_RE.test(value)) {
    throw new SelectorError(
      `values[${index}][${key}]: Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    );
  }
}

function describe(t: Token): string {
  return t.type === 'end' ? '' : t.text;
}

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`; throws SelectorError like the API server. */
export function parseLabelSelector(selector: string): LabelRequirement[] {
  const tokens = lex(selector);
  let pos = 0;
  const peek = (): Token => tokens[pos] as Token;
  const next = (): Token => tokens[pos++] as Token;
  const fail = (found: Token, expected: string): never => {
    throw new SelectorError(`unable to parse requirement: found '${describe(found)}', expected: ${expected}`);
  };
  const requirements: LabelRequirement[] = [];
  if (peek().type === 'end') return requirements;
  for (;;) {
    let t = next();
    let requirement: LabelRequirement;
    if (t.type === '!') {
      t = next();
      if (t.type !== 'id') fail(t, 'identifier');
      validateKey(t.text);
      requirement = { key: t.text, operator: 'notexists', values: [] };
    } else if (t.type === 'id') {
      const key = t.text;
      validateKey(key);
      const op = peek();
      if (op.type === ',' || op.type === 'end') {
        requirement = { key, operator: 'exists', values: [] };
      } else if (op.type === '=' || op.type === '==' || op.type === '!=') {
        next();
        const v = peek();
        let value = '';
        if (v.type === 'id') {
          value = v.text;
          next();
        } else if (v.type !== ',' && v.type !== 'end') {
          fail(v, 'identifier');
        }
        validateValue(key, value, 0);
        requirement = { key, operator: op.type === '!=' ? '!=' : '=', values: [value] };
      } else if (op.type === 'in' || op.type === 'notin') {
        next();
        const open = next();
        if (open.type !== '(') fail(open, "'('");
        const values: string[] = [];
        for (;;) {
          const v = peek();
          if (v.type === 'id') {
            validateValue(key, v.text, values.length);
            values.push(v.text);
            next();
          } else if (v.type === ',' || v.type === ')') {
            // An empty value between commas is the empty string, as in the real parser.
            validateValue(key, '', values.length);
            values.push('');
          } else {
            fail(v, "',', ')' or identifier");
          }
          const sep = next();
          if (sep.type === ')') break;
          if (sep.type !== ',') fail(sep, "',' or ')'");
        }
        if (values.length === 1 && values[0] === '' && tokens[pos - 2]?.type === '(') {
          throw new SelectorError(`values: Invalid value: for 'in', 'notin' operators, values set can't be empty`);
        }
        requirement = { key, operator: op.type, values };
      } else if (op.type === '>' || op.type === '<') {
        next();
        const v = next();
        if (v.type !== 'id' || !/^-?\d+$/.test(v.text)) {
          throw new SelectorError(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
        }
        requirement = { key, operator: op.type === '>' ? 'gt' : 'lt', values: [v.text] };
      } else {
        fail(op, "'=', '!=', '==', 'in', notin'");
        throw new Error('unreachable');
      }
    } else {
      fail(t, "'!', identifier");
      throw new Error('unreachable');
    }
    requirements.push(requirement);
    const sep = next();
    if (sep.type === 'end') return requirements;
    if (sep.type !== ',') fail(sep, "',' or 'end of string'");
  }
}

export function matchesLabels(requirements: LabelRequirement[], labels: Record<string, unknown>): boolean {
  for (const r of requirements) {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    const value = has ? String(labels[r.key]) : undefined;
    switch (r.operator) {
      case 'exists':
        if (!has) return false;
        break;
      case 'notexists':
        if (has) return false;
        break;
      case '=':
        if (value !== r.values[0]) return false;
        break;
      case '!=':
        if (value === r.values[0]) return false;
        break;
      case 'in':
        if (value === undefined || !r.values.includes(value)) return false;
        break;
      case 'notin':
        if (value !== undefined && r.values.includes(value)) return false;
        break;
      case 'gt':
      case 'lt': {
        if (value === undefined || !/^-?\d+$/.test(value)) return false;
        const n = Number(value);
        const bound = Number(r.values[0]);
        if (r.operator === 'gt' ? !(n > bound) : !(n < bound)) return false;
        break;
      }
    }
  }
  return true;
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
