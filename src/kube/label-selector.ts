/**
 * Kubernetes label selectors, one implementation for the checks and the simulated API server: the
 * string grammar (`a=b,c!=d,e in (x,y),f notin (z),g,!h,n>1,n<9`) with the lexer, parser, value
 * rules and error texts of apimachinery v0.32.0 pkg/labels/selector.go (Parse, NewRequirement,
 * Requirement.Matches) and pkg/util/validation/validation.go (IsQualifiedName, IsValidLabelValue),
 * and the structured form of objects (metav1.LabelSelector: matchLabels and matchExpressions, as
 * LabelSelectorAsSelector in pkg/apis/meta/v1/helpers.go reads it).
 *
 * Ported, not copied: the same token rules and the same messages, so a selector the API server
 * rejects is rejected here with the API server's words.
 */
import type { LabelSelector } from './types.js';

/** A selector the API server would reject (the message is the one `labels.Parse` returns). */
export class LabelSelectorError extends Error {}

/** selection.Operator values. */
export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

type Token = 'error' | 'end' | ')' | ',' | '!' | '==' | '=' | '>' | 'in' | '<' | '!=' | 'notin' | '(' | 'id';

const KEYWORDS: Record<string, Token> = { ')': ')', ',': ',', '!': '!', '==': '==', '=': '=', '>': '>', in: 'in', '<': '<', '!=': '!=', notin: 'notin', '(': '(' };

/** selection operators a requirement may use after its key, in upstream's order (the parse error lists them). */
const BINARY_OPERATORS = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];

const isWhitespace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isSpecial = (c: string) => c === '=' || c === '!' || c === '(' || c === ')' || c === ',' || c === '>' || c === '<';

interface Scanned {
  token: Token;
  literal: string;
}

/** selector.go Lexer: identifiers run to the next special symbol or space; specials combine greedily. */
function scan(input: string): Scanned[] {
  const out: Scanned[] = [];
  let pos = 0;
  // Go reads bytes and stops at NUL, as it does at the end of the string.
  const read = () => (pos < input.length ? input[pos++]! : '\0');
  for (;;) {
    let c = read();
    while (isWhitespace(c)) c = read();
    if (c === '\0') {
      out.push({ token: 'end', literal: '' });
      return out;
    }
    pos--;
    if (isSpecial(c)) {
      let buffer = '';
      let last: Scanned | undefined;
      for (;;) {
        const ch = read();
        if (ch === '\0') break;
        if (!isSpecial(ch)) {
          pos--;
          break;
        }
        buffer += ch;
        const token = KEYWORDS[buffer];
        if (token) last = { token, literal: buffer };
        else if (last) {
          pos--;
          break;
        }
      }
      out.push(last ?? { token: 'error', literal: `error expected: keyword found '${buffer}'` });
      continue;
    }
    let word = '';
    for (;;) {
      const ch = read();
      if (ch === '\0') break;
      if (isSpecial(ch) || isWhitespace(ch)) {
        pos--;
        break;
      }
      word += ch;
    }
    out.push({ token: KEYWORDS[word] ?? 'id', literal: word });
  }
}

const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QUALIFIED_NAME = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const QUALIFIED_NAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const DNS1123_SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

