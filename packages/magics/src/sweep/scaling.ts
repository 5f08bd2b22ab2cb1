/**
 * Power-law fits for scaling laws: y = a · x₁^b₁ · x₂^b₂ · …, fitted by ordinary least squares in
 * log space (ln y = ln a + Σ bᵢ ln xᵢ + ε), with standard errors, confidence intervals from
 * Student's t with n − k − 1 degrees of freedom, and R² (in log space).
 *
 * The two uses `%%sweep` has for them:
 * - optimal hyperparameters against model size N and data size D, as "Predictable Scale: Part I —
 *   Optimal Hyperparameter Scaling Law in Large Language Model Pretraining" (Li et al. 2025,
 *   arXiv 2503.04715) fits the optimal learning rate η_opt = a·N^α·D^β and batch size B_opt = a·D^γ
 *   (take the best trial per (N, D) with {@link optimalPoints}, then fit);
 * - loss against compute, L = a·C^b (Kaplan et al. 2020, "Scaling Laws for Neural Language
 *   Models", arXiv 2001.08361).
 *
 * The fit is linear regression on the logs, so its errors are multiplicative (log-normal) noise;
 * a law with an additive floor (L = E + a·C^b) is outside what it models.
 */
import { studentTQuantile } from './student-t.js';

/** An estimate with its standard error and confidence interval. */
export interface Estimate {
  value: number;
  standardError: number;
  /** The confidence interval (at {@link PowerLawFit.confidence}). */
  ci: [number, number];
}

/** The data of a fit: y and each named predictor, the same length, all positive. */
export interface PowerLawData {
  y: readonly number[];
  x: Readonly<Record<string, readonly number[]>>;
}

/** A fitted power law y = a · Π xᵢ^bᵢ. JSON-safe. */
export interface PowerLawFit {
  /** The law, written out: `y = 1.79 · N^-0.713 · D^0.307`. */
  formula: string;
  /** The predictors' names, in order. */
  variables: string[];
  /** a, with its interval mapped from ln a's (so asymmetric); its standard error is ln a's. */
  coefficient: Estimate;
  /** bᵢ by predictor name. */
  exponents: Record<string, Estimate>;
  /** R² of the regression in log space. */
  r2: number;
  /** The residuals' standard deviation in ln y (s, with n − k − 1 degrees of freedom). */
  residualStandardError: number;
  n: number;
  dof: number;
  /** The intervals' confidence level. */
  confidence: number;
}

/** Inverts a small symmetric positive-definite matrix (Gauss–Jordan with partial pivoting); undefined when singular. */
function invert(matrix: number[][]): number[][] | undefined {
  const k = matrix.length;
  const a = matrix.map((row, i) => [...row, ...row.map((_, j) => (i === j ? 1 : 0))]);
  const scale = Math.max(...matrix.map((row, i) => Math.abs(row[i])), 1e-300);
  for (let col = 0; col < k; col++) {
    let pivot = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    if (Math.abs(a[pivot][col]) <= 1e-10 * scale) return undefined;
    [a[col], a[pivot]] = [a[pivot], a[col]];
    const p = a[col][col];
    for (let j = 0; j < 2 * k; j++) a[col][j] /= p;
    for (let r = 0; r < k; r++) {
      if (r === col) continue;
      const f = a[r][col];
      if (f !== 0) for (let j = 0; j < 2 * k; j++) a[r][j] -= f * a[col][j];
    }
  }
  return a.map((row) => row.slice(k));
}

const format = (v: number): string => Number(v.toPrecision(3)).toString();

/** The logs of `values`, or an error naming the first value that is not positive. */
function logs(name: string, values: readonly number[]): number[] {
  return values.map((v, i) => {
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new RangeError(`a power law needs positive values: ${name}[${i}] is ${String(v)}`);
    return Math.log(v);
  });
}

/**
 * Fits y = a · Π xᵢ^bᵢ by least squares on ln y. Throws a RangeError for a non-positive or
 * non-finite value (naming it), lengths that differ, fewer than k + 2 points for k predictors
 * (so that the intervals have a degree of freedom), or a constant or collinear predictor.
 */
