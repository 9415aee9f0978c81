/**
 * The golden tables' typed encoding (tools/expr-golden/encode.go) read into src/expr values and
 * written back, and the environment functions the tables name (test/fuzz/fuzz_env.go's five).
 */
import {
  formatFloat,
  GoFunc,
  GoMap,
  GoNum,
  GoSlice,
  panic,
  typeName,
  types,
  type Value,
} from '../../src/expr/index.js';

const { funcOf, INT, FLOAT64, STRING, sliceOf, parseTypeString, typeString, isIntKind, isFloatKind } = types;

/** test/fuzz/fuzz_env.go: add, div, half, score, greet. */
const FUNCS: Record<string, GoFunc> = {
  add: new GoFunc('add', funcOf([INT, INT], [INT]), ([a, b]) => BigInt.asIntN(64, (a as bigint) + (b as bigint))),
  div: new GoFunc('div', funcOf([INT, INT], [INT]), ([a, b]) => ((b as bigint) === 0n ? panic('runtime error: integer divide by zero') : BigInt.asIntN(64, (a as bigint) / (b as bigint)))),
  half: new GoFunc('half', funcOf([FLOAT64], [FLOAT64]), ([a]) => (a as number) / 2),
  greet: new GoFunc('greet', funcOf([STRING], [STRING]), ([name]) => `Hello, ${name as string}`),
  score: new GoFunc('score', funcOf([INT, sliceOf(INT)], [INT], true), (args) => BigInt.asIntN(64, args.reduce<bigint>((s, x) => s + (x as bigint), 0n))),
};

export function decode(e: unknown): Value {
  if (e === null || typeof e === 'boolean' || typeof e === 'string') return e;
  const [[name, payload]] = Object.entries(e as Record<string, unknown>) as [[string, unknown]];
  if (name === 'func') return FUNCS[payload as string] ?? panic(`unknown func ${String(payload)}`);
  const t = parseTypeString(name);
  if (isIntKind(t.k)) return t.k === 'int' ? BigInt(payload as string) : new GoNum(t.k as never, BigInt(payload as string));
  if (isFloatKind(t.k)) {
    const text = payload as string;
    const f = text === 'NaN' ? Number.NaN : text === '+Inf' ? Number.POSITIVE_INFINITY : text === '-Inf' ? Number.NEGATIVE_INFINITY : Number(text);
    return t.k === 'float64' ? f : new GoNum('float32', Math.fround(f));
  }
  if (t.k === 'slice' || t.k === 'array') return payload === null ? new GoSlice(t, [], true) : new GoSlice(t, (payload as unknown[]).map(decode));
  if (t.k === 'map') {
    const m = new GoMap(t, payload === null);
    for (const [k, v] of (payload as [unknown, unknown][] | null) ?? []) m.set(decode(k), decode(v));
    return m;
  }
  throw new Error(`cannot decode ${name}`);
}

export function encode(v: Value): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return { int: v.toString() };
  if (typeof v === 'number') return { float64: formatFloat(v) };
  if (v instanceof GoNum) return { [v.kind]: typeof v.v === 'bigint' ? v.v.toString() : formatFloat(v.v, 32) };
  if (v instanceof GoSlice) return { [typeName(v)]: v.isNil && v.type.k === 'slice' ? null : v.items.map(encode) };
  if (v instanceof GoMap) {
    if (v.isNil) return { [typeName(v)]: null };
    const pairs = [...v.entries.values()].map(({ key, value }) => ({ key: JSON.stringify(encode(key)), pair: [encode(key), encode(value)] }));
    pairs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { [typeString(v.type)]: pairs.map((p) => p.pair) };
  }
  throw new Error(`not encodable: ${typeName(v)}`);
}

