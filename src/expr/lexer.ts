/**
 * expr's lexer (parser/lexer/state.go, lexer.go, utils.go at v1.15.5 and v1.17.7), a state machine
 * over runes. v1.17 adds raw `backtick` strings, `::`, the `if`/`else` keywords and `\u{...}`
 * escapes; in v1.15 a backtick is an unrecognized character and `if` an identifier.
 *
 * v1.17's parser pulls tokens lazily, so a lexer error surfaces only when the parser reaches it (a
 * syntax error before it wins); v1.15 lexes everything first. `errorAt` says how many tokens precede
 * the error so that the parser can reproduce both.
 */
import { goQuote, quoteRune } from './text.js';

export type TokenKind = 'Identifier' | 'Number' | 'String' | 'Operator' | 'Bracket' | 'EOF';

export interface Token {
  kind: TokenKind;
  value: string;
}

export interface LexResult {
  tokens: Token[];
  error?: { message: string; at: number };
}

const EOF = -1;

/** unicode.IsSpace. */
export const isSpace = (r: number) => (r >= 9 && r <= 13) || r === 32 || r === 0x85 || r === 0xa0 || r === 0x1680 || (r >= 0x2000 && r <= 0x200a) || r === 0x2028 || r === 0x2029 || r === 0x202f || r === 0x205f || r === 0x3000;

const LETTER = /\p{L}/u;
const DIGIT = /\p{Nd}/u;

/** parser/utils: letters, '_', '$' and (not first) Unicode digits. */
export const isAlphabetic = (r: number) => r === 95 || r === 36 || (r >= 0 && LETTER.test(String.fromCodePoint(r)));
export const isAlphaNumeric = (r: number) => isAlphabetic(r) || (r >= 0 && DIGIT.test(String.fromCodePoint(r)));

export function isValidIdentifier(s: string): boolean {
  const runes = [...s].map((c) => c.codePointAt(0)!);
  return runes.length > 0 && isAlphabetic(runes[0]!) && runes.every(isAlphaNumeric);
}

const digitVal = (r: number) => (r >= 48 && r <= 57 ? r - 48 : (r | 32) >= 97 && (r | 32) <= 102 ? (r | 32) - 97 + 10 : 16);

type State = ((l: Lexer) => State) | null;

class Lexer {
  readonly runes: number[];
  start = 0;
  end = 0;
  readonly tokens: Token[] = [];
  error?: string;
  private isEof = false;

  constructor(
    source: string,
    readonly v17: boolean,
  ) {
    this.runes = [...source].map((c) => c.codePointAt(0)!);
  }

  next(): number {
    if (this.end >= this.runes.length) {
      this.isEof = true;
      return EOF;
    }
    return this.runes[this.end++]!;
  }

  peek(): number {
    return this.end < this.runes.length ? this.runes[this.end]! : EOF;
  }

  backup(): void {
    if (this.isEof) this.isEof = false;
    else if (this.end > 0) this.end--;
  }

  word(): string {
    return String.fromCodePoint(...this.runes.slice(this.start, this.end));
  }

  emit(kind: TokenKind, value = this.word()): void {
    this.tokens.push({ kind, value });
    this.start = this.end;
  }

  skip(): void {
    this.start = this.end;
  }

  accept(valid: string): boolean {
    const r = this.peek();
    if (r !== EOF && valid.includes(String.fromCodePoint(r))) {
      this.next();
      return true;
    }
    return false;
  }

  acceptRun(valid: string): void {
    while (this.accept(valid));
  }

  fail(message: string): State {
    this.error ??= message;
    return null;
  }
}

function root(l: Lexer): State {
  const r = l.next();
  if (r === EOF) {
    l.emit('EOF', '');
    return null;
  }
  if (isSpace(r)) {
    l.skip();
    return root;
  }
  const c = String.fromCodePoint(r);
  if (c === "'" || c === '"') {
    scanString(l, r);
    const str = unescape(l.word(), l.v17);
    if (typeof str !== 'string') l.fail(str.error);
    l.emit('String', typeof str === 'string' ? str : '');
    return root;
  }
  if (c === '`' && l.v17) {
    scanRawString(l);
    return root;
  }
  if (r >= 48 && r <= 57) {
    l.backup();
    return number;
  }
  switch (c) {
    case '?':
      l.accept('.?');
      l.emit('Operator');
      return root;
    case '/':
      return slash;
    case '#':
      return pointer;
    case '|':
      l.accept('|');
      l.emit('Operator');
      return root;
    case '.':
      l.backup();
      return dot;
  }
  if (c === ':' && l.v17) {
    l.accept(':');
    l.emit('Operator');
    return root;
  }
  if ('([{)]}'.includes(c)) {
    l.emit('Bracket');
    return root;
  }
  if (',;%+-^'.includes(c) || (c === ':' && !l.v17)) {
    l.emit('Operator');
    return root;
  }
  if ('&!=*<>'.includes(c)) {
    l.accept('&=*');
    l.emit('Operator');
    return root;
  }
  if (isAlphaNumeric(r)) {
    l.backup();
    return identifier;
  }
  return l.fail(`unrecognized character: ${quoteRune(r)}`);
}

