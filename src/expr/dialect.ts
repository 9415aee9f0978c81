/**
 * The expr library a controller links, by Argo Rollouts version (go.mod at each tag):
 * v1.7.2, v1.8.4, v1.9.1 require github.com/antonmedv/expr v1.15.5; v1.10.0-rc1 requires
 * github.com/expr-lang/expr v1.17.7. Where the two differ, the dialect says which behaviour applies.
 */

export interface Dialect {
  /** github.com/expr-lang/expr v1.17.7 (true) or github.com/antonmedv/expr v1.15.5 (false). */
  readonly v17: boolean;
  /** Module and version, for messages and docs. */
  readonly library: string;
  /** Names the parser turns into builtin calls (builtin/builtin.go Builtins). */
  readonly builtins: ReadonlySet<string>;
}

const V15_BUILTINS = [
  'all', 'none', 'any', 'one', 'filter', 'map', 'find', 'findIndex', 'findLast', 'findLastIndex', 'count', 'groupBy', 'reduce',
  'len', 'type', 'abs', 'ceil', 'floor', 'round', 'int', 'float', 'string', 'trim', 'trimPrefix', 'trimSuffix', 'upper', 'lower',
  'split', 'splitAfter', 'replace', 'repeat', 'join', 'indexOf', 'lastIndexOf', 'hasPrefix', 'hasSuffix', 'max', 'min', 'sum', 'mean',
  'median', 'toJSON', 'fromJSON', 'toBase64', 'fromBase64', 'now', 'duration', 'date', 'first', 'last', 'get', 'take', 'keys', 'values',
  'toPairs', 'fromPairs', 'sort', 'sortBy',
];

const V17_BUILTINS = [
  'all', 'none', 'any', 'one', 'filter', 'map', 'find', 'findIndex', 'findLast', 'findLastIndex', 'count', 'sum', 'groupBy', 'sortBy',
  'reduce', 'len', 'type', 'abs', 'ceil', 'floor', 'round', 'int', 'float', 'string', 'trim', 'trimPrefix', 'trimSuffix', 'upper', 'lower',
  'split', 'splitAfter', 'replace', 'repeat', 'join', 'indexOf', 'lastIndexOf', 'hasPrefix', 'hasSuffix', 'max', 'min', 'mean', 'median',
  'toJSON', 'fromJSON', 'toBase64', 'fromBase64', 'now', 'duration', 'date', 'timezone', 'first', 'last', 'get', 'take', 'keys', 'values',
  'toPairs', 'fromPairs', 'reverse', 'uniq', 'concat', 'flatten', 'sort', 'bitand', 'bitor', 'bitxor', 'bitnand', 'bitshl', 'bitshr',
  'bitushr', 'bitnot',
];

export const EXPR_V1_15_5: Dialect = { v17: false, library: 'github.com/antonmedv/expr v1.15.5', builtins: new Set(V15_BUILTINS) };
export const EXPR_V1_17_7: Dialect = { v17: true, library: 'github.com/expr-lang/expr v1.17.7', builtins: new Set(V17_BUILTINS) };

/** The newest released controller; used when the version is unknown (a digest, `latest`). */
export const DEFAULT_CONTROLLER_VERSION = 'v1.9.1';

/** Parses `v1.9.1`, `1.10.0-rc1`, `v1.8`: [major, minor, patch]; undefined when it is not a version. */
export function parseVersion(version: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

/**
 * The expr dialect of an Argo Rollouts controller version. Versions before v1.7 linked older
 * antonmedv/expr releases that are not modelled: they get v1.15.5, the closest.
 */
export function dialectFor(controllerVersion: string | undefined): Dialect {
  const v = parseVersion(controllerVersion ?? DEFAULT_CONTROLLER_VERSION) ?? parseVersion(DEFAULT_CONTROLLER_VERSION)!;
  return v[0] > 1 || (v[0] === 1 && v[1] >= 10) ? EXPR_V1_17_7 : EXPR_V1_15_5;
}
