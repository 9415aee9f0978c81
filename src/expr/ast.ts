/**
 * expr's AST (ast/node.go). The type pass annotates nodes with their static type (`type`, as
 * node.SetType does) and the optimizer rewrites some of them, as upstream does before compiling.
 */
import type { GoType } from './types.js';
import type { Value } from './values.js';

interface Base {
  /** Static type from the type pass (undefined: unknown / nil). */
  type?: GoType;
  /** Static nil (a nil literal or a nil member of the environment). */
  isNil?: boolean;
}

export type Node =
  | (Base & { t: 'nil' })
  | (Base & { t: 'ident'; value: string })
  | (Base & { t: 'int'; value: bigint })
  | (Base & { t: 'float'; value: number })
  | (Base & { t: 'bool'; value: boolean })
  | (Base & { t: 'string'; value: string })
  | (Base & { t: 'const'; value: Value })
  | (Base & { t: 'unary'; op: string; node: Node })
  | (Base & { t: 'binary'; op: string; left: Node; right: Node })
  | (Base & { t: 'chain'; node: Node })
  | (Base & { t: 'member'; node: Node; property: Node; optional: boolean; method?: boolean })
  | (Base & { t: 'slice'; node: Node; from?: Node; to?: Node })
  | (Base & { t: 'call'; callee: Node; args: Node[] })
  | (Base & { t: 'builtin'; name: string; args: Node[]; throws?: boolean; map?: Node })
  | (Base & { t: 'predicate'; node: Node })
  | (Base & { t: 'pointer'; name: string })
  | (Base & { t: 'let'; name: string; value: Node; expr: Node })
  | (Base & { t: 'seq'; nodes: Node[] })
  | (Base & { t: 'cond'; cond: Node; exp1: Node; exp2: Node })
  | (Base & { t: 'array'; nodes: Node[] })
  | (Base & { t: 'map'; pairs: Node[] })
  | (Base & { t: 'pair'; key: Node; value: Node });

export type NodeOf<T extends Node['t']> = Extract<Node, { t: T }>;

/** The children of a node, for walks that do not care about their roles. */
export function children(n: Node): Node[] {
  switch (n.t) {
    case 'unary':
    case 'chain':
    case 'predicate':
      return [n.node];
    case 'binary':
      return [n.left, n.right];
    case 'member':
      return [n.node, n.property];
    case 'slice':
      return [n.node, ...(n.from ? [n.from] : []), ...(n.to ? [n.to] : [])];
    case 'call':
      return [n.callee, ...n.args];
    case 'builtin':
      return [...n.args, ...(n.map ? [n.map] : [])];
    case 'let':
      return [n.value, n.expr];
    case 'seq':
      return n.nodes;
    case 'cond':
      return [n.cond, n.exp1, n.exp2];
    case 'array':
      return n.nodes;
    case 'map':
      return n.pairs;
    case 'pair':
      return [n.key, n.value];
    default:
      return [];
  }
}
