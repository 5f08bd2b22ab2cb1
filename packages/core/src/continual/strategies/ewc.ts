/**
 * Elastic weight consolidation and its online variant.
 *
 * EWC: James Kirkpatrick et al. (2017), "Overcoming catastrophic forgetting in neural networks",
 * PNAS 114(13), arXiv:1612.00796. Online EWC: Jonathan Schwarz et al. (2018), "Progress &
 * Compress: A scalable framework for continual learning", ICML, arXiv:1805.06370.
 * Implementation after Gido van de Ven & Andreas Tolias (2019), "Three scenarios for continual
 * learning", arXiv:1904.07734 (code: GMvandeVen/continual-learning, `continual_learner.py`):
 *
 * - After each experience the diagonal Fisher is estimated from examples one at a time
 *   (batch size 1; for a plain MLP the same per-example sums in closed form a batch at a time,
 *   `fisher-mlp.ts`) over the experience's active units, with the model's *predicted* label
 *   (`empFI: false`, their default) or the true one (`empFI: true`), over `fisherSamples`
 *   examples (default all of the experience's training set), as the mean of squared gradients
 *   of the negative log-likelihood.
 * - `separate` mode keeps one term per experience: ½·ewcLambda·Σ_t Σ F_t(θ − θ*_t)².
 * - `online` mode keeps one running Fisher F ← F_new + decayFactor·F_old with the latest anchor,
 *   and the penalty ½·ewcLambda·Σ decayFactor·F(θ − θ*)² (van de Ven apply γ again in the
 *   penalty). Avalanche's EWC omits the ½ and that second γ; their λ values are not ours.
 */
import * as tf from '@tensorflow/tfjs-core';
import { trainableVariables } from '../../params/params.js';
import { softmaxCrossEntropy } from '../../train/losses.js';
import type { Strategy, StrategyContext } from '../strategy.js';
import { QuadraticPenalty } from './quadratic-penalty.js';
import { snapshotVariables } from './param-snapshot.js';
import { readFeatures } from '../pixel-map-dataset.js';
import type { MlpModule } from '../../nn/mlp.js';
import { addSquaredGradients, plainMlpLayers } from './fisher-mlp.js';

/** EWC's options (see `strategy-config.ts` for defaults). */
export interface EwcOptions {
  ewcLambda: number;
  mode: 'separate' | 'online';
  decayFactor?: number;
  fisherSamples?: number;
  empFI: boolean;
}

/**
 * The diagonal Fisher of `ctx.params`' trainable variables on experience `experience`, estimated
 * as in the file comment. Returns new non-trainable variables aligned with `variables`.
 */
export async function estimateFisher(ctx: StrategyContext, variables: readonly tf.Variable[], experience: number, options: { fisherSamples?: number; empFI: boolean }): Promise<tf.Variable[]> {
  const data = ctx.benchmark.experiences[experience].train;
  const inputSize = ctx.rows.inputSize;
  const order = ctx.rng.fork(`fisher:${experience}`).permutation(data.size);
  const n = Math.min(options.fisherSamples ?? data.size, data.size);
  const { lo, hi } = ctx.rows.range(experience, experience);
  let sums: tf.Tensor[] = variables.map((v) => tf.zerosLike(v));
  const layers = plainMlpLayers(ctx.model, ctx.params, variables);
  if (layers) {
    // A plain MLP: the same sums of squared per-example gradients, a batch at a time (fisher-mlp.ts).
    const chunk = 256;
    const x = new Float32Array(chunk * inputSize);
    for (let start = 0; start < n; start += chunk) {
      const size = Math.min(chunk, n - start);
      const units = new Int32Array(size);
      for (let k = 0; k < size; k++) {
        const i = order[start + k];
        readFeatures(data, i, x, k * inputSize);
        units[k] = ctx.rows.unit(experience, data.labels[i]) - lo;
      }
      const batch = tf.tensor2d(x.subarray(0, size * inputSize), [size, inputSize]);
      const labels = (logits: tf.Tensor2D): tf.Tensor1D => (options.empFI ? tf.tensor1d(units, 'int32') : (tf.cast(tf.argMax(logits, 1), 'int32') as tf.Tensor1D));
      const next = addSquaredGradients(ctx.model as MlpModule, layers, batch, { lo, hi }, labels, sums);
      batch.dispose();
      sums.forEach((t) => t.dispose());
      sums = next;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const x = new Float32Array(inputSize);
  for (let k = 0; !layers && k < n; k++) {
    const i = order[k];
    readFeatures(data, i, x, 0);
    const trueUnit = ctx.rows.unit(experience, data.labels[i]) - lo;
    const next = tf.tidy(() => {
      const input = tf.tensor2d(x, [1, inputSize]);
      const { grads } = tf.variableGrads(() => {
        const logits = tf.slice(ctx.model.apply(ctx.params, input, { training: false }), [0, lo], [1, hi - lo]);
        const label = options.empFI ? tf.tensor1d([trueUnit], 'int32') : tf.cast(tf.argMax(logits, 1), 'int32');
        return softmaxCrossEntropy(logits, label);
      }, variables as tf.Variable[]);
      return variables.map((v, j) => {
        const g = grads[v.name];
        return g ? tf.add(sums[j], tf.square(g)) : tf.clone(sums[j]);
      });
    });
    sums.forEach((s) => s.dispose());
    next.forEach((t, j) => (sums[j] = t));
    if (k % 256 === 255) await new Promise((resolve) => setImmediate(resolve));
  }
  const fisher = sums.map((s) => tf.tidy(() => tf.variable(tf.div(s, Math.max(n, 1)), false)));
  sums.forEach((s) => s.dispose());
  return fisher;
}

/** A strategy whose penalty is a {@link QuadraticPenalty} (EWC, SI, MAS), open for inspection. */
export interface QuadraticStrategy extends Strategy {
  /** The penalty's terms: importances and anchors. */
  readonly quadratic: QuadraticPenalty;
}

/** The EWC strategy (both modes). */
export function ewcStrategy(config: Record<string, unknown>, ctx: StrategyContext): QuadraticStrategy {
  const options = config as unknown as EwcOptions;
  const online = config.name === 'online-ewc' || options.mode === 'online';
  const gamma = options.decayFactor ?? 1;
  const variables = trainableVariables(ctx.params);
  const penalty = new QuadraticPenalty(variables);
  const scale = 0.5 * options.ewcLambda * (online ? gamma : 1);
  return {
    name: String(config.name),
    compilable: true,
    config,
    quadratic: penalty,
    penalty: () => (options.ewcLambda > 0 ? penalty.value() : undefined),
    async afterExperience(experience) {
      const fresh = await estimateFisher(ctx, variables, experience, options);
      const anchor = snapshotVariables(variables);
      if (!online) {
        penalty.add({ importance: fresh, anchor, scale });
        return;
      }
      const previous = penalty.terms[0];
      const importance = previous ? fresh.map((f, k) => tf.tidy(() => tf.variable(tf.add(f, tf.mul(previous.importance[k], gamma)), false))) : fresh;
      if (previous) fresh.forEach((f) => f.dispose());
      penalty.replace({ importance, anchor, scale });
    },
    dispose: () => penalty.clear(),
  };
}

