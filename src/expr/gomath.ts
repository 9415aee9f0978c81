/**
 * Go's math.Pow, which expr's `**` and `^` call (runtime.Exponent), ported so that results agree to
 * the last bit: JavaScript's `**` rounds differently (0.5 ** 1.5 is 0.35355339059327373 in V8,
 * 0.3535533905932738 in Go). math/pow.go (Go 1.19, unchanged since) multiplies by repeated squaring
 * and takes the fractional power as Exp(yf * Log(x)); on amd64 Log is log_amd64.s (the algorithm of
 * log.go) and Exp is exp_amd64.s, whose fused multiply-adds (CPUs with FMA, as the servers
 * controllers run on) are computed exactly here. Go itself answers differently in the last bit on
 * CPUs without FMA and on arm64.
 */

const view = new DataView(new ArrayBuffer(8));

function bits(x: number): bigint {
  view.setFloat64(0, x);
  return view.getBigUint64(0);
}

function fromBits(b: bigint): number {
  view.setBigUint64(0, b);
  return view.getFloat64(0);
}

/** x = m * 2^e with m an integer (finite, non-zero x). */
function decompose(x: number): { m: bigint; e: number } {
  const b = bits(x);
  const negative = b >> 63n === 1n;
  const exp = Number((b >> 52n) & 0x7ffn);
  const frac = b & ((1n << 52n) - 1n);
  const m = exp === 0 ? frac : frac | (1n << 52n);
  return { m: negative ? -m : m, e: exp === 0 ? -1074 : exp - 1075 };
}

/** n * 2^e, rounded once to the nearest double (ties to even). */
function toDouble(n: bigint, e: number): number {
  if (n === 0n) return 0;
  const negative = n < 0n;
  let a = negative ? -n : n;
  const length = a.toString(2).length;
  if (length > 53) {
    const shift = BigInt(length - 53);
    const rest = a & ((1n << shift) - 1n);
    const half = 1n << (shift - 1n);
    a >>= shift;
    if (rest > half || (rest === half && (a & 1n) === 1n)) a += 1n;
    e += Number(shift);
  }
  const result = ldexp(Number(a), e);
  return negative ? -result : result;
}

/** A fused multiply-add: a * b + c with one rounding. */
export function fma(a: number, b: number, c: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(c) || a === 0 || b === 0) return a * b + c;
  const x = decompose(a);
  const y = decompose(b);
  const product = { m: x.m * y.m, e: x.e + y.e };
  if (c === 0) return toDouble(product.m, product.e);
  const z = decompose(c);
  const e = Math.min(product.e, z.e);
  const sum = (product.m << BigInt(product.e - e)) + (z.m << BigInt(z.e - e));
  return sum === 0n ? 0 : toDouble(sum, e);
}

/** math.Ldexp: frac * 2^exp. */
export function ldexp(frac: number, exp: number): number {
  let x = frac;
  while (exp > 1023) {
    x *= 2 ** 1023;
    exp -= 1023;
  }
  while (exp < -1022) {
    x *= 2 ** -1022;
    exp += 1022;
    if (x === 0) return x;
  }
  return x * 2 ** exp;
}

/** math.Frexp: frac in [0.5, 1) and exp with x = frac * 2^exp. */
export function frexp(x: number): { frac: number; exp: number } {
  if (x === 0 || !Number.isFinite(x)) return { frac: x, exp: 0 };
  let exp = 0;
  if (Math.abs(x) < 2 ** -1022) {
    x *= 2 ** 52;
    exp = -52;
  }
  const b = bits(x);
  exp += Number((b >> 52n) & 0x7ffn) - 1022;
  const frac = fromBits((b & ~(0x7ffn << 52n)) | (1022n << 52n));
  return { frac, exp };
}

const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;
const L1 = 6.666666666666735130e-1;
const L2 = 3.999999999940941908e-1;
const L3 = 2.857142874366239149e-1;
const L4 = 2.222219843214978396e-1;
const L5 = 1.818357216161805012e-1;
const L6 = 1.531383769920937332e-1;
const L7 = 1.479819860511658591e-1;

