/**
 * Runs a checked, optimized tree with the semantics of expr's compiler + VM (compiler/compiler.go,
 * vm/vm.go at v1.15.5 and v1.17.7): evaluation order, short-circuits, type assertions the VM makes
 * (a non-bool condition is "interface conversion: interface {} is int, not bool"), typed versus
 * reflect calls of environment functions, the predicate loops, optional chaining, and the VM's memory
 * budget (1e6 units: arrays, maps, ranges, and in v1.17 sort/repeat/concat...).
 *
 * Bounded: a step budget, and ranges and strings beyond rollout-doctor's limits are NotEvaluated.
 */
import type { Node, NodeOf } from './ast.js';
import { builtinsFor, goSort, type RunContext } from './builtins.js';
import type { Dialect } from './dialect.js';
import { assertionMessage, NotEvaluated } from './errors.js';
import { compileRegexp, matchString } from './regexp.js';
import { ANY, ANY_MAP, ANY_SLICE, assignableTo, type FuncType, type GoType, INT_SLICE, isFloatKind, isIntKind, mapOf, type NumKind, typeString } from './types.js';
import {
  add,
  divide,
  equal,
  exponent,
  fetch,
  GoFunc,
  GoMap,
  GoNum,
  GoSlice,
  inOp,
  isNil,
  less,
  lessOrEqual,
  makeNum,
  modulo,
  more,
  moreOrEqual,
  multiply,
  negate,
  panic,
  runtimeLen,
  sliceOp,
  subtract,
  toInt,
  typeName,
  typeOf,
  utf8,
  type Value,
  zeroValue,
} from './values.js';

export const MAX_STEPS = 200_000;
/** Ranges up to this many elements are built; upstream's memory budget stops at 1e6. */
export const MAX_RANGE = 100_000;
const MEMORY_BUDGET = 1_000_000;

/** vm/func_types: environment functions of these signatures are called without reflect (OpCallTyped). */
const TYPED_V15 = new Set(
  [
    'func() []uint8', 'func() []interface {}', 'func() bool', 'func() uint8', 'func() float64', 'func() int', 'func() int64', 'func() interface {}',
    'func() map[string]interface {}', 'func() int32', 'func() string', 'func() uint', 'func() uint64', 'func([]interface {}, string) string',
    'func([]string, string) string', 'func(bool) bool', 'func(bool) float64', 'func(bool) int', 'func(bool) string', 'func(float64) bool',
    'func(float64) float64', 'func(float64) int', 'func(float64) string', 'func(int) bool', 'func(int) float64', 'func(int) int', 'func(int) string',
    'func(int, int) int', 'func(int, int) string', 'func(string) []string', 'func(string) bool', 'func(string) float64', 'func(string) int',
    'func(string) string', 'func(string, uint8) int', 'func(string, int) int', 'func(string, int32) int', 'func(string, string) bool',
    'func(string, string) string', 'func(interface {}) bool', 'func(interface {}) float64', 'func(interface {}) int', 'func(interface {}) string',
    'func(interface {}) interface {}', 'func(interface {}) []interface {}', 'func(interface {}) map[string]interface {}',
    'func([]interface {}) interface {}', 'func([]interface {}) []interface {}', 'func([]interface {}) map[string]interface {}',
    'func(interface {}, interface {}) bool', 'func(interface {}, interface {}) string', 'func(interface {}, interface {}) interface {}',
    'func(interface {}, interface {}) []interface {}',
  ],
);
const TYPED_V17 = new Set([
  ...TYPED_V15,
  'func() float32', 'func() int16', 'func() int8', 'func() uint16', 'func() uint32', 'func([]uint8) string', 'func(bool, bool) bool',
  'func(float32) float64', 'func(float64) float32', 'func(float64, float64) bool', 'func(int, int) bool', 'func(int16) int32',
  'func(int32) float64', 'func(int32) int', 'func(int32) int64', 'func(int8) int', 'func(int8) int16', 'func(string) []uint8',
  'func(uint) float64', 'func(uint) int', 'func(uint) uint', 'func(uint16) uint', 'func(uint32) uint64', 'func(uint64) float64',
  'func(uint64) int64', 'func(uint8) uint8',
]);

class ChainJump {
  constructor(readonly value: Value) {}
}

interface Scope {
  collection: Value;
  len: number;
  index: number;
  count: number;
  acc: Value;
}

