/**
 * The fast Walsh–Hadamard transform as TensorFlow.js ops, for the Fastfood projection
 * (`fastfood.ts`).
 *
 * `fwht(x)` multiplies each row of `x` `[rows, L]` (L a power of two) by the unnormalised Hadamard
 * matrix H_L in Sylvester's (natural) order, H_L[i, j] = (−1)^popcount(i & j), the order of the
 * reference code's `tf_fast_walsh_hadamard` (uber-research/intrinsic-dimension,
 * `keras_ext/rproj_layers_util.py`, `normalize=False`). H_L = H_2 ⊗ … ⊗ H_2, so H_L is also the
 * Kronecker product of a few small Hadamard matrices H_{n₁} ⊗ … ⊗ H_{n_k} (n₁·…·n_k = L,
 * each nᵢ ≤ 2^{@link MAX_FACTOR_BITS}). Each factor is applied as one plain 2-D matrix product on the
 * fastest axis followed by a transpose that brings the next axis last (after k steps the axes are
 * back in order): k matmuls and k transposes instead of log₂L butterfly stages of slices and
 * concats, O(L·Σnᵢ) work, and plain products (no transpose flags) stay on XNNPACK on WASM.
 *
 * The gradient is registered with `tf.customGrad`: H_L is symmetric, so the transform is its own
 * transpose and the gradient of `fwht` is `fwht` of the upstream gradient (H_L·H_L = L·I, so it is
 * also its own inverse up to the scale L).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Largest factor H_n used in one matrix product: n ≤ 2^MAX_FACTOR_BITS. */
export const MAX_FACTOR_BITS = 6;

const hadamardCache = new Map<number, Float32Array>();

/** H_n (n a power of two) row-major, unnormalised, Sylvester order. Cached as a plain array (tensors are backend-bound). */
export function hadamardMatrix(n: number): Float32Array {
  if (!isPowerOfTwo(n)) throw new Error(`hadamardMatrix: n must be a power of two, got ${n}`);
  let h = hadamardCache.get(n);
  if (h === undefined) {
    h = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[i * n + j] = popcount(i & j) % 2 === 0 ? 1 : -1;
    hadamardCache.set(n, h);
  }
  return h;
}

/** True for 1, 2, 4, 8, … */
export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/** The smallest power of two ≥ n. */
export function nextPowerOfTwo(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`nextPowerOfTwo: n must be a positive integer, got ${n}`);
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function popcount(x: number): number {
  let c = 0;
  for (let v = x; v !== 0; v &= v - 1) c++;
  return c;
}

/** The factor sizes for L = 2^bits: as few as possible, as equal as possible (2^18 → 64·64·64). */
export function hadamardFactors(length: number): number[] {
  if (!isPowerOfTwo(length)) throw new Error(`fwht: the length must be a power of two, got ${length}`);
  const bits = Math.round(Math.log2(length));
  if (bits === 0) return [];
  const count = Math.ceil(bits / MAX_FACTOR_BITS);
  const base = Math.floor(bits / count);
  const extra = bits - base * count;
  return Array.from({ length: count }, (_, i) => 2 ** (base + (i < extra ? 1 : 0)));
}

/** The transform without a registered gradient (what the custom gradient calls, too). */
function fwhtOps(x: tf.Tensor2D): tf.Tensor2D {
  const [rows, length] = x.shape;
  const factors = hadamardFactors(length);
  if (factors.length === 0) return x.clone();
  return tf.tidy(() => {
    let y: tf.Tensor = x;
    // Layout invariant: y is [rows, L/n, n] with the axis to transform next last. After the
    // product the transpose moves it first (of the L axes), so the next factor's axis is last.
    for (let k = factors.length - 1; k >= 0; k--) {
      const n = factors[k];
      const h = tf.tensor2d(hadamardMatrix(n), [n, n]);
      const product = tf.matMul(tf.reshape(y, [rows * (length / n), n]), h);
      y = factors.length === 1 ? product : tf.transpose(tf.reshape(product, [rows, length / n, n]), [0, 2, 1]);
    }
    return tf.reshape(y, [rows, length]) as tf.Tensor2D;
  });
}

const fwhtWithGrad = tf.customGrad((x, save) => {
  void save;
  return { value: fwhtOps(x as tf.Tensor2D), gradFunc: (dy: tf.Tensor) => fwhtOps(dy as tf.Tensor2D) };
});

/**
 * H_L·x for each row of `x` `[rows, L]` (or `x` `[L]`), unnormalised (multiply by 1/√L for the
 * orthonormal transform). Differentiable; its gradient is the same transform.
 */
export function fwht<T extends tf.Tensor1D | tf.Tensor2D>(x: T): T {
  if (x.rank === 1) {
    const length = x.shape[0] as number;
    return tf.tidy(() => tf.reshape(fwhtWithGrad(tf.reshape(x, [1, length])), [length])) as T;
  }
  if (x.rank !== 2) throw new Error(`fwht: expected [L] or [rows, L], got [${x.shape.join(', ')}]`);
  hadamardFactors(x.shape[1] as number);
  return fwhtWithGrad(x) as T;
}
