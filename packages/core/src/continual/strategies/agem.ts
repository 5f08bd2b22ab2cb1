/**
 * Averaged gradient episodic memory.
 *
 * Paper: Arslan Chaudhry, Marc'Aurelio Ranzato, Marcus Rohrbach, Mohamed Elhoseiny (2019),
 * "Efficient Lifelong Learning with A-GEM", ICLR, arXiv:1812.00420.
 *
 * After each experience, `patternsPerExp` of its training examples (drawn at random) join an
 * episodic memory. At every step from the second experience on, `sampleSize` memory examples
 * give a reference gradient g_ref (the loss's gradient on them, each over its own units); when
 * the batch's gradient g points against it (g·g_ref < 0) it is projected:
 *
 *   g ← g − (g·g_ref / g_ref·g_ref) · g_ref
 *
 * so that g·g_ref ≥ 0 and, to first order, the step does not increase the memory's loss.
 * Avalanche's names: `patternsPerExp` (`patterns_per_exp`), `sampleSize` (`sample_size`, 64).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientList } from '../../train/clip.js';
import type { Strategy, StrategyContext } from '../strategy.js';
import { toBatch, type RowBatch, type SamplePool } from '../rows.js';
import { concatPools, pickFromPool, samplePositions } from './pools.js';

/**
 * A-GEM's projection of `grads` against `reference` (aligned lists; missing entries count as
 * zero): unchanged when g·g_ref ≥ 0 or g_ref = 0, else g − (g·g_ref/‖g_ref‖²)·g_ref. Call inside `tf.tidy`.
 */
export function projectGradient(grads: GradientList, reference: GradientList): tf.Tensor[] {
  const pairs = grads.map((g, k) => [g, reference[k]] as const);
  const dot = tf.addN([tf.scalar(0), ...pairs.filter(([g, r]) => g && r).map(([g, r]) => tf.sum(tf.mul(g!, r!)))]);
  const norm = tf.addN([tf.scalar(0), ...reference.filter((r): r is tf.Tensor => r != null).map((r) => tf.sum(tf.square(r)))]);
  // min(dot, 0)/‖g_ref‖²: 0 when there is no conflict (or no reference), so no branch and no sync.
  const factor = tf.div(tf.minimum(dot, 0), tf.maximum(norm, 1e-30));
  return pairs.map(([g, r], k) => {
    const base = g ?? tf.zerosLike(reference[k] ?? tf.scalar(0));
    return r ? tf.sub(base, tf.mul(factor, r)) : base;
  });
}

/** The A-GEM strategy. */
export function agemStrategy(config: Record<string, unknown>, ctx: StrategyContext): Strategy {
  const patternsPerExp = config.patternsPerExp as number;
  const sampleSize = config.sampleSize as number;
  for (const e of ctx.benchmark.experiences) {
    if (patternsPerExp > e.train.size) throw new Error(`strategy 'agem'.patternsPerExp is ${patternsPerExp}, larger than experience ${e.index}'s ${e.train.size} training examples`);
  }
  const memory: SamplePool[] = [];
  const sampling = ctx.rng.fork('agem-sampling');
  let pool: SamplePool | undefined;
  let reference: RowBatch | undefined;
  return {
    name: 'agem',
    config,
    onBatch(rows, experience) {
      reference = pool ? ctx.rows.fromPool(pool, samplePositions(pool.indices.length, sampleSize, sampling), experience) : undefined;
      return rows;
    },
    afterBackward({ variables, grads }) {
      if (!reference) return grads;
      const { x, y } = toBatch(reference, ctx.rows.inputSize, ctx.rows.outputs);
      const { grads: ref } = tf.variableGrads(() => ctx.loss(ctx.model.apply(ctx.params, x, { training: false }), y), variables as tf.Variable[]);
      return projectGradient(grads, variables.map((v) => ref[v.name]));
    },
    afterExperience(experience) {
      const own = ctx.rows.experiencePool(experience);
      memory.push(pickFromPool(own, samplePositions(own.indices.length, patternsPerExp, ctx.rng.fork(`agem-memory:${experience}`))));
      pool = concatPools(memory);
    },
    dispose: () => undefined,
  };
}
