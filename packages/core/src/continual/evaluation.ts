/**
 * Accuracy of a model on one experience's test set over a range of output units: the prediction
 * is the argmax over `[lo, hi)`, compared with the label's unit. Runs in inference mode, in
 * batches of 1000, leaving no tensors behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import type { Params } from '../params/params.js';
import type { Dataset } from '../data/dataset.js';
import type { UnitRange } from './scenario.js';
import { readFeatures } from './pixel-map-dataset.js';

/** Rows evaluated per forward pass. */
const EVAL_BATCH = 1000;

/** Logits of `n` examples (`x` is `n × inputSize`) in inference mode, as a host array `n × outputs`. */
export async function hostLogits(model: Module, params: Params, x: Float32Array, n: number, inputSize: number): Promise<Float32Array> {
  const out = tf.tidy(() => model.apply(params, tf.tensor2d(x, [n, inputSize]), { training: false }));
  try {
    return (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
}

/** Fraction of `dataset`'s examples whose argmax over `range` is `units[label]`. */
export async function accuracyOver(model: Module, params: Params, dataset: Dataset, units: Int32Array, range: UnitRange): Promise<number> {
  const inputSize = dataset.featureShape.reduce((a, b) => a * b, 1);
  let correct = 0;
  for (let start = 0; start < dataset.size; start += EVAL_BATCH) {
    const n = Math.min(EVAL_BATCH, dataset.size - start);
    const x = new Float32Array(n * inputSize);
    for (let k = 0; k < n; k++) readFeatures(dataset, start + k, x, k * inputSize);
    const predicted = tf.tidy(() => {
      const logits = model.apply(params, tf.tensor2d(x, [n, inputSize]), { training: false });
      return tf.argMax(tf.slice(logits, [0, range.lo], [n, range.hi - range.lo]), 1);
    });
    const data = await predicted.data();
    predicted.dispose();
    for (let k = 0; k < n; k++) if (data[k] + range.lo === units[dataset.labels[start + k]]) correct++;
  }
  return dataset.size === 0 ? NaN : correct / dataset.size;
}
