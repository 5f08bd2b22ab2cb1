/**
 * The quadratic penalty shared by the regularisation strategies (EWC, SI, MAS):
 *
 *   Σ_terms scale_t · Σ_params ω_t ⊙ (θ − θ*_t)²
 *
 * with per-parameter importances ω_t and anchors θ*_t (one term per past experience for EWC's
 * `separate` mode, a single running term otherwise). Importances and anchors are the penalty's
 * own non-trainable variables.
 */
import * as tf from '@tensorflow/tfjs-core';
import { disposeVariables } from './param-snapshot.js';

/** One term: importances and anchors aligned with the penalised variables, and its scale. */
export interface QuadraticTerm {
  /** ω, one per penalised variable. */
  importance: tf.Variable[];
  /** θ*, one per penalised variable. */
  anchor: tf.Variable[];
  /** The term's factor (e.g. ½·λ). */
  scale: number;
}

/** A sum of quadratic terms over a fixed list of variables. */
export class QuadraticPenalty {
  /** The terms, oldest first. */
  readonly terms: QuadraticTerm[] = [];

  constructor(
    /** The penalised variables (the trainable ones when the strategy was made). */
    readonly variables: readonly tf.Variable[],
  ) {}

  /** Adds a term (taking ownership of its variables). */
  add(term: QuadraticTerm): void {
    this.terms.push(term);
  }

  /** Replaces every term by this one (online EWC, SI, MAS keep one running term). */
  replace(term: QuadraticTerm): void {
    this.clear();
    this.terms.push(term);
  }

  /** The penalty, or undefined before the first term. */
  value(): tf.Scalar | undefined {
    if (this.terms.length === 0) return undefined;
    return tf.tidy(() => {
      let total: tf.Tensor = tf.scalar(0);
      for (const term of this.terms) {
        const sums = this.variables.map((v, k) => tf.sum(tf.mul(term.importance[k], tf.square(tf.sub(v, term.anchor[k])))));
        total = tf.add(total, tf.mul(tf.addN(sums), term.scale));
      }
      return total as tf.Scalar;
    });
  }

  /** Disposes every term. */
  clear(): void {
    for (const term of this.terms.splice(0)) {
      disposeVariables(term.importance);
      disposeVariables(term.anchor);
    }
  }
}
