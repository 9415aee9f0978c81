/**
 * Go values as expr's VM handles them, and the runtime helpers of vm/runtime (Equal, Less, Add, ...,
 * Fetch, Slice, In; generated from vm/runtime/helpers/main.go at both versions).
 *
 * Representation: nil is `null`; bool, string as themselves; Go `int` is a `bigint` (64-bit, wrapped
 * as Go wraps), `float64` a `number`; the other numeric kinds (int64 from asInt, uint8 from indexing a
 * string, float32, ...) are `GoNum`; slices, arrays, maps and funcs carry their Go type, since
 * expr's behaviour depends on it ([]float64 and []interface {} compare differently).
 */
import { RuntimeError } from './errors.js';
import { pow } from './gomath.js';
import {
  type ArrayType,
  BOOL,
  FLOAT64,
  type FuncType,
  type GoType,
  INT,
  intBits,
  type IntKind,
  isFloatKind,
  isUnsigned,
  type MapType,
  type NumKind,
  numType,
  type SliceType,
  STRING,
  typeString,
} from './types.js';

export class GoNum {
  constructor(
    readonly kind: Exclude<NumKind, 'int' | 'float64'>,
    readonly v: bigint | number,
  ) {}
}

export class GoSlice {
  constructor(
    readonly type: SliceType | ArrayType,
    readonly items: Value[],
    readonly isNil = false,
  ) {}
}

export class GoMap {
  readonly entries = new Map<string, { key: Value; value: Value }>();

  constructor(
    readonly type: MapType,
    readonly isNil = false,
  ) {}

  get(key: Value): { key: Value; value: Value } | undefined {
    return this.entries.get(mapKey(key));
  }

  set(key: Value, value: Value): void {
    this.entries.set(mapKey(key), { key, value });
  }

  get size(): number {
    return this.entries.size;
  }
}

/** A Go func of the environment (Argo Rollouts' asInt, isNaN, ...). */
export class GoFunc {
  constructor(
    readonly name: string,
    readonly type: FuncType,
    readonly impl: (args: Value[]) => Value,
  ) {}
}

export type Value = null | boolean | string | number | bigint | GoNum | GoSlice | GoMap | GoFunc;

export const panic = (message: string): never => {
  throw new RuntimeError(message);
};

// ---------------------------------------------------------------------------------------------
// Types of values

export function typeOf(v: Value): GoType | undefined {
  if (v === null) return undefined;
  switch (typeof v) {
    case 'boolean':
      return BOOL;
    case 'string':
      return STRING;
    case 'bigint':
      return INT;
    case 'number':
      return FLOAT64;
  }
  if (v instanceof GoNum) return numType(v.kind);
  return (v as GoSlice | GoMap | GoFunc).type;
}

/** fmt's %T. */
export function typeName(v: Value): string {
  const t = typeOf(v);
  return t ? typeString(t) : '<nil>';
}

export function numKind(v: Value): NumKind | undefined {
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float64';
  if (v instanceof GoNum) return v.kind;
  return undefined;
}

export const isNumber = (v: Value): boolean => numKind(v) !== undefined;

/** Wraps an integer into the range of its Go kind. */
export function wrapInt(kind: IntKind, n: bigint): bigint {
  const bits = intBits(kind);
  return isUnsigned(kind) ? BigInt.asUintN(bits, n) : BigInt.asIntN(bits, n);
}

export function makeInt(kind: IntKind, n: bigint): Value {
  const wrapped = wrapInt(kind, n);
  return kind === 'int' ? wrapped : new GoNum(kind as Exclude<IntKind, 'int'>, wrapped);
}

export function makeFloat(kind: 'float32' | 'float64', f: number): Value {
  return kind === 'float64' ? f : new GoNum('float32', Math.fround(f));
}

export function makeNum(kind: NumKind, n: bigint | number): Value {
  if (isFloatKind(kind)) return makeFloat(kind, typeof n === 'bigint' ? Number(n) : n);
  return makeInt(kind, typeof n === 'bigint' ? n : goFloatToInt(n));
}

