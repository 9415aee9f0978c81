/**
 * The passes of expr's optimizer (optimizer/*.go) whose effect can be seen: constant folding
 * (`1 % 0` is a compile error "integer divide by zero"; `x && false` never evaluates x), `x in
 * [1, 2]` against a constant set, `x in 1..9` as two comparisons, `filter(...)[0]` as find() (whose
 * miss is "reflect: slice index out of range"), map(filter()) fused, and in v1.17 sum([a, b]) as a + b.
 * The remaining passes (filter_len, sum_map, predicate combination, const_range)
 * give the same answers and are not reproduced.
 */
import { children, type Node, type NodeOf } from './ast.js';
import type { Dialect } from './dialect.js';
import { CompileError } from './errors.js';
import { ANY_SLICE, BOOL, FLOAT64, INT, mapOf, STRING } from './types.js';
import { goPow, GoMap, GoSlice } from './values.js';

/** Post-order walk (ast.Walk) that can replace each node. */
function walk(node: Node, visit: (n: Node) => Node): Node {
  switch (node.t) {
    case 'unary':
    case 'chain':
    case 'predicate':
      node.node = walk(node.node, visit);
      break;
    case 'binary':
      node.left = walk(node.left, visit);
      node.right = walk(node.right, visit);
      break;
    case 'member':
      node.node = walk(node.node, visit);
      node.property = walk(node.property, visit);
      break;
    case 'slice':
      node.node = walk(node.node, visit);
      if (node.from) node.from = walk(node.from, visit);
      if (node.to) node.to = walk(node.to, visit);
      break;
    case 'call':
      node.callee = walk(node.callee, visit);
      node.args = node.args.map((a) => walk(a, visit));
      break;
    case 'builtin':
      node.args = node.args.map((a) => walk(a, visit));
      break;
    case 'let':
      node.value = walk(node.value, visit);
      node.expr = walk(node.expr, visit);
      break;
    case 'seq':
    case 'array':
      node.nodes = node.nodes.map((a) => walk(a, visit));
      break;
    case 'cond':
      node.cond = walk(node.cond, visit);
      node.exp1 = walk(node.exp1, visit);
      node.exp2 = walk(node.exp2, visit);
      break;
    case 'map':
      node.pairs = node.pairs.map((a) => walk(a, visit));
      break;
    case 'pair':
      node.key = walk(node.key, visit);
      node.value = walk(node.value, visit);
      break;
  }
  return visit(node);
}

const wrap = (n: bigint) => BigInt.asIntN(64, n);
const int = (value: bigint): Node => ({ t: 'int', value: wrap(value), type: INT });
const float = (value: number): Node => ({ t: 'float', value, type: FLOAT64 });
const bool = (value: boolean): Node => ({ t: 'bool', value, type: BOOL });

/** One pass of fold.go; returns the replacement or the node itself. */
function fold(node: Node, applied: { yes: boolean }): Node {
  const patch = (n: Node) => {
    applied.yes = true;
    return n;
  };
  const patchCopy = (n: Node) => {
    applied.yes = true;
    n.type = node.type;
    return n;
  };
  if (node.t === 'unary') {
    const inner = node.node;
    if ((node.op === '-' || node.op === '+') && inner.t === 'int') return patch(int(node.op === '-' ? -inner.value : inner.value));
    if ((node.op === '-' || node.op === '+') && inner.t === 'float') return patch(float(node.op === '-' ? -inner.value : inner.value));
    if ((node.op === '!' || node.op === 'not') && inner.t === 'bool') return patch(bool(!inner.value));
    return node;
  }
  if (node.t === 'array') {
    // An array of literals becomes one []interface {} constant (what sum_array then no longer sees).
    if (node.nodes.length === 0 || !node.nodes.every((n) => n.t === 'int' || n.t === 'float' || n.t === 'string' || n.t === 'bool')) return node;
    return patch({ t: 'const', value: new GoSlice(ANY_SLICE, node.nodes.map((n) => (n as NodeOf<'int' | 'float' | 'string' | 'bool'>).value)), type: ANY_SLICE });
  }
  if (node.t !== 'binary') return node;
  const { left: l, right: r } = node;
  const nums = (l.t === 'int' || l.t === 'float') && (r.t === 'int' || r.t === 'float');
  const fl = (n: Node) => (n.t === 'int' ? Number(n.value) : (n as NodeOf<'float'>).value);
  switch (node.op) {
    case '+':
    case '-':
    case '*':
      if (l.t === 'int' && r.t === 'int') return patch(int(node.op === '+' ? l.value + r.value : node.op === '-' ? l.value - r.value : l.value * r.value));
      if (nums) return patch(float(node.op === '+' ? fl(l) + fl(r) : node.op === '-' ? fl(l) - fl(r) : fl(l) * fl(r)));
      if (node.op === '+' && l.t === 'string' && r.t === 'string') return patch({ t: 'string', value: l.value + r.value, type: STRING });
      return node;
    case '/':
      return nums ? patch(float(fl(l) / fl(r))) : node;
    case '%':
      if (l.t === 'int' && r.t === 'int') {
        if (r.value === 0n) throw new CompileError('integer divide by zero');
        return patch(int(l.value % r.value));
      }
      return node;
    case '**':
    case '^':
      return nums ? patch(float(goPow(fl(l), fl(r)))) : node;
    case 'and':
    case '&&': {
      const a = l.t === 'bool' ? l.value : undefined;
      const b = r.t === 'bool' ? r.value : undefined;
      if (a === true) return patchCopy(r);
      if (b === true) return patchCopy(l);
      if (a === false || b === false) return patch(bool(false));
      return node;
    }
    case 'or':
    case '||': {
      const a = l.t === 'bool' ? l.value : undefined;
      const b = r.t === 'bool' ? r.value : undefined;
      if (a === false) return patchCopy(r);
      if (b === false) return patchCopy(l);
      if (a === true || b === true) return patch(bool(true));
      return node;
    }
    case '==':
      if ((l.t === 'int' && r.t === 'int') || (l.t === 'string' && r.t === 'string') || (l.t === 'bool' && r.t === 'bool')) return patch(bool(l.value === r.value));
      return node;
  }
  return node;
}