export function fitPowerLaw(data: PowerLawData, options: { confidence?: number } = {}): PowerLawFit {
  const confidence = options.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const variables = Object.keys(data.x);
  const k = variables.length;
  const n = data.y.length;
  if (k === 0) throw new RangeError('a power law needs at least one predictor');
  for (const name of variables) if (data.x[name].length !== n) throw new RangeError(`${name} has ${data.x[name].length} values but y has ${n}`);
  if (n < k + 2) throw new RangeError(`too few points: ${n}; a power law in ${k} variable${k > 1 ? 's' : ''} needs at least ${k + 2} for confidence intervals`);
  const ly = logs('y', data.y);
  const lx = variables.map((name) => logs(name, data.x[name]));
  // Centred predictors: the slopes come from a k×k system, the intercept from the means.
  const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
  const my = mean(ly);
  const mx = lx.map(mean);
  const cx = lx.map((col, j) => col.map((v) => v - mx[j]));
  for (let j = 0; j < k; j++) if (cx[j].every((v) => Math.abs(v) < 1e-12)) throw new RangeError(`${variables[j]} is constant, so its exponent cannot be fitted`);
  const xtx = cx.map((a) => cx.map((b) => a.reduce((s, v, i) => s + v * b[i], 0)));
  const xty = cx.map((a) => a.reduce((s, v, i) => s + v * (ly[i] - my), 0));
  const inverse = invert(xtx);
  if (!inverse) throw new RangeError(`the predictors ${variables.join(', ')} are collinear (one is a power of the others), so their exponents cannot be separated`);
  const b = inverse.map((row) => row.reduce((s, v, j) => s + v * xty[j], 0));
  const logA = my - b.reduce((s, bj, j) => s + bj * mx[j], 0);
  let rss = 0;
  let tss = 0;
  for (let i = 0; i < n; i++) {
    const fitted = logA + b.reduce((s, bj, j) => s + bj * lx[j][i], 0);
    rss += (ly[i] - fitted) ** 2;
    tss += (ly[i] - my) ** 2;
  }
  const dof = n - k - 1;
  const s2 = rss / dof;
  const t = studentTQuantile(0.5 + confidence / 2, dof);
  const estimate = (value: number, variance: number): Estimate => {
    const standardError = Math.sqrt(Math.max(variance, 0));
    return { value, standardError, ci: [value - t * standardError, value + t * standardError] };
  };
  const exponents: Record<string, Estimate> = {};
  variables.forEach((name, j) => (exponents[name] = estimate(b[j], s2 * inverse[j][j])));
  const varLogA = s2 / n + mx.reduce((s, mi, i) => s + mx.reduce((s2j, mj, j) => s2j + mi * mj * s2 * inverse[i][j], 0), 0);
  const log = estimate(logA, varLogA);
  const coefficient: Estimate = { value: Math.exp(logA), standardError: log.standardError, ci: [Math.exp(log.ci[0]), Math.exp(log.ci[1])] };
  return {
    formula: `y = ${format(coefficient.value)} · ${variables.map((name) => `${name}^${format(exponents[name].value)}`).join(' · ')}`,
    variables,
    coefficient,
    exponents,
    r2: tss > 0 ? 1 - rss / tss : 1,
    residualStandardError: Math.sqrt(s2),
    n,
    dof,
    confidence,
  };
}

/** The fitted law's value at `x` (every predictor named). */
export function predictPowerLaw(fit: PowerLawFit, x: Readonly<Record<string, number>>): number {
  return fit.variables.reduce((y, name) => {
    const v = x[name];
    if (typeof v !== 'number') throw new RangeError(`predictPowerLaw: no value for ${name}`);
    return y * v ** fit.exponents[name].value;
  }, fit.coefficient.value);
}

/**
 * The best row of each group: for every distinct combination of the `groupBy` columns (model
 * size, data size), the row whose `objective.metric` is best — the "optimal" points a scaling law
 * of optimal hyperparameters is fitted to. Rows without a finite metric are skipped; groups keep
 * the order they first appear in.
 */
export function optimalPoints<T extends Readonly<Record<string, number>>>(rows: readonly T[], options: { groupBy: readonly string[]; objective: { metric: string; mode: 'max' | 'min' } }): T[] {
  const best = new Map<string, T>();
  const { metric, mode } = options.objective;
  for (const row of rows) {
    const value = row[metric];
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    const key = JSON.stringify(options.groupBy.map((column) => row[column]));
    const current = best.get(key);
    if (!current || (mode === 'max' ? value > current[metric] : value < current[metric])) best.set(key, row);
  }
  return [...best.values()];
}
