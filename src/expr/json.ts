/**
 * toJSON / fromJSON / toBase64 / fromBase64 as expr implements them with Go's encoding/json
 * (MarshalIndent with two spaces, Unmarshal into interface{}) and encoding/base64 (StdEncoding).
 */
import { ANY_MAP, ANY_SLICE, typeString } from './types.js';
import { formatFloatAs, GoMap, GoNum, GoSlice, panic, sortedEntries, typeName, utf8, type Value } from './values.js';

/** encoding/json's float format: 'f' unless the magnitude calls for 'e', with e-07 cleaned to e-7. */
function jsonFloat(f: number, bits: 32 | 64): string {
  if (!Number.isFinite(f)) return panic(`json: unsupported value: ${Number.isNaN(f) ? 'NaN' : f > 0 ? '+Inf' : '-Inf'}`);
  const abs = Math.abs(f);
  const useE = abs !== 0 && (bits === 64 ? abs < 1e-6 || abs >= 1e21 : abs < 1e-6 || abs >= 1e21);
  let text = formatFloatAs(f, useE ? 'e' : 'f', bits);
  if (useE) text = text.replace(/e-0(\d)$/, 'e-$1');
  return text;
}

/** encoding/json string escaping (HTML-safe, as Marshal escapes by default). */
function jsonString(s: string): string {
  let out = '"';
  for (const c of s) {
    const r = c.codePointAt(0)!;
    if (c === '"' || c === '\\') out += `\\${c}`;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (r < 0x20 || c === '<' || c === '>' || c === '&' || r === 0x2028 || r === 0x2029) out += `\\u${r.toString(16).padStart(4, '0')}`;
    else out += c;
  }
  return `${out}"`;
}

function marshal(v: Value, indent: string): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return String(v);
    case 'string':
      return jsonString(v);
    case 'bigint':
      return v.toString();
    case 'number':
      return jsonFloat(v, 64);
  }
  if (v instanceof GoNum) return typeof v.v === 'bigint' ? v.v.toString() : jsonFloat(v.v, 32);
  const inner = `${indent}  `;
  if (v instanceof GoSlice) {
    if (v.isNil) return 'null';
    if (typeString(v.type.elem) === 'uint8' && v.type.k === 'slice') {
      return jsonString(Buffer.from(v.items.map((b) => Number((b as GoNum).v))).toString('base64'));
    }
    if (v.items.length === 0) return '[]';
    return `[\n${v.items.map((item) => inner + marshal(item, inner)).join(',\n')}\n${indent}]`;
  }
  if (v instanceof GoMap) {
    if (v.isNil) return 'null';
    const keyKind = v.type.key.k;
    if (keyKind !== 'string' && !/^u?int/.test(keyKind)) return panic(`json: unsupported type: ${typeString(v.type)}`);
    const entries = sortedEntries(v)
      .map(({ key, value }) => ({ key: typeof key === 'string' ? key : String(key instanceof GoNum ? key.v : key), value }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(({ key, value }) => `${inner}${jsonString(key)}: ${marshal(value, inner)}`).join(',\n')}\n${indent}}`;
  }
  return panic(`json: unsupported type: ${typeName(v)}`);
}

export function toJSON(v: Value): string {
  return marshal(v, '');
}

/** encoding/json's quoteChar for error messages. */
function quoteChar(c: string): string {
  if (c === "'") return `'\\''`;
  if (c === '"') return `'"'`;
  const q = JSON.stringify(c);
  return `'${q.slice(1, -1)}'`;
}

/**
 * json.Unmarshal into interface{}: objects become map[string]interface {}, arrays []interface {},
 * numbers float64. Syntax errors carry encoding/json's texts.
 */
