/**
 * expr's type pass (checker/checker.go; v1.17.7 works on checker/nature natures, v1.15.5 on
 * reflect.Types and checker/types.go): what expr.Compile rejects before anything runs, whatever path
 * evaluation would take, with the library's messages. It also does what the pass does to the tree:
 * each node gets its static type, and integer literals passed to float (or other integer) parameters
 * are converted (traverseAndReplaceIntegerNodesWith...).
 *
 * The environment is a map (Argo Rollouts passes map[string]any), so every member's static type is
 * the dynamic type of its value; a nil member has the nil type. Unknown (interface{}) types pass.
 */
import type { Node, NodeOf } from './ast.js';
import { type BuiltinDef, builtinsFor, type TypeArg } from './builtins.js';
import type { Dialect } from './dialect.js';
import { CompileError } from './errors.js';
import { compileRegexp } from './regexp.js';
import {
  ANY,
  ANY_MAP,
  ANY_SLICE,
  assignableTo,
  BOOL,
  ERROR,
  FLOAT64,
  type FuncType,
  funcOf,
  type GoType,
  INT,
  isFloatKind,
  isIntKind,
  mapOf,
  sliceOf,
  STRING,
  typeString,
} from './types.js';
import { typeOf, type Value } from './values.js';

/** A static type: v1.17's Nature (type, nil, element nature of built arrays), v1.15's reflect.Type + info. */
export interface Nature {
  type?: GoType;
  nil?: boolean;
  /** A builtin named as a value. */
  builtin?: BuiltinDef;
  /** v1.17 Nature.Ref: the element nature of arrays the builtins build ([]interface {} of ints, ...). */
  ref?: Nature;
  /** v1.15 info.elem: the common element type of an array literal. */
  elem?: GoType;
}

const UNKNOWN: Nature = {};
const NIL: Nature = { nil: true };
const of = (type: GoType): Nature => ({ type });

const isUnknown = (n: Nature) => (!n.type && !n.nil) || n.type?.k === 'interface';
const kind = (n: Nature) => n.type?.k ?? 'invalid';
const isInteger = (n: Nature) => !!n.type && isIntKind(n.type.k);
const isFloat = (n: Nature) => !!n.type && isFloatKind(n.type.k);
const isNumber = (n: Nature) => isInteger(n) || isFloat(n);
const isBool = (n: Nature) => kind(n) === 'bool';
const isString = (n: Nature) => kind(n) === 'string';
const isArray = (n: Nature) => kind(n) === 'slice' || kind(n) === 'array';
const isMap = (n: Nature) => kind(n) === 'map';
const isFunc = (n: Nature) => kind(n) === 'func';

type Check = (n: Nature) => boolean;

/** The environment's natures: each member typed by its value. */
export type EnvTypes = ReadonlyMap<string, Value>;

export class Checker {
  private err?: string;
  private readonly v17: boolean;
  private readonly builtins: ReadonlyMap<string, BuiltinDef>;
  private readonly vars: { name: string; nature: Nature }[] = [];
  private readonly scopes: { collection: Nature; vars: Record<string, Nature> }[] = [];

  constructor(
    dialect: Dialect,
    private readonly env: EnvTypes,
  ) {
    this.v17 = dialect.v17;
    this.builtins = builtinsFor(dialect);
  }

  /** Checks the tree (annotating it); throws CompileError with the first error. */
  check(node: Node): Nature {
    const nature = this.visit(node);
    if (this.err !== undefined) throw new CompileError(this.err);
    return nature;
  }

  private error(message: string): Nature {
    this.err ??= message;
    return this.v17 ? UNKNOWN : of(ANY);
  }

  /** Nature.String() in v1.17 ("unknown" without a type), %v of a reflect.Type in v1.15 ("<nil>"). */
  private str(n: Nature): string {
    return n.type ? typeString(n.type) : this.v17 ? 'unknown' : '<nil>';
  }

  private envNature(name: string): Nature | undefined {
    if (!this.env.has(name)) return undefined;
    const v = this.env.get(name)!;
    return v === null ? NIL : of(typeOf(v)!);
  }

