/**
 * Importance scores and the orthogonality regulariser of the SVD-form adapters (ΔW = P·Λ·Q stored
 * as `lora_B`, `lora_E`, `lora_A`), shared by AdaLoRA (`adalora.ts`, which prunes triplets) and
 * IncreLoRA (`increlora.ts`, which grows layers).
 *
 * Sensitivity smoothing (Zhang et al. 2023, AdaLoRA, arXiv:2303.10512, as PEFT's `RankAllocator`
 * computes it): for every entry θ of a factor, I = |θ·∇θ| after each step,
 *   Ī ← β₁·Ī + (1 − β₁)·I,   Ū ← β₂·Ū + (1 − β₂)·|I − Ī|   (Ū uses the updated Ī),
 * and the entry's score is S = Ī·Ū. Triplet i of a layer scores S(E_i) + mean_j S(A_ij) + mean_k S(B_ki).
 *
 * The regulariser is PEFT's form: weight · mean over the layers' A and B of ‖AAᵀ − I‖_F and
 * ‖BᵀB − I‖_F; a row mask restricts it to the triplets in use (IncreLoRA pre-allocates unused ones).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientContext } from '../train/loop.js';

/** The gradients of one `train()` step, by variable. */
export function gradientsByVariable(ctx: Pick<GradientContext, 'variables' | 'grads'>): Map<tf.Variable, tf.Tensor | null | undefined> {
  const grads = new Map<tf.Variable, tf.Tensor | null | undefined>();
  ctx.variables.forEach((v, i) => grads.set(v, ctx.grads[i]));
  return grads;
}

/** Smoothed sensitivity and uncertainty of the entries of a set of variables. */
export interface SensitivityEma {
  /** One smoothing step for `variables` with this step's gradients (a missing gradient counts as 0). */
  update(variables: readonly tf.Variable[], grads: ReadonlyMap<tf.Variable, tf.Tensor | null | undefined>): void;
  /** Ī·Ū per entry of `variable` (zeros before its first update). The caller disposes it. */
  score(variable: tf.Variable): tf.Tensor;
  /** Frees the EMAs (the object can be updated again afterwards, starting from zero). */
  dispose(): void;
}

/** AdaLoRA's sensitivity EMAs with coefficients `beta1` (sensitivity) and `beta2` (uncertainty). */
export function sensitivityEma(beta1: number, beta2: number): SensitivityEma {
  const entries = new Map<tf.Variable, { ipt: tf.Variable; unc: tf.Variable }>();
  return {
    update(variables, grads) {
      for (const p of variables) {
        let entry = entries.get(p);
        if (!entry) entries.set(p, (entry = { ipt: tf.variable(tf.zerosLike(p), false), unc: tf.variable(tf.zerosLike(p), false) }));
        const { ipt, unc } = entry;
        const grad = grads.get(p);
        tf.tidy(() => {
          const now = grad ? tf.abs(tf.mul(p, grad)) : tf.zerosLike(p);
          const smoothed = tf.add(tf.mul(ipt, beta1), tf.mul(now, 1 - beta1));
          unc.assign(tf.add(tf.mul(unc, beta2), tf.mul(tf.abs(tf.sub(now, smoothed)), 1 - beta2)));
          ipt.assign(smoothed);
        });
      }
    },
    score(p) {
      const entry = entries.get(p);
      return entry ? tf.mul(entry.ipt, entry.unc) : tf.zerosLike(p);
    },
    dispose() {
      for (const entry of entries.values()) tf.dispose([entry.ipt, entry.unc]);
      entries.clear();
    },
  };
}

/** The score of each triplet of an SVD-form layer (A `[r, in]`, E `[r, 1]`, B `[out, r]`). */
export function tripletScores(ema: SensitivityEma, a: tf.Variable, e: tf.Variable, b: tf.Variable): Float32Array {
  return tf.tidy(() => {
    const ab = tf.add(tf.mean(ema.score(a), 1), tf.mean(ema.score(b), 0));
    return tf.add(tf.reshape(ema.score(e), [-1]), ab).dataSync() as Float32Array;
  });
}

/** √s with a zero (not NaN) gradient at s = 0, i.e. at exactly orthonormal factors. */
const safeSqrt = tf.customGrad((s, save) => {
  const value = tf.sqrt(s as tf.Tensor);
  (save as tf.GradSaveFunc)([value]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, [root]: tf.Tensor[]) => {
      const positive = tf.greater(root, 0);
      return tf.where(positive, tf.div(tf.mul(dy, 0.5), tf.where(positive, root, tf.onesLike(root))), tf.zerosLike(root));
    },
  };
}) as (s: tf.Tensor) => tf.Tensor;

/** One layer's factors for {@link orthogonalPenalty}. */
export interface OrthogonalFactors {
  /** Q `[r, in]`. */
  a: tf.Tensor;
  /** P `[out, r]`. */
  b: tf.Tensor;
  /** `[r, 1]` of 0/1: the triplets that count (the others' rows of A and columns of B are left out). Default: all. */
  rows?: tf.Tensor;
}

/**
 * weight · mean over the layers' A and B of ‖AAᵀ − I‖_F and ‖BᵀB − I‖_F, differentiable (a rank-0
 * factor contributes 0). With `rows`, A and B are restricted to those triplets and I to diag(rows).
 */
export function orthogonalPenalty(layers: readonly OrthogonalFactors[], weight: number): tf.Scalar {
  return tf.tidy(() => {
    const terms: tf.Scalar[] = [];
    for (const { a, b, rows } of layers) {
      const am = rows ? tf.mul(a, rows) : a;
      const bm = rows ? tf.mul(b, tf.reshape(rows, [1, -1])) : b;
      for (const gram of [tf.matMul(am, am, false, true), tf.matMul(bm, bm, true, false)]) {
        if (gram.size === 0) {
          terms.push(tf.scalar(0));
          continue;
        }
        const eye = rows ? tf.mul(tf.eye(gram.shape[0]), rows) : tf.eye(gram.shape[0]);
        terms.push(safeSqrt(tf.sum(tf.square(tf.sub(gram, eye)))) as tf.Scalar);
      }
    }
    return tf.mul(tf.div(tf.addN(terms), terms.length), weight) as tf.Scalar;
  });
}
