import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../../testing/backends.js';
import { Rng } from '../../random.js';
import { drawFastfood, fastfoodProjection } from './fastfood.js';
import { fwht, hadamardFactors, hadamardMatrix } from './hadamard.js';
import { materializeProjection } from './projections.js';

/** x·H_L row by row with the explicit Sylvester matrix (O(L²), for checking). */
function naiveFwht(x: Float32Array, rows: number, L: number): Float64Array {
  const H = hadamardMatrix(L);
  const out = new Float64Array(rows * L);
  for (let r = 0; r < rows; r++) for (let i = 0; i < L; i++) {
    let s = 0;
    for (let j = 0; j < L; j++) s += H[i * L + j] * x[r * L + j];
    out[r * L + i] = s;
  }
  return out;
}

testOnBackends('fwht: equals the explicit Hadamard product for one to three Kronecker factors; its gradient is the same transform', () => {
  assert.deepEqual(hadamardFactors(2 ** 18), [64, 64, 64]);
  assert.deepEqual(hadamardFactors(2 ** 7), [16, 8]);
  assert.deepEqual(hadamardFactors(1), []);
  // H_2 ⊗ H_2 in Sylvester order: rows 1 1 1 1 / 1 −1 1 −1 / 1 1 −1 −1 / 1 −1 −1 1.
  assert.deepEqual(Array.from(hadamardMatrix(4)), [1, 1, 1, 1, 1, -1, 1, -1, 1, 1, -1, -1, 1, -1, -1, 1]);
  // The reference's doctest: [1,0,1,0,0,1,1,0] → [4,2,0,−2,0,2,0,2].
  assert.deepEqual(Array.from(fwht(tf.tensor1d([1, 0, 1, 0, 0, 1, 1, 0])).dataSync()), [4, 2, 0, -2, 0, 2, 0, 2]);
  const rng = new Rng(1);
  for (const L of [1, 2, 8, 64, 128, 4096]) {
    const rows = L >= 4096 ? 1 : 3;
    const x = rng.fillNormal(new Float32Array(rows * L));
    const y = fwht(tf.tensor2d(x, [rows, L]));
    assert.ok(maxAbsDiff(y, Float32Array.from(naiveFwht(x, rows, L))) < 1e-3 * Math.sqrt(L), `L = ${L}: off by ${maxAbsDiff(y, Float32Array.from(naiveFwht(x, rows, L)))}`);
    y.dispose();
  }
  // ∂/∂x Σ w ⊙ H·x = Hᵀ·w = H·w.
  const L = 128;
  const w = tf.tensor1d(rng.fillNormal(new Float32Array(L)));
  const x = tf.tensor1d(rng.fillNormal(new Float32Array(L)));
  const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(fwht(v as tf.Tensor1D), w)))(x);
  assert.ok(maxAbsDiff(g, fwht(w)) < 1e-4);
  assert.throws(() => fwht(tf.zeros([3, 6]) as tf.Tensor2D), /length must be a power of two, got 6/);
  tf.dispose([w, x, g]);
});

/** P = (H·G·Π·H·B)[0:D, 0:d] / (‖G‖√D) built entry by entry from the draw, in float64. */
function explicitFastfood(d: number, D: number, seed: number): Float64Array {
  const { length: L, signs, permutation, gaussian, scale } = drawFastfood(D, new Rng(seed).fork('fastfood'));
  const H = hadamardMatrix(L);
  const P = new Float64Array(D * d);
  for (let j = 0; j < d; j++) {
    // column j: H·G·Π·H·(B e_j) = H·G·Π·(signs[j]·H[:, j]).
    const u = new Float64Array(L);
    for (let i = 0; i < L; i++) u[i] = gaussian[i] * signs[j] * H[permutation[i] * L + j];
    for (let i = 0; i < D; i++) {
      let s = 0;
      for (let k = 0; k < L; k++) s += H[i * L + k] * u[k];
      P[i * d + j] = s * scale;
    }
  }
  return P;
}

testOnBackends('fastfood: matches its materialised matrix (D = 45 padded to L = 64); Pᵀ is the transpose; columns unit-norm exactly at D = L and ≈ 1 otherwise', () => {
  const d = 7;
  const D = 45;
  const projection = fastfoodProjection(d, D, new Rng(11).fork('fastfood'));
  const P = materializeProjection(projection);
  const explicit = explicitFastfood(d, D, 11);
  assert.ok(maxAbsDiff(P, Float32Array.from(explicit)) < 1e-5, `off by ${maxAbsDiff(P, Float32Array.from(explicit))}`);
  // ⟨P·z, v⟩ = ⟨z, Pᵀ·v⟩.
  const rng = new Rng(3);
  const z = tf.tensor1d(rng.fillNormal(new Float32Array(d)));
  const v = tf.tensor1d(rng.fillNormal(new Float32Array(D)));
  const left = tf.tidy(() => tf.sum(tf.mul(projection.project(z), v)).dataSync()[0]);
  const right = tf.tidy(() => tf.sum(tf.mul(z, projection.projectTranspose(v))).dataSync()[0]);
  assert.ok(Math.abs(left - right) < 1e-4, `${left} vs ${right}`);
  tf.dispose([z, v]);
  projection.dispose();

  const columnNorms = (p: Float32Array, dd: number, DD: number): number[] =>
    Array.from({ length: dd }, (_, j) => {
      let s = 0;
      for (let i = 0; i < DD; i++) s += p[i * dd + j] ** 2;
      return s;
    });
  const exact = fastfoodProjection(5, 256, new Rng(2));
  for (const n of columnNorms(materializeProjection(exact), 5, 256)) assert.ok(Math.abs(n - 1) < 1e-4, `D = L: squared norm ${n}`);
  exact.dispose();
  const padded = fastfoodProjection(24, 700, new Rng(4)); // L = 1024
  const norms = columnNorms(materializeProjection(padded), 24, 700);
  const mean = norms.reduce((a, b) => a + b, 0) / norms.length;
  assert.ok(Math.abs(mean - 1) < 0.1, `mean squared column norm ${mean}`);
  assert.ok(norms.every((n) => n > 0.6 && n < 1.4), `squared column norms ${norms.map((n) => n.toFixed(2)).join(' ')}`);
  padded.dispose();
});
