/**
 * expr's Pratt parser (parser/parser.go at v1.15.5 and v1.17.7; precedences from
 * parser/operator/operator.go, identical in both). v1.17 adds `;` sequences, `if {} else {}`,
 * chained comparisons (`1 < x < 3` is `1 < x && x < 3`), `?.[`, `::builtin()`, trailing commas in
 * calls, `0b`/`0o` literals, predicate arguments declared per builtin (`sum`, `sortBy`), and parses
 * `a not b` without swallowing a token. v1.15 quirks kept: a string literal takes no postfix
 * (`"ab"[0]` is a syntax error), a `not` before an operator of lower precedence is dropped.
 */
import type { Node } from './ast.js';
import type { Dialect } from './dialect.js';
import { CompileError, NotEvaluated } from './errors.js';
import { isValidIdentifier, lex, type LexResult, type Token, type TokenKind } from './lexer.js';
import { goQuote } from './text.js';

interface Operator {
  precedence: number;
  right?: boolean;
}

const UNARY: Record<string, number> = { not: 50, '!': 50, '-': 90, '+': 90 };

export const BINARY: Record<string, Operator> = {
  '|': { precedence: 0 },
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

const NEGATABLE = new Set(['contains', 'matches', 'startsWith', 'endsWith', 'in']);
const isComparison = (op: string) => op === '<' || op === '>' || op === '>=' || op === '<=';

type Arg = 'expr' | 'predicate' | 'expr?' | 'predicate?';

const V17_PREDICATES: Record<string, Arg[]> = {
  all: ['expr', 'predicate'],
  none: ['expr', 'predicate'],
  any: ['expr', 'predicate'],
  one: ['expr', 'predicate'],
  filter: ['expr', 'predicate'],
  map: ['expr', 'predicate'],
  count: ['expr', 'predicate?'],
  sum: ['expr', 'predicate?'],
  find: ['expr', 'predicate'],
  findIndex: ['expr', 'predicate'],
  findLast: ['expr', 'predicate'],
  findLastIndex: ['expr', 'predicate'],
  groupBy: ['expr', 'predicate'],
  sortBy: ['expr', 'predicate', 'expr?'],
  reduce: ['expr', 'predicate', 'expr?'],
};

const V15_PREDICATES: Record<string, number> = {
  all: 2, none: 2, any: 2, one: 2, filter: 2, map: 2, count: 2, find: 2, findIndex: 2, findLast: 2, findLastIndex: 2, groupBy: 2, reduce: 3,
};

/** Nesting bound: expr recurses without a limit (Go stacks grow); rollout-doctor stops first. */
export const MAX_DEPTH = 100;

const EOF_TOKEN: Token = { kind: 'EOF', value: '' };

const tokenText = (t: Token) => (t.value === '' ? t.kind : `${t.kind}(${goQuote(t.value)})`);

class Parser {
  private pos = -1;
  private current: Token = EOF_TOKEN;
  private stashed?: Token;
  private err?: string;
  private depth = 0;
  private nesting = 0;
  private readonly v17: boolean;

  constructor(
    private readonly lexed: LexResult,
    private readonly dialect: Dialect,
    /** Names of the environment: in v1.17 an environment member shadows a builtin of that name. */
    private readonly envHas: (name: string) => boolean,
  ) {
    this.v17 = dialect.v17;
  }

  parse(): Node {
    this.next();
    const node = this.v17 ? this.parseSequenceExpression() : this.parseExpression(0);
    if (!this.is('EOF')) this.error(`unexpected token ${tokenText(this.current)}`);
    if (this.err !== undefined) throw new CompileError(this.err);
    return node;
  }

  private error(message: string): void {
    this.err ??= message;
  }

  private next(): void {
    if (this.stashed) {
      this.current = this.stashed;
      this.stashed = undefined;
      return;
    }
    this.pos++;
    const { tokens, error } = this.lexed;
    if (error && this.pos >= error.at) {
      // v1.17 pulls tokens lazily: the lexer's error replaces whatever the parser had.
      this.err = error.message;
      return;
    }
    if (this.pos >= tokens.length) {
      this.error('unexpected end of expression');
      return;
    }
    this.current = tokens[this.pos]!;
  }

  private is(kind: TokenKind, ...values: string[]): boolean {
    return this.current.kind === kind && (values.length === 0 || values.includes(this.current.value));
  }

  private expect(kind: TokenKind, ...values: string[]): void {
    if (this.is(kind, ...values)) {
      this.next();
      return;
    }
    this.error(`unexpected token ${tokenText(this.current)}`);
  }

  private parseSequenceExpression(): Node {
    const nodes = [this.parseExpression(0)];
    while (this.is('Operator', ';') && this.err === undefined) {
      this.next();
      if (this.is('EOF')) break;
      nodes.push(this.parseExpression(0));
    }
    return nodes.length === 1 ? nodes[0]! : { t: 'seq', nodes };
  }

  private parseExpression(precedence: number): Node {
    if (++this.nesting > MAX_DEPTH) throw new NotEvaluated(`the expression nests deeper than ${MAX_DEPTH} levels`);
    try {
      return this.expression(precedence);
    } finally {
      this.nesting--;
    }
  }

  private expression(precedence: number): Node {
    if (this.v17 && this.err !== undefined) return { t: 'nil' };
    if (precedence === 0 && this.is('Operator', 'let')) return this.parseVariableDeclaration();
    if (this.v17 && precedence === 0 && this.is('Operator', 'if')) return this.parseConditionalIf();

    let left = this.parsePrimary();
    let prevOperator = '';
    let opToken = this.current;
    while (opToken.kind === 'Operator' && this.err === undefined) {
      let negate = opToken.value === 'not';
      if (negate) {
        if (this.v17) {
          const backup = this.current;
          this.next();
          if (!NEGATABLE.has(this.current.value)) {
            this.error(`unexpected token ${tokenText(this.current)}`);
            break;
          }
          const op = BINARY[this.current.value];
          if (!op || op.precedence < precedence) {
            this.stashed = this.current;
            this.current = backup;
            break;
          }
          opToken = this.current;
        } else {
          this.next();
          opToken = this.current;
        }
      }
      const op = Object.hasOwn(BINARY, opToken.value) ? BINARY[opToken.value] : undefined;
      if (!op || op.precedence < precedence) break;
      this.next();
      if (opToken.value === '|') {
        if (this.v17) {
          const ident = this.current;
          this.expect('Identifier');
          left = this.parseCall(ident, [left], true);
        } else {
          left = this.parsePipe(left);
        }
      } else {
        if (prevOperator === '??' && opToken.value !== '??' && !(opToken.kind === 'Bracket' && opToken.value === '(')) {
          this.error(`Operator (${opToken.value}) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses.`);
          break;
        }
        if (this.v17 && isComparison(opToken.value)) {
          left = this.parseComparison(left, opToken, op.precedence);
        } else {
          const right = this.parseExpression(op.right ? op.precedence : op.precedence + 1);
          left = { t: 'binary', op: opToken.value, left, right };
          if (negate) left = { t: 'unary', op: 'not', node: left };
        }
      }
      negate = false;
      prevOperator = opToken.value;
      opToken = this.current;
    }
    return precedence === 0 ? this.parseConditional(left) : left;
  }

  private parseComparison(left: Node, token: Token, precedence: number): Node {
    let root: Node | undefined;
    for (;;) {
      const comparator = this.parseExpression(precedence + 1);
      const cmp: Node = { t: 'binary', op: token.value, left, right: comparator };
      root = root ? { t: 'binary', op: '&&', left: root, right: cmp } : cmp;
      left = comparator;
      token = this.current;
      if (!(token.kind === 'Operator' && isComparison(token.value) && this.err === undefined)) break;
      this.next();
    }
    return root;
  }

  private parseVariableDeclaration(): Node {
    this.expect('Operator', 'let');
    const name = this.current.value;
    this.expect('Identifier');
    this.expect('Operator', '=');
    const value = this.parseExpression(0);
    this.expect('Operator', ';');
    const expr = this.v17 ? this.parseSequenceExpression() : this.parseExpression(0);
    return { t: 'let', name, value, expr };
  }

  private parseConditionalIf(): Node {
    this.next();
    if (this.err !== undefined) return { t: 'nil' };
    const cond = this.parseExpression(0);
    this.expect('Bracket', '{');
    const exp1 = this.parseSequenceExpression();
    this.expect('Bracket', '}');
    this.expect('Operator', 'else');
    let exp2: Node;
    if (this.is('Operator', 'if')) {
      exp2 = this.parseConditionalIf();
    } else {
      this.expect('Bracket', '{');
      exp2 = this.parseSequenceExpression();
      this.expect('Bracket', '}');
    }
    return { t: 'cond', cond, exp1, exp2 };
  }

  private parseConditional(node: Node): Node {
    while (this.is('Operator', '?') && this.err === undefined) {
      this.next();
      let exp1: Node;
      let exp2: Node;
      if (!this.is('Operator', ':')) {
        exp1 = this.parseExpression(0);
        this.expect('Operator', ':');
        exp2 = this.parseExpression(0);
      } else {
        this.next();
        exp1 = node;
        exp2 = this.parseExpression(0);
      }
      node = { t: 'cond', cond: node, exp1, exp2 };
    }
    return node;
  }

  private parsePrimary(): Node {
    const token = this.current;
    if (token.kind === 'Operator' && Object.hasOwn(UNARY, token.value)) {
      this.next();
      const node = this.parseExpression(UNARY[token.value]!);
      return this.parsePostfixExpression({ t: 'unary', op: token.value, node });
    }
    if (this.is('Bracket', '(')) {
      this.next();
      const inner = this.v17 ? this.parseSequenceExpression() : this.parseExpression(0);
      this.expect('Bracket', ')');
      return this.parsePostfixExpression(inner);
    }
    const isPointer = token.kind === 'Operator' && (token.value === '#' || token.value === '.');
    if (this.depth > 0 && isPointer) {
      let name = '';
      if (token.value === '#') {
        this.next();
        if (this.is('Identifier')) {
          name = this.current.value;
          this.next();
        }
      }
      return this.parsePostfixExpression({ t: 'pointer', name });
    }
    if (!this.v17 && isPointer) this.error('cannot use pointer accessor outside closure');
    if (this.v17 && this.is('Operator', '::')) {
      this.next();
      const name = this.current;
      this.expect('Identifier');
      return this.parsePostfixExpression(this.parseCall(name, [], false));
    }
    return this.parseSecondary();
  }

  private parseSecondary(): Node {
    const token = this.current;
    let node: Node;
    switch (token.kind) {
      case 'Identifier':
        this.next();
        switch (token.value) {
          case 'true':
            return { t: 'bool', value: true };
          case 'false':
            return { t: 'bool', value: false };
          case 'nil':
            return { t: 'nil' };
        }
        if (this.v17) {
          node = this.is('Bracket', '(') ? this.parseCall(token, [], true) : { t: 'ident', value: token.value };
        } else {
          node = this.parseCallV15(token);
        }
        break;
      case 'Number':
        this.next();
        return this.number(token.value);
      case 'String':
        this.next();
        node = { t: 'string', value: token.value };
        if (!this.v17) return node;
        break;
      default:
        if (this.is('Bracket', '[')) node = this.parseArrayExpression();
        else if (this.is('Bracket', '{')) node = this.parseMapExpression();
        else {
          this.error(`unexpected token ${tokenText(token)}`);
          return { t: 'nil' };
        }
    }
    return this.parsePostfixExpression(node);
  }

  private number(text: string): Node {
    const value = text.replace(/_/g, '');
    const lower = value.toLowerCase();
    const int = (kind: string, parsed: bigint | string): Node => {
      if (typeof parsed === 'string') {
        this.error(`invalid ${kind} literal: ${parsed}`);
        return { t: 'int', value: 0n };
      }
      return { t: 'int', value: parsed };
    };
    const float = (): Node => {
      const parsed = parseGoFloat(value);
      if (typeof parsed === 'string') this.error(`invalid float literal: ${parsed}`);
      return { t: 'float', value: typeof parsed === 'string' ? 0 : parsed };
    };
    if (this.v17) {
      if (lower.startsWith('0x')) return int('hex', parseGoInt(value, 0));
      if (/[.e]/.test(lower)) return float();
      if (lower.startsWith('0b')) return int('binary', parseGoInt(value, 0));
      if (lower.startsWith('0o')) return int('octal', parseGoInt(value, 0));
      return int('integer', parseGoInt(value, 10));
    }
    if (value.includes('x')) return int('hex', parseGoInt(value, 0));
    if (/[.eE]/.test(value)) return float();
    return int('integer', parseGoInt(value, 10));
  }

  private parseCall(token: Token, args: Node[], checkOverrides: boolean): Node {
    const name = token.value;
    const overridden = checkOverrides && this.envHas(name);
    const spec = Object.hasOwn(V17_PREDICATES, name) ? V17_PREDICATES[name] : undefined;
    if (spec && !overridden) {
      this.expect('Bracket', '(');
      const rest = spec.slice(args.length);
      for (let i = 0; i < rest.length; i++) {
        const arg = rest[i]!;
        if (arg.endsWith('?')) {
          if (this.is('Bracket', ')')) break;
        } else if (this.is('Bracket', ')')) {
          this.error(`expected at least ${rest.length} arguments`);
        }
        if (i > 0) this.expect('Operator', ',');
        args.push(arg.startsWith('expr') ? this.parseExpression(0) : this.parsePredicate());
      }
      if (this.is('Operator', ',')) this.next();
      this.expect('Bracket', ')');
      return { t: 'builtin', name, args };
    }
    if (this.dialect.builtins.has(name) && !overridden) return { t: 'builtin', name, args: this.parseArguments(args) };
    return { t: 'call', callee: { t: 'ident', value: name }, args: this.parseArguments(args) };
  }

  private parseCallV15(token: Token): Node {
    const name = token.value;
    if (!this.is('Bracket', '(')) return { t: 'ident', value: name };
    const arity = Object.hasOwn(V15_PREDICATES, name) ? V15_PREDICATES[name] : undefined;
    if (arity !== undefined) {
      this.expect('Bracket', '(');
      let args: Node[] = [];
      if (arity === 2) {
        args = [this.parseExpression(0)];
        this.expect('Operator', ',');
        args.push(this.parseClosure());
      }
      if (name === 'reduce') {
        args = [this.parseExpression(0)];
        this.expect('Operator', ',');
        args.push(this.parseClosure());
        if (this.is('Operator', ',')) {
          this.next();
          args.push(this.parseExpression(0));
        }
      }
      this.expect('Bracket', ')');
      return { t: 'builtin', name, args };
    }
    if (this.dialect.builtins.has(name)) return { t: 'builtin', name, args: this.parseArguments([]) };
    return { t: 'call', callee: { t: 'ident', value: name }, args: this.parseArguments([]) };
  }

  private parsePipe(left: Node): Node {
    const name = this.current.value;
    this.expect('Identifier');
    const args = [left];
    const arity = Object.hasOwn(V15_PREDICATES, name) ? V15_PREDICATES[name] : undefined;
    if (arity !== undefined) {
      this.expect('Bracket', '(');
      if (arity === 2) args.push(this.parseClosure());
      if (name === 'reduce') {
        args.push(this.parseClosure());
        if (this.is('Operator', ',')) {
          this.next();
          args.push(this.parseExpression(0));
        }
      }
      this.expect('Bracket', ')');
      return { t: 'builtin', name, args };
    }
    if (this.dialect.builtins.has(name)) return { t: 'builtin', name, args: this.parseArguments(args) };
    return { t: 'call', callee: { t: 'ident', value: name }, args: this.parseArguments(args) };
  }

  private parseArguments(args: Node[]): Node[] {
    const offset = args.length;
    this.expect('Bracket', '(');
    while (!this.is('Bracket', ')') && this.err === undefined) {
      if (args.length > offset) this.expect('Operator', ',');
      if (this.v17 && this.is('Bracket', ')')) break;
      args.push(this.parseExpression(0));
    }
    this.expect('Bracket', ')');
    return args;
  }

  private parsePredicate(): Node {
    const brackets = this.is('Bracket', '{');
    if (brackets) this.next();
    this.depth++;
    let node: Node;
    if (brackets) {
      node = this.parseSequenceExpression();
    } else {
      node = this.parseExpression(0);
      if (this.is('Operator', ';')) this.error('wrap predicate with brackets { and }');
    }
    this.depth--;
    if (brackets) this.expect('Bracket', '}');
    return { t: 'predicate', node };
  }

  private parseClosure(): Node {
    const brackets = this.is('Bracket', '{');
    if (brackets) this.next();
    this.depth++;
    const node = this.parseExpression(0);
    this.depth--;
    if (brackets) this.expect('Bracket', '}');
    return { t: 'predicate', node };
  }

  private parseArrayExpression(): Node {
    const nodes: Node[] = [];
    this.expect('Bracket', '[');
    while (!this.is('Bracket', ']') && this.err === undefined) {
      if (nodes.length > 0) {
        this.expect('Operator', ',');
        if (this.is('Bracket', ']')) break;
      }
      nodes.push(this.parseExpression(0));
    }
    this.expect('Bracket', ']');
    return { t: 'array', nodes };
  }

  private parseMapExpression(): Node {
    this.expect('Bracket', '{');
    const pairs: Node[] = [];
    while (!this.is('Bracket', '}') && this.err === undefined) {
      if (pairs.length > 0) {
        this.expect('Operator', ',');
        if (this.is('Bracket', '}')) break;
        if (this.is('Operator', ',')) this.error(`unexpected token ${tokenText(this.current)}`);
      }
      let key: Node;
      if (this.is('Number') || this.is('String') || this.is('Identifier')) {
        key = { t: 'string', value: this.current.value };
        this.next();
      } else if (this.is('Bracket', '(')) {
        key = this.parseExpression(0);
      } else {
        this.error(`a map key must be a quoted string, a number, a identifier, or an expression enclosed in parentheses (unexpected token ${tokenText(this.current)})`);
        key = { t: 'nil' };
      }
      this.expect('Operator', ':');
      const value = this.parseExpression(0);
      pairs.push({ t: 'pair', key, value });
    }
    this.expect('Bracket', '}');
    return { t: 'map', pairs };
  }

  private parsePostfixExpression(node: Node): Node {
    let postfix = this.current;
    while ((postfix.kind === 'Operator' || postfix.kind === 'Bracket') && this.err === undefined) {
      const optional = postfix.value === '?.';
      let value = postfix.value;
      if (value === '.' || value === '?.') {
        this.next();
        const property = this.current;
        if (this.v17 && optional && property.kind === 'Bracket' && property.value === '[') {
          value = '[';
        } else {
          this.next();
          if (property.kind !== 'Identifier' && (property.kind !== 'Operator' || !isValidIdentifier(property.value))) this.error('expected name');
          const isChain = node.t === 'chain';
          const base = node.t === 'chain' ? node.node : node;
          let member: Node = { t: 'member', node: base, property: { t: 'string', value: property.value }, optional };
          if (this.is('Bracket', '(')) {
            member.method = true;
            member = { t: 'call', callee: member, args: this.parseArguments([]) };
          }
          node = isChain || optional ? { t: 'chain', node: member } : member;
          postfix = this.current;
          continue;
        }
      }
      if (value !== '[') break;
      this.next();
      if (this.is('Operator', ':')) {
        this.next();
        const to = this.is('Bracket', ']') ? undefined : this.parseExpression(0);
        node = { t: 'slice', node, to };
        this.expect('Bracket', ']');
      } else {
        const from = this.parseExpression(0);
        if (this.is('Operator', ':')) {
          this.next();
          const to = this.is('Bracket', ']') ? undefined : this.parseExpression(0);
          node = { t: 'slice', node, from, to };
          this.expect('Bracket', ']');
        } else {
          const isOptional = this.v17 && optional;
          node = { t: 'member', node, property: from, optional: isOptional };
          if (isOptional) node = { t: 'chain', node };
          this.expect('Bracket', ']');
        }
      }
      postfix = this.current;
    }
    return node;
  }
}

const GO_INT_MIN = -(2n ** 63n);
const GO_INT_MAX = 2n ** 63n - 1n;

/** strconv.ParseInt(s, base, 64): the value, or the error text. */
export function parseGoInt(s: string, base: 0 | 10): bigint | string {
  const fail = (why: string) => `strconv.ParseInt: parsing ${goQuote(s)}: ${why}`;
  let body = s;
  let negative = false;
  if (body.startsWith('+') || body.startsWith('-')) {
    negative = body[0] === '-';
    body = body.slice(1);
  }
  let radix = 10;
  if (base === 0 && body.length > 1 && body[0] === '0') {
    const p = body[1]!.toLowerCase();
    if (p === 'x' || p === 'o' || p === 'b') {
      radix = p === 'x' ? 16 : p === 'o' ? 8 : 2;
      body = body.slice(2);
    } else {
      radix = 8;
      body = body.slice(1);
    }
  }
  const digits = radix === 16 ? /^[0-9a-fA-F]+$/ : radix === 8 ? /^[0-7]+$/ : radix === 2 ? /^[01]+$/ : /^[0-9]+$/;
  if (!digits.test(body)) return fail('invalid syntax');
  const prefix = radix === 16 ? '0x' : radix === 8 ? '0o' : radix === 2 ? '0b' : '';
  let n = BigInt(prefix + body);
  if (negative) n = -n;
  if (n < GO_INT_MIN || n > GO_INT_MAX) return fail('value out of range');
  return n;
}

/** strconv.ParseFloat(s, 64) for the decimal forms the lexer produces: the value, or the error text. */
export function parseGoFloat(s: string): number | string {
  const fail = (why: string) => `strconv.ParseFloat: parsing ${goQuote(s)}: ${why}`;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return fail('invalid syntax');
  const f = Number(s);
  if (!Number.isFinite(f)) return fail('value out of range');
  return f;
}

export function parse(source: string, dialect: Dialect, envHas: (name: string) => boolean): Node {
  const lexed = lex(source, dialect.v17);
  if (!dialect.v17 && lexed.error) throw new CompileError(lexed.error.message);
  return new Parser(lexed, dialect, envHas).parse();
}
