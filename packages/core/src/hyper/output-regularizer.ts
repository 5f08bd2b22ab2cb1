/**
 * The hypernetwork output regulariser of von Oswald et al. (2020), "Continual learning with
 * hypernetworks", ICLR 2020, arXiv:1906.00695, eq. 2, as hypnettorch's
 * `utils/hnet_regularizer.py` `calc_fix_target_reg` computes it *without* the look-ahead Δθ
 * (which hypnettorch's example notes follow-up work drops):
 *
 *   L_reg = 1/(t−1) · Σ_{t' < t} ‖h(e_t', θ) − h*_t'‖²
 *
 * where h*_t' is the hypernetwork's output for task t' snapshotted before task t began (detached
 * targets, hypnettorch's `get_current_targets`), and the squared norm runs over every generated
 * value. The strategy multiplies it by β. No Fisher weighting and no random subset of past tasks.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../params/params.js';
import type { Hypernetwork } from './hypernet.js';

/** Snapshotted outputs of past tasks, the regulariser's targets. */
export interface RegularizerTargets {
  /** Task ids, aligned with `outputs`. */
  tasks: number[];
  /** h*_t: the flat generated vector of each task when snapshotted (kept tensors, not on any tape). */
  outputs: tf.Tensor1D[];
}

/** h(e_t, θ) for each task in `tasks`, kept outside any tidy (dispose with {@link disposeTargets}). */
export function snapshotTargets(hnet: Hypernetwork, params: Params, tasks: readonly number[]): RegularizerTargets {
  return { tasks: [...tasks], outputs: tasks.map((t) => tf.keep(tf.tidy(() => hnet.output(params, t)))) };
}

/** Frees the snapshotted outputs. */
export function disposeTargets(targets: RegularizerTargets): void {
  tf.dispose(targets.outputs);
}

/**
 * 1/(t−1)·Σ ‖h(e_t', θ) − h*_t'‖² over the snapshotted tasks (0 when there are none). Differentiable
 * with respect to the hypernetwork's params and, where trainable, the past tasks' embeddings.
 */
export function outputRegularizer(hnet: Hypernetwork, params: Params, targets: RegularizerTargets): tf.Scalar {
  return tf.tidy(() => {
    if (targets.tasks.length === 0) return tf.scalar(0);
    const terms = targets.tasks.map((t, i) => tf.sum(tf.squaredDifference(hnet.output(params, t), targets.outputs[i])));
    return tf.div(tf.addN(terms), targets.tasks.length) as tf.Scalar;
  });
}