/** in_array.go: `x in [1, 2, 3]` (x an int) or `x in ["a", "b"]` test a constant set. */
function inArray(node: Node): Node {
  if (node.t !== 'binary' || node.op !== 'in' || node.right.t !== 'array' || node.right.nodes.length === 0) return node;
  const items = node.right.nodes;
  const leftIsInt = node.left.type?.k === 'int';
  const keyType = leftIsInt && items.every((n) => n.t === 'int') ? INT : items.every((n) => n.t === 'string') ? STRING : undefined;
  if (!keyType) return node;
  const set = new GoMap(mapOf(keyType, BOOL));
  for (const item of items) set.set((item as NodeOf<'int' | 'string'>).value, true);
  return { t: 'binary', op: 'in', left: node.left, right: { t: 'const', value: set, type: set.type }, type: node.type };
}

/** in_range.go: `x in a..b` (x an int, a and b literals) is `x >= a and x <= b`. */
function inRange(node: Node): Node {
  if (node.t !== 'binary' || node.op !== 'in' || node.left.type?.k !== 'int') return node;
  const range = node.right;
  if (range.t !== 'binary' || range.op !== '..' || range.left.t !== 'int' || range.right.t !== 'int') return node;
  return {
    t: 'binary',
    op: 'and',
    left: { t: 'binary', op: '>=', left: node.left, right: range.left },
    right: { t: 'binary', op: '<=', left: node.left, right: range.right },
    type: node.type,
  };
}

function usesIndexPointer(node: Node): boolean {
  return (node.t === 'pointer' && node.name === 'index') || children(node).some(usesIndexPointer);
}

/** filter_map.go: map(filter(a, p), q) is one loop (filter with a map body). */
function filterMap(node: Node): Node {
  if (node.t !== 'builtin' || node.name !== 'map' || node.args.length !== 2 || usesIndexPointer(node.args[1]!)) return node;
  const [filter, predicate] = node.args as [Node, Node];
  if (predicate.t !== 'predicate' || filter.t !== 'builtin' || filter.name !== 'filter' || filter.map) return node;
  return { t: 'builtin', name: 'filter', args: filter.args, map: predicate.node, type: node.type };
}

/** filter_first.go / filter_last.go: filter(...)[0], first(filter(...)) and the -1 / last() forms. */
function filterEnds(node: Node): Node {
  const isFilter = (n: Node): n is NodeOf<'builtin'> => n.t === 'builtin' && n.name === 'filter' && n.args.length === 2;
  if (node.t === 'member' && !node.optional && node.property.t === 'int' && (node.property.value === 0n || node.property.value === -1n) && isFilter(node.node)) {
    return { t: 'builtin', name: node.property.value === 0n ? 'find' : 'findLast', args: node.node.args, throws: true, map: node.node.map, type: node.type };
  }
  if (node.t === 'builtin' && (node.name === 'first' || node.name === 'last') && node.args.length === 1 && isFilter(node.args[0]!)) {
    const filter = node.args[0];
    return { t: 'builtin', name: node.name === 'first' ? 'find' : 'findLast', args: filter.args, throws: false, map: filter.map, type: node.type };
  }
  return node;
}

/** sum_array.go (v1.17): sum([a, b, c]) is a + (b + c). */
function sumArray(node: Node): Node {
  if (node.t !== 'builtin' || node.name !== 'sum' || node.args.length !== 1) return node;
  const array = node.args[0]!;
  if (array.t !== 'array' || array.nodes.length < 2) return node;
  const fold = (nodes: Node[]): Node => (nodes.length === 2 ? { t: 'binary', op: '+', left: nodes[0]!, right: nodes[1]! } : { t: 'binary', op: '+', left: nodes[0]!, right: fold(nodes.slice(1)) });
  const out = fold(array.nodes);
  out.type = node.type;
  return out;
}

/** optimizer.Optimize; throws CompileError where folding finds an error. */
export function optimize(root: Node, dialect: Dialect): Node {
  let node = walk(root, inArray);
  for (let limit = 1000; limit >= 0; limit--) {
    const applied = { yes: false };
    node = walk(node, (n) => fold(n, applied));
    if (!applied.yes) break;
  }
  node = walk(node, inRange);
  node = walk(node, filterMap);
  node = walk(node, filterEnds);
  if (dialect.v17) node = walk(node, sumArray);
  return node;
}