/** `x.(bool)` as the VM's jumps and OpNot do it. */
function assertBool(v: Value): boolean {
  if (typeof v !== 'boolean') return panic(assertionMessage(v === null ? 'nil' : typeName(v), 'bool'));
  return v;
}

const valueKindName = (v: Value) => {
  const t = typeOf(v);
  return t ? (t.k === 'interface' ? 'interface' : t.k) : 'invalid';
};

export class Evaluator implements RunContext {
  readonly v17: boolean;
  private steps = 0;
  private memory = 0;
  private readonly vars: { name: string; value: Value }[] = [];
  private readonly scopes: Scope[] = [];
  /**
   * The VM's value stack, for the values a node leaves behind: the backward loop of findLast and
   * findLastIndex pushes a bool per iteration and never pops it (compiler.go emitLoopBackwards), so
   * a multi-value pop after it (an array, a call, a binary operator) takes those instead.
   */
  private readonly stack: Value[] = [];
  private readonly builtins;

  constructor(
    dialect: Dialect,
    private readonly env: ReadonlyMap<string, Value>,
    private readonly maxSteps = MAX_STEPS,
  ) {
    this.v17 = dialect.v17;
    this.builtins = builtinsFor(dialect);
  }

  memGrow(size: number): void {
    this.memory += size;
    if (this.memory >= MEMORY_BUDGET) panic('memory budget exceeded');
  }

  run(node: Node): Value {
    return this.eval(node);
  }

  /** Evaluates nodes onto the stack and pops as many values as there are nodes. */
  private evalAll(nodes: Node[]): Value[] {
    for (const n of nodes) this.stack.push(this.eval(n));
    return nodes.length === 0 ? [] : this.stack.splice(this.stack.length - nodes.length);
  }

  private eval(node: Node): Value {
    if (++this.steps > this.maxSteps) throw new NotEvaluated(`the expression takes more than ${this.maxSteps} evaluation steps`);
    switch (node.t) {
      case 'nil':
        return null;
      case 'ident':
        return this.identifier(node.value);
      case 'int':
        return node.type && node.type.k !== 'int' && (isIntKind(node.type.k) || isFloatKind(node.type.k)) ? makeNum(node.type.k as NumKind, node.value) : node.value;
      case 'float':
        return node.type?.k === 'float32' ? new GoNum('float32', Math.fround(node.value)) : node.value;
      case 'bool':
      case 'string':
      case 'const':
        return node.value;
      case 'unary':
        return this.unary(node);
      case 'binary':
        return this.binary(node);
      case 'chain':
        return this.chain(node);
      case 'member':
        return this.member(node);
      case 'slice': {
        this.stack.push(this.eval(node.node));
        this.stack.push(node.to ? this.eval(node.to) : runtimeLen(this.stack[this.stack.length - 1]!));
        this.stack.push(node.from ? this.eval(node.from) : 0n);
        const [base, to, from] = this.stack.splice(this.stack.length - 3) as [Value, Value, Value];
        return sliceOp(base, from, to);
      }
      case 'call':
        return this.call(node);
      case 'builtin':
        return this.builtin(node);
      case 'predicate':
        return this.eval(node.node);
      case 'pointer':
        return this.pointer(node);
      case 'let': {
        const value = this.eval(node.value);
        this.vars.push({ name: node.name, value });
        try {
          return this.eval(node.expr);
        } finally {
          this.vars.pop();
        }
      }
      case 'seq': {
        let last: Value = null;
        for (const n of node.nodes) last = this.eval(n);
        return last;
      }
      case 'cond':
        return assertBool(this.eval(node.cond)) ? this.eval(node.exp1) : this.eval(node.exp2);
      case 'array': {
        const items = this.evalAll(node.nodes);
        this.memGrow(items.length);
        return new GoSlice(ANY_SLICE, items);
      }
      case 'map':
        return this.map(node);
      case 'pair':
        return this.eval(node.value);
    }
  }

  private identifier(name: string): Value {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    if (name === '$env') {
      const m = new GoMap(ANY_MAP);
      for (const [k, v] of this.env) m.set(k, v);
      return m;
    }
    return this.env.get(name) ?? null;
  }

  private unary(node: NodeOf<'unary'>): Value {
    const v = this.eval(node.node);
    switch (node.op) {
      case '!':
      case 'not':
        return !assertBool(v);
      case '-':
        return negate(v);
      default:
        return v;
    }
  }