function number(l: Lexer): State {
  if (!scanNumber(l)) return l.fail(`bad number syntax: ${goQuote(l.word())}`);
  l.emit('Number');
  return root;
}

function scanNumber(l: Lexer): boolean {
  let digits = '0123456789_';
  if (l.accept('0')) {
    if (l.accept('xX')) digits = '0123456789abcdefABCDEF_';
    else if (l.accept('oO')) digits = '01234567_';
    else if (l.accept('bB')) digits = '01_';
  }
  l.acceptRun(digits);
  const end = l.end;
  if (l.accept('.')) {
    // `1..2` is a range: the dot belongs to the operator.
    if (l.peek() === 46) {
      l.end = end;
      return true;
    }
    l.acceptRun(digits);
  }
  if (l.accept('eE')) {
    l.accept('+-');
    l.acceptRun(digits);
  }
  if (isAlphaNumeric(l.peek())) {
    l.next();
    return false;
  }
  return true;
}

function dot(l: Lexer): State {
  l.next();
  if (l.accept('0123456789')) {
    l.backup();
    return number;
  }
  l.accept('.');
  l.emit('Operator');
  return root;
}

const WORD_OPERATORS = new Set(['in', 'or', 'and', 'matches', 'contains', 'startsWith', 'endsWith', 'let']);
const NEGATABLE = new Set(['in', 'matches', 'contains', 'startsWith', 'endsWith']);

function identifier(l: Lexer): State {
  while (isAlphaNumeric(l.next()));
  l.backup();
  const word = l.word();
  if (word === 'not') return not;
  if (WORD_OPERATORS.has(word) || (l.v17 && (word === 'if' || word === 'else'))) l.emit('Operator');
  else l.emit('Identifier');
  return root;
}

function not(l: Lexer): State {
  l.emit('Operator');
  l.acceptRun(' ');
  l.skip();
  const end = l.end;
  while (isAlphaNumeric(l.next()));
  l.backup();
  if (NEGATABLE.has(l.word())) l.emit('Operator');
  else l.end = end;
  return root;
}

function slash(l: Lexer): State {
  if (l.accept('/')) {
    for (let r = l.next(); r !== EOF && r !== 10; r = l.next());
    l.skip();
    return root;
  }
  if (l.accept('*')) {
    for (;;) {
      const r = l.next();
      if (r === EOF) return l.fail('unclosed comment');
      if (r === 42 && l.accept('/')) break;
    }
    l.skip();
    return root;
  }
  l.emit('Operator');
  return root;
}

function pointer(l: Lexer): State {
  l.accept('#');
  l.emit('Operator');
  while (isAlphaNumeric(l.next()));
  l.backup();
  if (l.word() !== '') l.emit('Identifier');
  return root;
}

function scanDigits(l: Lexer, first: number, base: number, n: number): number {
  let ch = first;
  while (n > 0 && digitVal(ch) < base) {
    ch = l.next();
    n--;
  }
  if (n > 0) l.fail('invalid char escape');
  return ch;
}

function scanEscape(l: Lexer, quote: number): number {
  const ch = l.next();
  const c = ch === EOF ? '' : String.fromCodePoint(ch);
  if ('abfnrtv\\'.includes(c) && c !== '' || ch === quote) return l.next();
  if (c >= '0' && c <= '7' && c !== '') return scanDigits(l, ch, 8, 3);
  if (c === 'x') return scanDigits(l, l.next(), 16, 2);
  if (c === 'u') {
    if (l.v17 && l.peek() === 123) {
      l.next();
      let digits = 0;
      for (;;) {
        const p = l.peek();
        if (p === 125) break;
        if (digitVal(p) >= 16 || digits >= 6) {
          l.fail('invalid char escape');
          return EOF;
        }
        l.next();
        digits++;
      }
      if (digits === 0) {
        l.fail('invalid char escape');
        return EOF;
      }
      l.next();
      return l.next();
    }
    return scanDigits(l, l.next(), 16, 4);
  }
  if (c === 'U') return scanDigits(l, l.next(), 16, 8);
  l.fail('invalid char escape');
  return ch;
}

