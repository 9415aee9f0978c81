/** Go's strings package functions the builtins call, with Go's byte (UTF-8) semantics for indexes. */
import { isSpace } from './lexer.js';
import { utf8 } from './values.js';

export function trimSpace(s: string): string {
  const runes = [...s];
  let a = 0;
  let b = runes.length;
  while (a < b && isSpace(runes[a]!.codePointAt(0)!)) a++;
  while (b > a && isSpace(runes[b - 1]!.codePointAt(0)!)) b--;
  return runes.slice(a, b).join('');
}

export function trim(s: string, cutset: string): string {
  const cut = new Set(cutset);
  const runes = [...s];
  let a = 0;
  let b = runes.length;
  while (a < b && cut.has(runes[a]!)) a++;
  while (b > a && cut.has(runes[b - 1]!)) b--;
  return runes.slice(a, b).join('');
}

export const trimPrefix = (s: string, prefix: string) => (s.startsWith(prefix) ? s.slice(prefix.length) : s);
export const trimSuffix = (s: string, suffix: string) => (suffix !== '' && s.endsWith(suffix) ? s.slice(0, s.length - suffix.length) : s);

/** strings.ToUpper / ToLower rune by rune (a rune whose case mapping is several runes stays). */
export function mapCase(s: string, upper: boolean): string {
  let out = '';
  for (const c of s) {
    const m = upper ? c.toUpperCase() : c.toLowerCase();
    out += [...m].length === 1 ? m : simpleCase(c, upper);
  }
  return out;
}

/**
 * unicode.ToUpper / ToLower use Unicode's simple case mapping; JavaScript applies the full one
 * (SpecialCasing) where a rune maps to several. These are the runes whose simple mapping exists.
 */
function simpleCase(c: string, upper: boolean): string {
  const r = c.codePointAt(0)!;
  if (!upper) return r === 0x130 ? 'i' : c;
  // Greek letters with ypogegrammeni take their titlecase form (U+1F88...).
  if ((r >= 0x1f80 && r <= 0x1f87) || (r >= 0x1f90 && r <= 0x1f97) || (r >= 0x1fa0 && r <= 0x1fa7)) return String.fromCodePoint(r + 8);
  if (r === 0x1fb3 || r === 0x1fc3 || r === 0x1ff3) return String.fromCodePoint(r + 9);
  return c;
}

/** strings.genSplit: n < 0 all, n == 0 nil (undefined here), n > 0 at most n parts. */
export function split(s: string, sep: string, sepSave: boolean, n: number): string[] | undefined {
  if (n === 0) return undefined;
  if (sep === '') {
    const runes = [...s];
    if (n < 0 || n > runes.length) n = runes.length;
    const out = runes.slice(0, n - 1);
    out.push(runes.slice(n - 1).join(''));
    return runes.length === 0 ? [] : out;
  }
  const out: string[] = [];
  let rest = s;
  while (n < 0 || out.length < n - 1) {
    const i = rest.indexOf(sep);
    if (i < 0) break;
    out.push(rest.slice(0, i + (sepSave ? sep.length : 0)));
    rest = rest.slice(i + sep.length);
  }
  out.push(rest);
  return out;
}

/** strings.Replace: n < 0 replaces all; an empty old matches before each rune and at the end. */
export function replace(s: string, old: string, repl: string, n: number): string {
  if (old === repl || n === 0) return s;
  if (old === '') {
    const runes = [...s];
    let out = '';
    let count = 0;
    for (let i = 0; i <= runes.length; i++) {
      if (n < 0 || count < n) {
        out += repl;
        count++;
      }
      if (i < runes.length) out += runes[i];
    }
    return out;
  }
  let out = '';
  let rest = s;
  let count = 0;
  while (n < 0 || count < n) {
    const i = rest.indexOf(old);
    if (i < 0) break;
    out += rest.slice(0, i) + repl;
    rest = rest.slice(i + old.length);
    count++;
  }
  return out + rest;
}

/** strings.Index / LastIndex: byte offsets. */
export function byteIndex(s: string, sub: string, last: boolean): number {
  const hay = utf8(s);
  const needle = utf8(sub);
  return last ? hay.lastIndexOf(needle) : hay.indexOf(needle);
}

/** strconv.Atoi: an optional sign and decimal digits within int64. */
export function atoi(s: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n < -(2n ** 63n) || n > 2n ** 63n - 1n ? undefined : n;
}

/** strconv's underscoreOK: underscores only between digits (or after a base prefix). */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s[0] === '+' || s[0] === '-') s = s.slice(1);
  const hex = /^0x/i.test(s);
  if (/^0[box]/i.test(s)) {
    i = 2;
    saw = '0';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && /[a-f]/i.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/**
 * strconv.ParseFloat(s, 64): decimal and hexadecimal (0x1p4) forms, underscores between digits,
 * inf, infinity and nan in any case. The value, or which error strconv would give.
 */
export function parseFloat(s: string): number | 'syntax' | 'range' {
  const lower = s.toLowerCase();
  if (/^[+-]?(inf|infinity)$/.test(lower)) return lower.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (/^[+-]?nan$/.test(lower)) return Number.NaN;
  if (s.includes('_') && !underscoreOK(s)) return 'syntax';
  const text = s.replace(/_/g, '');
  let f: number;
  const hex = /^([+-]?)0x([0-9a-f]*)(?:\.([0-9a-f]*))?p([+-]?\d+)$/i.exec(text);
  if (hex) {
    const [, sign, whole, frac = '', e] = hex;
    if (whole === '' && frac === '') return 'syntax';
    f = Number.parseInt(`${whole}${frac}` || '0', 16) * 2 ** (Number(e) - 4 * frac.length);
    if (sign === '-') f = -f;
  } else {
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return 'syntax';
    f = Number(text);
  }
  return Number.isFinite(f) ? f : 'range';
}
