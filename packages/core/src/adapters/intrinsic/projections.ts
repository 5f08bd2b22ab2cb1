/**
 * The random projections P: R^d → R^D of intrinsic-dimension training (Li, Farkhoor, Liu &
 * Yosinski 2018, arXiv:1804.08838), with the normalisation of the authors' code
 * (uber-research/intrinsic-dimension: `keras_ext/rproj_layers_util.py`, `intrinsic_dim/train.py`):
 *
 * - `dense`: every entry N(0, 1), then each column of P (a d-vector's direction in θ-space,
 *   across every parameter tensor of the model) divided by its norm — unit-norm columns, as
 *   `train.py` step 3.5 rescales the basis rows. Materialised: D·d floats.
 * - `sparse`: Li, Hastie & Church's (2006) very sparse random projection as scikit-learn's
 *   `SparseRandomProjection` draws it, one block per parameter tensor of Dᵢ entries (the reference
 *   builds one per layer): each entry is nonzero with probability sᵢ = 1/√Dᵢ (`density='auto'`),
 *   ±√(1/sᵢ)/√d with equal odds; then, as for `dense`, each column divided by its norm over the
 *   whole model. Stored as coordinates (row, column, value): about d·Σᵢ√Dᵢ entries. A column
 *   with no nonzero entry (possible only for tiny models) stays zero; the reference would divide
 *   by zero there.
 * - `fastfood`: see `fastfood.ts` (P never materialised, O(D) memory).
 *
 * Each projection is a linear operator with `project` (P·z) and `projectTranspose` (Pᵀ·v);
 * {@link linearOperator} registers the transpose as the gradient, so gradients reach z through
 * one transposed product, whatever the projection.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../random.js';
import { fastfoodProjection } from './fastfood.js';
import { checkDims, linearOperator, PROJECTIONS, type ProjectionKind, type SubspaceProjection } from './linear-operator.js';

export { PROJECTIONS, type ProjectionKind, type SubspaceProjection } from './linear-operator.js';

/** Largest dense P (entries) built: 2^28 floats, 1 GiB. */
export const MAX_DENSE_ENTRIES = 2 ** 28;

/** Dense Gaussian P with unit-norm columns, stored as Pᵀ `[d, D]` (row j is column j of P). */
export function denseProjection(d: number, sizes: readonly number[], rng: Rng): SubspaceProjection {
  const D = total(sizes);
  checkDims('dense', d, D);
  if (d * D > MAX_DENSE_ENTRIES) {
    throw new Error(`intrinsic: a dense projection of d = ${d} by D = ${D} has ${d * D} entries (> ${MAX_DENSE_ENTRIES}); use projection: sparse or fastfood`);
  }
  const values = rng.fillNormal(new Float32Array(d * D));
  for (let j = 0; j < d; j++) {
    const row = values.subarray(j * D, (j + 1) * D);
    let sum = 0;
    for (let i = 0; i < D; i++) sum += row[i] * row[i];
    const inv = 1 / Math.sqrt(sum);
    for (let i = 0; i < D; i++) row[i] *= inv;
  }
  const pt = tf.tensor2d(values, [d, D]);
  // Both products are plain (no transpose flags): z·Pᵀ as [1, d]·[d, D], Pᵀ·v as [d, D]·[D, 1].
  const transpose = (v: tf.Tensor1D): tf.Tensor1D => tf.tidy(() => tf.reshape(tf.matMul(pt, tf.reshape(v, [D, 1])), [d]));
  return {
    kind: 'dense',
    d,
    D,
    bytes: 4 * d * D,
    project: linearOperator((z) => tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(z, [1, d]), pt), [D])), transpose),
    projectTranspose: transpose,
    dispose: () => pt.dispose(),
  };
}

/** The stored entries of a sparse P: `P[rows[k], cols[k]] = values[k]`. */
export interface SparseEntries {
  rows: Int32Array;
  cols: Int32Array;
  values: Float32Array;
}

/**
 * The entries of the very sparse projection (see the header): per tensor of Dᵢ entries and per
 * column j, each row nonzero with probability 1/√Dᵢ (drawn by geometric skips, exactly Bernoulli),
 * value ±Dᵢ^{1/4}/√d; then each column scaled to unit norm over all tensors.
 */