  private binary(node: NodeOf<'binary'>): Value {
    const op = node.op;
    if (op === '||' || op === 'or') {
      const left = this.eval(node.left);
      return assertBool(left) ? left : this.eval(node.right);
    }
    if (op === '&&' || op === 'and') {
      const left = this.eval(node.left);
      return !assertBool(left) ? left : this.eval(node.right);
    }
    if (op === '??') {
      const left = this.eval(node.left);
      return !isNil(left) ? left : this.eval(node.right);
    }
    if (op === 'matches' && node.right.t === 'string') return this.matchesConst(this.eval(node.left), node.right.value);
    const [a, b] = this.evalAll([node.left, node.right]) as [Value, Value];
    switch (op) {
      case '==':
        return equal(a, b, this);
      case '!=':
        return !equal(a, b, this);
      case '<':
        return less(a, b);
      case '>':
        return more(a, b);
      case '<=':
        return lessOrEqual(a, b);
      case '>=':
        return moreOrEqual(a, b);
      case '+':
        return add(a, b);
      case '-':
        return subtract(a, b);
      case '*':
        return multiply(a, b);
      case '/':
        return divide(a, b);
      case '%':
        return modulo(a, b);
      case '**':
      case '^':
        return exponent(a, b);
      case 'in':
        return inOp(a, b, this);
      case 'matches':
        return this.matches(a, b);
      case 'contains':
      case 'startsWith':
      case 'endsWith': {
        if (this.v17 && (isNil(a) || isNil(b))) return false;
        const s = this.str(a);
        const sub = this.str(b);
        return op === 'contains' ? s.includes(sub) : op === 'startsWith' ? s.startsWith(sub) : s.endsWith(sub);
      }
      case '..':
        return this.range(a, b);
    }
    return panic(`unknown operator (${op})`);
  }

  private str(v: Value): string {
    if (typeof v !== 'string') return panic(assertionMessage(v === null ? 'nil' : typeName(v), 'string'));
    return v;
  }

  private subject(a: Value): string {
    if (typeof a === 'string') return a;
    if (this.v17) return panic(assertionMessage(a === null ? 'nil' : typeName(a), '[]uint8'));
    return this.str(a);
  }

  private matchesConst(a: Value, pattern: string): boolean {
    if (this.v17 && isNil(a)) return false;
    const s = this.subject(a);
    const re = compileRegexp(pattern);
    return typeof re === 'string' ? panic(re) : matchString(re, s);
  }

  private matches(a: Value, b: Value): boolean {
    if (this.v17 && (isNil(a) || isNil(b))) return false;
    const pattern = this.str(b);
    const s = this.subject(a);
    const re = compileRegexp(pattern);
    return typeof re === 'string' ? panic(re) : matchString(re, s);
  }

  private range(a: Value, b: Value): Value {
    const min = toInt(a);
    const max = toInt(b);
    let size = BigInt.asIntN(64, max - min + 1n);
    if (size < 0n) size = 0n;
    this.memGrow(Number(size));
    if (size > BigInt(MAX_RANGE)) throw new NotEvaluated(`a range of ${size} elements is larger than rollout-doctor's bound (${MAX_RANGE})`);
    const items: Value[] = [];
    for (let i = 0n; i < size; i++) items.push(min + i);
    return new GoSlice(INT_SLICE, items);
  }

  private chain(node: NodeOf<'chain'>): Value {
    let value: Value;
    try {
      value = this.eval(node.node);
    } catch (jump) {
      if (!(jump instanceof ChainJump)) throw jump;
      value = jump.value;
    }
    return this.v17 && isNil(value) ? null : value;
  }

  private member(node: NodeOf<'member'>): Value {
    const base = this.eval(node.node);
    if (node.optional && isNil(base)) throw new ChainJump(base);
    this.stack.push(base);
    this.stack.push(this.eval(node.property));
    const [from, property] = this.stack.splice(this.stack.length - 2) as [Value, Value];
    return fetch(from, property, this);
  }

  private map(node: NodeOf<'map'>): Value {
    const flat = this.evalAll(node.pairs.flatMap((p) => [(p as NodeOf<'pair'>).key, (p as NodeOf<'pair'>).value]));
    const pairs = node.pairs.map((_, i) => ({ key: flat[2 * i]!, value: flat[2 * i + 1]! }));
    this.memGrow(pairs.length);
    const m = new GoMap(ANY_MAP);
    for (let i = pairs.length - 1; i >= 0; i--) m.set(this.str(pairs[i]!.key), pairs[i]!.value);
    return m;
  }

