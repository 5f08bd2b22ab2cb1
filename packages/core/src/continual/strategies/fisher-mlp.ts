/**
 * The diagonal Fisher of a plain MLP from per-example gradients, computed a batch at a time.
 *
 * EWC's Fisher (van de Ven & Tolias 2019 follow Kirkpatrick et al. 2017) is the mean over examples
 * of each example's *squared* gradient — batch size 1, so a tape per example. For an MLP the
 * per-example gradients have a closed form that needs no tape per example: with a layer
 * `z = a·Wᵀ + b` and δ = ∂loss_n/∂z_n (row n of the batch's output gradients, since example n's
 * loss depends only on its own row),
 *
 *   Σ_n (∂loss_n/∂W)² = (δ ⊙ δ)ᵀ · (a ⊙ a)      Σ_n (∂loss_n/∂b)² = Σ_n δ_n ⊙ δ_n
 *
 * and δ propagates as δ_{l−1} = (δ_l · W_l) ⊙ act′(z_{l−1}). For a softmax cross-entropy over the
 * units `[lo, hi)` the top δ is softmax − onehot on those units and 0 elsewhere. The sums are
 * exact: the same numbers as the per-example loop (tested in `fisher-mlp.test.ts`), computed with a
 * handful of matmuls per batch instead of a tape per example.
 *
 * Applies to an unadapted `mlp` (every child a `linear`) whose trainable variables are its own
 * `N.weight` / `N.bias`; anything else returns undefined and the caller uses the per-example loop.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../../nn/module.js';
import type { MlpModule } from '../../nn/mlp.js';
import { getActivation } from '../../nn/activations.js';
import type { Params } from '../../params/params.js';

/** One linear layer's parameters and where its variables sit in the caller's list. */
interface LayerVariables {
  weight: tf.Variable;
  bias?: tf.Variable;
  weightIndex: number;
  biasIndex: number;
}

/** The MLP's layers, if `model` is a plain MLP whose every trainable variable is one of its weights or biases. */
export function plainMlpLayers(model: Module, params: Params, variables: readonly tf.Variable[]): LayerVariables[] | undefined {
  if (model.kind !== 'mlp') return undefined;
  const mlp = model as MlpModule;
  const names = Object.keys(mlp.children);
  if (!names.every((name) => mlp.children[name].kind === 'linear')) return undefined;
  const index = new Map(variables.map((v, i) => [v, i]));
  const layers: LayerVariables[] = [];
  let found = 0;
  for (const name of names) {
    const child = params[name] as Params | undefined;
    const weight = child?.weight as tf.Variable | undefined;
    const bias = child?.bias as tf.Variable | undefined;
    if (!weight || weight.rank !== 2) return undefined;
    const weightIndex = index.get(weight) ?? -1;
    const biasIndex = bias ? (index.get(bias) ?? -1) : -1;
    found += (weightIndex >= 0 ? 1 : 0) + (biasIndex >= 0 ? 1 : 0);
    layers.push({ weight, ...(bias ? { bias } : {}), weightIndex, biasIndex });
  }
  return found === variables.length ? layers : undefined;
}

/**
 * Adds each variable's Σ_n (∂loss_n/∂v)² over the batch `x` to `sums` (aligned with the variables
 * given to {@link plainMlpLayers}). `labels(logits)` gives each row's target unit within `[lo, hi)`
 * (the predicted or the true one) as an int32 tensor of shape [batch].
 */
export function addSquaredGradients(
  model: MlpModule,
  layers: LayerVariables[],
  x: tf.Tensor2D,
  range: { lo: number; hi: number },
  labels: (logits: tf.Tensor2D) => tf.Tensor1D,
  sums: tf.Tensor[],
): tf.Tensor[] {
  const act = getActivation(model.activation);
  const actGrad = tf.grad((z: tf.Tensor) => tf.sum(act(z)));
  return tf.tidy(() => {
    const inputs: tf.Tensor2D[] = [];
    const preActivations: tf.Tensor2D[] = [];
    let a: tf.Tensor2D = x;
    layers.forEach((layer, l) => {
      inputs.push(a as tf.Tensor2D);
      let z: tf.Tensor2D = tf.matMul(a, layer.weight as tf.Tensor2D, false, true);
      if (layer.bias) z = tf.add(z, layer.bias) as tf.Tensor2D;
      preActivations.push(z);
      if (l < layers.length - 1) a = act(z) as tf.Tensor2D;
    });
    const out = preActivations[preActivations.length - 1];
    const width = out.shape[1];
    const logits = tf.slice(out, [0, range.lo], [-1, range.hi - range.lo]);
    const target = tf.oneHot(labels(logits), range.hi - range.lo);
    const inSlice = tf.sub(tf.softmax(logits), target);
    let delta = tf.pad(inSlice, [[0, 0], [range.lo, width - range.hi]]) as tf.Tensor2D;
    const next = sums.map((s) => s);
    for (let l = layers.length - 1; l >= 0; l--) {
      const layer = layers[l];
      const squared = tf.square(delta);
      if (layer.weightIndex >= 0) next[layer.weightIndex] = tf.add(next[layer.weightIndex], tf.matMul(squared, tf.square(inputs[l]), true, false));
      if (layer.biasIndex >= 0) next[layer.biasIndex] = tf.add(next[layer.biasIndex], tf.sum(squared, 0));
      if (l > 0) delta = tf.mul(tf.matMul(delta, layer.weight as tf.Tensor2D), actGrad(preActivations[l - 1])) as tf.Tensor2D;
    }
    return next.map((t, i) => (t === sums[i] ? tf.clone(t) : t));
  });
}
