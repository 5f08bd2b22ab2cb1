/**
 * d_int90: the smallest subspace dimension d whose subspace-trained model reaches 90 % of the
 * full model's accuracy (Li, Farkhoor, Liu & Yosinski 2018, "Measuring the Intrinsic Dimension of
 * Objective Landscapes", ICLR 2018, arXiv:1804.08838, section 2).
 *
 * The paper trains every d of a hand-made grid and reads off the first d (in increasing order)
 * whose accuracy crosses the threshold (the reference notebook's `compt_dim_int`). Two modes:
 *
 * - **grid** (`candidates`): the paper's protocol — every candidate is trained, in increasing
 *   order (or up to the first that reaches the target with `stopAtFirst`); d_int90 is the
 *   smallest candidate reaching it.
 * - **search** (`lo`/`hi`): a log-scale grid lo, lo·f, lo·f², … (and hi), trained in increasing
 *   order up to the first d that reaches the target, then bisection at the geometric midpoint
 *   between the last d that failed and the first that reached, until they are within `tolerance`
 *   (relative) or adjacent integers. This assumes accuracy rises with d, as it does up to noise;
 *   where noise makes it non-monotone the answer is one crossing, not necessarily the first.
 *
 * "Reaches" is accuracy ≥ threshold · fullAccuracy (the notebook uses a strict >, which differs
 * only on exact ties). Every d trained is returned in the trace, with its accuracy, for a plot of
 * accuracy against d; a d asked twice is trained once.
 */

/** One trained subspace dimension. */
export interface Dint90Trial {
  d: number;
  accuracy: number;
  /** accuracy ≥ target. */
  reached: boolean;
  /** Which phase asked for it. */
  phase: 'grid' | 'bisect';
  /** Wall time of `train(d)`. */
  seconds: number;
}

/** Options of {@link dint90Search}. */
export interface Dint90Options {
  /** Trains the model in a d-dimensional subspace and resolves to its accuracy. */
  train: (d: number) => Promise<number> | number;
  /** The full (directly trained) model's accuracy. */
  fullAccuracy: number;
  /** Fraction of `fullAccuracy` to reach. Default 0.9. */
  threshold?: number;
  /** Grid mode: the dimensions to train. */
  candidates?: number[];
  /** Grid mode: stop after the first candidate that reaches the target. Default false (train all: the whole curve). */
  stopAtFirst?: boolean;
  /** Search mode: the smallest d tried. */
  lo?: number;
  /** Search mode: the largest d tried. */
  hi?: number;
  /** Search mode: ratio between grid points. Default 2. */
  factor?: number;
  /** Search mode: stop bisecting when (reached d) / (failed d) ≤ 1 + tolerance. Default 0.05. */
  tolerance?: number;
  /** Called after each trained d. */
  onTrial?: (trial: Dint90Trial, trace: readonly Dint90Trial[]) => void;
}

/** What {@link dint90Search} returns. */
export interface Dint90Result {
  /** The smallest d found reaching the target; undefined when none did. */
  dint90: number | undefined;
  /** threshold · fullAccuracy. */
  target: number;
  /** `'grid'` or `'search'`. */
  mode: 'grid' | 'search';
  /** Every trained d in the order tried. */
  trace: Dint90Trial[];
  /** The same trials sorted by d (the curve to plot). */
  curve: Dint90Trial[];
  /** The largest d tried that did not reach the target (the search's lower bracket), if any below d_int90. */
  lowerBound: number | undefined;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`dint90Search: ${message}`);
}

/** The log-scale grid of the search mode: lo, lo·f, … below hi (rounded, distinct), then hi. */
export function logGrid(lo: number, hi: number, factor = 2): number[] {
  const out: number[] = [];
  for (let x = lo; Math.round(x) < hi; x *= factor) if (out.at(-1) !== Math.round(x)) out.push(Math.round(x));
  out.push(hi);
  return out;
}

/** Finds d_int90 (see the header); resolves with the trace of every d trained. */
export async function dint90Search(options: Dint90Options): Promise<Dint90Result> {
  const threshold = options.threshold ?? 0.9;
  check(typeof options.train === 'function', 'train must be a function (d) => accuracy');
  check(Number.isFinite(options.fullAccuracy) && options.fullAccuracy > 0, `fullAccuracy must be a positive number, got ${options.fullAccuracy}`);
  check(threshold > 0 && threshold <= 1, `threshold must be in (0, 1], got ${threshold}`);
  const grid = options.candidates !== undefined;
  check(grid !== (options.lo !== undefined || options.hi !== undefined), 'give either candidates (grid mode) or lo and hi (search mode)');
  const target = threshold * options.fullAccuracy;
  const trace: Dint90Trial[] = [];
  const tried = new Map<number, Dint90Trial>();
  const run = async (d: number, phase: Dint90Trial['phase']): Promise<Dint90Trial> => {
    const known = tried.get(d);
    if (known) return known;
    const started = performance.now();
    const accuracy = await options.train(d);
    check(typeof accuracy === 'number' && !Number.isNaN(accuracy), `train(${d}) must resolve to an accuracy, got ${String(accuracy)}`);
    const trial: Dint90Trial = { d, accuracy, reached: accuracy >= target, phase, seconds: (performance.now() - started) / 1000 };
    tried.set(d, trial);
    trace.push(trial);
    options.onTrial?.(trial, trace);
    return trial;
  };
  const result = (dint90: number | undefined, lowerBound: number | undefined): Dint90Result => ({
    dint90,
    target,
    mode: grid ? 'grid' : 'search',
    trace,
    curve: [...trace].sort((a, b) => a.d - b.d),
    lowerBound,
  });

  if (grid) {
    const candidates = [...new Set(options.candidates!)].sort((a, b) => a - b);
    check(candidates.length > 0 && candidates.every((d) => Number.isInteger(d) && d >= 1), `candidates must be positive integers, got ${JSON.stringify(options.candidates)}`);
    for (const d of candidates) {
      const trial = await run(d, 'grid');
      if (trial.reached && options.stopAtFirst) break;
    }
    const first = trace.filter((t) => t.reached).sort((a, b) => a.d - b.d)[0];
    const below = first ? trace.filter((t) => !t.reached && t.d < first.d).map((t) => t.d) : [];
    return result(first?.d, below.length ? Math.max(...below) : undefined);
  }

  const { lo, hi } = options;
  const factor = options.factor ?? 2;
  const tolerance = options.tolerance ?? 0.05;
  check(Number.isInteger(lo) && lo! >= 1 && Number.isInteger(hi) && hi! >= lo!, `lo and hi must be integers with 1 ≤ lo ≤ hi, got lo = ${lo}, hi = ${hi}`);
  check(factor > 1, `factor must exceed 1, got ${factor}`);
  check(tolerance >= 0, `tolerance must be ≥ 0, got ${tolerance}`);
  let failed: number | undefined;
  let reached: number | undefined;
  for (const d of logGrid(lo!, hi!, factor)) {
    const trial = await run(d, 'grid');
    if (trial.reached) {
      reached = d;
      break;
    }
    failed = d;
  }
  if (reached === undefined) return result(undefined, failed);
  if (failed === undefined) return result(reached, undefined);
  while (reached - failed > 1 && reached / failed > 1 + tolerance) {
    const mid = Math.min(reached - 1, Math.max(failed + 1, Math.round(Math.sqrt(failed * reached))));
    const trial = await run(mid, 'bisect');
    if (trial.reached) reached = mid;
    else failed = mid;
  }
  return result(reached, failed);
}
