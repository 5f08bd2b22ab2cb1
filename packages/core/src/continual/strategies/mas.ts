/**
 * Memory aware synapses.
 *
 * Paper: Rahaf Aljundi, Francesca Babiloni, Mohamed Elhoseiny, Marcus Rohrbach, Tinne Tuytelaars
 * (2018), "Memory Aware Synapses: Learning what (not) to forget", ECCV, arXiv:1711.09601.
 *
 * After each experience the importance of a parameter is the mean absolute gradient of the
 * squared L2 norm of the model's output (the paper's ℓ2² sensitivity; no labels needed), taken
 * per minibatch of the training batch size over the experience's training set, as Avalanche's
 * `MASPlugin`. Importances accumulate as Ω ← alpha·Ω_old + (1 − alpha)·Ω_new (the first
 * experience's Ω is Ω_new), and the penalty is lambdaReg·Σ Ω(θ − θ*)² (Avalanche's names:
 * `lambda_reg`, `alpha`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { trainableVariables } from '../../params/params.js';
import type { StrategyContext } from '../strategy.js';
import type { QuadraticStrategy } from './ewc.js';
import { QuadraticPenalty } from './quadratic-penalty.js';
import { snapshotVariables } from './param-snapshot.js';

/** The MAS strategy. */
export function masStrategy(config: Record<string, unknown>, ctx: StrategyContext): QuadraticStrategy {
  const lambdaReg = config.lambdaReg as number;
  const alpha = config.alpha as number;
  const variables = trainableVariables(ctx.params);
  const penalty = new QuadraticPenalty(variables);
  return {
    name: 'mas',
    compilable: true,
    config,
    quadratic: penalty,
    penalty: () => (lambdaReg > 0 ? penalty.value() : undefined),
    async afterExperience(experience) {
      const pool = ctx.rows.experiencePool(experience);
      const size = pool.indices.length;
      const batch = ctx.train.batchSize;
      const sums: tf.Tensor[] = variables.map((v) => tf.zerosLike(v));
      let batches = 0;
      for (let startRow = 0; startRow < size; startRow += batch) {
        const positions = Int32Array.from({ length: Math.min(batch, size - startRow) }, (_, k) => startRow + k);
        const rows = ctx.rows.fromPool(pool, positions, experience);
        const next = tf.tidy(() => {
          const x = tf.tensor2d(rows.x, [rows.n, ctx.rows.inputSize]);
          const { grads } = tf.variableGrads(() => tf.mean(tf.sum(tf.square(ctx.model.apply(ctx.params, x, { training: false })), 1)) as tf.Scalar, variables);
          return variables.map((v, k) => (grads[v.name] ? tf.add(sums[k], tf.abs(grads[v.name])) : tf.clone(sums[k])));
        });
        sums.forEach((s) => s.dispose());
        next.forEach((t, k) => (sums[k] = t));
        batches++;
        await new Promise((resolve) => setImmediate(resolve));
      }
      const old = penalty.terms[0]?.importance;
      const importance = sums.map((s, k) => tf.tidy(() => tf.variable(old ? tf.add(tf.mul(old[k], alpha), tf.mul(tf.div(s, batches), 1 - alpha)) : tf.div(s, batches), false)));
      sums.forEach((s) => s.dispose());
      penalty.replace({ importance, anchor: snapshotVariables(variables), scale: lambdaReg });
    },
    dispose: () => penalty.clear(),
  };
}