  private elemOf(n: Nature): Nature {
    if (!this.v17) {
      const t = n.type;
      return t && (t.k === 'slice' || t.k === 'array' || t.k === 'map') ? of(t.elem) : UNKNOWN;
    }
    switch (n.type?.k) {
      case 'map':
        return of(n.type.elem);
      case 'slice':
      case 'array':
        return n.ref ?? of(n.type.elem);
    }
    return UNKNOWN;
  }

  private arrayOf(elem: Nature): Nature {
    return { type: ANY_SLICE, ref: elem };
  }

  visit(node: Node): Nature {
    const n = this.visitNode(node);
    node.type = n.type;
    node.isNil = n.nil;
    return n;
  }

  private visitNode(node: Node): Nature {
    switch (node.t) {
      case 'nil':
        return NIL;
      case 'ident':
        return this.identifier(node);
      case 'int':
        return of(INT);
      case 'float':
        return of(FLOAT64);
      case 'bool':
        return of(BOOL);
      case 'string':
        return of(STRING);
      case 'const': {
        const t = typeOf(node.value);
        return t ? of(t) : NIL;
      }
      case 'unary':
        return this.unary(node);
      case 'binary':
        return this.binary(node);
      case 'chain':
        return this.visit(node.node);
      case 'member':
        return this.member(node);
      case 'slice':
        return this.slice(node);
      case 'call':
        return this.call(node);
      case 'builtin':
        return this.builtin(node);
      case 'predicate':
        return this.predicate(node);
      case 'pointer':
        return this.pointer(node);
      case 'let':
        return this.variable(node);
      case 'seq': {
        let last: Nature = UNKNOWN;
        for (const n of node.nodes) last = this.visit(n);
        return last;
      }
      case 'cond':
        return this.conditional(node);
      case 'array':
        return this.array(node);
      case 'map':
        for (const pair of node.pairs) this.visit(pair);
        return of(ANY_MAP);
      case 'pair':
        this.visit(node.key);
        this.visit(node.value);
        return NIL;
    }
  }

