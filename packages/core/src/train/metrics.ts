/**
 * Metrics: `(output, target) → tf.Scalar` batch means, and {@link evaluate}, which runs a model in
 * inference mode over batches and averages each metric over examples.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module, ApplyContext } from '../nn/module.js';
import type { Params } from '../params/params.js';
import { meanSquaredError, softmaxCrossEntropy } from './losses.js';

/** A metric: model output and target in, the batch mean out. */
export type MetricFn = (output: tf.Tensor, target: tf.Tensor) => tf.Scalar;

/** Names of the built-in metrics. */
export type BuiltinMetric = 'accuracy' | 'cross-entropy' | 'mse';

/** One batch: inputs, targets and optional extra inputs (passed to `apply` as `ctx.extras`). */
export interface Batch {
  /** Model input; its first axis is the batch (its length counts the examples). */
  x: tf.Tensor;
  /** Targets, as the loss or metric expects them. */
  y: tf.Tensor;
  /** Extra named inputs (masks, task embeddings, …), given to `apply` in `ctx.extras`. */
  extras?: Record<string, tf.Tensor>;
}

/**
 * Classification accuracy, the fraction of correct predictions:
 * - `labels` with the shape of `logits` minus its last axis: class indices, compared with
 *   `argMax(logits, -1)`;
 * - `logits` of rank 1, or with a last axis of size 1, and `labels` of the same shape: binary,
 *   prediction `logit > 0` compared with `label > 0.5`;
 * - otherwise `labels` with the shape of `logits`: one-hot / probabilities, `argMax` of both.
 */
export function accuracy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const sameShape = tf.util.arraysEqual(labels.shape, logits.shape);
    let correct: tf.Tensor;
    if (labels.rank === logits.rank - 1 && tf.util.arraysEqual(labels.shape, logits.shape.slice(0, -1))) {
      correct = tf.equal(tf.argMax(logits, -1), tf.cast(labels, 'int32'));
    } else if (sameShape && (logits.rank === 1 || logits.shape[logits.rank - 1] === 1)) {
      correct = tf.equal(tf.greater(logits, 0), tf.greater(labels, 0.5));
    } else if (sameShape) {
      correct = tf.equal(tf.argMax(logits, -1), tf.argMax(labels, -1));
    } else {
      throw new Error(`accuracy: labels of shape [${labels.shape}] do not fit logits of shape [${logits.shape}]`);
    }
    return tf.mean(tf.cast(correct, 'float32')) as tf.Scalar;
  });
}

/** Softmax cross-entropy (the `'cross-entropy'` loss) as a metric. */
export const crossEntropy: MetricFn = softmaxCrossEntropy;

/** Mean squared error as a metric. */
export const mse: MetricFn = meanSquaredError;

/** The built-in metrics by name. */
export const METRICS: Readonly<Record<BuiltinMetric, MetricFn>> = {
  accuracy,
  'cross-entropy': crossEntropy,
  mse,
};

/** A metric function from a function or a built-in name. */
export function resolveMetric(metric: MetricFn | BuiltinMetric): MetricFn {
  if (typeof metric === 'function') return metric;
  const fn = (METRICS as Record<string, MetricFn | undefined>)[metric];
  if (fn === undefined) throw new Error(`unknown metric "${String(metric)}" (built-ins: ${Object.keys(METRICS).join(', ')})`);
  return fn;
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Dispose each batch's tensors after use, as `train` does. Default true; false to reuse batches. */
  disposeBatches?: boolean;
  /** The apply context. Default `{ training: false }` (inference: no dropout). */
  ctx?: ApplyContext;
}

/**
 * Runs `model` over `batches` and returns each metric's mean over all examples (each batch's mean
 * weighted by its first-axis length), computed in double precision. `metrics` names the results:
 * `{ acc: 'accuracy', loss: 'cross-entropy', custom: (out, y) => … }`, or give a list of built-in
 * names to use them as the keys. Leaves no tensors behind (and disposes the batches unless
 * `disposeBatches` is false). An empty `batches` gives NaN for every metric.
 */
export async function evaluate(
  model: Module,
  params: Params,
  batches: Iterable<Batch> | AsyncIterable<Batch>,
  metrics: Record<string, MetricFn | BuiltinMetric> | readonly BuiltinMetric[],
  options: EvaluateOptions = {},
): Promise<Record<string, number>> {
  const { disposeBatches = true, ctx = { training: false } } = options;
  const entries: Array<[string, MetricFn]> = Array.isArray(metrics)
    ? (metrics as readonly BuiltinMetric[]).map((name) => [name, resolveMetric(name)])
    : Object.entries(metrics as Record<string, MetricFn | BuiltinMetric>).map(([name, m]) => [name, resolveMetric(m)]);
  if (entries.length === 0) throw new Error('evaluate: no metrics given');
  const sums = new Float64Array(entries.length);
  let examples = 0;
  for await (const batch of batches) {
    try {
      const n = batch.x.rank === 0 ? 1 : batch.x.shape[0];
      const values = tf.tidy(() => {
        const output = model.apply(params, batch.x, batch.extras ? { ...ctx, extras: { ...ctx.extras, ...batch.extras } } : ctx);
        return tf.stack(entries.map(([, fn]) => tf.cast(fn(output, batch.y), 'float32')));
      });
      const data = await values.data();
      values.dispose();
      for (let i = 0; i < entries.length; i++) sums[i] += data[i] * n;
      examples += n;
    } finally {
      if (disposeBatches) disposeBatch(batch);
    }
  }
  const out: Record<string, number> = {};
  entries.forEach(([name], i) => (out[name] = sums[i] / examples));
  return out;
}

/** Disposes a batch's tensors (x, y and extras). */
export function disposeBatch(batch: Batch): void {
  batch.x.dispose();
  batch.y.dispose();
  if (batch.extras) for (const t of Object.values(batch.extras)) t.dispose();
}