  private call(node: NodeOf<'call'>): Value {
    const values = this.evalAll([...node.args, node.callee]);
    const fn = values.pop()!;
    const args = values;
    const type = node.callee.type;
    if (type?.k === 'func' && !type.variadic && (this.v17 ? TYPED_V17 : TYPED_V15).has(typeString(type))) {
      for (let i = args.length - 1; i >= 0; i--) {
        const param = type.in[i]!;
        const arg = args[i]!;
        if (param.k !== 'interface' && (arg === null || typeName(arg) !== typeString(param))) panic(assertionMessage(arg === null ? 'nil' : typeName(arg), typeString(param)));
      }
      if (!(fn instanceof GoFunc)) return panic(assertionMessage(fn === null ? 'nil' : typeName(fn), typeString(type)));
      return fn.impl(args);
    }
    if (fn === null) return panic(this.v17 ? 'invalid operation: cannot call nil' : 'reflect: call of reflect.Value.Call on zero Value');
    if (!(fn instanceof GoFunc)) return panic(this.v17 ? `invalid operation: cannot call non-function of type ${typeName(fn)}` : `reflect: call of reflect.Value.Call on ${valueKindName(fn)} Value`);
    return fn.impl(this.reflectArgs(fn.type, args));
  }

  /** reflect.Value.Call's argument checks (OpCall). */
  private reflectArgs(type: FuncType, args: Value[]): Value[] {
    const numIn = type.in.length;
    const paramOf = (i: number): GoType => (type.variadic && i >= numIn - 1 ? (type.in[numIn - 1] as Extract<GoType, { k: 'slice' }>).elem : type.in[i]!);
    if (!type.variadic && args.length < numIn) panic('reflect: Call with too few input arguments');
    if (!type.variadic && args.length > numIn) panic('reflect: Call with too many input arguments');
    const out = args.map((arg, i) => {
      const param = paramOf(i);
      if (arg === null) {
        if (this.v17) return zeroValue(param);
        if (param.k !== 'interface') panic(`reflect: Call using interface {} as type ${typeString(param)}`);
        return null;
      }
      if (!assignableTo(typeOf(arg)!, param)) {
        // reflect words the variadic part differently (Value.call).
        panic(type.variadic && i >= numIn - 1 ? `reflect: cannot use ${typeName(arg)} as type ${typeString(param)} in Call` : `reflect: Call using ${typeName(arg)} as type ${typeString(param)}`);
      }
      return arg;
    });
    return out;
  }

  private builtin(node: NodeOf<'builtin'>): Value {
    switch (node.name) {
      case 'all':
      case 'none':
      case 'any':
      case 'one':
      case 'filter':
      case 'map':
      case 'count':
      case 'find':
      case 'findIndex':
      case 'findLast':
      case 'findLastIndex':
      case 'groupBy':
      case 'reduce':
        return this.loop(node);
      case 'sum':
      case 'sortBy':
        if (this.v17) return this.loop(node);
    }
    const def = this.builtins.get(node.name);
    if (!def?.run) return panic(`unknown builtin ${node.name}`);
    return def.run(this.evalAll(node.args), this);
  }

  private begin(collection: Value): Scope {
    let len: number;
    if (collection instanceof GoSlice) len = collection.items.length;
    else if (collection instanceof GoMap) len = collection.size;
    else if (typeof collection === 'string') len = utf8(collection).length;
    else if (collection === null) return panic('reflect: call of reflect.Value.Len on zero Value');
    else return panic(`reflect: call of reflect.Value.Len on ${valueKindName(collection)} Value`);
    const scope: Scope = { collection, len, index: 0, count: 0, acc: null };
    this.scopes.push(scope);
    return scope;
  }

  private element(scope: Scope, index = scope.index): Value {
    const c = scope.collection;
    if (c instanceof GoSlice) {
      if (index >= c.items.length || index < 0) return panic(`reflect: ${c.type.k} index out of range`);
      return c.items[index]!;
    }
    if (typeof c === 'string') {
      const bytes = utf8(c);
      if (index >= bytes.length || index < 0) return panic('reflect: string index out of range');
      return new GoNum('uint8', BigInt(bytes[index]!));
    }
    return panic('reflect: call of reflect.Value.Index on map Value');
  }

  private pointer(node: NodeOf<'pointer'>): Value {
    const scope = this.scopes[this.scopes.length - 1];
    if (!scope) return panic('no predicate scope');
    switch (node.name) {
      case 'index':
        return BigInt(scope.index);
      case 'acc':
        return scope.acc;
      default:
        return this.element(scope);
    }
  }

