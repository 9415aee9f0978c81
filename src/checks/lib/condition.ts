/**
 * Argo Rollouts' successCondition / failureCondition language, evaluated safely. Upstream
 * (utils/evaluate/evaluate.go) compiles the condition with expr-lang/expr against an environment of
 * `result` and the functions asInt, asFloat, isNaN, isInf, isNil and default, then runs it. This is a
 * hand-written lexer, a Pratt parser with expr's operator precedences, a static pass for what expr
 * rejects when it compiles (unknown names, mismatched types of values whose type is known), and a
 * bounded interpreter with expr's runtime semantics: NaN compares false (so NaN matches neither
 * condition), indexing past the end of an array is an error (`result[0]` on an empty vector), `/` is
 * float division, a missing map key reads nil. No eval, no Function, no regular expressions from
 * the condition (`matches` is reported as unsupported rather than run).
 *
 * Upstream quirks mirrored on purpose: `default(x, d)` and `isNil(x)` ignore their first argument
 * and look at the whole result (so `default(result[0], 0)` still evaluates `result[0]` first and
 * errors on an empty vector); arguments are evaluated before the call.
 */

export type Phase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error';

/** A static type as expr sees it from the environment (Go types). */
export type ValueType =
  | { kind: 'int' | 'float' | 'string' | 'bool' | 'nil' | 'any' }
  | { kind: 'array'; elem: ValueType }
  | { kind: 'map'; elem: ValueType };

/** The `result` a provider hands to the conditions: its value and its Go type. */
export interface MetricResult {
  value: unknown;
  type: ValueType;
}

const ANY: ValueType = { kind: 'any' };
const INT: ValueType = { kind: 'int' };
const FLOAT: ValueType = { kind: 'float' };
const STRING: ValueType = { kind: 'string' };
const BOOL: ValueType = { kind: 'bool' };
const NIL: ValueType = { kind: 'nil' };

/** Prometheus vector: `[]float64`. */
export function vectorResult(values: readonly number[]): MetricResult {
  return { value: [...values], type: { kind: 'array', elem: FLOAT } };
}

/** Prometheus scalar: `float64`. */
export function scalarResult(value: number): MetricResult {
  return { value, type: FLOAT };
}

/** A value decoded from JSON (web provider): its top-level Go type is known, nested values are interface{}. */
export function jsonResult(value: unknown): MetricResult {
  return { value: value === undefined ? null : value, type: jsonType(value) };
}

/** A plain string (a web body that is not JSON). */
export function stringResult(value: string): MetricResult {
  return { value, type: STRING };
}

function jsonType(value: unknown): ValueType {
  if (value === null || value === undefined) return NIL;
  if (typeof value === 'number') return FLOAT;
  if (typeof value === 'string') return STRING;
  if (typeof value === 'boolean') return BOOL;
  if (Array.isArray(value)) return { kind: 'array', elem: ANY };
  return { kind: 'map', elem: ANY };
}

/** The condition is wrong, or fails on this result: Argo Rollouts records the measurement as Error. */
export class ConditionError extends Error {}

/** The condition uses something this evaluator does not implement: we cannot say what upstream does. */
export class UnsupportedCondition extends Error {}

export const MAX_CONDITION_LENGTH = 4096;
const MAX_DEPTH = 64;
const MAX_STEPS = 100_000;
const MAX_RANGE = 10_000;

// ---------------------------------------------------------------------------------------------
// Lexer

type TokenType = 'number' | 'string' | 'ident' | 'op' | 'eof';

interface Token {
  type: TokenType;
  value: string;
  pos: number;
  num?: number;
  isInt?: boolean;
}

const OPERATORS = ['??', '?.', '**', '==', '!=', '<=', '>=', '&&', '||', '..', '!', '<', '>', '+', '-', '*', '/', '%', '^', '(', ')', '[', ']', '{', '}', '.', ',', '?', ':', '#', '|', '=', ';'];

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function isIdentStart(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z_$]/.test(c);
}

function isIdentPart(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_$]/.test(c);
}

