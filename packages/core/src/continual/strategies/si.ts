/**
 * Synaptic intelligence.
 *
 * Paper: Friedemann Zenke, Ben Poole, Surya Ganguli (2017), "Continual Learning Through Synaptic
 * Intelligence", ICML, arXiv:1703.04200. Implementation after van de Ven & Tolias (2019),
 * arXiv:1904.07734 (`continual_learner.py`, `train.py`):
 *
 * - during an experience, the path integral W += −g ⊙ Δθ after every update, with g the gradient
 *   the optimizer used (the total loss's, penalty included) and Δθ the update;
 * - after it, ω += W / (Δ² + eps), Δ = θ − θ at the experience's start, eps the damping
 *   (van de Ven: 0.1; Avalanche: 1e-7);
 * - the penalty siLambda·Σ ω(θ − θ*)², θ* the params after the last experience (no ½).
 *
 * With plain SGD every −g ⊙ Δθ = lr·g² ≥ 0, so ω ≥ 0; with Adam or momentum a parameter's W can
 * be negative (neither Zenke et al. nor van de Ven clamp it). Frozen params are not penalised and
 * get no importance.
 */
import * as tf from '@tensorflow/tfjs-core';
import { trainableVariables } from '../../params/params.js';
import type { StrategyContext } from '../strategy.js';
import type { QuadraticStrategy } from './ewc.js';
import { QuadraticPenalty } from './quadratic-penalty.js';
import { disposeVariables, snapshotVariables, zerosLikeVariables } from './param-snapshot.js';

/** The SI strategy. */
export function siStrategy(config: Record<string, unknown>, ctx: StrategyContext): QuadraticStrategy {
  const siLambda = config.siLambda as number;
  const eps = config.eps as number;
  const variables = trainableVariables(ctx.params);
  const penalty = new QuadraticPenalty(variables);
  let start: tf.Variable[] | undefined; // θ at the experience's start
  let previous: tf.Variable[] | undefined; // θ before the current step
  let path: tf.Variable[] | undefined; // W
  return {
    name: 'si',
    compilable: true,
    config,
    quadratic: penalty,
    beforeExperience() {
      start ??= snapshotVariables(variables);
      disposeVariables(previous);
      disposeVariables(path);
      previous = snapshotVariables(variables);
      path = zerosLikeVariables(variables);
    },
    penalty: () => (siLambda > 0 ? penalty.value() : undefined),
    afterStep({ grads }) {
      variables.forEach((v, k) => {
        const g = grads[k];
        if (g) path![k].assign(tf.sub(path![k], tf.mul(g, tf.sub(v, previous![k]))));
        previous![k].assign(v);
      });
    },
    afterExperience() {
      const old = penalty.terms[0]?.importance;
      const importance = variables.map((v, k) =>
        tf.tidy(() => {
          const delta = tf.sub(v, start![k]);
          const added = tf.div(path![k], tf.add(tf.square(delta), eps));
          return tf.variable(old ? tf.add(old[k], added) : added, false);
        }),
      );
      penalty.replace({ importance, anchor: snapshotVariables(variables), scale: siLambda });
      disposeVariables(start);
      start = snapshotVariables(variables);
    },
    dispose() {
      penalty.clear();
      [start, previous, path].forEach(disposeVariables);
    },
  };
}
