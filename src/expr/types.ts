/**
 * Go's types as expr sees them through reflect: the static types of the type pass (checker.ts) and
 * the dynamic types of values (values.ts). Only what an environment of plain data and functions can
 * hold is modelled: bool, string, the numeric kinds, interface{}, slices, arrays, maps and funcs.
 * Type identity is structural, as for Go's unnamed types; `typeString` is reflect.Type.String().
 */

export type IntKind = 'int' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'uintptr';
export type FloatKind = 'float32' | 'float64';
export type NumKind = IntKind | FloatKind;

export type GoType =
  | { readonly k: 'bool' }
  | { readonly k: 'string' }
  | { readonly k: NumKind }
  | { readonly k: 'interface' }
  /** The error interface: only as a function's second result. */
  | { readonly k: 'error' }
  | { readonly k: 'slice'; readonly elem: GoType }
  | { readonly k: 'array'; readonly len: number; readonly elem: GoType }
  | { readonly k: 'map'; readonly key: GoType; readonly elem: GoType }
  | { readonly k: 'func'; readonly in: readonly GoType[]; readonly out: readonly GoType[]; readonly variadic: boolean };

export type SliceType = Extract<GoType, { k: 'slice' }>;
export type ArrayType = Extract<GoType, { k: 'array' }>;
export type MapType = Extract<GoType, { k: 'map' }>;
export type FuncType = Extract<GoType, { k: 'func' }>;

const basic = <K extends GoType['k']>(k: K) => ({ k }) as Extract<GoType, { k: K }>;

export const BOOL = basic('bool');
export const STRING = basic('string');
export const INT = basic('int');
export const INT64 = basic('int64');
export const UINT8 = basic('uint8');
export const FLOAT64 = basic('float64');
export const ANY = basic('interface');
export const ERROR = basic('error');

const NUM_TYPES = new Map<NumKind, GoType>(
  (['int', 'int8', 'int16', 'int32', 'int64', 'uint', 'uint8', 'uint16', 'uint32', 'uint64', 'uintptr', 'float32', 'float64'] as NumKind[]).map((k) => [
    k,
    k === 'int' ? INT : k === 'int64' ? INT64 : k === 'uint8' ? UINT8 : k === 'float64' ? FLOAT64 : basic(k),
  ]),
);

export const numType = (k: NumKind): GoType => NUM_TYPES.get(k)!;
export const sliceOf = (elem: GoType): SliceType => ({ k: 'slice', elem });
export const arrayOf = (len: number, elem: GoType): ArrayType => ({ k: 'array', len, elem });
export const mapOf = (key: GoType, elem: GoType): MapType => ({ k: 'map', key, elem });
export const funcOf = (inTypes: readonly GoType[], out: readonly GoType[], variadic = false): FuncType => ({ k: 'func', in: inTypes, out, variadic });

export const ANY_SLICE = sliceOf(ANY);
export const INT_SLICE = sliceOf(INT);
export const STRING_SLICE = sliceOf(STRING);
export const ANY_MAP = mapOf(STRING, ANY);
export const ANY_ANY_MAP = mapOf(ANY, ANY);

const INT_KINDS = new Set<string>(['int', 'int8', 'int16', 'int32', 'int64', 'uint', 'uint8', 'uint16', 'uint32', 'uint64', 'uintptr']);

export const isIntKind = (k: string): k is IntKind => INT_KINDS.has(k);
export const isFloatKind = (k: string): k is FloatKind => k === 'float32' || k === 'float64';
export const isUnsigned = (k: IntKind) => k.startsWith('u');

/** Bits of an integer kind (int and uint are 64-bit, as on the amd64 and arm64 controllers). */
export function intBits(k: IntKind): number {
  switch (k) {
    case 'int8':
    case 'uint8':
      return 8;
    case 'int16':
    case 'uint16':
      return 16;
    case 'int32':
    case 'uint32':
      return 32;
    default:
      return 64;
  }
}

/** reflect.Type.String(). */
export function typeString(t: GoType): string {
  switch (t.k) {
    case 'interface':
      return 'interface {}';
    case 'slice':
      return `[]${typeString(t.elem)}`;
    case 'array':
      return `[${t.len}]${typeString(t.elem)}`;
    case 'map':
      return `map[${typeString(t.key)}]${typeString(t.elem)}`;
    case 'func': {
      const params = t.in.map((p, i) => (t.variadic && i === t.in.length - 1 ? `...${typeString((p as SliceType).elem)}` : typeString(p)));
      const out = t.out.length === 0 ? '' : t.out.length === 1 ? ` ${typeString(t.out[0]!)}` : ` (${t.out.map(typeString).join(', ')})`;
      return `func(${params.join(', ')})${out}`;
    }
    default:
      return t.k;
  }
}

/** Go type identity (unnamed types: structural). */
export function sameType(a: GoType, b: GoType): boolean {
  if (a === b) return true;
  if (a.k !== b.k) return false;
  switch (a.k) {
    case 'slice':
      return sameType(a.elem, (b as SliceType).elem);
    case 'array':
      return a.len === (b as ArrayType).len && sameType(a.elem, (b as ArrayType).elem);
    case 'map':
      return sameType(a.key, (b as MapType).key) && sameType(a.elem, (b as MapType).elem);
    case 'func': {
      const f = b as FuncType;
      return a.variadic === f.variadic && a.in.length === f.in.length && a.out.length === f.out.length && a.in.every((t, i) => sameType(t, f.in[i]!)) && a.out.every((t, i) => sameType(t, f.out[i]!));
    }
    default:
      return true;
  }
}

/** reflect.Type.AssignableTo for the types modelled here. */
export function assignableTo(v: GoType, t: GoType): boolean {
  return t.k === 'interface' || sameType(v, t);
}

/** Element type of slices, arrays and maps (reflect.Type.Elem). */
export function elemOf(t: GoType): GoType | undefined {
  return t.k === 'slice' || t.k === 'array' || t.k === 'map' ? t.elem : undefined;
}

/** Parses reflect.Type.String() forms: the golden tables name the types of their values this way. */
export function parseTypeString(text: string): GoType {
  let i = 0;
  const parse = (): GoType => {
    if (text.startsWith('[]', i)) {
      i += 2;
      return sliceOf(parse());
    }
    if (text.startsWith('map[', i)) {
      i += 4;
      const key = parse();
      if (text[i] !== ']') throw new Error(`bad type ${text}`);
      i++;
      return mapOf(key, parse());
    }
    if (text[i] === '[') {
      const end = text.indexOf(']', i);
      const len = Number(text.slice(i + 1, end));
      i = end + 1;
      return arrayOf(len, parse());
    }
    if (text.startsWith('interface {}', i)) {
      i += 'interface {}'.length;
      return ANY;
    }
    const m = /^(bool|string|u?int(8|16|32|64)?|uintptr|float(32|64))/.exec(text.slice(i));
    if (!m) throw new Error(`unknown type ${text}`);
    i += m[0].length;
    return m[0] === 'bool' ? BOOL : m[0] === 'string' ? STRING : numType(m[0] as NumKind);
  };
  const t = parse();
  if (i !== text.length) throw new Error(`bad type ${text}`);
  return t;
}
