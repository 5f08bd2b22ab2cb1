/**
 * Task inference by predictive entropy (von Oswald et al. 2020, "Continual learning with
 * hypernetworks", ICLR 2020, arXiv:1906.00695, section 3.2 "HNET+ENT"): for each input, run the
 * network generated for every candidate task, and trust the one whose softmax over its own head
 * is least uncertain (lowest entropy). The output is that network's logits on its head, with every
 * other unit at −1e9, so an argmax over any range containing the head picks the inferred class.
 */
import * as tf from '@tensorflow/tfjs-core';

/** A half-open range of output units (a task's head). */
export interface HeadRange {
  /** First unit. */
  lo: number;
  /** One past the last unit. */
  hi: number;
}

const MASKED = -1e9;

/** Softmax entropy of each row of `logits` `[n, outputs]` over the units `[lo, hi)`: `[n]`. */
export function headEntropy(logits: tf.Tensor, head: HeadRange): tf.Tensor1D {
  return tf.tidy(() => {
    const n = logits.shape[0]!;
    const sliced = tf.slice(logits, [0, head.lo], [n, head.hi - head.lo]);
    const logp = tf.logSoftmax(sliced);
    return tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), 1)) as tf.Tensor1D;
  });
}

/** What {@link entropyTaskInference} returns. */
export interface InferredOutput {
  /** `[n, outputs]`: the chosen candidate's logits on its head, −1e9 elsewhere. */
  logits: tf.Tensor2D;
  /** `[n]` int32: index of the chosen candidate (into `perTask`). */
  task: tf.Tensor1D;
}

/**
 * Picks, per row, the candidate with the lowest entropy on its head. `perTask[k]` are candidate
 * k's logits `[n, outputs]`, `heads[k]` its head.
 */
export function entropyTaskInference(perTask: readonly tf.Tensor[], heads: readonly HeadRange[]): InferredOutput {
  if (perTask.length === 0 || perTask.length !== heads.length) throw new Error(`entropyTaskInference: needs one head per candidate, got ${perTask.length} logits and ${heads.length} heads`);
  return tf.tidy(() => {
    const [n, outputs] = perTask[0].shape as [number, number];
    const masked = perTask.map((logits, k) => {
      const units = tf.range(0, outputs, 1, 'int32');
      const inHead = tf.logicalAnd(tf.greaterEqual(units, heads[k].lo), tf.less(units, heads[k].hi));
      return tf.where(tf.broadcastTo(inHead, [n, outputs]), logits, tf.fill([n, outputs], MASKED));
    });
    if (perTask.length === 1) return { logits: masked[0] as tf.Tensor2D, task: tf.zeros([n], 'int32') as tf.Tensor1D };
    const entropies = tf.stack(perTask.map((logits, k) => headEntropy(logits, heads[k])), 1);
    const task = tf.argMin(entropies, 1) as tf.Tensor1D;
    const pick = tf.oneHot(task, perTask.length);
    const chosen = tf.addN(masked.map((m, k) => tf.mul(m, tf.slice(pick, [0, k], [n, 1]))));
    return { logits: chosen as tf.Tensor2D, task };
  });
}