export function sparseEntries(d: number, sizes: readonly number[], rng: Rng): SparseEntries {
  const rows: number[] = [];
  const cols: number[] = [];
  const values: number[] = [];
  const norms = new Float64Array(d);
  let offset = 0;
  for (const size of sizes) {
    const density = 1 / Math.sqrt(size);
    const magnitude = Math.sqrt(1 / density) / Math.sqrt(d);
    const logKeep = Math.log1p(-density);
    for (let j = 0; j < d; j++) {
      // Position of the next nonzero: skip ~ Geometric(density) (density 1 for a single entry).
      for (let i = density >= 1 ? 0 : skip(rng, logKeep); i < size; i += density >= 1 ? 1 : 1 + skip(rng, logKeep)) {
        rows.push(offset + i);
        cols.push(j);
        values.push(rng.uniform() < 0.5 ? -magnitude : magnitude);
        norms[j] += magnitude * magnitude;
      }
    }
    offset += size;
  }
  const out: SparseEntries = { rows: Int32Array.from(rows), cols: Int32Array.from(cols), values: new Float32Array(values.length) };
  for (let k = 0; k < values.length; k++) out.values[k] = values[k] / Math.sqrt(norms[cols[k]]);
  return out;
}

/** Failures before the next success of a Bernoulli trial with log(1 − p) = `logKeep`. */
function skip(rng: Rng, logKeep: number): number {
  const u = 1 - rng.uniform(); // (0, 1]
  return Math.floor(Math.log(u) / logKeep);
}

/** The very sparse projection as a gather / segment-sum pair over its stored entries. */
export function sparseProjection(d: number, sizes: readonly number[], rng: Rng): SubspaceProjection {
  const D = total(sizes);
  checkDims('sparse', d, D);
  const entries = sparseEntries(d, sizes, rng);
  const rows = tf.tensor1d(entries.rows, 'int32');
  const cols = tf.tensor1d(entries.cols, 'int32');
  const values = tf.tensor1d(entries.values);
  const transpose = (v: tf.Tensor1D): tf.Tensor1D => tf.tidy(() => tf.unsortedSegmentSum(tf.mul(tf.gather(v, rows), values), cols, d) as tf.Tensor1D);
  return {
    kind: 'sparse',
    d,
    D,
    bytes: 12 * entries.values.length,
    project: linearOperator((z) => tf.tidy(() => tf.unsortedSegmentSum(tf.mul(tf.gather(z, cols), values), rows, D) as tf.Tensor1D), transpose),
    projectTranspose: transpose,
    dispose: () => tf.dispose([rows, cols, values]),
  };
}

/** Builds the projection of `kind` from z `[d]` onto the concatenation of tensors of `sizes` entries. */
export function makeProjection(kind: ProjectionKind, d: number, sizes: readonly number[], rng: Rng): SubspaceProjection {
  switch (kind) {
    case 'dense':
      return denseProjection(d, sizes, rng.fork('dense'));
    case 'sparse':
      return sparseProjection(d, sizes, rng.fork('sparse'));
    case 'fastfood':
      return fastfoodProjection(d, total(sizes), rng.fork('fastfood'));
    default:
      throw new Error(`intrinsic: unknown projection ${JSON.stringify(kind)} (have: ${PROJECTIONS.join(', ')})`);
  }
}

/** P as a row-major `[D, d]` array, by projecting each basis vector (for tests and small models). */
export function materializeProjection(projection: SubspaceProjection): Float32Array {
  const { d, D } = projection;
  const out = new Float32Array(D * d);
  for (let j = 0; j < d; j++) {
    const basis = new Float32Array(d);
    basis[j] = 1;
    const column = tf.tidy(() => projection.project(tf.tensor1d(basis)));
    const values = column.dataSync();
    for (let i = 0; i < D; i++) out[i * d + j] = values[i];
    column.dispose();
  }
  return out;
}

function total(sizes: readonly number[]): number {
  return sizes.reduce((a, b) => a + b, 0);
}