function lexNumber(text: string, start: number): Token {
  let i = start;
  const prefixed = /^0[xXoObB]/.test(text.slice(i, i + 2));
  if (prefixed) {
    const base = text[i + 1]!.toLowerCase() === 'x' ? 16 : text[i + 1]!.toLowerCase() === 'o' ? 8 : 2;
    i += 2;
    const digits = /^[0-9a-fA-F_]*/.exec(text.slice(i))![0];
    i += digits.length;
    const clean = digits.replace(/_/g, '');
    const value = clean === '' ? Number.NaN : Number.parseInt(clean, base);
    if (Number.isNaN(value)) throw new ConditionError(`invalid number literal ${text.slice(start, i)}`);
    return { type: 'number', value: text.slice(start, i), pos: start, num: value, isInt: true };
  }
  while (isDigit(text[i]) || text[i] === '_') i++;
  let isInt = true;
  if (text[i] === '.' && isDigit(text[i + 1])) {
    isInt = false;
    i++;
    while (isDigit(text[i]) || text[i] === '_') i++;
  }
  if ((text[i] === 'e' || text[i] === 'E') && (isDigit(text[i + 1]) || ((text[i + 1] === '+' || text[i + 1] === '-') && isDigit(text[i + 2])))) {
    isInt = false;
    i += 2;
    while (isDigit(text[i])) i++;
  }
  const raw = text.slice(start, i);
  const num = Number(raw.replace(/_/g, ''));
  if (Number.isNaN(num)) throw new ConditionError(`invalid number literal ${raw}`);
  return { type: 'number', value: raw, pos: start, num, isInt };
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", '0': '\0', a: '\x07', b: '\b', f: '\f', v: '\v' };

function lexString(text: string, start: number): { token: Token; end: number } {
  const quote = text[start]!;
  let i = start + 1;
  let out = '';
  if (quote === '`') {
    const end = text.indexOf('`', i);
    if (end < 0) throw new ConditionError('literal not terminated');
    return { token: { type: 'string', value: text.slice(i, end), pos: start }, end: end + 1 };
  }
  for (;;) {
    const c = text[i];
    if (c === undefined || c === '\n') throw new ConditionError('literal not terminated');
    if (c === quote) return { token: { type: 'string', value: out, pos: start }, end: i + 1 };
    if (c === '\\') {
      const e = text[i + 1];
      if (e === 'u' || e === 'x' || e === 'U') {
        const length = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = text.slice(i + 2, i + 2 + length);
        if (!new RegExp(`^[0-9a-fA-F]{${length}}$`).test(hex)) throw new ConditionError('invalid escape in string literal');
        out += String.fromCodePoint(Number.parseInt(hex, 16));
        i += 2 + length;
        continue;
      }
      if (e === undefined || !(e in ESCAPES)) throw new ConditionError('invalid escape in string literal');
      out += ESCAPES[e];
      i += 2;
      continue;
    }
    out += c;
    i++;
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (isDigit(c)) {
      const token = lexNumber(text, i);
      tokens.push(token);
      i += token.value.length;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      const { token, end } = lexString(text, i);
      tokens.push(token);
      i = end;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (isIdentPart(text[j])) j++;
      tokens.push({ type: 'ident', value: text.slice(i, j), pos: i });
      i = j;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (!op) throw new ConditionError(`unexpected character ${JSON.stringify(c)} at position ${i}`);
    tokens.push({ type: 'op', value: op, pos: i });
    i += op.length;
  }
  tokens.push({ type: 'eof', value: '', pos: text.length });
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Parser

export type Node =
  | { t: 'number'; value: number; isInt: boolean }
  | { t: 'string'; value: string }
  | { t: 'bool'; value: boolean }
  | { t: 'nil' }
  | { t: 'ident'; name: string }
  | { t: 'pointer'; field?: string }
  | { t: 'member'; object: Node; property: string; optional: boolean }
  | { t: 'index'; object: Node; index: Node; optional: boolean }
  | { t: 'slice'; object: Node; from?: Node; to?: Node }
  | { t: 'call'; name: string; args: Node[] }
  | { t: 'closure'; body: Node }
  | { t: 'unary'; op: string; operand: Node }
  | { t: 'binary'; op: string; left: Node; right: Node }
  | { t: 'conditional'; test: Node; then: Node; else: Node }
  | { t: 'array'; items: Node[] };

/** expr-lang/expr parser/operator: precedence and associativity. */
const BINARY: Record<string, { precedence: number; right?: boolean }> = {
  or: { precedence: 10 },
  '||': { precedence: 10 },
  and: { precedence: 15 },
  '&&': { precedence: 15 },
  '==': { precedence: 20 },
  '!=': { precedence: 20 },
  '<': { precedence: 20 },
  '>': { precedence: 20 },
  '>=': { precedence: 20 },
  '<=': { precedence: 20 },
  in: { precedence: 20 },
  matches: { precedence: 20 },
  contains: { precedence: 20 },
  startsWith: { precedence: 20 },
  endsWith: { precedence: 20 },
  '..': { precedence: 25 },
  '+': { precedence: 30 },
  '-': { precedence: 30 },
  '*': { precedence: 60 },
  '/': { precedence: 60 },
  '%': { precedence: 60 },
  '**': { precedence: 100, right: true },
  '^': { precedence: 100, right: true },
  '??': { precedence: 500 },
};

const UNARY: Record<string, number> = { not: 50, '!': 50, '-': 90, '+': 90 };

const WORD_OPERATORS = new Set(['and', 'or', 'not', 'in', 'matches', 'contains', 'startsWith', 'endsWith']);

class Parser {
  private i = 0;
  private depth = 0;
  private closureDepth = 0;

  constructor(private readonly tokens: Token[]) {}

  private get current(): Token {
    return this.tokens[this.i]!;
  }

  private peek(offset = 1): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]!;
  }

  private isOp(value: string, token = this.current): boolean {
    return (token.type === 'op' || (token.type === 'ident' && WORD_OPERATORS.has(token.value))) && token.value === value;
  }

  private expect(value: string): void {
    if (!this.isOp(value)) throw new ConditionError(`unexpected token ${this.describe(this.current)}, expected ${value}`);
    this.i++;
  }

  private describe(token: Token): string {
    return token.type === 'eof' ? 'end of condition' : JSON.stringify(token.value);
  }

  parse(): Node {
    const node = this.expression(0);
    if (this.current.type !== 'eof') throw new ConditionError(`unexpected token ${this.describe(this.current)}`);
    return node;
  }

  private binaryOperator(): { op: string; negate: boolean; precedence: number; right?: boolean } | undefined {
    const token = this.current;
    const isOperatorToken = token.type === 'op' || (token.type === 'ident' && WORD_OPERATORS.has(token.value));
    if (!isOperatorToken) return undefined;
    // `a not in b`, `a not matches b`: a negated binary operator.
    if (token.value === 'not') {
      const next = this.peek();
      if (next.type === 'ident' && ['in', 'matches', 'contains', 'startsWith', 'endsWith'].includes(next.value)) {
        return { op: next.value, negate: true, ...BINARY[next.value]! };
      }
      return undefined;
    }
    const spec = BINARY[token.value];
    return spec ? { op: token.value, negate: false, ...spec } : undefined;
  }

  private expression(precedence: number): Node {
    if (++this.depth > MAX_DEPTH) throw new UnsupportedCondition(`condition nests deeper than ${MAX_DEPTH} levels`);
    try {
      let left = this.unary();
      for (;;) {
        const op = this.binaryOperator();
        if (!op || op.precedence < precedence) break;
        this.i += op.negate ? 2 : 1;
        const right = this.expression(op.right ? op.precedence : op.precedence + 1);
        const node: Node = { t: 'binary', op: op.op, left, right };
        left = op.negate ? { t: 'unary', op: 'not', operand: node } : node;
      }
      if (precedence === 0 && this.isOp('?')) {
        this.i++;
        const then = this.expression(0);
        this.expect(':');
        const otherwise = this.expression(0);
        left = { t: 'conditional', test: left, then, else: otherwise };
      }
      return left;
    } finally {
      this.depth--;
    }
  }

  private unary(): Node {
    const token = this.current;
    if ((token.type === 'op' || token.type === 'ident') && UNARY[token.value] !== undefined && (token.type === 'op' || token.value === 'not')) {
      this.i++;
      const operand = this.expression(UNARY[token.value]!);
      return this.postfix({ t: 'unary', op: token.value === '!' ? 'not' : token.value, operand });
    }
    return this.postfix(this.primary());
  }

  private primary(): Node {
    const token = this.current;
    if (token.type === 'number') {
      this.i++;
      return { t: 'number', value: token.num!, isInt: token.isInt! };
    }
    if (token.type === 'string') {
      this.i++;
      return { t: 'string', value: token.value };
    }
    if (token.type === 'ident') {
      this.i++;
      switch (token.value) {
        case 'true':
          return { t: 'bool', value: true };
        case 'false':
          return { t: 'bool', value: false };
        case 'nil':
          return { t: 'nil' };
        case 'let':
          throw new UnsupportedCondition('let bindings are not supported');
      }
      if (WORD_OPERATORS.has(token.value)) throw new ConditionError(`unexpected token ${this.describe(token)}`);
      if (this.isOp('(')) return this.call(token.value);
      return { t: 'ident', name: token.value };
    }
    if (this.isOp('(')) {
      this.i++;
      const inner = this.expression(0);
      this.expect(')');
      return inner;
    }
    if (this.isOp('[')) {
      this.i++;
      const items: Node[] = [];
      while (!this.isOp(']')) {
        items.push(this.expression(0));
        if (!this.isOp(',')) break;
        this.i++;
      }
      this.expect(']');
      return { t: 'array', items };
    }
    if (this.isOp('#')) {
      this.i++;
      if (this.closureDepth === 0) throw new ConditionError('cannot use pointer accessor outside predicate');
      if (this.current.type === 'ident' && !WORD_OPERATORS.has(this.current.value)) throw new UnsupportedCondition(`#${this.current.value} is not supported`);
      return { t: 'pointer' };
    }
    if (this.isOp('.') && this.closureDepth > 0 && this.peek().type === 'ident') {
      this.i++;
      const field = this.current.value;
      this.i++;
      return { t: 'member', object: { t: 'pointer' }, property: field, optional: false };
    }
    if (this.isOp('{')) throw new UnsupportedCondition('map literals are not supported');
    throw new ConditionError(`unexpected token ${this.describe(token)}`);
  }

  private call(name: string): Node {
    this.expect('(');
    const args: Node[] = [];
    while (!this.isOp(')')) {
      if (this.isOp('{')) {
        this.i++;
        this.closureDepth++;
        const body = this.expression(0);
        this.closureDepth--;
        this.expect('}');
        args.push({ t: 'closure', body });
      } else {
        args.push(this.expression(0));
      }
      if (!this.isOp(',')) break;
      this.i++;
    }
    this.expect(')');
    return { t: 'call', name, args };
  }

  private postfix(node: Node): Node {
    for (;;) {
      if (this.isOp('.') || this.isOp('?.')) {
        const optional = this.isOp('?.');
        this.i++;
        if (optional && this.isOp('[')) {
          this.i++;
          const index = this.expression(0);
          this.expect(']');
          node = { t: 'index', object: node, index, optional: true };
          continue;
        }
        const name = this.current;
        if (name.type !== 'ident') throw new ConditionError(`unexpected token ${this.describe(name)}, expected a field name`);
        this.i++;
        if (this.isOp('(')) throw new ConditionError(`method ${name.value} is not defined on result`);
        node = { t: 'member', object: node, property: name.value, optional };
        continue;
      }
      if (this.isOp('[')) {
        this.i++;
        if (this.isOp(':')) {
          this.i++;
          const to = this.isOp(']') ? undefined : this.expression(0);
          this.expect(']');
          node = { t: 'slice', object: node, to };
          continue;
        }
        const index = this.expression(0);
        if (this.isOp(':')) {
          this.i++;
          const to = this.isOp(']') ? undefined : this.expression(0);
          this.expect(']');
          node = { t: 'slice', object: node, from: index, to };
          continue;
        }
        this.expect(']');
        node = { t: 'index', object: node, index, optional: false };
        continue;
      }
      if (this.isOp('|')) throw new UnsupportedCondition('the pipe operator is not supported');
      return node;
    }
  }
}

/** Parses a condition; throws ConditionError (syntax) or UnsupportedCondition. */
export function parseCondition(condition: string): Node {
  if (condition.length > MAX_CONDITION_LENGTH) throw new UnsupportedCondition(`condition longer than ${MAX_CONDITION_LENGTH} characters`);
  return new Parser(tokenize(condition)).parse();
}

// ---------------------------------------------------------------------------------------------
// Static pass: what expr rejects at compile time, whatever path evaluation would take.

function goType(type: ValueType): string {
  switch (type.kind) {
    case 'int':
      return 'int';
    case 'float':
      return 'float64';
    case 'string':
      return 'string';
    case 'bool':
      return 'bool';
    case 'nil':
      return 'nil';
    case 'any':
      return 'interface {}';
    case 'array':
      return `[]${goType(type.elem)}`;
    case 'map':
      return `map[string]${goType(type.elem)}`;
  }
}

const isNumeric = (t: ValueType) => t.kind === 'int' || t.kind === 'float';
const isLoose = (t: ValueType) => t.kind === 'any' || t.kind === 'nil';

/** Functions the environment defines (evaluate.go) and expr builtins implemented here. */
const ENV_FUNCTIONS = new Set(['asInt', 'asFloat', 'isNaN', 'isInf', 'isNil', 'default']);
const IMPLEMENTED_BUILTINS = new Set([
  'len', 'abs', 'int', 'float', 'string', 'max', 'min', 'sum', 'mean', 'first', 'last', 'ceil', 'floor', 'round',
  'all', 'any', 'none', 'one', 'filter', 'map', 'count', 'keys', 'values', 'lower', 'upper', 'trim', 'hasPrefix', 'hasSuffix',
]);
/** expr builtins that exist upstream but are not implemented here: unsupported, not an error. */
const OTHER_BUILTINS = new Set([
  'find', 'findIndex', 'findLast', 'findLastIndex', 'groupBy', 'sortBy', 'reduce', 'type', 'trimPrefix', 'trimSuffix', 'split', 'splitAfter',
  'replace', 'repeat', 'indexOf', 'lastIndexOf', 'median', 'toJSON', 'fromJSON', 'toBase64', 'fromBase64', 'now', 'duration', 'date', 'timezone',
  'get', 'take', 'toPairs', 'fromPairs', 'sort', 'reverse', 'uniq', 'concat', 'flatten', 'join', 'bitand', 'bitor', 'bitxor', 'bitnand', 'bitnot',
  'bitshl', 'bitshr', 'bitushr',
]);
const PREDICATE_BUILTINS = new Set(['all', 'any', 'none', 'one', 'filter', 'map', 'count']);

const ARITY: Record<string, [number, number]> = {
  asInt: [1, 1], asFloat: [1, 1], isNaN: [1, 1], isInf: [1, 1], isNil: [1, 1], default: [2, 2],
  len: [1, 1], abs: [1, 1], int: [1, 1], float: [1, 1], string: [1, 1], max: [1, 64], min: [1, 64], sum: [1, 1], mean: [1, 64],
  first: [1, 1], last: [1, 1], ceil: [1, 1], floor: [1, 1], round: [1, 1], all: [2, 2], any: [2, 2], none: [2, 2], one: [2, 2],
  filter: [2, 2], map: [2, 2], count: [1, 2], keys: [1, 1], values: [1, 1], lower: [1, 1], upper: [1, 1], trim: [1, 1],
  hasPrefix: [2, 2], hasSuffix: [2, 2],
};

function mismatch(op: string, left: ValueType, right: ValueType): ConditionError {
  return new ConditionError(`invalid operation: ${op} (mismatched types ${goType(left)} and ${goType(right)})`);
}

function sameKind(a: ValueType, b: ValueType): boolean {
  return a.kind === b.kind || (isNumeric(a) && isNumeric(b));
}

class Checker {
  constructor(private readonly resultType: ValueType) {}

  check(node: Node, scope: ValueType | undefined): ValueType {
    switch (node.t) {
      case 'number':
        return node.isInt ? INT : FLOAT;
      case 'string':
        return STRING;
      case 'bool':
        return BOOL;
      case 'nil':
        return NIL;
      case 'pointer':
        return scope ?? ANY;
      case 'ident':
        if (node.name === 'result') return this.resultType;
        if (ENV_FUNCTIONS.has(node.name) || IMPLEMENTED_BUILTINS.has(node.name)) return ANY;
        throw new ConditionError(`unknown name ${node.name}`);
      case 'array': {
        const types = node.items.map((item) => this.check(item, scope));
        const first = types[0];
        return { kind: 'array', elem: first && types.every((t) => t.kind === first.kind && !isLoose(t)) ? first : ANY };
      }
      case 'member': {
        const object = this.check(node.object, scope);
        if (object.kind === 'map') return object.elem;
        if (isLoose(object)) return ANY;
        throw new ConditionError(`type ${goType(object)} has no field ${node.property}`);
      }
      case 'index': {
        const object = this.check(node.object, scope);
        const index = this.check(node.index, scope);
        if (object.kind === 'array') {
          if (!isLoose(index) && index.kind !== 'int') throw new ConditionError(`array elements can only be selected using an integer (got ${goType(index)})`);
          return object.elem;
        }
        if (object.kind === 'map') return object.elem;
        if (object.kind === 'string') return ANY;
        if (isLoose(object)) return ANY;
        throw new ConditionError(`type ${goType(object)}[${goType(index)}] is undefined`);
      }
      case 'slice': {
        const object = this.check(node.object, scope);
        if (node.from) this.check(node.from, scope);
        if (node.to) this.check(node.to, scope);
        if (object.kind === 'array' || object.kind === 'string' || isLoose(object)) return object.kind === 'nil' ? ANY : object;
        throw new ConditionError(`cannot slice ${goType(object)}`);
      }
      case 'closure':
        return this.check(node.body, scope);
      case 'unary': {
        const operand = this.check(node.operand, scope);
        if (node.op === 'not') {
          if (operand.kind === 'bool' || isLoose(operand)) return BOOL;
          throw new ConditionError(`invalid operation: ${node.op} (mismatched type ${goType(operand)})`);
        }
        if (isNumeric(operand) || isLoose(operand)) return operand.kind === 'nil' ? ANY : operand;
        throw new ConditionError(`invalid operation: ${node.op} (mismatched type ${goType(operand)})`);
      }
      case 'conditional': {
        const test = this.check(node.test, scope);
        if (test.kind !== 'bool' && !isLoose(test)) throw new ConditionError(`non-bool expression (type ${goType(test)}) used as condition`);
        const a = this.check(node.then, scope);
        const b = this.check(node.else, scope);
        return a.kind === b.kind && a.kind !== 'array' && a.kind !== 'map' ? a : ANY;
      }
      case 'binary':
        return this.binary(node.op, this.check(node.left, scope), this.check(node.right, scope));
      case 'call':
        return this.call(node, scope);
    }
  }

  private binary(op: string, left: ValueType, right: ValueType): ValueType {
    const loose = isLoose(left) || isLoose(right);
    switch (op) {
      case '||':
      case 'or':
      case '&&':
      case 'and':
        if ((left.kind === 'bool' || isLoose(left)) && (right.kind === 'bool' || isLoose(right))) return BOOL;
        throw mismatch(op, left, right);
      case '==':
      case '!=':
        if (loose || sameKind(left, right)) return BOOL;
        throw mismatch(op, left, right);
      case '<':
      case '>':
      case '<=':
      case '>=':
        if (loose || (isNumeric(left) && isNumeric(right)) || (left.kind === 'string' && right.kind === 'string')) return BOOL;
        throw mismatch(op, left, right);
      case '+':
        if (isNumeric(left) && isNumeric(right)) return left.kind === 'int' && right.kind === 'int' ? INT : FLOAT;
        if (left.kind === 'string' && right.kind === 'string') return STRING;
        if (left.kind === 'array' && right.kind === 'array') return { kind: 'array', elem: ANY };
        if (loose) return ANY;
        throw mismatch(op, left, right);
      case '-':
      case '*':
        if (isNumeric(left) && isNumeric(right)) return left.kind === 'int' && right.kind === 'int' ? INT : FLOAT;
        if (loose) return ANY;
        throw mismatch(op, left, right);
      case '/':
      case '**':
      case '^':
        if ((isNumeric(left) || isLoose(left)) && (isNumeric(right) || isLoose(right))) return FLOAT;
        throw mismatch(op, left, right);
      case '%':
        if ((left.kind === 'int' || isLoose(left)) && (right.kind === 'int' || isLoose(right))) return loose ? ANY : INT;
        throw mismatch(op, left, right);
      case 'in':
        if (right.kind === 'array' || right.kind === 'map' || isLoose(right)) return BOOL;
        throw mismatch(op, left, right);
      case 'contains':
      case 'startsWith':
      case 'endsWith':
        if ((left.kind === 'string' || isLoose(left)) && (right.kind === 'string' || isLoose(right))) return BOOL;
        throw mismatch(op, left, right);
      case 'matches':
        throw new UnsupportedCondition('the matches operator (regular expressions) is not evaluated by rollout-doctor');
      case '..':
        if ((left.kind === 'int' || isLoose(left)) && (right.kind === 'int' || isLoose(right))) return { kind: 'array', elem: INT };
        throw mismatch(op, left, right);
      case '??':
        return left.kind === 'nil' ? right : isLoose(left) ? ANY : left;
      default:
        throw new UnsupportedCondition(`operator ${op} is not supported`);
    }
  }

  private call(node: Extract<Node, { t: 'call' }>, scope: ValueType | undefined): ValueType {
    const { name, args } = node;
    if (OTHER_BUILTINS.has(name)) throw new UnsupportedCondition(`function ${name}() is not evaluated by rollout-doctor`);
    if (!ENV_FUNCTIONS.has(name) && !IMPLEMENTED_BUILTINS.has(name)) throw new ConditionError(`unknown func ${name}`);
    const [min, max] = ARITY[name]!;
    if (args.length < min) throw new ConditionError(`not enough arguments to call ${name}`);
    if (args.length > max) throw new ConditionError(`too many arguments to call ${name}`);
    if (PREDICATE_BUILTINS.has(name)) {
      const collection = this.check(args[0]!, scope);
      if (collection.kind !== 'array' && !isLoose(collection)) throw new ConditionError(`builtin ${name} takes only array (got ${goType(collection)})`);
      const elem = collection.kind === 'array' ? collection.elem : ANY;
      const predicate = args[1];
      if (predicate && predicate.t !== 'closure') throw new ConditionError(`${name} expects a predicate {...} as its second argument`);
      const body = predicate ? this.check(predicate, elem) : BOOL;
      if (name !== 'map' && body.kind !== 'bool' && !isLoose(body)) throw new ConditionError(`predicate should return boolean (got ${goType(body)})`);
      if (name === 'filter') return collection.kind === 'nil' ? ANY : collection;
      if (name === 'map') return { kind: 'array', elem: body };
      if (name === 'count') return INT;
      return BOOL;
    }
    for (const arg of args) if (arg.t === 'closure') throw new ConditionError(`unexpected predicate in ${name}()`);
    const types = args.map((arg) => this.check(arg, scope));
    const [a] = types;
    const numericArg = (fn: string) => {
      if (!isNumeric(a!) && !isLoose(a!)) throw new ConditionError(`cannot use ${goType(a!)} as argument (type float64) to call ${fn}`);
    };
    switch (name) {
      case 'asInt':
        return INT;
      case 'asFloat':
        return FLOAT;
      case 'isNaN':
      case 'isInf':
        numericArg(name);
        return BOOL;
      case 'isNil':
        return BOOL;
      case 'default':
        return ANY;
      case 'len':
        if (a!.kind === 'array' || a!.kind === 'map' || a!.kind === 'string' || isLoose(a!)) return INT;
        throw new ConditionError(`invalid argument for len (type ${goType(a!)})`);
      case 'abs':
        numericArg(name);
        return a!.kind === 'nil' ? ANY : a!;
      case 'int':
        return INT;
      case 'float':
      case 'mean':
      case 'ceil':
      case 'floor':
      case 'round':
        return FLOAT;
      case 'string':
      case 'lower':
      case 'upper':
      case 'trim':
        return STRING;
      case 'hasPrefix':
      case 'hasSuffix':
        return BOOL;
      case 'first':
      case 'last':
        return a!.kind === 'array' ? a!.elem : ANY;
      case 'keys':
        return { kind: 'array', elem: STRING };
      case 'values':
        return { kind: 'array', elem: a!.kind === 'map' ? a!.elem : ANY };
      default:
        return ANY;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Interpreter

function runtimeType(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'number') return 'float64';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return '[]interface {}';
  return 'map[string]interface {}';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (a === null || b === null || a === undefined || b === undefined) return (a ?? null) === (b ?? null);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return a === b;
}

/** strconv.ParseFloat's accepted forms (decimal, inf/infinity/nan in any case); hex floats are not supported. */
export function parseGoFloat(text: string): number | undefined {
  const lower = text.toLowerCase();
  if (/^[+-]?(inf|infinity)$/.test(lower)) return lower.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (lower === 'nan') return Number.NaN;
  if (!/^[+-]?(\d(_?\d)*(\.(\d(_?\d)*)?)?|\.\d(_?\d)*)([eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text.replace(/_/g, ''));
}

/** Go's int64(f) conversion as amd64 does it: NaN and out-of-range values become the minimum int64. */
function goInt64(value: number): number {
  if (!Number.isFinite(value) || Math.abs(value) >= 2 ** 63) return -(2 ** 63);
  return Math.trunc(value);
}

class Interpreter {
  private steps = 0;

  constructor(private readonly result: MetricResult) {}

  private step(): void {
    if (++this.steps > MAX_STEPS) throw new UnsupportedCondition(`condition takes more than ${MAX_STEPS} evaluation steps`);
  }

  /** Go's name for a value's type; the result keeps its own (a Prometheus vector is []float64). */
  typeName(value: unknown): string {
    return value !== null && value === this.result.value && typeof value === 'object' ? goType(this.result.type) : runtimeType(value);
  }

  private get resultIsNil(): boolean {
    return this.result.value === null || this.result.value === undefined;
  }

  eval(node: Node, scope: unknown): unknown {
    this.step();
    switch (node.t) {
      case 'number':
      case 'string':
      case 'bool':
        return node.value;
      case 'nil':
        return null;
      case 'pointer':
        return scope;
      case 'ident':
        if (node.name === 'result') return this.result.value ?? null;
        throw new ConditionError(`${node.name} is a function and cannot be used as a value`);
      case 'array':
        return node.items.map((item) => this.eval(item, scope));
      case 'member': {
        const object = this.eval(node.object, scope);
        if (object === null || object === undefined) {
          if (node.optional) return null;
          throw new ConditionError(`cannot fetch ${node.property} from <nil>`);
        }
        if (isPlainObject(object)) return Object.hasOwn(object, node.property) ? object[node.property] ?? null : null;
        throw new ConditionError(`cannot fetch ${node.property} from ${this.typeName(object)}`);
      }
      case 'index':
        return this.index(this.eval(node.object, scope), this.eval(node.index, scope), node.optional);
      case 'slice':
        return this.slice(node, scope);
      case 'closure':
        return this.eval(node.body, scope);
      case 'unary':
        return this.unary(node.op, this.eval(node.operand, scope));
      case 'conditional': {
        const test = this.eval(node.test, scope);
        if (typeof test !== 'boolean') throw new ConditionError(`non-bool expression (type ${this.typeName(test)}) used as condition`);
        return this.eval(test ? node.then : node.else, scope);
      }
      case 'binary':
        return this.binary(node, scope);
      case 'call':
        return this.call(node, scope);
    }
  }

  private index(object: unknown, index: unknown, optional: boolean): unknown {
    if (object === null || object === undefined) {
      if (optional) return null;
      throw new ConditionError(`cannot fetch ${String(index)} from <nil>`);
    }
    if (Array.isArray(object) || typeof object === 'string') {
      if (typeof index !== 'number' || !Number.isFinite(index)) throw new ConditionError(`invalid operation: int(${this.typeName(index)})`);
      const length = typeof object === 'string' ? Buffer.byteLength(object) : object.length;
      let i = Math.trunc(index);
      if (i < 0) i += length;
      if (i < 0 || i >= length) throw new ConditionError(`index out of range: ${i} (array length is ${length})`);
      // expr indexes strings by byte (a uint8 comes back).
      return typeof object === 'string' ? Buffer.from(object)[i]! : (object[i] ?? null);
    }
    if (isPlainObject(object)) {
      const key = typeof index === 'string' ? index : String(index);
      return Object.hasOwn(object, key) ? object[key] ?? null : null;
    }
    throw new ConditionError(`cannot fetch ${String(index)} from ${this.typeName(object)}`);
  }

  private slice(node: Extract<Node, { t: 'slice' }>, scope: unknown): unknown {
    const object = this.eval(node.object, scope);
    if (!Array.isArray(object) && typeof object !== 'string') throw new ConditionError(`cannot slice ${this.typeName(object)}`);
    const length = object.length;
    const bound = (n: Node | undefined, fallback: number) => {
      if (!n) return fallback;
      const v = this.eval(n, scope);
      if (typeof v !== 'number') throw new ConditionError(`invalid operation: int(${this.typeName(v)})`);
      let i = Math.trunc(v);
      if (i < 0) i += length;
      return Math.min(Math.max(i, 0), length);
    };
    const to = bound(node.to, length);
    const from = Math.min(bound(node.from, 0), to);
    return object.slice(from, to);
  }

  private unary(op: string, value: unknown): unknown {
    if (op === 'not') {
      if (typeof value !== 'boolean') throw new ConditionError(`invalid operation: ! (mismatched type ${this.typeName(value)})`);
      return !value;
    }
    if (typeof value !== 'number') throw new ConditionError(`invalid operation: ${op} ${this.typeName(value)}`);
    return op === '-' ? -value : value;
  }

  private binary(node: Extract<Node, { t: 'binary' }>, scope: unknown): unknown {
    const { op } = node;
    if (op === '&&' || op === 'and' || op === '||' || op === 'or') {
      const left = this.eval(node.left, scope);
      if (typeof left !== 'boolean') throw new ConditionError(`invalid operation: ${op} (mismatched types ${this.typeName(left)} and bool)`);
      const isAnd = op === '&&' || op === 'and';
      if (isAnd ? !left : left) return left;
      const right = this.eval(node.right, scope);
      if (typeof right !== 'boolean') throw new ConditionError(`invalid operation: ${op} (mismatched types bool and ${this.typeName(right)})`);
      return right;
    }
    if (op === '??') {
      const left = this.eval(node.left, scope);
      return left === null || left === undefined ? this.eval(node.right, scope) : left;
    }
    const left = this.eval(node.left, scope);
    const right = this.eval(node.right, scope);
    const numbers = typeof left === 'number' && typeof right === 'number';
    const strings = typeof left === 'string' && typeof right === 'string';
    switch (op) {
      case '==':
        return deepEqual(left, right);
      case '!=':
        return !deepEqual(left, right);
      case '<':
      case '>':
      case '<=':
      case '>=': {
        if (!numbers && !strings) throw new ConditionError(`invalid operation: ${op} (mismatched types ${this.typeName(left)} and ${this.typeName(right)})`);
        const [a, b] = [left as number | string, right as number | string];
        return op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
      }
      case '+':
        if (numbers) return (left as number) + (right as number);
        if (strings) return (left as string) + (right as string);
        if (Array.isArray(left) && Array.isArray(right)) return [...left, ...right];
        break;
      case '-':
        if (numbers) return (left as number) - (right as number);
        break;
      case '*':
        if (numbers) return (left as number) * (right as number);
        break;
      case '/':
        // expr divides as float64: x/0 is ±Inf, 0/0 is NaN, never an error.
        if (numbers) return (left as number) / (right as number);
        break;
      case '%':
        if (numbers && Number.isInteger(left) && Number.isInteger(right)) {
          if (right === 0) throw new ConditionError('integer divide by zero');
          return (left as number) % (right as number);
        }
        break;
      case '**':
      case '^':
        if (numbers) return (left as number) ** (right as number);
        break;
      case 'in':
        if (Array.isArray(right)) return right.some((item) => deepEqual(item, left));
        if (isPlainObject(right)) return typeof left === 'string' && Object.hasOwn(right, left);
        if (right === null) return false;
        throw new ConditionError(`operator "in" not defined on ${this.typeName(right)}`);
      case 'contains':
      case 'startsWith':
      case 'endsWith':
        if (strings) {
          const [a, b] = [left as string, right as string];
          return op === 'contains' ? a.includes(b) : op === 'startsWith' ? a.startsWith(b) : a.endsWith(b);
        }
        break;
      case '..': {
        if (!numbers || !Number.isInteger(left) || !Number.isInteger(right)) break;
        const size = (right as number) - (left as number) + 1;
        if (size > MAX_RANGE) throw new UnsupportedCondition(`range of ${size} elements is larger than ${MAX_RANGE}`);
        return Array.from({ length: Math.max(0, size) }, (_, i) => (left as number) + i);
      }
      case 'matches':
        throw new UnsupportedCondition('the matches operator (regular expressions) is not evaluated by rollout-doctor');
    }
    throw new ConditionError(`invalid operation: ${this.typeName(left)} ${op} ${this.typeName(right)}`);
  }

  private predicate(name: string, args: Node[], scope: unknown): unknown {
    const collection = this.eval(args[0]!, scope);
    if (!Array.isArray(collection)) throw new ConditionError(`builtin ${name} takes only array (got ${this.typeName(collection)})`);
    const body = args[1];
    const test = (item: unknown): boolean => {
      if (!body) return Boolean(item);
      const value = this.eval(body, item);
      if (typeof value !== 'boolean') throw new ConditionError(`predicate should return boolean (got ${this.typeName(value)})`);
      return value;
    };
    switch (name) {
      case 'all':
        return collection.every(test);
      case 'any':
        return collection.some(test);
      case 'none':
        return !collection.some(test);
      case 'one':
        return collection.filter(test).length === 1;
      case 'filter':
        return collection.filter(test);
      case 'count':
        return collection.filter(test).length;
      default:
        return collection.map((item) => this.eval(body!, item));
    }
  }

  private numbersOf(name: string, values: unknown[]): number[] {
    const flat = values.length === 1 && Array.isArray(values[0]) ? (values[0] as unknown[]) : values;
    return flat.map((v) => {
      if (typeof v !== 'number') throw new ConditionError(`invalid argument for ${name} (type ${this.typeName(v)})`);
      return v;
    });
  }

  private call(node: Extract<Node, { t: 'call' }>, scope: unknown): unknown {
    const { name, args } = node;
    if (PREDICATE_BUILTINS.has(name)) return this.predicate(name, args, scope);
    // expr evaluates every argument before it calls the function, default() and isNil() included.
    const values = args.map((arg) => this.eval(arg, scope));
    const [a, b] = values;
    const float64Arg = () => {
      if (typeof a !== 'number') throw new ConditionError(`reflect: Call using ${this.typeName(a)} as type float64 (${name})`);
      return a;
    };
    switch (name) {
      case 'isNaN':
        return Number.isNaN(float64Arg());
      case 'isInf':
        return Math.abs(float64Arg()) === Number.POSITIVE_INFINITY;
      case 'isNil':
        return this.resultIsNil;
      case 'default':
        return this.resultIsNil ? b : this.result.value;
      case 'asInt':
        if (typeof a === 'number') return goInt64(a);
        if (typeof a === 'string') {
          if (!/^[+-]?\d+$/.test(a)) throw new ConditionError(`strconv.ParseInt: parsing ${JSON.stringify(a)}: invalid syntax`);
          return Number(a);
        }
        throw new ConditionError(`asInt() not supported on ${this.typeName(a)} ${String(a)}`);
      case 'asFloat': {
        if (typeof a === 'number') return a;
        if (typeof a === 'string') {
          const parsed = parseGoFloat(a);
          if (parsed === undefined) throw new ConditionError(`strconv.ParseFloat: parsing ${JSON.stringify(a)}: invalid syntax`);
          return parsed;
        }
        throw new ConditionError(`asFloat() not supported on ${this.typeName(a)} ${String(a)}`);
      }
      case 'len':
        if (typeof a === 'string') return Buffer.byteLength(a);
        if (Array.isArray(a)) return a.length;
        if (isPlainObject(a)) return Object.keys(a).length;
        throw new ConditionError(`invalid argument for len (type ${this.typeName(a)})`);
      case 'abs':
        return Math.abs(float64Arg());
      case 'ceil':
        return Math.ceil(float64Arg());
      case 'floor':
        return Math.floor(float64Arg());
      case 'round':
        return Math.sign(float64Arg()) * Math.round(Math.abs(float64Arg()));
      case 'int':
        if (typeof a === 'number') return goInt64(a);
        if (typeof a === 'string' && /^[+-]?\d+$/.test(a)) return Number(a);
        throw new ConditionError(`invalid operation: int(${this.typeName(a)})`);
      case 'float':
        if (typeof a === 'number') return a;
        if (typeof a === 'string' && parseGoFloat(a) !== undefined) return parseGoFloat(a);
        throw new ConditionError(`invalid operation: float(${this.typeName(a)})`);
      case 'string':
        return typeof a === 'string' ? a : a === null ? '<nil>' : typeof a === 'object' ? JSON.stringify(a) : String(a);
      case 'max':
      case 'min': {
        const numbers = this.numbersOf(name, values);
        if (numbers.length === 0) throw new ConditionError(`not enough arguments to call ${name}`);
        return name === 'max' ? Math.max(...numbers) : Math.min(...numbers);
      }
      case 'sum':
        return this.numbersOf(name, values).reduce((s, v) => s + v, 0);
      case 'mean': {
        const numbers = this.numbersOf(name, values);
        return numbers.length === 0 ? 0 : numbers.reduce((s, v) => s + v, 0) / numbers.length;
      }
      case 'first':
      case 'last':
        if (!Array.isArray(a)) throw new ConditionError(`cannot get ${name} element from ${this.typeName(a)}`);
        return (name === 'first' ? a[0] : a[a.length - 1]) ?? null;
      case 'keys':
      case 'values':
        if (!isPlainObject(a)) throw new ConditionError(`cannot get ${name} from ${this.typeName(a)}`);
        return name === 'keys' ? Object.keys(a) : Object.values(a);
      case 'lower':
      case 'upper':
      case 'trim':
        if (typeof a !== 'string') throw new ConditionError(`invalid argument for ${name} (type ${this.typeName(a)})`);
        return name === 'lower' ? a.toLowerCase() : name === 'upper' ? a.toUpperCase() : a.trim();
      case 'hasPrefix':
      case 'hasSuffix':
        if (typeof a !== 'string' || typeof b !== 'string') throw new ConditionError(`invalid argument for ${name}`);
        return name === 'hasPrefix' ? a.startsWith(b) : a.endsWith(b);
    }
    throw new UnsupportedCondition(`function ${name}() is not evaluated by rollout-doctor`);
  }
}

/**
 * EvalCondition: compiles (static pass) and runs the condition on the result. Returns its boolean;
 * throws ConditionError where expr would return an error, UnsupportedCondition where this evaluator
 * cannot tell.
 */
export function evalCondition(condition: string, result: MetricResult): boolean {
  const ast = parseCondition(condition);
  new Checker(result.type).check(ast, undefined);
  const interpreter = new Interpreter(result);
  const output = interpreter.eval(ast, undefined);
  if (typeof output !== 'boolean') throw new ConditionError(`expected bool, but got ${interpreter.typeName(output)}`);
  return output;
}

export interface Evaluation {
  /** The measurement phase; absent exactly when `unsupported` says why it could not be evaluated. */
  phase?: Phase;
  /** The error message (phase Error), prefixed with the condition that raised it. */
  error?: string;
  /** Set instead of a phase when this evaluator cannot evaluate a condition. */
  unsupported?: string;
  /** Each condition's value, when it was evaluated. */
  success?: boolean;
  failure?: boolean;
}

export interface Conditions {
  successCondition?: string;
  failureCondition?: string;
}

/** EvaluateResult (utils/evaluate/evaluate.go): the measurement phase for this result. */
export function evaluateResult(result: MetricResult, conditions: Conditions): Evaluation {
  const { successCondition = '', failureCondition = '' } = conditions;
  const run = (which: 'successCondition' | 'failureCondition', condition: string): boolean | Evaluation => {
    try {
      return evalCondition(condition, result);
    } catch (error) {
      if (error instanceof UnsupportedCondition) return { unsupported: `${which} "${condition}": ${error.message}` };
      if (error instanceof ConditionError) return { phase: 'Error', error: `${which} "${condition}": ${error.message}` };
      throw error;
    }
  };
  const evaluated: Pick<Evaluation, 'success' | 'failure'> = {};
  if (successCondition !== '') {
    const outcome = run('successCondition', successCondition);
    if (typeof outcome !== 'boolean') return outcome;
    evaluated.success = outcome;
  }
  if (failureCondition !== '') {
    const outcome = run('failureCondition', failureCondition);
    if (typeof outcome !== 'boolean') return outcome;
    evaluated.failure = outcome;
  }
  if (successCondition === '' && failureCondition === '') return { phase: 'Successful' };
  // Without a failure condition a measurement fails when it does not succeed, and vice versa.
  const failure = failureCondition === '' ? !evaluated.success : evaluated.failure!;
  const success = successCondition === '' ? !failure : evaluated.success!;
  if (failure) return { phase: 'Failed', ...evaluated };
  if (!success) return { phase: 'Inconclusive', ...evaluated };
  return { phase: 'Successful', ...evaluated };
}

/** Whether a condition reads fields or elements of `result` (member access, index or slice on it). */
export function readsResultFields(condition: string): boolean {
  let ast: Node;
  try {
    ast = parseCondition(condition);
  } catch {
    return /\bresult\s*(\.|\[|\?\.)/.test(condition);
  }
  const onResult = (n: Node): boolean => n.t === 'ident' && n.name === 'result';
  const visit = (n: Node | undefined): boolean => {
    if (!n) return false;
    switch (n.t) {
      case 'member':
      case 'index':
      case 'slice':
        if (onResult(n.object)) return true;
        return visit(n.object) || (n.t === 'index' && visit(n.index)) || (n.t === 'slice' && (visit(n.from) || visit(n.to)));
      case 'unary':
        return visit(n.operand);
      case 'binary':
        return visit(n.left) || visit(n.right);
      case 'conditional':
        return visit(n.test) || visit(n.then) || visit(n.else);
      case 'call':
        return n.args.some(visit);
      case 'closure':
        return visit(n.body);
      case 'array':
        return n.items.some(visit);
      default:
        return false;
    }
  };
  return visit(ast);
}
