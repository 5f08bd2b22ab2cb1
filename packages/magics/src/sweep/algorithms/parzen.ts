/**
 * One-dimensional Parzen estimators for TPE (Bergstra et al. 2011, "Algorithms for
 * Hyper-Parameter Optimization", NeurIPS, §4): over the unit interval (a numeric dimension's
 * {@link toUnit} scale, so log-scaled where the dimension is), a mixture of Gaussians truncated to
 * [0, 1], one per observation plus one wide prior component; over categories, the observed
 * frequencies smoothed by a uniform prior.
 *
 * Bandwidths follow the paper's rule: each component's σ is the larger of the distances to its
 * neighbours (the interval's ends count as neighbours), clipped to [1 / min(100, n + 1), 1]; the
 * prior is centred at 0.5 with σ = 1 (the width of the interval) and weight `priorWeight`, the
 * observations weight 1 each.
 */
import type { SweepRandom } from '../seeded-random.js';

/** A truncated-Gaussian mixture on [0, 1]. */
export interface NumericParzen {
  kind: 'numeric';
  mus: number[];
  sigmas: number[];
  /** Normalised weights. */
  weights: number[];
}

/** A smoothed categorical distribution. */
export interface CategoricalParzen {
  kind: 'categorical';
  /** Probability of each category. */
  probabilities: number[];
}

/** The error function (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-x * x));
}

const normalCdf = (z: number): number => 0.5 * (1 + erf(z / Math.SQRT2));

/** The estimator of numeric observations `points` (unit-interval positions). */
export function numericParzen(points: readonly number[], priorWeight: number): NumericParzen {
  const components = points.map((mu) => ({ mu, prior: false })).concat([{ mu: 0.5, prior: true }]);
  components.sort((a, b) => a.mu - b.mu || Number(a.prior) - Number(b.prior));
  const minSigma = 1 / Math.min(100, points.length + 1);
  const sigmas = components.map((c, i) => {
    if (c.prior) return 1;
    const left = c.mu - (i > 0 ? components[i - 1].mu : 0);
    const right = (i < components.length - 1 ? components[i + 1].mu : 1) - c.mu;
    return Math.min(1, Math.max(minSigma, left, right));
  });
  const raw = components.map((c) => (c.prior ? priorWeight : 1));
  const total = raw.reduce((a, b) => a + b, 0);
  return { kind: 'numeric', mus: components.map((c) => c.mu), sigmas, weights: raw.map((w) => w / total) };
}

/** The estimator of categorical observations (indices into `size` categories). */
export function categoricalParzen(indices: readonly number[], size: number, priorWeight: number): CategoricalParzen {
  const counts = new Array<number>(size).fill(priorWeight / size);
  for (const index of indices) counts[index] += 1;
  const total = indices.length + priorWeight;
  return { kind: 'categorical', probabilities: counts.map((c) => c / total) };
}

/** Picks an index with the given (normalised) weights. */
function pickWeighted(weights: readonly number[], rng: SweepRandom): number {
  let u = rng.uniform();
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  return weights.length - 1;
}

/** One draw: a unit-interval position (numeric) or a category index. */
export function sampleParzen(estimator: NumericParzen | CategoricalParzen, rng: SweepRandom): number {
  if (estimator.kind === 'categorical') return pickWeighted(estimator.probabilities, rng);
  const i = pickWeighted(estimator.weights, rng);
  for (let tries = 0; tries < 64; tries++) {
    const x = estimator.mus[i] + estimator.sigmas[i] * rng.normal();
    if (x >= 0 && x <= 1) return x;
  }
  return rng.uniform(); // a component almost wholly outside [0, 1]: vanishingly rare with σ ≤ 1
}

/** The log density at `x` (a unit-interval position, or a category index). */
export function logDensity(estimator: NumericParzen | CategoricalParzen, x: number): number {
  if (estimator.kind === 'categorical') return Math.log(estimator.probabilities[x]);
  let density = 0;
  for (let i = 0; i < estimator.mus.length; i++) {
    const mu = estimator.mus[i];
    const sigma = estimator.sigmas[i];
    const mass = normalCdf((1 - mu) / sigma) - normalCdf(-mu / sigma);
    const z = (x - mu) / sigma;
    density += (estimator.weights[i] * Math.exp(-0.5 * z * z)) / (sigma * Math.sqrt(2 * Math.PI) * Math.max(mass, 1e-12));
  }
  return Math.log(Math.max(density, 1e-300));
}