/** validation.go RegexError. */
function regexError(message: string, fmt: string, ...examples: string[]): string {
  // `'a', ` joined by ` or `: upstream's messages carry the double space this makes.
  return `${message} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;
}

const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

/** validation.go IsQualifiedName. */
function qualifiedNameErrors(value: string): string[] {
  const errors: string[] = [];
  const parts = value.split('/');
  if (parts.length > 2) {
    return [`a qualified name ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix.length === 0) errors.push('prefix part must be non-empty');
    else {
      if (byteLength(prefix) > 253) errors.push('prefix part must be no more than 253 characters');
      if (!DNS1123_SUBDOMAIN.test(prefix)) errors.push(`prefix part ${regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, 'example.com')}`);
    }
  }
  if (name.length === 0) errors.push('name part must be non-empty');
  else if (byteLength(name) > 63) errors.push('name part must be no more than 63 characters');
  if (!QUALIFIED_NAME.test(name)) errors.push(`name part ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  return errors;
}

/** validation.go IsValidLabelValue. */
function labelValueErrors(value: string): string[] {
  const errors: string[] = [];
  if (byteLength(value) > 63) errors.push('must be no more than 63 characters');
  if (!new RegExp(`^${LABEL_VALUE_FMT}$`).test(value)) errors.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  return errors;
}

/** Go's %q for the strings a selector holds (JSON escaping agrees with it for printable text). */
const goQuote = (value: string) => JSON.stringify(value);

/** field.Invalid(path, value, detail).Error(). */
const invalid = (path: string, value: string, detail: string) => `${path}: Invalid value: ${goQuote(value)}: ${detail}`;

/** utilerrors.NewAggregate(...).Error(): one message as is, several deduplicated in brackets. */
function aggregate(messages: string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}

/** strconv.ParseInt(value, 10, 64). */
function parseInt64(value: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(value)) return undefined;
  const n = BigInt(value);
  return n >= -(2n ** 63n) && n < 2n ** 63n ? n : undefined;
}

/** labels.NewRequirement's checks; the messages it aggregates, or none. */
function requirementErrors(key: string, operator: LabelOperator, values: readonly string[]): string[] {
  const errors: string[] = [];
  const keyErrors = qualifiedNameErrors(key);
  if (keyErrors.length > 0) errors.push(invalid('key', key, keyErrors.join('; ')));
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errors.push(`values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty`);
      break;
    case 'gt':
    case 'lt':
      values.forEach((value, i) => {
        if (parseInt64(value) === undefined) errors.push(invalid(`values[${i}]`, value, "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
    default:
      break;
  }
  values.forEach((value, i) => {
    const valueErrors = labelValueErrors(value);
    if (valueErrors.length > 0) errors.push(invalid(`values[${i}][${key}]`, value, valueErrors.join('; ')));
  });
  return errors;
}

class Parser {
  private position = 0;

  constructor(private readonly items: Scanned[]) {}

  /** In a value position `in` and `notin` are identifiers (selector.go ParserContext Values). */
  private lookahead(isValue: boolean): Scanned {
    const item = this.items[this.position]!;
    return isValue && (item.token === 'in' || item.token === 'notin') ? { token: 'id', literal: item.literal } : item;
  }

  private consume(isValue: boolean): Scanned {
    const item = this.lookahead(isValue);
    this.position++;
    return item;
  }

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    for (;;) {
      const { token, literal } = this.lookahead(true);
      if (token === 'end') return requirements;
      if (token !== 'id' && token !== '!') throw new LabelSelectorError(`found '${literal}', expected: !, identifier, or 'end of string'`);
      try {
        requirements.push(this.requirement());
      } catch (error) {
        throw new LabelSelectorError(`unable to parse requirement: ${(error as Error).message}`);
      }
      const next = this.consume(true);
      if (next.token === 'end') return requirements;
      if (next.token !== ',') throw new LabelSelectorError(`found '${next.literal}', expected: ',' or 'end of string'`);
      const after = this.lookahead(true);
      if (after.token !== 'id' && after.token !== '!') throw new LabelSelectorError(`found '${after.literal}', expected: identifier after ','`);
    }
  }

  private requirement(): LabelRequirement {
    let operator: LabelOperator | undefined;
    let { token, literal } = this.consume(true);
    if (token === '!') {
      operator = '!';
      ({ token, literal } = this.consume(true));
    }
    if (token !== 'id') throw new Error(`found '${literal}', expected: identifier`);
    const key = literal;
    const keyErrors = qualifiedNameErrors(key);
    // The parser validates the key with a nil field path, which Go prints as <nil>.
    if (keyErrors.length > 0) throw new Error(invalid('<nil>', key, keyErrors.join('; ')));
    const next = this.lookahead(true).token;
    if (next === 'end' || next === ',') return this.checked(key, operator ?? 'exists', []);
    if (operator === '!') return this.checked(key, '!', []);
    const op = this.operator();
    const values = op === 'in' || op === 'notin' ? this.valueSet() : this.exactValue();
    // sets.String.List(): deduplicated and sorted.
    return this.checked(key, op, [...new Set(values)].sort());
  }

  private checked(key: string, operator: LabelOperator, values: string[]): LabelRequirement {
    const errors = requirementErrors(key, operator, values);
    if (errors.length > 0) throw new Error(aggregate(errors));
    return { key, operator, values };
  }

  private operator(): LabelOperator {
    const { token, literal } = this.consume(false);
    switch (token) {
      case 'in':
      case 'notin':
      case '=':
      case '==':
      case '!=':
        return token;
      case '>':
        return 'gt';
      case '<':
        return 'lt';
      default:
        throw new Error(`found '${literal}', expected: ${BINARY_OPERATORS.join(', ')}`);
    }
  }

  private valueSet(): string[] {
    const open = this.consume(true);
    if (open.token !== '(') throw new Error(`found '${open.literal}' expected: '('`);
    const { token, literal } = this.lookahead(true);
    if (token === ')') {
      this.consume(true);
      return [''];
    }
    if (token !== 'id' && token !== ',') throw new Error(`found '${literal}', expected: ',', ')' or identifier`);
    const values = this.identifiers();
    // Upstream names the token it looked at before the list, not the one it found here.
    if (this.consume(true).token !== ')') throw new Error(`found '${literal}', expected: ')'`);
    return values;
  }

  private identifiers(): string[] {
    const values: string[] = [];
    for (;;) {
      const { token, literal } = this.consume(true);
      if (token === 'id') {
        values.push(literal);
        const next = this.lookahead(true);
        if (next.token === ',') continue;
        if (next.token === ')') return values;
        throw new Error(`found '${next.literal}', expected: ',' or ')'`);
      }
      if (token !== ',') throw new Error(`found '${literal}', expected: ',', or identifier`);
      // `(,`, `,,` and `,)` stand for the empty value.
      if (values.length === 0) values.push('');
      const next = this.lookahead(true).token;
      if (next === ')') {
        values.push('');
        return values;
      }
      if (next === ',') {
        this.consume(true);
        values.push('');
      }
    }
  }

  private exactValue(): string[] {
    const next = this.lookahead(true).token;
    if (next === 'end' || next === ',') return [''];
    const { token, literal } = this.consume(true);
    if (token === 'id') return [literal];
    throw new Error(`found '${literal}', expected: identifier`);
  }
}

/** labels.Parse: the requirements of a selector string, sorted by key; throws LabelSelectorError with upstream's message. */
export function parseLabelSelector(selector: string): LabelRequirement[] {
  const requirements = new Parser(scan(selector)).parse();
  return requirements.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Requirement.Matches for every requirement (an empty list matches everything, as labels.Everything). */
export function matchesRequirements(requirements: readonly LabelRequirement[], labels: Readonly<Record<string, unknown>> | undefined): boolean {
  const have = labels ?? {};
  for (const { key, operator, values } of requirements) {
    const isPresent = Object.hasOwn(have, key);
    const value = isPresent ? String(have[key]) : undefined;
    switch (operator) {
      case 'in':
      case '=':
      case '==':
        if (value === undefined || !values.includes(value)) return false;
        break;
      case 'notin':
      case '!=':
        if (value !== undefined && values.includes(value)) return false;
        break;
      case 'exists':
        if (!isPresent) return false;
        break;
      case '!':
        if (isPresent) return false;
        break;
      case 'gt':
      case 'lt': {
        const have64 = value === undefined ? undefined : parseInt64(value);
        const bound = values.length === 1 ? parseInt64(values[0]!) : undefined;
        if (have64 === undefined || bound === undefined) return false;
        if (operator === 'gt' ? !(have64 > bound) : !(have64 < bound)) return false;
        break;
      }
    }
  }
  return true;
}

const EXPRESSION_OPERATORS: Record<string, LabelOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

/**
 * metav1.LabelSelectorAsSelector's requirements: matchLabels as `=`, matchExpressions by operator.
 * An operator Kubernetes does not know is an error there; here the selector matches nothing.
 */
function selectorRequirements(selector: LabelSelector): LabelRequirement[] | undefined {
  const requirements: LabelRequirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({ key, operator: '=', values: [value] }));
  for (const expression of selector.matchExpressions ?? []) {
    const operator = EXPRESSION_OPERATORS[expression.operator];
    if (!operator) return undefined;
    requirements.push({ key: expression.key, operator, values: operator === 'exists' || operator === '!' ? [] : [...(expression.values ?? [])] });
  }
  return requirements;
}

export interface SelectorMatchOptions {
  /**
   * What a selector without requirements selects. Kubernetes: everything for a LabelSelector, and
   * no pods for a Service without a selector (its endpoints are managed by hand). The checks pass
   * 'nothing' wherever "everything" is never what the object means.
   */
  empty: 'everything' | 'nothing';
}

/** Whether an object's labels match a LabelSelector; an absent selector selects nothing (labels.Nothing). */
export function matchesLabelSelector(labels: Readonly<Record<string, string>> | undefined, selector: LabelSelector | undefined, options: SelectorMatchOptions): boolean {
  if (!selector) return false;
  const requirements = selectorRequirements(selector);
  if (!requirements) return false;
  if (requirements.length === 0) return options.empty === 'everything';
  return matchesRequirements(requirements, labels);
}

/**
 * A LabelSelector as `kubectl -l` takes it: matchLabels in their order as `k=v`, then the
 * expressions (`k in (a,b)`, `k notin (a)`, `k`, `!k`).
 */
export function formatLabelSelector(selector: LabelSelector | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  for (const expression of selector?.matchExpressions ?? []) {
    const values = (expression.values ?? []).join(',');
    if (expression.operator === 'In') parts.push(`${expression.key} in (${values})`);
    else if (expression.operator === 'NotIn') parts.push(`${expression.key} notin (${values})`);
    else if (expression.operator === 'Exists') parts.push(expression.key);
    else if (expression.operator === 'DoesNotExist') parts.push(`!${expression.key}`);
  }
  return parts.join(',');
}
