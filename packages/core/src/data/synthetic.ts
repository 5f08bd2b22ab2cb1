/**
 * Seeded synthetic datasets: small, exactly reproducible tasks for tests, examples and demos.
 * Every generator draws only from the `rng` it is given (advancing it), so the same rng state
 * gives the same data and calling a generator twice with one rng gives two different tasks.
 */
import { Rng } from '../random.js';
import { TensorDataset } from './dataset.js';

function positiveInt(what: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${what} must be a positive integer, got ${value}`);
}

/** Options of {@link sumGreaterThan}. */
export interface SumGreaterThanOptions {
  n: number;
  /** Features per example (default 20). */
  features?: number;
  /** Label 1 when the features sum to more than this (default 10: the mean sum of 20 features). */
  threshold?: number;
  rng: Rng;
}

/**
 * PEFT's MLP example task: `x ~ U(0, 1)^features`, label 1 if `sum(x) > threshold`, else 0
 * (two classes, roughly balanced with the defaults 20 and 10). Features `[features]`, labels
 * Int32Array class indices.
 */
export function sumGreaterThan(options: SumGreaterThanOptions): TensorDataset {
  const { n, features = 20, threshold = 10, rng } = options;
  positiveInt('sumGreaterThan: n', n);
  positiveInt('sumGreaterThan: features', features);
  const rngSeed = rng.seed;
  const x = rng.fillUniform(new Float32Array(n * features));
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < features; j++) sum += x[i * features + j];
    labels[i] = sum > threshold ? 1 : 0;
  }
  return new TensorDataset({
    features: x,
    featureShape: [features],
    labels,
    labelShape: [],
    name: 'sum-greater-than',
    params: { n, features, threshold, rngSeed },
    numClasses: 2,
  });
}

/** The 1-D regression families of {@link regression1d}. */
export type RegressionFamily = 'sine' | 'polynomial' | 'step';

/** Options of {@link regression1d}; task parameters not given are drawn from `rng`. */
export interface Regression1dOptions {
  family: RegressionFamily;
  n: number;
  rng: Rng;
  /** Standard deviation of Gaussian noise added to the targets (default 0). */
  noise?: number;
  /** Inputs are drawn uniformly from this range (default [-5, 5]; [-1, 1] for `polynomial`). */
  xRange?: [number, number];
  /** sine: `y = amplitude · sin(frequency · x + phase)`; amplitude drawn from U(0.1, 5). */
  amplitude?: number;
  /** sine: phase, drawn from U(0, π). */
  phase?: number;
  /** sine: frequency (default 1, not drawn). */
  frequency?: number;
  /** polynomial: `y = Σ coefficients[k] · x^k`; drawn from N(0, 1), `degree + 1` of them. */
  coefficients?: number[];
  /** polynomial: degree when coefficients are drawn (default 3). */
  degree?: number;
  /** step: `y = x > threshold ? high : low`; threshold drawn uniformly from the middle 80% of xRange. */
  threshold?: number;
  /** step: level left of the threshold, drawn from U(-2, 2). */
  low?: number;
  /** step: level right of the threshold, drawn from U(-2, 2). */
  high?: number;
}

/** A 1-D regression task: its family, its (given or drawn) parameters and the noiseless function. */
export interface RegressionTask {
  family: RegressionFamily;
  params: Record<string, number | number[]>;
  /** The noiseless target function (for plots and evaluation). */
  f(x: number): number;
}

/** A dataset of one 1-D regression task: features `[1]`, labels Float32Array `[1]`. */
export type RegressionDataset = TensorDataset & { readonly task: RegressionTask };

function drawTask(options: Regression1dOptions, rng: Rng, xRange: [number, number]): RegressionTask {
  const uniform = (low: number, high: number): number => low + (high - low) * rng.uniform();
  switch (options.family) {
    case 'sine': {
      const amplitude = options.amplitude ?? uniform(0.1, 5);
      const phase = options.phase ?? uniform(0, Math.PI);
      const frequency = options.frequency ?? 1;
      return { family: 'sine', params: { amplitude, phase, frequency }, f: (x) => amplitude * Math.sin(frequency * x + phase) };
    }
    case 'polynomial': {
      const degree = options.coefficients ? options.coefficients.length - 1 : options.degree ?? 3;
      if (!Number.isInteger(degree) || degree < 0) throw new RangeError(`regression1d: degree must be a non-negative integer, got ${degree}`);
      const coefficients = options.coefficients ? [...options.coefficients] : Array.from({ length: degree + 1 }, () => rng.normal());
      return {
        family: 'polynomial',
        params: { coefficients },
        f: (x) => coefficients.reduceRight((acc, c) => acc * x + c, 0),
      };
    }
    case 'step': {
      const [lo, hi] = xRange;
      const threshold = options.threshold ?? uniform(lo + 0.1 * (hi - lo), hi - 0.1 * (hi - lo));
      const low = options.low ?? uniform(-2, 2);
      const high = options.high ?? uniform(-2, 2);
      return { family: 'step', params: { threshold, low, high }, f: (x) => (x > threshold ? high : low) };
    }
    default:
      throw new Error(`regression1d: unknown family ${JSON.stringify((options as { family: unknown }).family)} (sine, polynomial, step)`);
  }
}

/**
 * A 1-D regression task from a family — `sine` (amplitude and phase drawn per task, as in MAML's
 * sinusoid benchmark), `polynomial` or `step` — with `n` inputs drawn uniformly from `xRange`
 * and optional Gaussian noise on the targets. Parameters given in the options are used as is;
 * the others are drawn. The returned dataset carries the task (`dataset.task.params`,
 * `dataset.task.f`). Three sub-streams (task, inputs, noise) are seeded from `rng`, so fixing a
 * parameter does not change the inputs drawn.
 */
export function regression1d(options: Regression1dOptions): RegressionDataset {
  const { n, rng, noise = 0 } = options;
  positiveInt('regression1d: n', n);
  if (!(noise >= 0)) throw new RangeError(`regression1d: noise must be >= 0, got ${noise}`);
  const xRange = options.xRange ?? (options.family === 'polynomial' ? [-1, 1] : [-5, 5]);
  if (!(xRange[1] > xRange[0])) throw new RangeError(`regression1d: xRange [${xRange.join(', ')}] is empty`);
  const rngSeed = rng.seed;
  const taskRng = new Rng(rng.nextUint32());
  const xRng = new Rng(rng.nextUint32());
  const noiseRng = new Rng(rng.nextUint32());
  const task = drawTask(options, taskRng, xRange);
  const x = xRng.fillUniform(new Float32Array(n), xRange[0], xRange[1]);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = task.f(x[i]) + (noise > 0 ? noise * noiseRng.normal() : 0);
  const dataset = new TensorDataset({
    features: x,
    featureShape: [1],
    labels: y,
    labelShape: [1],
    name: `regression1d-${task.family}`,
    params: { family: task.family, n, noise, xRange, rngSeed, ...task.params },
  });
  return Object.assign(dataset, { task });
}

/** Options of {@link gaussianMixture}. */
export interface GaussianMixtureOptions {
  n: number;
  classes: number;
  dims: number;
  /** Distance of every class mean from the origin. */
  separation: number;
  rng: Rng;
  /** Standard deviation of each (isotropic) component (default 1). */
  std?: number;
}

/** A Gaussian-mixture classification dataset, with the class means it was drawn around. */
export type GaussianMixtureDataset = TensorDataset & { readonly means: Float32Array[] };

/**
 * A classification task of `classes` isotropic Gaussians in `dims` dimensions. Class means lie at
 * distance `separation` from the origin in random directions — mutually orthogonal when
 * `classes <= dims`, so every pair of means is `separation·√2` apart. Labels are balanced
 * (`n / classes` each, ±1) in random order; `x = mean[label] + std · N(0, I)`.
 */
export function gaussianMixture(options: GaussianMixtureOptions): GaussianMixtureDataset {
  const { n, classes, dims, separation, rng, std = 1 } = options;
  positiveInt('gaussianMixture: n', n);
  positiveInt('gaussianMixture: classes', classes);
  positiveInt('gaussianMixture: dims', dims);
  if (!(separation >= 0)) throw new RangeError(`gaussianMixture: separation must be >= 0, got ${separation}`);
  const rngSeed = rng.seed;
  const meanRng = new Rng(rng.nextUint32());
  const sampleRng = new Rng(rng.nextUint32());

  // Random directions, Gram–Schmidt-orthogonalised while there are dimensions left.
  const means: Float32Array[] = [];
  const directions: Float64Array[] = [];
  for (let c = 0; c < classes; c++) {
    for (;;) {
      const v = Float64Array.from({ length: dims }, () => meanRng.normal());
      if (c < dims) {
        for (const u of directions) {
          let dot = 0;
          for (let j = 0; j < dims; j++) dot += v[j] * u[j];
          for (let j = 0; j < dims; j++) v[j] -= dot * u[j];
        }
      }
      const norm = Math.hypot(...v);
      if (norm < 1e-6) continue;
      for (let j = 0; j < dims; j++) v[j] /= norm;
      if (c < dims) directions.push(v);
      means.push(Float32Array.from(v, (value) => value * separation));
      break;
    }
  }

  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % classes;
  const order = sampleRng.permutation(n);
  const shuffled = new Int32Array(n);
  for (let i = 0; i < n; i++) shuffled[i] = labels[order[i]];
  const x = new Float32Array(n * dims);
  for (let i = 0; i < n; i++) {
    const mean = means[shuffled[i]];
    for (let j = 0; j < dims; j++) x[i * dims + j] = mean[j] + std * sampleRng.normal();
  }
  const dataset = new TensorDataset({
    features: x,
    featureShape: [dims],
    labels: shuffled,
    labelShape: [],
    name: 'gaussian-mixture',
    params: { n, classes, dims, separation, std, rngSeed },
    numClasses: classes,
  });
  return Object.assign(dataset, { means });
}