  private identifier(node: NodeOf<'ident'>): Nature {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === node.value) return this.vars[i]!.nature;
    if (node.value === '$env') return this.v17 ? UNKNOWN : of(ANY_MAP);
    return this.ident(node.value, true, true);
  }

  /** v1.17 looks in the environment first, v1.15 at the builtins first. */
  private ident(name: string, strict: boolean, builtins: boolean): Nature {
    const builtin = builtins ? this.builtins.get(name) : undefined;
    const builtinNature = (b: BuiltinDef): Nature => ({ type: this.v17 ? (b.types?.[0] ?? GENERIC_FUNC) : GENERIC_FUNC, builtin: b });
    if (!this.v17 && builtin) return builtinNature(builtin);
    const fromEnv = this.envNature(name);
    if (fromEnv) return fromEnv;
    if (this.v17 && builtin) return builtinNature(builtin);
    if (strict) return this.error(`unknown name ${name}`);
    return this.v17 ? UNKNOWN : of(ANY);
  }

  private unary(node: NodeOf<'unary'>): Nature {
    const n = this.visit(node.node);
    switch (node.op) {
      case '!':
      case 'not':
        if (isBool(n) || isUnknown(n)) return of(BOOL);
        break;
      case '+':
      case '-':
        if (isNumber(n)) return n;
        if (isUnknown(n)) return this.v17 ? UNKNOWN : of(ANY);
        break;
      default:
        return this.error(`unknown operator (${node.op})`);
    }
    return this.error(`invalid operation: ${node.op} (mismatched type ${this.str(n)})`);
  }

  /** v1.17 MaybeCompatible / v1.15 or(): one side unknown and the other passes a check. */
  private maybe(l: Nature, r: Nature, ...checks: Check[]): boolean {
    const lu = isUnknown(l);
    const ru = isUnknown(r);
    if (!this.v17) {
      // v1.15 isAny: an interface type; the nil type is not "any".
      const la = l.type?.k === 'interface';
      const ra = r.type?.k === 'interface';
      return (la && ra) || (la && checks.some((c) => c(r))) || (ra && checks.some((c) => c(l)));
    }
    return (lu && ru) || (lu && checks.some((c) => c(r))) || (ru && checks.some((c) => c(l)));
  }

  private assignable(n: Nature, t: Nature): boolean {
    if (n.nil) {
      if (['interface', 'func', 'map', 'slice'].includes(kind(t))) return true;
    }
    if (!n.type || !t.type || (n.type.k !== t.type.k && t.type.k !== 'interface')) return false;
    return assignableTo(n.type, t.type);
  }

  private comparable(l: Nature, r: Nature): boolean {
    if (this.v17) {
      return isUnknown(l) || isUnknown(r) || !!l.nil || !!r.nil || (isNumber(l) && isNumber(r)) || (isArray(l) && isArray(r)) || this.assignable(l, r);
    }
    if (!l.type || !r.type) return true;
    return l.type.k === r.type.k || (isNumber(l) && isNumber(r)) || l.type.k === 'interface' || r.type.k === 'interface';
  }

  /** v1.17 PromoteNumericNature, v1.15 combined(). */
  private promote(l: Nature, r: Nature): Nature {
    if (this.v17) {
      if (isUnknown(l) || isUnknown(r)) return UNKNOWN;
      return isFloat(l) || isFloat(r) ? of(FLOAT64) : of(INT);
    }
    if (l.type!.k === r.type!.k) return l;
    return isFloat(l) || isFloat(r) ? of(FLOAT64) : of(INT);
  }

  private binary(node: NodeOf<'binary'>): Nature {
    const l = this.visit(node.left);
    const r = this.visit(node.right);
    const anyOrUnknown = () => (this.v17 ? UNKNOWN : of(ANY));
    switch (node.op) {
      case '==':
      case '!=':
        if (this.comparable(l, r)) return of(BOOL);
        break;
      case 'or':
      case '||':
      case 'and':
      case '&&':
        if ((isBool(l) && isBool(r)) || this.maybe(l, r, isBool)) return of(BOOL);
        break;
      case '<':
      case '>':
      case '>=':
      case '<=':
        if ((isNumber(l) && isNumber(r)) || (isString(l) && isString(r)) || this.maybe(l, r, isNumber, isString)) return of(BOOL);
        break;
      case '-':
      case '*':
        if (isNumber(l) && isNumber(r)) return this.promote(l, r);
        if (this.maybe(l, r, isNumber)) return anyOrUnknown();
        break;
      case '/':
      case '**':
      case '^':
        if ((isNumber(l) && isNumber(r)) || this.maybe(l, r, isNumber)) return of(FLOAT64);
        break;
      case '%':
        if (isInteger(l) && isInteger(r)) return this.v17 ? of(INT) : this.promote(l, r);
        if (this.maybe(l, r, isInteger)) return this.v17 ? of(INT) : of(ANY);
        break;
      case '+':
        if (isNumber(l) && isNumber(r)) return this.promote(l, r);
        if (isString(l) && isString(r)) return of(STRING);
        if (this.maybe(l, r, isNumber, isString)) return anyOrUnknown();
        break;
      case 'in':
        return this.inOperator(node, l, r);
      case 'matches':
        if (node.right.t === 'string') {
          const compiled = compileRegexp(node.right.value);
          if (typeof compiled === 'string') return this.error(compiled);
        }
        if ((isString(l) && isString(r)) || this.maybe(l, r, isString)) return of(BOOL);
        break;
      case 'contains':
      case 'startsWith':
      case 'endsWith':
        if ((isString(l) && isString(r)) || this.maybe(l, r, isString)) return of(BOOL);
        break;
      case '..':
        if ((isInteger(l) && isInteger(r)) || this.maybe(l, r, isInteger)) return this.v17 ? this.arrayOf(of(INT)) : of(sliceOf(INT));
        break;
      case '??':
        if (l.nil && !r.nil) return r;
        if (!l.nil && r.nil) return l;
        if (l.nil && r.nil) return NIL;
        if (this.v17 ? this.assignable(r, l) : assignableTo(r.type!, l.type!)) return l;
        return anyOrUnknown();
      default:
        return this.error(`unknown operator (${node.op})`);
    }
    return this.error(`invalid operation: ${node.op} (mismatched types ${this.str(l)} and ${this.str(r)})`);
  }

  private inOperator(node: NodeOf<'binary'>, l: Nature, r: Nature): Nature {
    if (this.v17) {
      if (isMap(r)) {
        const key = of((r.type as Extract<GoType, { k: 'map' }>).key);
        if (!isUnknown(l) && !this.assignable(l, key)) return this.error(`cannot use ${this.str(l)} as type ${this.str(key)} in map key`);
        return of(BOOL);
      }
      if (isArray(r)) {
        const elem = this.elemOf(r);
        if (!this.comparable(l, elem)) return this.error(`cannot use ${this.str(l)} as type ${this.str(elem)} in array`);
        return of(BOOL);
      }
      if (isUnknown(l) && (isString(r) || isArray(r) || isMap(r))) return of(BOOL);
      if (isUnknown(r)) return of(BOOL);
    } else {
      const rightInfoElem = node.right.t === 'array' ? arrayLiteralElem.get(node.right) : undefined;
      if (isMap(r)) {
        if (!l.type && l.nil) return of(BOOL);
        const key = (r.type as Extract<GoType, { k: 'map' }>).key;
        if (l.type?.k !== 'interface' && !assignableTo(l.type!, key)) return this.error(`cannot use ${this.str(l)} as type ${typeString(key)} in map key`);
        return of(BOOL);
      }
      if (isArray(r)) {
        if (l.nil) return of(BOOL);
        const elem = of((r.type as Extract<GoType, { k: 'slice' }>).elem);
        if (!this.comparable(l, elem)) return this.error(`cannot use ${this.str(l)} as type ${this.str(elem)} in array`);
        if (rightInfoElem && !this.comparable(l, of(rightInfoElem))) return this.error(`cannot use ${this.str(l)} as type ${typeString(rightInfoElem)} in array`);
        return of(BOOL);
      }
      if (l.type?.k === 'interface' && (isString(r) || isArray(r) || isMap(r))) return of(BOOL);
      if (r.type?.k === 'interface') return of(BOOL);
    }
    return this.error(`invalid operation: in (mismatched types ${this.str(l)} and ${this.str(r)})`);
  }

  private member(node: NodeOf<'member'>): Nature {
    const isEnv = node.node.t === 'ident' && node.node.value === '$env';
    if (this.v17 && isEnv) {
      if (node.property.t === 'string') return this.ident(node.property.value, !node.optional, false);
      return UNKNOWN;
    }
    const base = this.visit(node.node);
    const prop = this.visit(node.property);
    if (!this.v17 && isEnv) {
      if (node.property.t === 'string') return this.ident(node.property.value, !node.optional, true);
      return of(ANY);
    }
    const name = node.property.t === 'string' ? node.property.value : undefined;
    if (this.v17) {
      if (isUnknown(base)) return UNKNOWN;
      if (name !== undefined && base.nil) return this.error(`type nil has no field ${name}`);
    } else {
      if (name !== undefined && !base.type) return this.error(`type <nil> has no field ${name}`);
      if (base.type?.k === 'interface') return of(ANY);
    }
    switch (base.type?.k) {
      case 'map': {
        const key = of(base.type.key);
        const keyOk = this.v17 ? this.assignable(prop, key) || isUnknown(prop) : !prop.type || assignableTo(prop.type, key.type!) || prop.type.k === 'interface';
        if (!keyOk) return this.error(`cannot use ${this.str(prop)} to get an element from ${this.str(base)}`);
        return this.elemOf(base);
      }
      case 'slice':
      case 'array':
        if (!isInteger(prop) && !(this.v17 ? isUnknown(prop) : prop.type?.k === 'interface')) {
          return this.error(`array elements can only be selected using an integer (got ${this.str(prop)})`);
        }
        return this.elemOf(base);
    }
    // v1.15 says "has no field" only for structs; other types are "type T[P] is undefined".
    if (name !== undefined && this.v17) return this.error(`type ${this.str(base)} has no ${node.method ? 'method' : 'field'} ${name}`);
    return this.error(`type ${this.str(base)}[${this.str(prop)}] is undefined`);
  }

  private slice(node: NodeOf<'slice'>): Nature {
    const n = this.visit(node.node);
    if (this.v17 && isUnknown(n)) return UNKNOWN;
    if (!['string', 'slice', 'array'].includes(kind(n)) && !(!this.v17 && kind(n) === 'interface')) return this.error(`cannot slice ${this.str(n)}`);
    for (const bound of [node.from, node.to]) {
      if (!bound) continue;
      const b = this.visit(bound);
      if (!isInteger(b) && !(this.v17 ? isUnknown(b) : b.type?.k === 'interface')) return this.error(`non-integer slice index ${this.str(b)}`);
    }
    return n;
  }

  private call(node: NodeOf<'call'>): Nature {
    const fn = this.visit(node.callee);
    if (this.v17 && isUnknown(fn)) return UNKNOWN;
    if (fn.builtin) return this.checkFunction(fn.builtin, node.args);
    const name = node.callee.t === 'ident' ? node.callee.value : node.callee.t === 'member' && node.callee.property.t === 'string' ? node.callee.property.value : 'function';
    if (fn.nil) return this.error(`${name} is nil; cannot call nil as function`);
    if (!this.v17 && kind(fn) === 'interface') return of(ANY);
    if (isFunc(fn)) {
      const out = this.checkArguments(name, fn.type as FuncType, node.args);
      if (typeof out === 'string') {
        this.err ??= out;
        return this.v17 ? UNKNOWN : of(ANY);
      }
      return out;
    }
    return this.error(`${this.str(fn)} is not callable`);
  }

  /** checkArguments: arity, then each argument against its parameter. */
  private checkArguments(name: string, fn: FuncType, args: Node[]): Nature | string {
    if (fn.out.length === 0) return `func ${name} doesn't return value`;
    if (fn.out.length > 2) return `func ${name} returns more then two values`;
    const numIn = fn.in.length;
    let err: string | undefined;
    if (fn.variadic) {
      if (args.length < numIn - 1) err = `not enough arguments to call ${name}`;
    } else if (args.length > numIn) {
      err = `too many arguments to call ${name}`;
    } else if (args.length < numIn) {
      err = `not enough arguments to call ${name}`;
    }
    if (err) {
      if (this.v17) for (const arg of args) this.visit(arg);
      return err;
    }
    for (let i = 0; i < args.length; i++) {
      const arg = this.visit(args[i]!);
      const inType = fn.variadic && i >= numIn - 1 ? (fn.in[numIn - 1] as Extract<GoType, { k: 'slice' }>).elem : fn.in[i]!;
      if (isFloatKind(inType.k) && isInteger(arg)) {
        args[i] = toFloatNodes(args[i]!, inType);
        continue;
      }
      if (isIntKind(inType.k) && isInteger(arg) && arg.type!.k !== inType.k) {
        retypeIntegerNodes(args[i]!, inType, this.v17);
        continue;
      }
      if (this.v17 && arg.nil) {
        if (inType.k === 'interface') continue;
        return `cannot use nil as argument (type ${typeString(inType)}) to call ${name}`;
      }
      if (!this.v17 && !arg.type) continue;
      const ok = this.v17 ? this.assignable(arg, of(inType)) || isUnknown(arg) : assignableTo(arg.type!, inType) || arg.type!.k === 'interface';
      if (!ok) return `cannot use ${this.str(arg)} as argument (type ${typeString(inType)}) to call ${name} `;
    }
    return of(fn.out[0]!);
  }

  /** checkFunction: a Validate function, or the overloads in Types, or the generic signature. */
  private checkFunction(f: BuiltinDef, args: Node[]): Nature {
    if (f.validate) {
      const types: TypeArg[] = args.map((arg) => {
        const n = this.visit(arg);
        if (this.v17 && isUnknown(n)) return ANY;
        return n.type ?? null;
      });
      const out = f.validate(types);
      if (typeof out === 'string') return this.error(out);
      return of(out);
    }
    if (!f.types || f.types.length === 0) {
      const out = this.checkArguments(f.name, GENERIC_FUNC, args);
      if (typeof out === 'string') {
        this.err ??= out;
        return this.v17 ? UNKNOWN : of(ANY);
      }
      return out;
    }
    let lastErr: string | undefined;
    for (const t of f.types) {
      const out = this.checkArguments(f.name, t, args);
      if (typeof out === 'string') {
        lastErr = out;
        continue;
      }
      return out;
    }
    this.err ??= lastErr;
    return this.v17 ? UNKNOWN : of(ANY);
  }

  private begin(collection: Nature, vars: Record<string, Nature> = {}): void {
    this.scopes.push({ collection, vars });
  }

  private end(): void {
    this.scopes.pop();
  }

  /** The collection argument of a predicate builtin: an array or unknown. */
  private collection(node: NodeOf<'builtin'>): Nature | undefined {
    const c = this.visit(node.args[0]!);
    if (!isArray(c) && !(this.v17 ? isUnknown(c) : c.type?.k === 'interface')) {
      this.error(`builtin ${node.name} takes only array (got ${this.str(c)})`);
      return undefined;
    }
    return c;
  }

  /** A predicate's signature: one input, one output (the body's type). */
  private predicateOut(predicate: Nature): Nature | undefined {
    const fn = predicate.type;
    if (!fn || fn.k !== 'func' || fn.out.length !== 1 || fn.in.length !== 1 || fn.in[0]!.k !== 'interface') return undefined;
    return of(fn.out[0]!);
  }

  private checkPredicateBool(out: Nature): string | undefined {
    if (!isBool(out) && !isUnknown(out)) return `predicate should return boolean (got ${this.str(out)})`;
    return undefined;
  }

  private builtin(node: NodeOf<'builtin'>): Nature {
    const name = node.name;
    const predicateError = () => this.error('predicate should has one input and one output param');
    const withPredicate = (vars: Record<string, Nature> = {}) => {
      const c = this.collection(node);
      if (!c) return undefined;
      this.begin(c, vars);
      const p = this.visit(node.args[1]!);
      this.end();
      return { c, p, out: this.predicateOut(p) };
    };
    switch (name) {
      case 'all':
      case 'none':
      case 'any':
      case 'one':
      case 'filter':
      case 'find':
      case 'findLast':
      case 'findIndex':
      case 'findLastIndex': {
        const r = withPredicate();
        if (!r) return this.v17 ? UNKNOWN : of(ANY);
        if (!r.out) return predicateError();
        const bad = this.checkPredicateBool(r.out);
        if (bad) return this.error(bad);
        if (name === 'filter') {
          if (isUnknown(r.c)) return of(ANY_SLICE);
          return this.v17 ? this.arrayOf(this.elemOf(r.c)) : of(sliceOf((r.c.type as Extract<GoType, { k: 'slice' }>).elem));
        }
        if (name === 'find' || name === 'findLast') return isUnknown(r.c) ? (this.v17 ? UNKNOWN : of(ANY)) : this.elemOf(r.c);
        if (name === 'findIndex' || name === 'findLastIndex') return of(INT);
        return of(BOOL);
      }
      case 'map': {
        const r = withPredicate({ index: of(INT) });
        if (!r) return this.v17 ? UNKNOWN : of(ANY);
        if (!r.out) return predicateError();
        return this.v17 ? this.arrayOf(r.p.ref ?? UNKNOWN) : of(sliceOf(r.out.type!));
      }
      case 'count': {
        if (this.v17 && node.args.length === 1) {
          return this.collection(node) ? of(INT) : UNKNOWN;
        }
        const r = withPredicate();
        if (!r) return this.v17 ? UNKNOWN : of(ANY);
        if (!r.out) return predicateError();
        const bad = this.checkPredicateBool(r.out);
        if (bad) return this.error(bad);
        return of(INT);
      }
      case 'sum':
        if (this.v17) {
          const c = this.collection(node);
          if (!c) return UNKNOWN;
          if (node.args.length === 2) {
            this.begin(c);
            const p = this.visit(node.args[1]!);
            this.end();
            const out = this.predicateOut(p);
            if (out) return out;
            break;
          }
          return isUnknown(c) ? UNKNOWN : this.elemOf(c);
        }
        break;
      case 'groupBy': {
        const r = withPredicate();
        if (!r) return this.v17 ? UNKNOWN : of(ANY);
        if (!r.out) return predicateError();
        return of(mapOf(ANY, ANY_SLICE));
      }
      case 'sortBy':
        if (this.v17) {
          const r = withPredicate();
          if (!r) return UNKNOWN;
          if (node.args.length === 3) this.visit(node.args[2]!);
          if (!r.out) return predicateError();
          return r.c;
        }
        break;
      case 'reduce': {
        const r = withPredicate({ index: of(INT), acc: this.v17 ? UNKNOWN : of(ANY) });
        if (!r) return this.v17 ? UNKNOWN : of(ANY);
        if (node.args.length === 3) this.visit(node.args[2]!);
        const fn = r.p.type;
        if (fn?.k === 'func' && fn.out.length === 1) return this.v17 ? (r.p.ref ?? UNKNOWN) : of(fn.out[0]!);
        return this.error('predicate should has two input and one output param');
      }
    }
    const def = this.builtins.get(name);
    if (!def) return this.error(`unknown builtin ${name}`);
    if (name === 'get') return this.get(node);
    return this.checkFunction(def, node.args);
  }

  private get(node: NodeOf<'builtin'>): Nature {
    if (node.args.length !== 2) return this.error(`invalid number of arguments (expected 2, got ${node.args.length})`);
    const [arg0, arg1] = node.args as [Node, Node];
    if (arg0.t === 'ident' && arg0.value === '$env') {
      if (arg1.t === 'string') return this.envNature(arg1.value) ?? (this.v17 ? UNKNOWN : NIL);
      return this.v17 ? UNKNOWN : of(ANY);
    }
    const base = this.visit(arg0);
    if (this.v17) {
      const prop = this.visit(arg1);
      if (isUnknown(base)) return UNKNOWN;
      if (isArray(base)) {
        if (!isInteger(prop) && !isUnknown(prop)) return this.error(`non-integer slice index ${this.str(prop)}`);
        return this.elemOf(base);
      }
      if (isMap(base)) {
        if (!this.assignable(prop, of((base.type as Extract<GoType, { k: 'map' }>).key)) && !isUnknown(prop)) {
          return this.error(`cannot use ${this.str(prop)} to get an element from ${this.str(base)}`);
        }
        return this.elemOf(base);
      }
      return this.error(`type ${this.str(base)} does not support indexing`);
    }
    if (kind(base) === 'interface') return of(ANY);
    if (isArray(base) || isMap(base)) {
      const prop = this.visit(arg1);
      if (!prop.type) return this.error(`cannot use nil as ${isArray(base) ? 'slice' : 'map'} index`);
      if (isArray(base)) {
        if (!isInteger(prop) && prop.type.k !== 'interface') return this.error(`non-integer slice index ${this.str(prop)}`);
      } else if (!assignableTo(prop.type, (base.type as Extract<GoType, { k: 'map' }>).key) && prop.type.k !== 'interface') {
        return this.error(`cannot use ${this.str(prop)} to get an element from ${this.str(base)}`);
      }
      return this.elemOf(base);
    }
    return this.error(`type ${this.str(base)} does not support indexing`);
  }

  private predicate(node: NodeOf<'predicate'>): Nature {
    const n = this.visit(node.node);
    if (!this.v17) {
      if (!n.type && n.nil) return this.error('closure cannot be nil');
      return of(funcOf([ANY], [n.type!]));
    }
    const out = isUnknown(n) ? [ANY] : n.nil ? [] : [n.type!];
    return { type: funcOf([ANY], out), ref: n };
  }

  private pointer(node: NodeOf<'pointer'>): Nature {
    const scope = this.scopes[this.scopes.length - 1];
    if (!scope) return this.error(`cannot use pointer accessor outside ${this.v17 ? 'predicate' : 'closure'}`);
    if (node.name === '') {
      if (this.v17 ? isUnknown(scope.collection) : kind(scope.collection) === 'interface') return this.v17 ? UNKNOWN : of(ANY);
      if (isArray(scope.collection)) return this.elemOf(scope.collection);
      return this.error(`cannot use ${this.str(scope.collection)} as array`);
    }
    if (Object.hasOwn(scope.vars, node.name)) return scope.vars[node.name]!;
    return this.error(`unknown pointer #${node.name}`);
  }

  private variable(node: NodeOf<'let'>): Nature {
    if (this.env.has(node.name)) return this.error(`cannot redeclare ${node.name}`);
    if (this.builtins.has(node.name)) return this.error(`cannot redeclare builtin ${node.name}`);
    if (this.vars.some((v) => v.name === node.name)) return this.error(`cannot redeclare variable ${node.name}`);
    const nature = this.visit(node.value);
    this.vars.push({ name: node.name, nature });
    const out = this.visit(node.expr);
    this.vars.pop();
    return out;
  }

  private conditional(node: NodeOf<'cond'>): Nature {
    const c = this.visit(node.cond);
    if (!isBool(c) && !(this.v17 ? isUnknown(c) : kind(c) === 'interface')) return this.error(`non-bool expression (type ${this.str(c)}) used as condition`);
    const t1 = this.visit(node.exp1);
    const t2 = this.visit(node.exp2);
    if (this.v17) {
      if (t1.nil && !t2.nil) return t2;
      if (!t1.nil && t2.nil) return t1;
      if (t1.nil && t2.nil) return NIL;
      if (this.assignable(t1, t2)) {
        if (isArray(t1) && isArray(t2)) {
          const e1 = this.elemOf(t1);
          const e2 = this.elemOf(t2);
          if (!this.assignable(e1, e2) || !this.assignable(e2, e1)) return of(ANY_SLICE);
        }
        return t1;
      }
      return UNKNOWN;
    }
    if (!t1.type && t2.type) return t2;
    if (t1.type && !t2.type) return t1;
    if (!t1.type && !t2.type) return NIL;
    return assignableTo(t1.type!, t2.type!) ? t1 : of(ANY);
  }

  private array(node: NodeOf<'array'>): Nature {
    let prev: Nature = UNKNOWN;
    let same = true;
    node.nodes.forEach((item, i) => {
      const curr = this.visit(item);
      if (i > 0) {
        if (this.v17) {
          if (kind(curr) !== kind(prev)) same = false;
        } else if (!curr.type || !prev.type || curr.type.k !== prev.type.k) {
          same = false;
        }
      }
      prev = curr;
    });
    if (this.v17) return same ? this.arrayOf(prev) : of(ANY_SLICE);
    if (same && prev.type) arrayLiteralElem.set(node, prev.type);
    return of(ANY_SLICE);
  }
}

