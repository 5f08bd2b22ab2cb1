/**
 * Loss functions: `(output, target) → tf.Scalar`, averaged over the batch (and any other leading
 * axes), differentiable with respect to `output`. The built-ins are selected by name in `train`.
 */
import * as tf from '@tensorflow/tfjs-core';

/** A loss: model output and target in, mean loss out. */
export type LossFn = (output: tf.Tensor, target: tf.Tensor) => tf.Scalar;

/** Names of the built-in losses. */
export type BuiltinLoss = 'cross-entropy' | 'mse' | 'bce-with-logits';

/**
 * Softmax cross-entropy over the last axis of `logits`, averaged over all other positions, like
 * `torch.nn.functional.cross_entropy` (mean reduction). Computed from `tf.logSoftmax`, which
 * subtracts the row maximum, so large logits do not overflow.
 *
 * `labels` is either integer class indices with the shape of `logits` minus its last axis (e.g.
 * int32 `[batch]` for logits `[batch, classes]`; float labels are cast to int32), or a probability
 * distribution with the shape of `logits` (soft / one-hot targets). Indices outside
 * `[0, classes)` are not checked (checking would force a sync) and contribute 0.
 */
export function softmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[logits.rank - 1];
    const logProbs = tf.logSoftmax(logits);
    let targets: tf.Tensor;
    if (labels.rank === logits.rank - 1 && tf.util.arraysEqual(labels.shape, logits.shape.slice(0, -1))) {
      const indices = labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
      targets = tf.reshape(tf.oneHot(tf.reshape(indices, [-1]), classes), logits.shape);
    } else if (tf.util.arraysEqual(labels.shape, logits.shape)) {
      targets = labels.dtype === 'float32' ? labels : tf.cast(labels, 'float32');
    } else {
      throw new Error(`softmaxCrossEntropy: labels of shape [${labels.shape}] fit neither class indices [${logits.shape.slice(0, -1)}] nor distributions [${logits.shape}]`);
    }
    return tf.neg(tf.mean(tf.sum(tf.mul(targets, logProbs), -1))) as tf.Scalar;
  });
}

/** Mean squared error, like `torch.nn.functional.mse_loss` (mean reduction). Shapes must match. */
export function meanSquaredError(output: tf.Tensor, target: tf.Tensor): tf.Scalar {
  if (!tf.util.arraysEqual(output.shape, target.shape)) {
    throw new Error(`meanSquaredError: output [${output.shape}] and target [${target.shape}] differ in shape`);
  }
  return tf.tidy(() => tf.mean(tf.squaredDifference(output, target.dtype === 'float32' ? target : tf.cast(target, 'float32'))) as tf.Scalar);
}

/**
 * Binary cross-entropy on logits, like `torch.nn.functional.binary_cross_entropy_with_logits`
 * (mean reduction), in the stable form `max(x, 0) − x·y + log(1 + exp(−|x|))`. Targets are
 * probabilities in [0, 1] with the shape of `logits`.
 */
export function bceWithLogits(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  if (!tf.util.arraysEqual(logits.shape, targets.shape)) {
    throw new Error(`bceWithLogits: logits [${logits.shape}] and targets [${targets.shape}] differ in shape`);
  }
  return tf.tidy(() => {
    const y = targets.dtype === 'float32' ? targets : tf.cast(targets, 'float32');
    const perElement = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, y)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    return tf.mean(perElement) as tf.Scalar;
  });
}

/** The built-in losses by name. */
export const LOSSES: Readonly<Record<BuiltinLoss, LossFn>> = {
  'cross-entropy': softmaxCrossEntropy,
  mse: meanSquaredError,
  'bce-with-logits': bceWithLogits,
};

/** A loss function from a function or a built-in name (throws, listing the names, on an unknown one). */
export function resolveLoss(loss: LossFn | BuiltinLoss): LossFn {
  if (typeof loss === 'function') return loss;
  const fn = (LOSSES as Record<string, LossFn | undefined>)[loss];
  if (fn === undefined) throw new Error(`unknown loss "${String(loss)}" (built-ins: ${Object.keys(LOSSES).join(', ')})`);
  return fn;
}