/** The number of a numeric value: bigint for integer kinds, number for floats. */
export function numValue(v: Value): bigint | number {
  if (typeof v === 'bigint' || typeof v === 'number') return v;
  return (v as GoNum).v;
}

/** Go's float-to-int64 conversion as amd64 does it: NaN and out-of-range values become MinInt64. */
export function goFloatToInt(f: number): bigint {
  if (!Number.isFinite(f) || f >= 2 ** 63 || f < -(2 ** 63)) return -(2n ** 63n);
  return BigInt(Math.trunc(f));
}

/** runtime.ToInt: any number to Go int. */
export function toInt(v: Value): bigint {
  const k = numKind(v);
  if (k === undefined) return panic(`invalid operation: int(${typeName(v)})`);
  const n = numValue(v);
  return typeof n === 'bigint' ? BigInt.asIntN(64, n) : goFloatToInt(n);
}

/** runtime.ToFloat64. */
export function toFloat(v: Value): number {
  const k = numKind(v);
  if (k === undefined) return panic(`invalid operation: float(${typeName(v)})`);
  return Number(numValue(v));
}

export function isNil(v: Value): boolean {
  return v === null || ((v instanceof GoSlice || v instanceof GoMap) && v.isNil);
}

/** The zero value of a type (what a missing map key reads as). */
export function zeroValue(t: GoType): Value {
  switch (t.k) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'interface':
    case 'error':
    case 'func':
      return null;
    case 'slice':
      return new GoSlice(t, [], true);
    case 'array':
      return new GoSlice(t, Array.from({ length: t.len }, () => zeroValue(t.elem)));
    case 'map':
      return new GoMap(t, true);
    default:
      return makeNum(t.k, 0n);
  }
}

/** A Go map key's identity: its dynamic type and value (1 and 1.0 are different keys). */
export function mapKey(v: Value): string {
  if (v === null) return 'nil';
  switch (typeof v) {
    case 'string':
      return `s${v}`;
    case 'boolean':
      return `b${v}`;
    case 'bigint':
      return `int:${v}`;
    case 'number':
      return `float64:${Object.is(v, -0) ? 0 : v}`;
  }
  if (v instanceof GoNum) return `${v.kind}:${v.v}`;
  return `${typeName(v)}@${formatValue(v)}`;
}

// ---------------------------------------------------------------------------------------------
// Formatting (fmt's %v)

/** strconv.FormatFloat(f, 'g', -1, bits): what %v prints for a float. */
export function formatFloat(f: number, bits: 32 | 64 = 64): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Number.POSITIVE_INFINITY) return '+Inf';
  if (f === Number.NEGATIVE_INFINITY) return '-Inf';
  const { digits, exp, negative } = shortestDigits(f, bits);
  const sign = negative ? '-' : '';
  if (digits === '0') return `${sign}0`;
  // %e when the decimal exponent is < -4 or >= 6 (the shortest form decides with precision 6).
  return sign + (exp < -4 || exp >= 6 ? eForm(digits, exp) : fForm(digits, exp));
}

/** Decimal digits and exponent of the shortest representation that reads back as f. */
export function shortestDigits(f: number, bits: 32 | 64): { digits: string; exp: number; negative: boolean } {
  const negative = f < 0 || Object.is(f, -0);
  const abs = Math.abs(f);
  if (abs === 0) return { digits: '0', exp: 0, negative };
  let text = abs.toExponential();
  if (bits === 32) {
    for (let p = 1; p <= 9; p++) {
      const candidate = abs.toExponential(p - 1);
      if (Math.fround(Number(candidate)) === abs) {
        text = candidate;
        break;
      }
    }
  }
  const [mantissa, e] = text.split('e') as [string, string];
  return { digits: mantissa.replace('.', '').replace(/0+$/, '') || '0', exp: Number(e), negative };
}

function eForm(digits: string, exp: number): string {
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp);
  return `${mantissa}e${exp < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`;
}

