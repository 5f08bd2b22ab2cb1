/**
 * Gradient clipping. Both functions are pure: they return new tensors (the inputs are left alone),
 * aligned with the input list; `null`/`undefined` entries (no gradient) pass through. Call them
 * inside `tf.tidy` (the training loop does).
 */
import * as tf from '@tensorflow/tfjs-core';

/** A gradient list as the optimizers accept it: missing gradients are `null` or `undefined`. */
export type GradientList = readonly (tf.Tensor | null | undefined)[];

/** Options of {@link clipByGlobalNorm}. */
export interface ClipByGlobalNormOptions {
  /** Added to the norm in the scale factor, as PyTorch does. Default 1e-6. */
  eps?: number;
}

/** What {@link clipByGlobalNorm} returns. */
export interface ClippedGradients {
  /** The (possibly) rescaled gradients, aligned with the input. */
  grads: (tf.Tensor | null | undefined)[];
  /** The global L2 norm before clipping (a scalar tensor the caller owns). */
  norm: tf.Scalar;
}

/** The global L2 norm of a list of gradients: the norm of their per-tensor L2 norms. */
export function globalNorm(grads: GradientList): tf.Scalar {
  return tf.tidy(() => {
    const present = grads.filter((g): g is tf.Tensor => g != null);
    if (present.length === 0) return tf.scalar(0);
    const norms = present.map((g) => tf.norm(g));
    return tf.norm(tf.stack(norms)) as tf.Scalar;
  });
}

/**
 * Clips by global norm, as `torch.nn.utils.clip_grad_norm_` (L2): with `n` the global norm,
 * every gradient is multiplied by `min(1, maxNorm / (n + eps))`.
 */
export function clipByGlobalNorm(grads: GradientList, maxNorm: number, options: ClipByGlobalNormOptions = {}): ClippedGradients {
  const { eps = 1e-6 } = options;
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) throw new RangeError(`clipByGlobalNorm: maxNorm must be a finite number > 0, got ${maxNorm}`);
  const norm = globalNorm(grads);
  const coef = tf.tidy(() => tf.minimum(tf.div(tf.scalar(maxNorm), tf.add(norm, eps)), 1));
  const clipped = grads.map((g) => (g == null ? g : tf.mul(g, coef)));
  coef.dispose();
  return { grads: clipped, norm };
}

/** Clips every gradient element to [−clipValue, clipValue], as `torch.nn.utils.clip_grad_value_`. */
export function clipByValue(grads: GradientList, clipValue: number): (tf.Tensor | null | undefined)[] {
  if (!(clipValue > 0) || !Number.isFinite(clipValue)) throw new RangeError(`clipByValue: clipValue must be a finite number > 0, got ${clipValue}`);
  return grads.map((g) => (g == null ? g : tf.clipByValue(g, -clipValue, clipValue)));
}