/** math.Log (log_amd64.s, the algorithm of log.go). */
export function log(x: number): number {
  if (Number.isNaN(x) || x === Number.POSITIVE_INFINITY) return x;
  if (x < 0) return Number.NaN;
  if (x === 0) return Number.NEGATIVE_INFINITY;
  let { frac: f1, exp: ki } = frexp(x);
  if (f1 <= Math.SQRT2 / 2) {
    f1 *= 2;
    ki--;
  }
  const f = f1 - 1;
  const k = ki;
  const s = f / (2 + f);
  const s2 = s * s;
  const s4 = s2 * s2;
  const t1 = s2 * (L1 + s4 * (L3 + s4 * (L5 + s4 * L7)));
  const t2 = s4 * (L2 + s4 * (L4 + s4 * L6));
  const R = t1 + t2;
  const hfsq = 0.5 * f * f;
  return k * LN2_HI - (hfsq - (s * (hfsq + R) + k * LN2_LO) - f);
}

const LOG2E = 1.442695040888963407359924681001892;
const LN2U = 0.69314718055966295651160180568695068359375;
const LN2L = 0.28235290563031577122588448175013436025525412068e-12;
const OVERFLOW = 7.09782712893384e2;
const TAYLOR = [2.4801587301587301587e-5, 1.9841269841269841270e-4, 1.3888888888888888889e-3, 8.3333333333333333333e-3, 4.1666666666666666667e-2, 1.6666666666666666667e-1, 0.5, 1];

/** CVTSD2SL: float to int32 in the default rounding mode (to nearest, ties to even). */
function roundEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** math.Exp as exp_amd64.s computes it with FMA. */
export function exp(x: number): number {
  if (Number.isNaN(x) || x === Number.POSITIVE_INFINITY) return x;
  if (x === Number.NEGATIVE_INFINITY) return 0;
  if (x > OVERFLOW) return Number.POSITIVE_INFINITY;
  const k = roundEven(LOG2E * x);
  let r = fma(-LN2U, k, x);
  r = fma(-LN2L, k, r);
  r *= 0.0625;
  let p = TAYLOR[0]!;
  for (const c of TAYLOR.slice(1)) p = fma(p, r, c);
  r *= p;
  for (let i = 0; i < 3; i++) r *= r + 2;
  r = fma(r, r + 2, 1);
  let biased = k + 0x3ff;
  if (biased >= 0x7ff) return Number.POSITIVE_INFINITY;
  if (biased <= 0) {
    if (biased < -52) return 0;
    r *= fromBits(BigInt(biased + 0x3fe) << 52n);
    biased = 1;
  }
  return r * fromBits(BigInt(biased) << 52n);
}

function modf(f: number): { int: number; frac: number } {
  const int = Math.trunc(f);
  return { int, frac: f - int };
}

function isOddInt(x: number): boolean {
  const { int, frac } = modf(x);
  return frac === 0 && Math.abs(int) < 2 ** 63 && BigInt(int) % 2n !== 0n;
}

/** math.Pow (math/pow.go). */
export function pow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (y === 1) return x;
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.NaN;
  if (x === 0) {
    if (y < 0) return isOddInt(y) ? (Object.is(x, -0) ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY;
    if (y > 0) return isOddInt(y) ? x : 0;
  }
  if (!Number.isFinite(y)) {
    if (x === -1) return 1;
    return (Math.abs(x) < 1) === (y > 0) ? 0 : Number.POSITIVE_INFINITY;
  }
  if (!Number.isFinite(x)) {
    if (x < 0) return pow(1 / x, -y);
    return y < 0 ? 0 : Number.POSITIVE_INFINITY;
  }
  if (y === 0.5) return Math.sqrt(x);
  if (y === -0.5) return 1 / Math.sqrt(x);
  let { int: yi, frac: yf } = modf(Math.abs(y));
  if (yf !== 0 && x < 0) return Number.NaN;
  if (yi >= 2 ** 63) {
    if (x === -1) return 1;
    return (Math.abs(x) < 1) === (y > 0) ? 0 : Number.POSITIVE_INFINITY;
  }
  let a1 = 1;
  let ae = 0;
  if (yf !== 0) {
    if (yf > 0.5) {
      yf--;
      yi++;
    }
    a1 = exp(yf * log(x));
  }
  let { frac: x1, exp: xe } = frexp(x);
  for (let i = BigInt(yi); i !== 0n; i >>= 1n) {
    if (xe < -(1 << 12) || 1 << 12 < xe) {
      ae += xe;
      break;
    }
    if ((i & 1n) === 1n) {
      a1 *= x1;
      ae += xe;
    }
    x1 *= x1;
    xe <<= 1;
    if (x1 < 0.5) {
      x1 += x1;
      xe--;
    }
  }
  if (y < 0) {
    a1 = 1 / a1;
    ae = -ae;
  }
  return ldexp(a1, ae);
}
