/**
 * What every projection of `projections.ts` and `fastfood.ts` is: a fixed linear map P: R^d → R^D
 * with its transpose, made differentiable by {@link linearOperator}.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The projection kinds. */
export const PROJECTIONS = ['dense', 'sparse', 'fastfood'] as const;
export type ProjectionKind = (typeof PROJECTIONS)[number];

/** A fixed random linear map P: R^d → R^D (D = Σ sizes). */
export interface SubspaceProjection {
  readonly kind: ProjectionKind;
  /** The subspace dimension (length of z). */
  readonly d: number;
  /** The parameter count (length of P·z). */
  readonly D: number;
  /** Bytes of tensors the projection holds (dense: 4·D·d; sparse: 12 per stored entry; fastfood: about 16·L). */
  readonly bytes: number;
  /** P·z for z `[d]`: `[D]`, differentiable in z (the gradient is Pᵀ·dy). */
  project(z: tf.Tensor1D): tf.Tensor1D;
  /** Pᵀ·v for v `[D]`: `[d]`. */
  projectTranspose(v: tf.Tensor1D): tf.Tensor1D;
  /** Frees the tensors. */
  dispose(): void;
}

/**
 * Wraps a forward map and its transpose as one differentiable op: the value is `forward(z)`, the
 * gradient `transpose(dy)`.
 */
export function linearOperator(forward: (z: tf.Tensor1D) => tf.Tensor1D, transpose: (v: tf.Tensor1D) => tf.Tensor1D): (z: tf.Tensor1D) => tf.Tensor1D {
  const op = tf.customGrad((z, save) => {
    void save;
    return { value: forward(z as tf.Tensor1D), gradFunc: (dy: tf.Tensor) => transpose(dy as tf.Tensor1D) };
  });
  return (z) => op(z) as tf.Tensor1D;
}

/** Throws unless 1 ≤ d ≤ D. */
export function checkDims(kind: string, d: number, D: number): void {
  if (!Number.isInteger(d) || d < 1) throw new Error(`intrinsic: the subspace dimension must be a positive integer, got ${d}`);
  if (d > D) throw new Error(`intrinsic: the subspace dimension d = ${d} exceeds the parameter count D = ${D} (${kind} projection)`);
}
