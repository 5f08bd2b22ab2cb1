/**
 * The Fastfood projection of intrinsic-dimension training: Le, Sarlós & Smola (2013), "Fastfood —
 * Approximating Kernel Expansions in Loglinear Time", ICML 2013, as Li et al. (2018,
 * arXiv:1804.08838) use it for P: R^d → R^D without materialising P.
 *
 * Padding and normalisation follow the reference code (uber-research/intrinsic-dimension,
 * `keras_ext/rproj_layers_util.py`, `tf_fastfood_transform`, the non-C path):
 *
 * - one block for the whole model: L = 2^⌈log₂ D⌉; z `[d]` is zero-padded to `[L]`;
 * - V = H·G·Π·H·B (L × L) with B = diag(±1) (fair signs), Π a uniform random permutation
 *   ((Π·x)ᵢ = x_π(i)), G = diag(N(0, 1)), H the unnormalised Walsh–Hadamard matrix (`hadamard.ts`);
 * - P·z = (V·pad(z))[0:D] / (‖G‖₂·√D) — the reference divides by √(L·Σ G²)·√(D/L), the same number.
 *
 * Each column of V has norm √L·‖G‖ exactly (H·B·e_j is a ±1 vector, Π permutes it, G scales it,
 * H multiplies norms by √L), so keeping D of the L rows leaves an expected squared norm D·‖G‖²:
 * the columns of P have unit norm in expectation, and exactly when D is a power of two.
 * Memory: B, G, π and π⁻¹, four vectors of L (≤ 2D) entries. Pᵀ·v = B·H·Πᵀ·G·H·pad(v)[0:d] / (‖G‖√D),
 * with Πᵀ the permutation by π⁻¹; it is the registered gradient of P·z.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../random.js';
import { fwht, nextPowerOfTwo } from './hadamard.js';
import { checkDims, linearOperator, type SubspaceProjection } from './linear-operator.js';

/** The random parts of one Fastfood block, as plain arrays (the tensors are made from these). */
export interface FastfoodDraw {
  /** L = 2^⌈log₂ D⌉. */
  length: number;
  /** Signs ±1 `[L]`. */
  signs: Float32Array;
  /** The permutation π `[L]` (the gather indices) and its inverse. */
  permutation: Int32Array;
  inverse: Int32Array;
  /** The Gaussian diagonal `[L]`. */
  gaussian: Float32Array;
  /** 1 / (‖G‖₂·√D). */
  scale: number;
}

/** Draws B, Π and G for a d → D Fastfood projection (three forks of `rng`, so each part has its own stream). */
export function drawFastfood(D: number, rng: Rng): FastfoodDraw {
  const length = nextPowerOfTwo(D);
  const signRng = rng.fork('B');
  const signs = new Float32Array(length);
  for (let i = 0; i < length; i++) signs[i] = signRng.uniform() < 0.5 ? -1 : 1;
  const permutation = rng.fork('Pi').permutation(length);
  const inverse = new Int32Array(length);
  for (let i = 0; i < length; i++) inverse[permutation[i]] = i;
  const gaussian = rng.fork('G').fillNormal(new Float32Array(length));
  let sum = 0;
  for (let i = 0; i < length; i++) sum += gaussian[i] * gaussian[i];
  return { length, signs, permutation, inverse, gaussian, scale: 1 / (Math.sqrt(sum) * Math.sqrt(D)) };
}

/**
 * x[indices] for a vector: Π·x. Read back and permuted in JavaScript: `tf.gather` with a random
 * permutation of 2^18 indices took ≈ 37 ms on tfjs-node and ≈ 95 ms on WASM, this ≈ 7 ms
 * (it runs inside the projection's own forward and transpose, which the gradient never traces).
 */
function permute(x: tf.Tensor1D, indices: Int32Array): tf.Tensor1D {
  const values = x.dataSync();
  const out = new Float32Array(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = values[indices[i]];
  return tf.tensor1d(out);
}

/** The Fastfood projection P: R^d → R^D (see the header). */
export function fastfoodProjection(d: number, D: number, rng: Rng): SubspaceProjection {
  checkDims('fastfood', d, D);
  const draw = drawFastfood(D, rng);
  const L = draw.length;
  const signs = tf.tensor1d(draw.signs);
  const gaussian = tf.tensor1d(draw.gaussian);
  const forward = (z: tf.Tensor1D): tf.Tensor1D =>
    tf.tidy(() => {
      const padded = d === L ? z : tf.pad(z, [[0, L - d]]);
      const mixed = tf.mul(permute(fwht(tf.mul(padded, signs) as tf.Tensor1D), draw.permutation), gaussian) as tf.Tensor1D;
      const full = fwht(mixed);
      return tf.mul(D === L ? full : tf.slice(full, [0], [D]), draw.scale) as tf.Tensor1D;
    });
  const transpose = (v: tf.Tensor1D): tf.Tensor1D =>
    tf.tidy(() => {
      const padded = D === L ? v : tf.pad(v, [[0, L - D]]);
      const mixed = permute(tf.mul(fwht(tf.mul(padded, draw.scale) as tf.Tensor1D), gaussian) as tf.Tensor1D, draw.inverse);
      const full = tf.mul(fwht(mixed), signs) as tf.Tensor1D;
      return d === L ? full : (tf.slice(full, [0], [d]) as tf.Tensor1D);
    });
  return {
    kind: 'fastfood',
    d,
    D,
    bytes: 16 * L, // B and G as tensors, π and π⁻¹ as Int32Arrays
    project: linearOperator(forward, transpose),
    projectTranspose: transpose,
    dispose: () => tf.dispose([signs, gaussian]),
  };
}