export function fromJSON(text: string): Value {
  let i = 0;
  const s = text;
  const fail = (msg: string): never => panic(msg);
  const end = (): never => fail('unexpected end of JSON input');
  const ws = () => {
    while (i < s.length && ' \t\n\r'.includes(s[i]!)) i++;
  };
  const value = (context: string): Value => {
    ws();
    if (i >= s.length) return end();
    const c = s[i]!;
    if (c === '{') {
      i++;
      const m = new GoMap(ANY_MAP);
      ws();
      if (s[i] === '}') {
        i++;
        return m;
      }
      for (;;) {
        ws();
        if (i >= s.length) return end();
        if (s[i] !== '"') return fail(`invalid character ${quoteChar(s[i]!)} looking for beginning of object key string`);
        const key = string();
        ws();
        if (i >= s.length) return end();
        if (s[i] !== ':') return fail(`invalid character ${quoteChar(s[i]!)} after object key`);
        i++;
        m.set(key, value('value'));
        ws();
        if (i >= s.length) return end();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === '}') {
          i++;
          return m;
        }
        return fail(`invalid character ${quoteChar(s[i]!)} after object key:value pair`);
      }
    }
    if (c === '[') {
      i++;
      const items: Value[] = [];
      ws();
      if (s[i] === ']') {
        i++;
        return new GoSlice(ANY_SLICE, items);
      }
      for (;;) {
        items.push(value('value'));
        ws();
        if (i >= s.length) return end();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === ']') {
          i++;
          return new GoSlice(ANY_SLICE, items);
        }
        return fail(`invalid character ${quoteChar(s[i]!)} after array element`);
      }
    }
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    for (const [word, result] of [['true', true], ['false', false], ['null', null]] as const) {
      if (c === word[0]) {
        for (let j = 1; j < word.length; j++) {
          // At the end the decoder sees a space (encoding/json scanner.eof).
          const got = s[i + j] ?? ' ';
          if (got !== word[j]) return fail(`invalid character ${quoteChar(got)} in literal ${word} (expecting ${quoteChar(word[j]!)})`);
        }
        i += word.length;
        return result;
      }
    }
    return fail(`invalid character ${quoteChar(c)} looking for beginning of ${context}`);
  };
  const string = (): string => {
    const start = i;
    i++;
    for (;;) {
      if (i >= s.length) return end();
      const c = s[i]!;
      if (c === '"') {
        i++;
        return JSON.parse(s.slice(start, i)) as string;
      }
      if (c === '\\') {
        const e = s[i + 1] ?? ' ';
        if (!'"\\/bfnrtu'.includes(e)) return fail(`invalid character ${quoteChar(e)} in string escape code`);
        if (e === 'u') {
          for (let j = 2; j < 6; j++) {
            const h = s[i + j] ?? ' ';
            if (!/[0-9a-fA-F]/.test(h)) return fail(`invalid character ${quoteChar(h)} in \\u hexadecimal character escape`);
          }
          i += 6;
        } else {
          i += 2;
        }
        continue;
      }
      if (c.charCodeAt(0) < 0x20) return fail(`invalid character ${quoteChar(c)} in string literal`);
      i++;
    }
  };
  const number = (): number => {
    const start = i;
    const at = (j: number) => s[j] ?? ' ';
    const digit = (c: string) => c >= '0' && c <= '9';
    if (s[i] === '-') i++;
    if (at(i) === '0') i++;
    else if (at(i) >= '1' && at(i) <= '9') while (i < s.length && digit(s[i]!)) i++;
    else return fail(`invalid character ${quoteChar(at(i))} in numeric literal`);
    if (s[i] === '.') {
      i++;
      if (!digit(at(i))) return fail(`invalid character ${quoteChar(at(i))} after decimal point in numeric literal`);
      while (i < s.length && digit(s[i]!)) i++;
    }
    if (s[i] === 'e' || s[i] === 'E') {
      i++;
      if (s[i] === '+' || s[i] === '-') i++;
      if (!digit(at(i))) return fail(`invalid character ${quoteChar(at(i))} in exponent of numeric literal`);
      while (i < s.length && s[i]! >= '0' && s[i]! <= '9') i++;
    }
    const literal = s.slice(start, i);
    const f = Number(literal);
    if (!Number.isFinite(f)) return fail(`json: cannot unmarshal number ${literal} into Go value of type float64`);
    return f;
  };
  const result = value('value');
  ws();
  if (i < s.length) return fail(`invalid character ${quoteChar(s[i]!)} after top-level value`);
  return result;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export function toBase64(s: string): string {
  return utf8(s).toString('base64');
}

/** base64.StdEncoding.DecodeString (padding required; \r and \n ignored). */
export function fromBase64(s: string): string {
  const bytes = utf8(s);
  const chars: { c: number; at: number }[] = [];
  bytes.forEach((c, at) => {
    if (c !== 10 && c !== 13) chars.push({ c, at });
  });
  const illegal = (at: number): never => panic(`illegal base64 data at input byte ${at}`);
  const out: number[] = [];
  for (let q = 0; q < chars.length; q += 4) {
    const quantum = chars.slice(q, q + 4);
    const vals: number[] = [];
    let padding = 0;
    for (let j = 0; j < quantum.length; j++) {
      const { c, at } = quantum[j]!;
      if (c === 61) {
        if (j < 2) return illegal(at);
        padding = quantum.length - j;
        if (quantum.slice(j).some((x) => x.c !== 61) || q + 4 < chars.length) return illegal(at);
        break;
      }
      const v = B64.indexOf(String.fromCharCode(c));
      if (v < 0) return illegal(at);
      vals.push(v);
    }
    // An incomplete quantum at the end: the error names where it started (base64 decodeQuantum).
    if (quantum.length < 4 && padding === 0) return illegal(bytes.length - quantum.length);
    const n = (vals[0]! << 18) | ((vals[1] ?? 0) << 12) | ((vals[2] ?? 0) << 6) | (vals[3] ?? 0);
    out.push((n >> 16) & 255);
    if (vals.length > 2) out.push((n >> 8) & 255);
    if (vals.length > 3) out.push(n & 255);
  }
  return Buffer.from(out).toString('utf8');
}