/** v1.15 keeps the element type of an array literal beside its type (info.elem) for `in`. */
const arrayLiteralElem = new WeakMap<Node, GoType>();

/** func(...interface {}) (interface {}, error): builtins declared without Types. */
export const GENERIC_FUNC = funcOf([sliceOf(ANY)], [ANY, ERROR], true);

/** traverseAndReplaceIntegerNodesWithFloatNodes: integer literals (and + - * of them) become floats. */
function toFloatNodes(node: Node, t: GoType): Node {
  switch (node.t) {
    case 'int':
      return { t: 'float', value: Number(node.value), type: t };
    case 'unary':
      node.node = toFloatNodes(node.node, t);
      return node;
    case 'binary':
      if (node.op === '+' || node.op === '-' || node.op === '*') {
        node.left = toFloatNodes(node.left, t);
        node.right = toFloatNodes(node.right, t);
      }
      return node;
    default:
      return node;
  }
}

/** traverseAndReplaceIntegerNodesWithIntegerNodes: integer literals take the parameter's integer type. */
function retypeIntegerNodes(node: Node, t: GoType, v17: boolean): void {
  switch (node.t) {
    case 'int':
      node.type = t;
      return;
    case 'unary':
      if (v17) node.type = t;
      retypeIntegerNodes(node.node, t, v17);
      return;
    case 'binary':
      if (node.op === '+' || node.op === '-' || node.op === '*') {
        retypeIntegerNodes(node.left, t, v17);
        retypeIntegerNodes(node.right, t, v17);
      }
      return;
  }
}

