/**
 * expr's builtin functions (builtin/builtin.go, builtin/func.go|lib.go, builtin/validation.go at
 * v1.15.5 and v1.17.7): their static checks (Validate, or the overloads in Types) and what they do.
 * The predicate builtins (all, filter, map, reduce, ...) compile to loops and run in evaluator.ts.
 *
 * Version differences kept: v1.15's max/min take numbers only (max(array) is a compile error) and
 * sum/mean/median take one array; v1.17's aggregate over arrays and numbers and sum is a predicate.
 * len counts bytes in v1.15 and runes in v1.17. repeat, sort, take, int and groupBy differ in details.
 * now/date/duration/timezone (Go time values) are not evaluated.
 */
import type { Dialect } from './dialect.js';
import { assertionMessage, NotEvaluated } from './errors.js';
import { atoi, byteIndex, mapCase, parseFloat, replace, split, trim, trimPrefix, trimSpace, trimSuffix } from './gostrings.js';
import { fromBase64, fromJSON, toBase64, toJSON } from './json.js';
import {
  ANY,
  ANY_ANY_MAP,
  ANY_SLICE,
  arrayOf,
  BOOL,
  FLOAT64,
  type FuncType,
  funcOf,
  type GoType,
  INT,
  INT_SLICE,
  isFloatKind,
  isIntKind,
  mapOf,
  sliceOf,
  STRING,
  STRING_SLICE,
  typeString,
} from './types.js';
import {
  equal,
  fetch,
  formatValue,
  GoMap,
  GoSlice,
  less,
  makeFloat,
  makeInt,
  mapIndex,
  more,
  numKind,
  numValue,
  panic,
  toFloat,
  toInt,
  typeName,
  typeOf,
  utf8,
  type Value,
} from './values.js';

/** A static argument type for Validate: null is Go's nil reflect.Type. */
export type TypeArg = GoType | null;

export interface RunContext {
  readonly v17: boolean;
  /** vm.memGrow: the VM's memory budget (1e6 units) shared by arrays, ranges, maps and some builtins. */
  memGrow(size: number): void;
}

export interface BuiltinDef {
  readonly name: string;
  readonly validate?: (args: TypeArg[]) => GoType | string;
  readonly types?: FuncType[];
  readonly run?: (args: Value[], ctx: RunContext) => Value;
}

/** fmt's %s of a reflect.Type (nil prints as %!s(<nil>)). */
const ts = (t: TypeArg) => (t ? typeString(t) : '%!s(<nil>)');
/** reflect.Kind.String() of a static type / of a value. */
const kindOf = (t: TypeArg) => (t ? (t.k === 'interface' ? 'interface' : t.k) : 'invalid');
const valueKind = (v: Value) => kindOf(typeOf(v) ?? null);

const NUMERIC_OR_ANY = (t: TypeArg) => !!t && (isIntKind(t.k) || isFloatKind(t.k) || t.k === 'interface');
const countError = (args: TypeArg[], expected: number) => (args.length !== expected ? `invalid number of arguments (expected ${expected}, got ${args.length})` : undefined);

const S = STRING;
const I = INT;
const F = FLOAT64;
const fn = (inTypes: GoType[], out: GoType) => funcOf(inTypes, [out]);

/** `x.(string)` on an interface{} value. */
function str(v: Value): string {
  if (typeof v !== 'string') return panic(assertionMessage(v === null ? 'nil' : typeName(v), 'string'));
  return v;
}

const stringSlice = (items: string[] | undefined) => new GoSlice(STRING_SLICE, items ?? [], items === undefined);

const validateLen = (args: TypeArg[]) => countError(args, 1) ?? (['array', 'map', 'slice', 'string', 'interface'].includes(kindOf(args[0]!)) ? INT : `invalid argument for len (type ${ts(args[0]!)})`);

function runLen(v: Value, ctx: RunContext): Value {
  if (v instanceof GoSlice) return BigInt(v.items.length);
  if (v instanceof GoMap) return BigInt(v.size);
  if (typeof v === 'string') return BigInt(ctx.v17 ? [...v].length : utf8(v).length);
  return panic(`invalid argument for len (type ${typeName(v)})`);
}

/** builtin.Type: the kind of a value as expr names it. */
function runType(v: Value): string {
  if (v === null) return 'nil';
  const k = numKind(v);
  if (k) return isFloatKind(k) ? 'float' : k.startsWith('u') ? 'uint' : 'int';
  switch (typeOf(v)!.k) {
    case 'bool':
      return 'bool';
    case 'string':
      return 'string';
    case 'slice':
    case 'array':
      return 'array';
    case 'map':
      return 'map';
    case 'func':
      return 'func';
  }
  return 'unknown';
}