  /** The loops the compiler emits for the predicate builtins. */
  private loop(node: NodeOf<'builtin'>): Value {
    const [collection, predicate, third] = node.args;
    const scope = this.begin(this.eval(collection!));
    try {
      const test = () => assertBool(this.eval(predicate!));
      const item = () => (node.map ? this.eval(node.map) : this.element(scope));
      switch (node.name) {
        case 'all':
          for (; scope.index < scope.len; scope.index++) if (!test()) return false;
          return true;
        case 'none':
          for (; scope.index < scope.len; scope.index++) if (test()) return false;
          return true;
        case 'any':
          for (; scope.index < scope.len; scope.index++) if (test()) return true;
          return false;
        case 'one':
          for (; scope.index < scope.len; scope.index++) if (test()) scope.count++;
          return scope.count === 1;
        case 'filter': {
          for (; scope.index < scope.len; scope.index++) {
            if (test()) {
              scope.count++;
              this.stack.push(item());
            }
          }
          this.memGrow(scope.count);
          return new GoSlice(ANY_SLICE, scope.count === 0 ? [] : this.stack.splice(this.stack.length - scope.count));
        }
        case 'map': {
          for (; scope.index < scope.len; scope.index++) this.stack.push(this.eval(predicate!));
          this.memGrow(scope.len);
          return new GoSlice(ANY_SLICE, scope.len === 0 ? [] : this.stack.splice(this.stack.length - scope.len));
        }
        case 'count':
          for (; scope.index < scope.len; scope.index++) {
            if (predicate ? test() : assertBool(this.element(scope))) scope.count++;
          }
          return BigInt(scope.count);
        case 'sum': {
          scope.acc = 0n;
          for (; scope.index < scope.len; scope.index++) scope.acc = add(predicate ? this.eval(predicate) : this.element(scope), scope.acc);
          return scope.acc;
        }
        case 'find':
        case 'findIndex':
          for (; scope.index < scope.len; scope.index++) if (test()) return node.name === 'find' ? item() : BigInt(scope.index);
          if (node.throws) panic('reflect: slice index out of range');
          return null;
        case 'findLast':
        case 'findLastIndex':
          // Each check of `index >= 0` stays on the stack (see `stack`).
          for (scope.index = scope.len - 1; scope.index >= 0; scope.index--) {
            this.stack.push(true);
            if (test()) return node.name === 'findLast' ? item() : BigInt(scope.index);
          }
          this.stack.push(false);
          if (node.throws) panic('reflect: slice index out of range');
          return null;
        case 'groupBy': {
          const groups = new GoMap(ANY_ANY_GROUPS, !this.v17 && scope.len === 0);
          for (; scope.index < scope.len; scope.index++) {
            const key = this.eval(predicate!);
            if (key instanceof GoSlice || key instanceof GoMap || key instanceof GoFunc) panic(`runtime error: hash of unhashable type ${typeName(key)}`);
            const group = groups.get(key);
            const items = group ? (group.value as GoSlice).items : [];
            if (!group) groups.set(key, new GoSlice(ANY_SLICE, items));
            items.push(this.element(scope));
          }
          return groups;
        }
        case 'sortBy': {
          const order = third ? this.eval(third) : 'asc';
          if (typeof order !== 'string') return panic(assertionMessage(order === null ? 'nil' : typeName(order), 'string'));
          if (order !== 'asc' && order !== 'desc') return panic('unknown order, use asc or desc');
          const pairs: { item: Value; value: Value }[] = [];
          for (; scope.index < scope.len; scope.index++) pairs.push({ value: this.eval(predicate!), item: this.element(scope) });
          const sorted = goSort(pairs, (p) => p.value, order === 'desc');
          this.memGrow(scope.len);
          return new GoSlice(ANY_SLICE, sorted.map((p) => p.item));
        }
        case 'reduce': {
          if (third) {
            scope.acc = this.eval(third);
          } else {
            scope.acc = this.element(scope, 0);
            scope.index++;
          }
          for (; scope.index < scope.len; scope.index++) scope.acc = this.eval(predicate!);
          return scope.acc;
        }
      }
      return panic(`unknown builtin ${node.name}`);
    } finally {
      this.scopes.pop();
    }
  }
}

const ANY_ANY_GROUPS = mapOf(ANY, ANY_SLICE);