function fForm(digits: string, exp: number): string {
  if (exp < 0) return `0.${'0'.repeat(-exp - 1)}${digits}`;
  if (exp + 1 >= digits.length) return digits + '0'.repeat(exp + 1 - digits.length);
  return `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/** strconv.FormatFloat(f, fmt, -1, bits) for fmt 'e' or 'f' (encoding/json's choice). */
export function formatFloatAs(f: number, fmt: 'e' | 'f', bits: 32 | 64): string {
  const { digits, exp, negative } = shortestDigits(f, bits);
  const sign = negative ? '-' : '';
  if (digits === '0') return fmt === 'e' ? `${sign}0e+00` : `${sign}0`;
  return sign + (fmt === 'e' ? eForm(digits, exp) : fForm(digits, exp));
}

/** fmt's %v. */
export function formatValue(v: Value): string {
  if (v === null) return '<nil>';
  switch (typeof v) {
    case 'boolean':
      return String(v);
    case 'string':
      return v;
    case 'bigint':
      return v.toString();
    case 'number':
      return formatFloat(v);
  }
  if (v instanceof GoNum) return typeof v.v === 'bigint' ? v.v.toString() : formatFloat(v.v, 32);
  if (v instanceof GoSlice) return `[${v.items.map(formatValue).join(' ')}]`;
  if (v instanceof GoMap) {
    const entries = sortedEntries(v);
    return `map[${entries.map(({ key, value }) => `${formatValue(key)}:${formatValue(value)}`).join(' ')}]`;
  }
  return '0x0';
}

/** Map entries in fmt's order (internal/fmtsort): numbers and strings ascending, nil first. */
export function sortedEntries(m: GoMap): { key: Value; value: Value }[] {
  return [...m.entries.values()].sort((a, b) => compareKeys(a.key, b.key));
}

function compareKeys(a: Value, b: Value): number {
  if (a === null || b === null) return a === null ? (b === null ? 0 : -1) : 1;
  const ta = typeName(a);
  const tb = typeName(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (isNumber(a)) {
    const x = numValue(a);
    const y = numValue(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'string') return a < (b as string) ? -1 : a > (b as string) ? 1 : 0;
  if (typeof a === 'boolean') return Number(a) - Number(b);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// vm/runtime helpers

export interface Dialect {
  /** expr-lang/expr v1.17: array equality cases, nil-safe string operators, bounds-checked Fetch. */
  readonly v17: boolean;
}

type NumPair = { kind: 'int'; a: bigint; b: bigint } | { kind: 'float'; a: number; b: number };

/** Both values numeric: the pair in the arithmetic the generated helpers use (int or float64). */
function numbers(a: Value, b: Value): NumPair | undefined {
  const ka = numKind(a);
  const kb = numKind(b);
  if (ka === undefined || kb === undefined) return undefined;
  if (isFloatKind(ka) || isFloatKind(kb)) return { kind: 'float', a: Number(numValue(a)), b: Number(numValue(b)) };
  return { kind: 'int', a: BigInt.asIntN(64, numValue(a) as bigint), b: BigInt.asIntN(64, numValue(b) as bigint) };
}

const SLICE_EQUAL_ELEMS = new Set(['string', 'uint', 'uint8', 'uint16', 'uint32', 'uint64', 'int', 'int8', 'int16', 'int32', 'int64', 'float32', 'float64']);

export function equal(a: Value, b: Value, d: Dialect): boolean {
  const n = numbers(a, b);
  if (n) return n.a === n.b;
  if (d.v17 && a instanceof GoSlice && a.type.k === 'slice' && b instanceof GoSlice && b.type.k === 'slice') {
    const ea = typeString(a.type.elem);
    const eb = typeString(b.type.elem);
    if (ea === 'interface {}' && (eb === 'interface {}' || SLICE_EQUAL_ELEMS.has(eb))) {
      return a.items.length === b.items.length && a.items.every((x, i) => equal(x, b.items[i]!, d));
    }
    if (SLICE_EQUAL_ELEMS.has(ea) && eb === 'interface {}') return equal(b, a, d);
    if (SLICE_EQUAL_ELEMS.has(ea) && ea === eb) return a.items.length === b.items.length && a.items.every((x, i) => primitiveEqual(x, b.items[i]!));
  }
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b;
  if (isNil(a) && isNil(b)) return true;
  return deepEqual(a, b);
}

function primitiveEqual(a: Value, b: Value): boolean {
  return isNumber(a) ? numValue(a) === numValue(b) : a === b;
}

/** reflect.DeepEqual. */
export function deepEqual(a: Value, b: Value): boolean {
  if (a === null || b === null) return a === b;
  const ta = typeOf(a)!;
  const tb = typeOf(b)!;
  if (typeString(ta) !== typeString(tb)) return false;
  if (a instanceof GoSlice) {
    const s = b as GoSlice;
    if (a.isNil !== s.isNil && a.type.k === 'slice') return false;
    return a.items.length === s.items.length && a.items.every((x, i) => deepEqual(x, s.items[i]!));
  }
  if (a instanceof GoMap) {
    const m = b as GoMap;
    if (a.isNil !== m.isNil || a.size !== m.size) return false;
    for (const [k, { value }] of a.entries) {
      const other = m.entries.get(k);
      if (!other || !deepEqual(value, other.value)) return false;
    }
    return true;
  }
  if (a instanceof GoFunc) return false;
  return isNumber(a) ? numValue(a) === numValue(b) : a === b;
}

function compare(op: '<' | '>' | '<=' | '>=', a: Value, b: Value): boolean {
  const n = numbers(a, b);
  if (n) return op === '<' ? n.a < n.b : op === '>' ? n.a > n.b : op === '<=' ? n.a <= n.b : n.a >= n.b;
  if (typeof a === 'string' && typeof b === 'string') {
    const [x, y] = [utf8Compare(a, b), 0];
    return op === '<' ? x < y : op === '>' ? x > y : op === '<=' ? x <= y : x >= y;
  }
  return panic(`invalid operation: ${typeName(a)} ${op} ${typeName(b)}`);
}

/** Go compares strings bytewise (UTF-8); JS compares UTF-16 units. They differ only above U+FFFF. */
function utf8Compare(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export const less = (a: Value, b: Value) => compare('<', a, b);
export const more = (a: Value, b: Value) => compare('>', a, b);
export const lessOrEqual = (a: Value, b: Value) => compare('<=', a, b);
export const moreOrEqual = (a: Value, b: Value) => compare('>=', a, b);

function arith(op: '+' | '-' | '*', a: Value, b: Value): Value {
  const n = numbers(a, b);
  if (n?.kind === 'int') return BigInt.asIntN(64, op === '+' ? n.a + n.b : op === '-' ? n.a - n.b : n.a * n.b);
  if (n?.kind === 'float') return op === '+' ? n.a + n.b : op === '-' ? n.a - n.b : n.a * n.b;
  if (op === '+' && typeof a === 'string' && typeof b === 'string') return a + b;
  return panic(`invalid operation: ${typeName(a)} ${op} ${typeName(b)}`);
}

export const add = (a: Value, b: Value) => arith('+', a, b);
export const subtract = (a: Value, b: Value) => arith('-', a, b);
export const multiply = (a: Value, b: Value) => arith('*', a, b);

export function divide(a: Value, b: Value): number {
  const n = numbers(a, b);
  if (!n) return panic(`invalid operation: ${typeName(a)} / ${typeName(b)}`);
  return Number(n.a) / Number(n.b);
}

export function modulo(a: Value, b: Value): bigint {
  const n = numbers(a, b);
  if (n?.kind !== 'int') return panic(`invalid operation: ${typeName(a)} % ${typeName(b)}`);
  if (n.b === 0n) return panic('runtime error: integer divide by zero');
  return BigInt.asIntN(64, n.a % n.b);
}

export function exponent(a: Value, b: Value): number {
  return goPow(toFloat(a), toFloat(b));
}

/** math.Pow, ported (gomath.ts): JavaScript's ** differs from Go in the last bit. */
export const goPow = pow;

export function negate(v: Value): Value {
  const k = numKind(v);
  if (k === undefined) return panic(`invalid operation: - ${typeName(v)}`);
  const n = numValue(v);
  return typeof n === 'bigint' ? makeInt(k as IntKind, -n) : makeFloat(k as 'float32' | 'float64', -n);
}

/** reflect.Value.MapIndex's key: nil is the key type's zero value; another type panics. */
function mapLookupKey(m: GoMap, key: Value): Value {
  if (key === null) return zeroValue(m.type.key);
  const kt = typeOf(key)!;
  if (m.type.key.k !== 'interface' && typeString(kt) !== typeString(m.type.key)) {
    return panic(`reflect.Value.MapIndex: value of type ${typeString(kt)} is not assignable to type ${typeString(m.type.key)}`);
  }
  return key;
}

export function mapIndex(m: GoMap, key: Value): { found: boolean; value: Value } {
  const entry = m.get(mapLookupKey(m, key));
  return entry ? { found: true, value: entry.value } : { found: false, value: zeroValue(m.type.elem) };
}

export function inOp(needle: Value, haystack: Value, d: Dialect): boolean {
  if (haystack === null) return false;
  if (haystack instanceof GoSlice) return haystack.items.some((item) => equal(item, needle, d));
  if (haystack instanceof GoMap) return mapIndex(haystack, needle).found;
  return panic(`operator "in" not defined on ${typeName(haystack)}`);
}

/** Bytes of a Go string: strings index, slice and measure by UTF-8 bytes. */
export const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** runtime.Fetch: a[i] and m[key] (member access goes the same way). */
export function fetch(from: Value, i: Value, d: Dialect): Value {
  if (from === null) return panic(`cannot fetch ${formatValue(i)} from <nil>`);
  if (from instanceof GoSlice || typeof from === 'string') {
    let index = toInt(i);
    const length = BigInt(typeof from === 'string' ? utf8(from).length : from.items.length);
    if (index < 0n) index += length;
    if (index < 0n || index >= length) {
      if (d.v17) return panic(`index out of range: ${index} (array length is ${length})`);
      return panic(`reflect: ${typeof from === 'string' ? 'string' : from.type.k === 'array' ? 'array' : 'slice'} index out of range`);
    }
    return typeof from === 'string' ? new GoNum('uint8', BigInt(utf8(from)[Number(index)]!)) : from.items[Number(index)]!;
  }
  if (from instanceof GoMap) return mapIndex(from, i).value;
  return panic(`cannot fetch ${formatValue(i)} from ${typeName(from)}`);
}

/** runtime.Len (the length a slice without an upper bound uses). */
export function runtimeLen(v: Value): bigint {
  if (typeof v === 'string') return BigInt(utf8(v).length);
  if (v instanceof GoSlice) return BigInt(v.items.length);
  if (v instanceof GoMap) return BigInt(v.size);
  return panic(`invalid argument for len (type ${typeName(v)})`);
}

/** runtime.Slice: a[from:to], bounds clamped; a string slices by bytes. */
export function sliceOp(array: Value, from: Value, to: Value): Value {
  if (array instanceof GoSlice || typeof array === 'string') {
    const length = BigInt(typeof array === 'string' ? utf8(array).length : array.items.length);
    let a = toInt(from);
    let b = toInt(to);
    if (a < 0n) a += length;
    if (a < 0n) a = 0n;
    if (b < 0n) b += length;
    if (b < 0n) b = 0n;
    if (b > length) b = length;
    if (a > b) a = b;
    if (typeof array === 'string') return utf8(array).subarray(Number(a), Number(b)).toString('utf8');
    const type = array.type.k === 'array' ? ({ k: 'slice', elem: array.type.elem } as SliceType) : array.type;
    return new GoSlice(type, array.items.slice(Number(a), Number(b)));
  }
  return panic(`cannot slice ${formatValue(from)}`);
}