function scanString(l: Lexer, quote: number): void {
  let ch = l.next();
  while (ch !== quote) {
    if (ch === 10 || ch === EOF) {
      l.fail('literal not terminated');
      return;
    }
    ch = ch === 92 ? scanEscape(l, quote) : l.next();
  }
}

function scanRawString(l: Lexer): void {
  let escapedQuotes = 0;
  for (;;) {
    let ch = l.next();
    while (ch === 96 && l.peek() === 96) {
      l.next();
      ch = l.next();
      escapedQuotes++;
    }
    if (ch === 96) break;
    if (ch === EOF) {
      l.fail('literal not terminated');
      return;
    }
  }
  const str = String.fromCodePoint(...l.runes.slice(l.start + 1, l.end - 1));
  if (escapedQuotes === 0) {
    l.emit('String', str);
    return;
  }
  let out = '';
  let skipped = false;
  for (const r of str) {
    if (r === '`') {
      if (!skipped) {
        skipped = true;
        continue;
      }
      skipped = false;
    }
    out += r;
  }
  l.emit('String', out);
}

const MAX_RUNE = 0x10ffff;

/** parser/lexer/utils.go unescape: the value of a quoted literal. */
export function unescape(quoted: string, v17: boolean): string | { error: string } {
  const value = quoted.replace(/\r\n|\r/g, '\n');
  const chars = [...value];
  const n = chars.length;
  if (n < 2 || chars[0] !== chars[n - 1] || (chars[0] !== '"' && chars[0] !== "'")) return { error: 'unable to unescape string' };
  const body = chars.slice(1, n - 1);
  let out = '';
  const bad = { error: 'unable to unescape string' };
  const hex = (c: string | undefined) => (c !== undefined && /^[0-9a-fA-F]$/.test(c) ? Number.parseInt(c, 16) : -1);
  const rune = (v: number) => (v >= 0xd800 && v <= 0xdfff ? '\ufffd' : String.fromCodePoint(v));
  for (let i = 0; i < body.length; ) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    if (i + 1 >= body.length) return { error: "unable to unescape string, found '\\' as last character" };
    const e = body[i + 1]!;
    i += 2;
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"', '`': '`', '?': '?' };
    if (e in simple) {
      out += simple[e];
      continue;
    }
    if (e === 'x' || e === 'X' || e === 'u' || e === 'U') {
      if (e === 'u' && v17 && body[i] === '{') {
        i++;
        let v = 0;
        let digits = 0;
        while (i < body.length && body[i] !== '}') {
          const x = hex(body[i]);
          if (x < 0 || digits >= 6) return bad;
          v = v * 16 + x;
          i++;
          digits++;
        }
        if (i >= body.length || digits === 0) return bad;
        i++;
        if (v > MAX_RUNE) return bad;
        out += rune(v);
        continue;
      }
      const len = e === 'u' ? 4 : e === 'U' ? 8 : 2;
      if (body.length - i < len) return bad;
      let v = 0;
      for (let j = 0; j < len; j++) {
        const x = hex(body[i + j]);
        if (x < 0) return bad;
        v = v * 16 + x;
      }
      i += len;
      if (v > MAX_RUNE) return bad;
      out += rune(v);
      continue;
    }
    if (e >= '0' && e <= '3') {
      if (body.length - i < 2) return { error: 'unable to unescape octal sequence in string' };
      let v = Number(e);
      for (let j = 0; j < 2; j++) {
        const x = body[i + j]!;
        if (x < '0' || x > '7') return { error: 'unable to unescape octal sequence in string' };
        v = v * 8 + Number(x);
      }
      i += 2;
      out += rune(v);
      continue;
    }
    return bad;
  }
  return out;
}

export function lex(source: string, v17: boolean): LexResult {
  const l = new Lexer(source, v17);
  let state: State = root;
  while (state) {
    const before = l.tokens.length;
    state = state(l);
    if (l.error !== undefined) {
      l.tokens.length = before;
      return { tokens: l.tokens, error: { message: l.error, at: before } };
    }
  }
  return { tokens: l.tokens };
}
