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

/** The loss described in the file comment, for `outputs` units and distillation temperature `temperature`. */
export function continualLoss(outputs: number, temperature = 2): LossFn {
  if (!(temperature > 0)) throw new Error(`continualLoss: temperature must be > 0, got ${temperature}`);
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
      const teacherProbs = tf.softmax(masked(tf.div(teacher, temperature), unitMask(units, lo, col(5))));
      const kd = tf.mul(tf.neg(tf.sum(tf.mul(teacherProbs, tf.logSoftmax(tf.div(student, temperature))), 1)), temperature * temperature);
      const kdLoss = tf.sum(tf.mul(tf.reshape(kdWeights, [n]), kd));
      return tf.add(ceLoss, kdLoss) as tf.Scalar;
    });
}
