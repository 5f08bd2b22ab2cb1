/**
 * The loss of a continual training batch (rows packed by `rows.ts`):
 *
 *   L = Σ_r ceWeight_r · CE_r + kdWeight_r · KD_r
 *
 * CE_r is the softmax cross-entropy of row r over its active units `[lo, hi)` (the others are
 * masked with −1e9, which is the same as slicing them away: their probability is 0 in float32).
 * KD_r is the distillation loss of Hinton et al. (2015) as van de Ven & Tolias's `loss_fn_kd`:
 * T² · Σ −softmax(teacher/T)·log softmax(student/T), the teacher's softmax over `[lo, kdHi)`
 * (its previously active units; zero beyond) and the student's over `[lo, hi)`. The T² factor
 * keeps the gradient scale independent of T (van de Ven; Avalanche's LwF omits it).
 *
 * With `kdGroup` g (the task scenario, where experience t owns units `[t·g, (t+1)·g)`), KD_r is
 * instead the sum over the groups of g units inside `[kdLo, kdHi)` of the KD above with both
 * softmaxes over the group alone: one row distils every earlier task's head from one forward pass,
 * as the same row repeated per head with that head's `[lo, hi)` would (van de Ven's code, too,
 * scores the replayed batch once and slices each head from it). Its cross-entropy is unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LossFn } from '../train/losses.js';
import { Y_COLUMNS } from './rows.js';

const MASKED = -1e9;

/** Active-unit mask `[n, outputs]` (1 inside `[lo, hi)`) from two `[n, 1]` columns. */
function unitMask(units: tf.Tensor, lo: tf.Tensor, hi: tf.Tensor): tf.Tensor {
  return tf.cast(tf.logicalAnd(tf.greaterEqual(units, lo), tf.less(units, hi)), 'float32');
}

/** Logits with the units outside the mask pushed to −1e9. */
function masked(logits: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.add(logits, tf.mul(tf.sub(1, mask), MASKED));
}

/** Distillation summed over groups of `g` units inside `[kdLo, kdHi)` (see the file comment): `[n]`. */
function groupedKd(output: tf.Tensor, teacher: tf.Tensor, kdLo: tf.Tensor, kdHi: tf.Tensor, outputs: number, g: number, temperature: number): tf.Tensor {
  const n = output.shape[0];
  const groups = outputs / g;
  const starts = tf.reshape(tf.range(0, outputs, g, 'float32'), [1, groups]);
  // Group j is distilled when it lies inside [kdLo, kdHi).
  const active = tf.cast(tf.logicalAnd(tf.greaterEqual(starts, kdLo), tf.lessEqual(tf.add(starts, g), kdHi)), 'float32');
  const student = tf.logSoftmax(tf.reshape(tf.div(output, temperature), [n, groups, g]));
  const target = tf.softmax(tf.reshape(tf.div(teacher, temperature), [n, groups, g]));
  const perGroup = tf.neg(tf.sum(tf.mul(target, student), 2));
  return tf.mul(tf.sum(tf.mul(perGroup, active), 1), temperature * temperature);
}

/**
 * The loss described in the file comment, for `outputs` units and distillation temperature
 * `temperature`; with `kdGroup`, distillation by groups of that many units.
 */
export function continualLoss(outputs: number, temperature = 2, kdGroup?: number): LossFn {
  if (!(temperature > 0)) throw new Error(`continualLoss: temperature must be > 0, got ${temperature}`);
  if (kdGroup !== undefined && !(Number.isInteger(kdGroup) && kdGroup > 0 && outputs % kdGroup === 0)) {
    throw new Error(`continualLoss: kdGroup must be a whole divisor of the ${outputs} outputs, got ${kdGroup}`);
  }
  return (output, y) =>
    tf.tidy(() => {
      const n = output.shape[0];
      if (output.rank !== 2 || output.shape[1] !== outputs) throw new Error(`continualLoss: output [${output.shape}] should be [batch, ${outputs}]`);
      const col = (c: number): tf.Tensor => tf.slice(y, [0, c], [n, 1]);
      const units = tf.reshape(tf.range(0, outputs, 1, 'float32'), [1, outputs]);
      const lo = col(1);
      const mask = unitMask(units, lo, col(2));
      const student = masked(output, mask);
      // Cross-entropy on the hard targets (rows with target −1 have a zero one-hot).
      const target = tf.reshape(col(0), [n]);
      const oneHot = tf.mul(tf.oneHot(tf.cast(tf.relu(target), 'int32'), outputs), tf.reshape(tf.cast(tf.greaterEqual(target, 0), 'float32'), [n, 1]));
      const ce = tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(student)), 1));
      const ceLoss = tf.sum(tf.mul(tf.reshape(col(3), [n]), ce));
      // Distillation towards the teacher's softened distribution — only when some row has a KD
      // weight: otherwise its term is exactly 0 (0·finite) and its gradient adds exactly 0, so
      // skipping it changes no bit, and saves some 60 of a step's ~195 ops on the native backend.
      const kdWeights = col(4);
      if (!kdWeights.dataSync().some((w) => w !== 0)) return ceLoss as tf.Scalar;
      const teacher = tf.slice(y, [0, Y_COLUMNS], [n, outputs]);
      if (kdGroup !== undefined) {
        const kdLoss = tf.sum(tf.mul(tf.reshape(kdWeights, [n]), groupedKd(output, teacher, col(6), col(5), outputs, kdGroup, temperature)));
        return tf.add(ceLoss, kdLoss) as tf.Scalar;
      }
      const teacherProbs = tf.softmax(masked(tf.div(teacher, temperature), unitMask(units, lo, col(5))));
      const kd = tf.mul(tf.neg(tf.sum(tf.mul(teacherProbs, tf.logSoftmax(tf.div(student, temperature))), 1)), temperature * temperature);
      const kdLoss = tf.sum(tf.mul(tf.reshape(kdWeights, [n]), kd));
      return tf.add(ceLoss, kdLoss) as tf.Scalar;
    });
}