function runAbs(v: Value): Value {
  const k = numKind(v);
  if (k === undefined) return panic(`invalid argument for abs (type ${typeName(v)})`);
  const n = numValue(v);
  if (typeof n === 'number') return n < 0 ? makeFloat(k as 'float32' | 'float64', -n) : v;
  return n < 0n ? makeInt(k as never, -n) : v;
}

function goRound(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

function rounding(name: 'ceil' | 'floor' | 'round'): (args: Value[]) => Value {
  const op = name === 'ceil' ? Math.ceil : name === 'floor' ? Math.floor : goRound;
  return ([v]) => {
    const k = numKind(v!);
    if (k === undefined) return panic(`invalid argument for ${name} (type ${typeName(v!)})`);
    return isFloatKind(k) ? op(Number(numValue(v!))) : Number(numValue(v!));
  };
}

function validateRound(name: string, messageName = name) {
  return (args: TypeArg[]) => countError(args, 1) ?? (NUMERIC_OR_ANY(args[0]!) ? FLOAT64 : `invalid argument for ${messageName} (type ${ts(args[0]!)})`);
}

function runInt(v: Value, ctx: RunContext): Value {
  const k = numKind(v);
  if (k !== undefined) return toInt(v);
  if (typeof v === 'string') {
    const n = atoi(v);
    return n ?? panic(`invalid operation: int(${v})`);
  }
  if (ctx.v17 && v === null) return panic('reflect: call of reflect.Value.Type on zero Value');
  return panic(`invalid operation: int(${typeName(v)})`);
}

function runFloat(v: Value): Value {
  if (numKind(v) !== undefined) return toFloat(v);
  if (typeof v === 'string') {
    const f = parseFloat(v);
    return typeof f === 'number' ? f : panic(`invalid operation: float(${v})`);
  }
  return panic(`invalid operation: float(${typeName(v)})`);
}

/** v1.17 validateAggregateFunc. */
function validateAggregate(name: string) {
  return (args: TypeArg[]): GoType | string => {
    if (args.length === 0) return `not enough arguments to call ${name}`;
    for (const arg of args) {
      const k = kindOf(arg);
      if (k === 'interface' || k === 'array' || k === 'slice') return ANY;
      if (!arg || !(isIntKind(arg.k) || isFloatKind(arg.k))) return `invalid argument for ${name} (type ${ts(arg)})`;
    }
    return args[0]!;
  };
}

/** v1.17 minMax: numbers and (nested) arrays of numbers; a lone non-number argument is returned. */
function minMax(name: string, better: (a: Value, b: Value) => boolean, args: Value[], depth = 0): Value {
  let val: Value = null;
  for (const arg of args) {
    if (arg instanceof GoSlice) {
      for (const item of arg.items) {
        const elem = minMax(name, better, [item], depth + 1);
        if (numKind(elem) === undefined) return panic(`invalid argument for ${name} (type ${typeName(elem)})`);
        if (val === null || better(val, elem)) val = elem;
      }
    } else if (numKind(arg) !== undefined) {
      if (val === null || better(val, arg)) val = arg;
    } else {
      if (args.length === 1) return arg;
      return panic(`invalid argument for ${name} (type ${typeName(arg)})`);
    }
  }
  return val;
}

/** v1.17 mean/median: the numbers of (nested) arrays and numbers. */
function numbersOf(name: string, args: Value[]): number[] {
  const out: number[] = [];
  for (const arg of args) {
    if (arg instanceof GoSlice) out.push(...numbersOf(name, arg.items));
    else if (numKind(arg) !== undefined) out.push(Number(numValue(arg)));
    else panic(`invalid argument for ${name} (type ${typeName(arg)})`);
  }
  return out;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/** v1.15 sum/mean/median iterate one array; Go's reflect CanInt accepts signed integers only. */
function v15Numbers(name: string, v: Value): { ints: boolean; values: (bigint | number)[] } {
  if (!(v instanceof GoSlice)) return panic(`cannot ${name} ${valueKind(v)}`);
  let ints = true;
  const values = v.items.map((item) => {
    const k = numKind(item);
    if (k !== undefined && isIntKind(k) && !k.startsWith('u')) return BigInt.asIntN(64, numValue(item) as bigint);
    if (k !== undefined && isFloatKind(k)) {
      ints = false;
      return Number(numValue(item));
    }
    return panic(`cannot ${name} ${item === null ? 'interface' : valueKind(item)}`);
  });
  return { ints, values };
}

function runJoin(args: Value[]): Value {
  const glue = args.length === 2 ? str(args[1]!) : '';
  const v = args[0]!;
  if (v instanceof GoSlice && v.type.k === 'slice' && (v.type.elem.k === 'string' || v.type.elem.k === 'interface')) {
    return v.items.map((item) => str(item)).join(glue);
  }
  return panic(`invalid argument for join (type ${ts(typeOf(v) ?? null)})`);
}

function runRepeat(args: Value[], ctx: RunContext): Value {
  const s = str(args[0]!);
  const n = toInt(args[1]!);
  if (ctx.v17) {
    if (n < 0n) return panic(`invalid argument for repeat (expected positive integer, got ${n})`);
    if (n > 1_000_000n) return panic('memory budget exceeded');
    ctx.memGrow(utf8(s).length * Number(n));
  } else {
    if (n > 1_000_000n) return panic('memory budget exceeded');
    if (n < 0n) return panic('strings: negative Repeat count');
  }
  if (utf8(s).length * Number(n) > MAX_STRING_BYTES) throw new NotEvaluated(`repeat() would build a string of more than ${MAX_STRING_BYTES} bytes`);
  return s.repeat(Number(n));
}

/** Strings built by repeat() are bounded (upstream only bounds them by the VM's memory budget in v1.17). */
export const MAX_STRING_BYTES = 1_000_000;

function runFirstLast(index: bigint) {
  return ([v]: Value[], ctx: RunContext): Value => {
    try {
      return fetch(v!, index, ctx);
    } catch (error) {
      if (error instanceof NotEvaluated) throw error;
      return null;
    }
  };
}

/** v1.17 get: nil for what is not there, panics only on a non-number index of an array. */
function runGet([from, i]: Value[], ctx: RunContext): Value {
  if (!ctx.v17) {
    try {
      return fetch(from!, i!, ctx);
    } catch (error) {
      if (error instanceof NotEvaluated) throw error;
      return null;
    }
  }
  if (from === null) return null;
  if (from instanceof GoSlice || typeof from === 'string') {
    let index = toInt(i!);
    const length = BigInt(typeof from === 'string' ? utf8(from).length : from.items.length);
    if (index < 0n) index += length;
    if (index >= 0n && index < length) return fetch(from, index, ctx);
    return null;
  }
  if (from instanceof GoMap) {
    const { found, value } = mapIndex(from, i!);
    return found ? value : null;
  }
  return null;
}

function runTake([v, n]: Value[], ctx: RunContext): Value {
  if (!(v instanceof GoSlice)) return panic(`cannot take from ${valueKind(v!)}`);
  const k = numKind(n!);
  if (k === undefined || !isIntKind(k) || k.startsWith('u')) return panic(`cannot take ${valueKind(n!)} elements`);
  const count = numValue(n!) as bigint;
  const type = v.type.k === 'array' ? sliceOf(v.type.elem) : v.type;
  if (count > BigInt(v.items.length)) return ctx.v17 ? new GoSlice(type, v.items.slice()) : v;
  if (count < 0n) return panic('reflect.Value.Slice: slice index out of bounds');
  return new GoSlice(type, v.items.slice(0, Number(count)));
}

function mapOnly(what: string) {
  return (args: TypeArg[]) => countError(args, 1) ?? (['interface', 'map'].includes(kindOf(args[0]!)) ? ANY_SLICE : `cannot get ${what} from ${ts(args[0]!)}`);
}

function runKeysValues(what: 'keys' | 'values') {
  return ([m]: Value[]): Value => {
    if (!(m instanceof GoMap)) return panic(`cannot get ${what} from ${valueKind(m!)}`);
    return new GoSlice(ANY_SLICE, [...m.entries.values()].map((e) => (what === 'keys' ? e.key : e.value)));
  };
}

const PAIR = arrayOf(2, ANY);

function runToPairs([m]: Value[]): Value {
  if (!(m instanceof GoMap)) return panic(`cannot transform ${valueKind(m!)} to pairs`);
  return new GoSlice(sliceOf(PAIR), [...m.entries.values()].map((e) => new GoSlice(PAIR, [e.key, e.value])));
}

function runFromPairs([v]: Value[]): Value {
  if (!(v instanceof GoSlice)) return panic(`cannot transform ${formatValue(v!)} from pairs`);
  const out = new GoMap(ANY_ANY_MAP);
  for (const pair of v.items) {
    if (!(pair instanceof GoSlice)) return panic(`invalid pair ${formatValue(pair)}`);
    if (pair.items.length !== 2) return panic(`invalid pair length ${formatValue(pair)}`);
    const key = pair.items[0]!;
    if (key instanceof GoSlice || key instanceof GoMap) return panic(`runtime error: hash of unhashable type ${typeName(key)}`);
    out.set(key, pair.items[1]!);
  }
  return out;
}

function arrayValidate(message: (t: string) => string, result: GoType = ANY_SLICE) {
  return (args: TypeArg[]) => countError(args, 1) ?? (['interface', 'slice', 'array'].includes(kindOf(args[0]!)) ? result : message(ts(args[0]!)));
}

function flatten(items: Value[], depth: number): Value[] {
  return items.flatMap((item) => (item instanceof GoSlice ? flatten(item.items, depth + 1) : [item]));
}

/** sort.Sort with runtime.Less (v1.17 sort, sortBy). Small inputs sort by insertion, stably, as Go does. */
export function goSort<T>(items: T[], key: (x: T) => Value, desc: boolean): T[] {
  return [...items].sort((a, b) => {
    const [x, y] = desc ? [key(b), key(a)] : [key(a), key(b)];
    if (less(x, y)) return -1;
    if (less(y, x)) return 1;
    return 0;
  });
}

function runSortV17(args: Value[], ctx: RunContext): Value {
  if (args.length !== 1 && args.length !== 2) return panic(`invalid number of arguments (expected 1 or 2, got ${args.length})`);
  const v = args[0]!;
  const copyable = v instanceof GoSlice && v.type.k === 'slice' && ['interface', 'int', 'float64', 'string'].includes(v.type.elem.k);
  let desc = false;
  if (args.length === 2) {
    const order = str(args[1]!);
    if (order === 'desc') desc = true;
    else if (order !== 'asc') return panic(`invalid order ${order}, expected asc or desc`);
  }
  const items = copyable ? (v as GoSlice).items : [];
  ctx.memGrow(items.length);
  return new GoSlice(ANY_SLICE, goSort(items, (x) => x, desc), !copyable);
}

/** v1.15 sort/sortBy: elements of one type, ordered by int, float or string kind. */
function runSortV15(v: Value, field: string | undefined, orderArg: Value | undefined): Value {
  if (!(v instanceof GoSlice)) return panic(`cannot sort ${valueKind(v)}`);
  let desc = false;
  if (orderArg !== undefined) {
    if (typeof orderArg !== 'string') return panic(`invalid argument for sort (expected string, got ${ts(typeOf(orderArg) ?? null)})`);
    if (orderArg === 'desc') desc = true;
    else if (orderArg !== 'asc') return panic(`invalid argument for sort (expected "asc" or "desc", got ${JSON.stringify(orderArg)})`);
  }
  const keys = v.items.map((item) => (field !== undefined && item instanceof GoMap ? mapIndex(item, field).value : item));
  keys.forEach((k, i) => {
    if (i > 0 && typeName(k) !== typeName(keys[i - 1]!)) panic(`cannot sort array of different types (${typeName(k)} and ${typeName(keys[i - 1]!)})`);
  });
  const kind = keys.length > 0 ? numKind(keys[0]!) ?? (typeof keys[0] === 'string' ? 'string' : valueKind(keys[0]!)) : 'int';
  if (keys.length > 1 && !(kind === 'string' || (isIntKind(kind) && !kind.startsWith('u')) || isFloatKind(kind))) return panic(`sort: unsupported type ${kind}`);
  const order = v.items.map((item, i) => ({ item, key: keys[i]! }));
  return new GoSlice(ANY_SLICE, goSort(order, (x) => x.key, desc).map((x) => x.item));
}

function bitFunc(name: string, op: (x: bigint, y: bigint) => bigint): BuiltinDef {
  return {
    name,
    types: [fn([I, I], I)],
    run: (args) => {
      if (args.length !== 2) return panic(`invalid number of arguments for ${name} (expected 2, got ${args.length})`);
      const [x, y] = args.map((a) => bitArg(a, name)) as [bigint, bigint];
      return BigInt.asIntN(64, op(x, y));
    },
  };
}

function bitArg(v: Value, name: string): bigint {
  const k = numKind(v);
  if (k === undefined || !isIntKind(k)) return panic(`cannot use ${typeName(v)} as argument (type int) to call ${name}`);
  return BigInt.asIntN(64, numValue(v) as bigint);
}

const shift = (name: string, op: (x: bigint, y: bigint) => bigint) =>
  bitFunc(name, (x, y) => {
    if (y < 0n) return panic(`invalid operation: negative shift count ${y} (type int)`);
    return op(x, y > 64n ? 64n : y);
  });

const notEvaluated = (name: string): BuiltinDef => ({
  name,
  validate: () => {
    throw new NotEvaluated(`${name}() works on Go time values, which rollout-doctor does not evaluate`);
  },
});

function common(v17: boolean): BuiltinDef[] {
  return [
    { name: 'len', validate: validateLen, run: ([v], ctx) => runLen(v!, ctx) },
    { name: 'type', types: [fn([ANY], S)], run: ([v]) => runType(v!) },
    {
      name: 'abs',
      validate: (args) => countError(args, 1) ?? (NUMERIC_OR_ANY(args[0]!) ? args[0]! : `invalid argument for abs (type ${ts(args[0]!)})`),
      run: ([v]) => runAbs(v!),
    },
    { name: 'ceil', validate: validateRound('ceil'), run: rounding('ceil') },
    { name: 'floor', validate: validateRound('floor'), run: rounding('floor') },
    { name: 'round', validate: validateRound('round', v17 ? 'round' : 'floor'), run: rounding('round') },
    {
      name: 'int',
      validate: (args) => countError(args, 1) ?? (NUMERIC_OR_ANY(args[0]!) || kindOf(args[0]!) === 'string' ? INT : `invalid argument for int (type ${ts(args[0]!)})`),
      run: ([v], ctx) => runInt(v!, ctx),
    },
    {
      name: 'float',
      validate: (args) => countError(args, 1) ?? (NUMERIC_OR_ANY(args[0]!) || kindOf(args[0]!) === 'string' ? FLOAT64 : `invalid argument for float (type ${ts(args[0]!)})`),
      run: ([v]) => runFloat(v!),
    },
    { name: 'string', types: [fn([ANY], S)], run: ([v]) => formatValue(v!) },
    {
      name: 'trim',
      types: [fn([S], S), fn([S, S], S)],
      run: (args) => (args.length === 1 ? trimSpace(str(args[0]!)) : args.length === 2 ? trim(str(args[0]!), str(args[1]!)) : panic(`invalid number of arguments for trim (expected 1 or 2, got ${args.length})`)),
    },
    { name: 'trimPrefix', types: [fn([S, S], S), fn([S], S)], run: (args) => trimPrefix(str(args[0]!), args.length === 2 ? str(args[1]!) : ' ') },
    { name: 'trimSuffix', types: [fn([S, S], S), fn([S], S)], run: (args) => trimSuffix(str(args[0]!), args.length === 2 ? str(args[1]!) : ' ') },
    { name: 'upper', types: [fn([S], S)], run: ([v]) => mapCase(str(v!), true) },
    { name: 'lower', types: [fn([S], S)], run: ([v]) => mapCase(str(v!), false) },
    {
      name: 'split',
      types: [fn([S, S], STRING_SLICE), fn([S, S, I], STRING_SLICE)],
      run: (args) => {
        if (args.length !== 2 && args.length !== 3) return panic(`invalid number of arguments for split (expected 2 or 3, got ${args.length})`);
        return stringSlice(split(str(args[0]!), str(args[1]!), false, args.length === 3 ? Number(toInt(args[2]!)) : -1));
      },
    },
    {
      name: 'splitAfter',
      types: [fn([S, S], STRING_SLICE), fn([S, S, I], STRING_SLICE)],
      run: (args) => {
        if (args.length !== 2 && args.length !== 3) return panic(`invalid number of arguments for splitAfter (expected 2 or 3, got ${args.length})`);
        return stringSlice(split(str(args[0]!), str(args[1]!), true, args.length === 3 ? Number(toInt(args[2]!)) : -1));
      },
    },
    {
      name: 'replace',
      types: [fn([S, S, S, I], S), fn([S, S, S], S)],
      run: (args) => {
        if (args.length === 4) return replace(str(args[0]!), str(args[1]!), str(args[2]!), Number(toInt(args[3]!)));
        if (args.length === 3) return replace(str(args[0]!), str(args[1]!), str(args[2]!), -1);
        return panic(`invalid number of arguments for replace (expected 3 or 4, got ${args.length})`);
      },
    },
    { name: 'repeat', types: [fn([S, I], S)], run: runRepeat },
    { name: 'join', types: [fn([STRING_SLICE, S], S), fn([ANY_SLICE, S], S), fn([ANY_SLICE], S), fn([STRING_SLICE, S], S), fn([STRING_SLICE], S)], run: runJoin },
    { name: 'indexOf', types: [fn([S, S], I)], run: (args) => BigInt(byteIndex(str(args[0]!), str(args[1]!), false)) },
    { name: 'lastIndexOf', types: [fn([S, S], I)], run: (args) => BigInt(byteIndex(str(args[0]!), str(args[1]!), true)) },
    { name: 'hasPrefix', types: [fn([S, S], BOOL)], run: (args) => str(args[0]!).startsWith(str(args[1]!)) },
    { name: 'hasSuffix', types: [fn([S, S], BOOL)], run: (args) => str(args[0]!).endsWith(str(args[1]!)) },
    { name: 'toJSON', types: [fn([ANY], S)], run: ([v]) => toJSON(v!) },
    { name: 'fromJSON', types: [fn([S], ANY)], run: ([v]) => fromJSON(str(v!)) },
    { name: 'toBase64', types: [fn([S], S)], run: ([v]) => toBase64(str(v!)) },
    { name: 'fromBase64', types: [fn([S], S)], run: ([v]) => fromBase64(str(v!)) },
    notEvaluated('now'),
    notEvaluated('duration'),
    notEvaluated('date'),
    {
      name: 'first',
      validate: (args) => countError(args, 1) ?? firstLastType('first', args[0]!),
      run: runFirstLast(0n),
    },
    {
      name: 'last',
      validate: (args) => countError(args, 1) ?? firstLastType('last', args[0]!),
      run: runFirstLast(-1n),
    },
    { name: 'get', run: runGet },
    {
      name: 'take',
      validate: (args) => {
        const count = countError(args, 2);
        if (count) return count;
        if (!['interface', 'slice', 'array'].includes(kindOf(args[0]!))) return `cannot take from ${ts(args[0]!)}`;
        if (!['interface', 'int', 'int8', 'int16', 'int32', 'int64'].includes(kindOf(args[1]!))) return `cannot take ${ts(args[1]!)} elements`;
        return args[0]!;
      },
      run: runTake,
    },
    { name: 'keys', validate: mapOnly('keys'), run: runKeysValues('keys') },
    { name: 'values', validate: mapOnly('values'), run: runKeysValues('values') },
    {
      name: 'toPairs',
      validate: (args) => countError(args, 1) ?? (['interface', 'map'].includes(kindOf(args[0]!)) ? ANY_SLICE : `cannot transform ${ts(args[0]!)} to pairs`),
      run: runToPairs,
    },
    { name: 'fromPairs', validate: arrayValidate((t) => `cannot transform ${t} from pairs`, ANY_ANY_MAP), run: runFromPairs },
  ];
}

function firstLastType(name: string, t: TypeArg): GoType | string {
  switch (kindOf(t)) {
    case 'interface':
      return ANY;
    case 'slice':
    case 'array':
      return (t as Extract<GoType, { k: 'slice' }>).elem;
  }
  return `cannot get ${name} element from ${ts(t)}`;
}

const PREDICATE_TYPES = {
  bool: funcOf([ANY_SLICE, funcOf([ANY], [BOOL])], [BOOL]),
  filter: funcOf([ANY_SLICE, funcOf([ANY], [BOOL])], [ANY_SLICE]),
  map: funcOf([ANY_SLICE, funcOf([ANY], [ANY])], [ANY_SLICE]),
  find: funcOf([ANY_SLICE, funcOf([ANY], [BOOL])], [ANY]),
  index: funcOf([ANY_SLICE, funcOf([ANY], [BOOL])], [INT]),
  groupBy: funcOf([ANY_SLICE, funcOf([ANY], [ANY])], [mapOf(ANY, ANY_SLICE)]),
  sortBy: funcOf([ANY_SLICE, funcOf([ANY], [BOOL]), STRING], [ANY_SLICE]),
  reduce: funcOf([ANY_SLICE, funcOf([ANY, ANY], [ANY]), ANY], [ANY]),
};

function predicates(v17: boolean): BuiltinDef[] {
  const names: [string, FuncType][] = [
    ['all', PREDICATE_TYPES.bool], ['none', PREDICATE_TYPES.bool], ['any', PREDICATE_TYPES.bool], ['one', PREDICATE_TYPES.bool],
    ['filter', PREDICATE_TYPES.filter], ['map', PREDICATE_TYPES.map], ['find', PREDICATE_TYPES.find], ['findIndex', PREDICATE_TYPES.index],
    ['findLast', PREDICATE_TYPES.find], ['findLastIndex', PREDICATE_TYPES.index], ['count', PREDICATE_TYPES.index],
    ['groupBy', PREDICATE_TYPES.groupBy], ['reduce', PREDICATE_TYPES.reduce],
  ];
  if (v17) names.push(['sum', PREDICATE_TYPES.index], ['sortBy', PREDICATE_TYPES.sortBy]);
  return names.map(([name, type]) => ({ name, types: [type] }));
}

function v15Only(): BuiltinDef[] {
  const numbersOnly = (name: string) => (args: TypeArg[]) => {
    if (args.length === 0) return `not enough arguments to call ${name}`;
    for (const arg of args) {
      if (kindOf(arg) === 'interface') return ANY;
      if (!arg || !(isIntKind(arg.k) || isFloatKind(arg.k))) return `invalid argument for ${name} (type ${ts(arg)})`;
    }
    return args[0]!;
  };
  const oneArray = (message: (t: string) => string, result: GoType) => (args: TypeArg[]) =>
    countError(args, 1) ?? (['interface', 'slice', 'array'].includes(kindOf(args[0]!)) ? result : message(ts(args[0]!)));
  return [
    {
      name: 'max',
      validate: numbersOnly('max'),
      run: (args) => args.reduce<Value>((m, arg) => (m === null || less(m, arg) ? arg : m), null),
    },
    {
      name: 'min',
      validate: numbersOnly('min'),
      run: (args) => args.reduce<Value>((m, arg) => (m === null || more(m, arg) ? arg : m), null),
    },
    {
      name: 'sum',
      validate: oneArray((t) => `cannot sum ${t}`, ANY),
      run: (args) => {
        if (args.length !== 1) return panic(`invalid number of arguments (expected 1, got ${args.length})`);
        const { ints, values } = v15Numbers('sum', args[0]!);
        if (ints) return BigInt.asIntN(64, (values as bigint[]).reduce((a, b) => a + b, 0n));
        return values.reduce<number>((a, b) => a + Number(b), 0);
      },
    },
    {
      name: 'mean',
      validate: oneArray((t) => `cannot avg ${t}`, FLOAT64),
      run: (args) => {
        if (args.length !== 1) return panic(`invalid number of arguments (expected 1, got ${args.length})`);
        if (!(args[0] instanceof GoSlice)) return panic(`cannot mean ${valueKind(args[0]!)}`);
        if (args[0].items.length === 0) return 0;
        const { values } = v15Numbers('mean', args[0]);
        return values.reduce<number>((a, b) => a + Number(b), 0) / values.length;
      },
    },
    {
      name: 'median',
      validate: oneArray((t) => `cannot median ${t}`, FLOAT64),
      run: (args) => {
        if (args.length !== 1) return panic(`invalid number of arguments (expected 1, got ${args.length})`);
        if (!(args[0] instanceof GoSlice)) return panic(`cannot median ${valueKind(args[0]!)}`);
        if (args[0].items.length === 0) return 0;
        return median(v15Numbers('median', args[0]).values.map(Number));
      },
    },
    {
      name: 'sort',
      validate: (args) => {
        if (args.length !== 1 && args.length !== 2) return `invalid number of arguments (expected 1 or 2, got ${args.length})`;
        if (!['interface', 'slice', 'array'].includes(kindOf(args[0]!))) return `cannot sort ${ts(args[0]!)}`;
        if (args.length === 2 && !['string', 'interface'].includes(kindOf(args[1]!))) return `invalid argument for sort (expected string, got ${ts(args[1]!)})`;
        return ANY_SLICE;
      },
      run: (args) => {
        if (args.length !== 1 && args.length !== 2) return panic(`invalid number of arguments (expected 1 or 2, got ${args.length})`);
        return runSortV15(args[0]!, undefined, args[1]);
      },
    },
    {
      name: 'sortBy',
      validate: (args) => {
        if (args.length !== 2 && args.length !== 3) return `invalid number of arguments (expected 2 or 3, got ${args.length})`;
        if (!['interface', 'slice', 'array'].includes(kindOf(args[0]!))) return `cannot sort ${ts(args[0]!)}`;
        if (!['string', 'interface'].includes(kindOf(args[1]!))) return `invalid argument for sort (expected string, got ${ts(args[1]!)})`;
        if (args.length === 3 && !['string', 'interface'].includes(kindOf(args[2]!))) return `invalid argument for sort (expected string, got ${ts(args[1]!)})`;
        return ANY_SLICE;
      },
      run: (args) => {
        if (args.length !== 2 && args.length !== 3) return panic(`invalid number of arguments (expected 2 or 3, got ${args.length})`);
        if (!(args[0] instanceof GoSlice)) return panic(`cannot sort ${valueKind(args[0]!)}`);
        if (typeof args[1] !== 'string') return panic(`invalid argument for sort (expected string, got ${ts(typeOf(args[1]!) ?? null)})`);
        return runSortV15(args[0], args[1], args[2]);
      },
    },
  ];
}

function v17Only(): BuiltinDef[] {
  const concatValidate = (args: TypeArg[]) => {
    if (args.length === 0) return 'invalid number of arguments (expected at least 1, got 0)';
    for (const arg of args) if (!['interface', 'slice', 'array'].includes(kindOf(arg))) return `cannot concat ${ts(arg)}`;
    return ANY_SLICE;
  };
  return [
    { name: 'max', validate: validateAggregate('max'), run: (args) => minMax('max', less, args) },
    { name: 'min', validate: validateAggregate('min'), run: (args) => minMax('min', more, args) },
    {
      name: 'mean',
      validate: validateAggregate('mean'),
      run: (args) => {
        const values = numbersOf('mean', args);
        return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
      },
    },
    { name: 'median', validate: validateAggregate('median'), run: (args) => median(numbersOf('median', args)) },
    notEvaluated('timezone'),
    {
      name: 'reverse',
      validate: arrayValidate((t) => `cannot reverse ${t}`),
      run: ([v], ctx) => {
        if (!(v instanceof GoSlice)) return panic(`cannot reverse ${valueKind(v!)}`);
        ctx.memGrow(v.items.length);
        return new GoSlice(ANY_SLICE, [...v.items].reverse());
      },
    },
    {
      name: 'uniq',
      validate: arrayValidate((t) => `cannot uniq ${t}`),
      run: ([v], ctx) => {
        if (!(v instanceof GoSlice)) return panic(`cannot uniq ${valueKind(v!)}`);
        const out: Value[] = [];
        for (const item of v.items) if (!out.some((o) => equal(item, o, ctx))) out.push(item);
        return new GoSlice(ANY_SLICE, out);
      },
    },
    {
      name: 'concat',
      validate: concatValidate,
      run: (args, ctx) => {
        if (args.length === 0) return panic('invalid number of arguments (expected at least 1, got 0)');
        const out: Value[] = [];
        for (const arg of args) {
          if (!(arg instanceof GoSlice)) return panic(`cannot concat ${valueKind(arg)}`);
          out.push(...arg.items);
        }
        ctx.memGrow(out.length);
        return new GoSlice(ANY_SLICE, out, out.length === 0);
      },
    },
    {
      name: 'flatten',
      validate: arrayValidate((t) => `cannot flatten ${t}`),
      run: ([v], ctx) => {
        if (!(v instanceof GoSlice)) return panic(`cannot flatten ${valueKind(v!)}`);
        const out = flatten(v.items, 0);
        ctx.memGrow(out.length);
        return new GoSlice(ANY_SLICE, out);
      },
    },
    {
      name: 'sort',
      types: [
        fn([ANY_SLICE, S], ANY_SLICE), fn([INT_SLICE, S], ANY_SLICE), fn([sliceOf(F), S], ANY_SLICE), fn([STRING_SLICE, S], ANY_SLICE),
        fn([ANY_SLICE], ANY_SLICE), fn([sliceOf(F)], ANY_SLICE), fn([STRING_SLICE], ANY_SLICE), fn([INT_SLICE], ANY_SLICE),
      ],
      run: runSortV17,
    },
    bitFunc('bitand', (x, y) => x & y),
    bitFunc('bitor', (x, y) => x | y),
    bitFunc('bitxor', (x, y) => x ^ y),
    bitFunc('bitnand', (x, y) => x & ~y),
    shift('bitshl', (x, y) => x << y),
    shift('bitshr', (x, y) => x >> y),
    shift('bitushr', (x, y) => BigInt.asUintN(64, x) >> y),
    {
      name: 'bitnot',
      types: [fn([I], I)],
      run: (args) => {
        if (args.length !== 1) return panic(`invalid number of arguments for bitnot (expected 1, got ${args.length})`);
        return BigInt.asIntN(64, ~bitArg(args[0]!, 'bitnot'));
      },
    },
  ];
}

const tables = new Map<boolean, ReadonlyMap<string, BuiltinDef>>();

/** The builtins of a dialect, by name. */
export function builtinsFor(dialect: Dialect): ReadonlyMap<string, BuiltinDef> {
  let table = tables.get(dialect.v17);
  if (!table) {
    const defs = [...predicates(dialect.v17), ...common(dialect.v17), ...(dialect.v17 ? v17Only() : v15Only())];
    table = new Map(defs.map((d) => [d.name, d]));
    tables.set(dialect.v17, table);
  }
  return table;
}

