/**
 * Initialising a hypernetwork so that the weights it generates start at the scale of the target's
 * own initialisation: the output layer's weights follow Chang, Sahni & Ankile (2020),
 * "Principled Weight Initialization for Hypernetworks", ICLR 2020 (hyperfan-in), in the general
 * form their derivation gives for a linear output layer: an output o_m = Σ_k H_mk·a_k + b_m with
 * H_mk ~ N(0, σ_m²) independent of the last hidden activations a (width d_k, second moment
 * E[a²]) has Var(o_m) = σ_m²·d_k·E[a²], so
 *
 *   σ_m² = Var(θ_m) / (d_k · E[a²]),   b_m = E[θ_m],
 *
 * with Var(θ_m) and E[θ_m] the variance and mean of the target's own init of the tensor output m
 * fills (hyperfan-in's Var(θ) = 1/fan-in of the target layer is the special case of a
 * fan-in-scaled target init; a layer norm's weight, all ones, gets b_m = 1). Two departures from
 * the paper: E[a²] is measured at init over the hypernetwork's actual inputs (its task and chunk
 * embeddings) rather than derived for ReLU layers, so it holds for any activation; and in a
 * chunked hypernetwork one output unit fills position m of every chunk, so σ_m² and b_m average
 * over the chunks (the target tensors of an MLP have similar scales, so this stays within the
 * per-tensor factor the tests check).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TargetShape } from './target-shapes.js';
import { numOutputs } from './target-shapes.js';

/** Per output unit of a (chunked) output layer: the target variance and mean it should produce. */
export interface OutputScale {
  /** Target variance of each output unit (length `chunkSize`). */
  variance: Float32Array;
  /** Target mean of each output unit (length `chunkSize`). */
  mean: Float32Array;
}

/** The variance and mean of the target's init that each output unit should match, averaged over chunks. */
export function outputScale(shapes: readonly TargetShape[], chunkSize: number): OutputScale {
  const variance = new Float32Array(chunkSize);
  const mean = new Float32Array(chunkSize);
  const counts = new Float32Array(chunkSize);
  let position = 0;
  for (const s of shapes) {
    for (let i = 0; i < s.size; i++, position++) {
      const m = position % chunkSize;
      variance[m] += s.initStd * s.initStd;
      mean[m] += s.initMean;
      counts[m]++;
    }
  }
  if (position !== numOutputs(shapes)) throw new Error('outputTargets: inconsistent shapes');
  for (let m = 0; m < chunkSize; m++) {
    if (counts[m] > 0) {
      variance[m] /= counts[m];
      mean[m] /= counts[m];
    }
  }
  return { variance, mean };
}

/** The mean square of a tensor's entries (E[a²]); read on the host. */
export function secondMoment(a: tf.Tensor): number {
  const data = a.dataSync();
  let sq = 0;
  for (const v of data) sq += v * v;
  return data.length === 0 ? 0 : sq / data.length;
}

/**
 * The hyperfan-style output layer: weight `[chunkSize, hiddenWidth]` with row m drawn
 * N(0, variance[m] / (hiddenWidth · E[a²])) from `normal`, bias = mean. `normal(n)` returns n
 * standard normal draws.
 */
export function hyperfanOutputLayer(targets: OutputScale, hiddenWidth: number, hiddenSecondMoment: number, normal: (n: number) => Float32Array): { weight: tf.Tensor; bias: tf.Tensor } {
  const rows = targets.variance.length;
  const w = normal(rows * hiddenWidth);
  const q = Math.max(hiddenSecondMoment, 1e-12);
  for (let m = 0; m < rows; m++) {
    const std = Math.sqrt(targets.variance[m] / (hiddenWidth * q));
    for (let k = 0; k < hiddenWidth; k++) w[m * hiddenWidth + k] *= std;
  }
  return { weight: tf.tensor2d(w, [rows, hiddenWidth]), bias: tf.tensor1d(targets.mean.slice()) };
}
