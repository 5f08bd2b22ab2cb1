/**
 * Learning-rate schedules: plain functions from the 0-based index of the step about to be taken
 * (0 for the first optimizer step) to a learning rate. `train` calls the schedule once per step.
 */

/** A learning-rate schedule: `step` is the 0-based index of the step about to be taken. */
export type Schedule = (step: number) => number;

function checkLr(name: string, value: number, what = 'lr'): void {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name}: ${what} must be a finite number ≥ 0, got ${value}`);
}

function checkSteps(name: string, value: number, what: string, allowZero: boolean): void {
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new RangeError(`${name}: ${what} must be an integer ≥ ${allowZero ? 0 : 1}, got ${value}`);
  }
}

/** The same learning rate at every step. */
export function constant(lr: number): Schedule {
  checkLr('constant', lr);
  return () => lr;
}

/** Options of {@link linearWarmup}. */
export interface LinearWarmupOptions {
  /** The learning rate reached at the end of warm-up (and kept afterwards unless `after` is given). */
  lr: number;
  /** Number of warm-up steps (≥ 1). */
  warmupSteps: number;
  /** The schedule to follow once warm-up is over, called with the global step. Default: constant `lr`. */
  after?: Schedule;
}

/**
 * Linear warm-up: `lr·(step + 1)/warmupSteps` for steps 0 … warmupSteps − 1 (so the first step
 * already moves, and step warmupSteps − 1 runs at the full `lr`), then `after(step)` or `lr`.
 */
export function linearWarmup(options: LinearWarmupOptions): Schedule {
  const { lr, warmupSteps, after } = options;
  checkLr('linearWarmup', lr);
  checkSteps('linearWarmup', warmupSteps, 'warmupSteps', false);
  return (step) => (step < warmupSteps ? (lr * (step + 1)) / warmupSteps : after ? after(step) : lr);
}

/** Options of {@link cosine}. */
export interface CosineOptions {
  /** Peak learning rate (after warm-up, at the start of the decay). */
  lr: number;
  /** Total number of steps: the decay reaches `minLr` at this step and stays there. */
  totalSteps: number;
  /** Linear warm-up steps before the decay (as {@link linearWarmup}). Default 0. */
  warmupSteps?: number;
  /** The learning rate at the end of the decay. Default 0. */
  minLr?: number;
}

/**
 * Cosine decay with optional linear warm-up: during warm-up as {@link linearWarmup}; then
 * `minLr + (lr − minLr)·(1 + cos(π·p))/2` with progress
 * `p = min(1, (step − warmupSteps)/(totalSteps − warmupSteps))`, so the first decay step runs at
 * the peak and `minLr` is reached at `totalSteps`.
 */
export function cosine(options: CosineOptions): Schedule {
  const { lr, totalSteps, warmupSteps = 0, minLr = 0 } = options;
  checkLr('cosine', lr);
  checkLr('cosine', minLr, 'minLr');
  checkSteps('cosine', totalSteps, 'totalSteps', false);
  checkSteps('cosine', warmupSteps, 'warmupSteps', true);
  if (warmupSteps >= totalSteps) throw new RangeError(`cosine: warmupSteps (${warmupSteps}) must be < totalSteps (${totalSteps})`);
  if (minLr > lr) throw new RangeError(`cosine: minLr (${minLr}) must be ≤ lr (${lr})`);
  const decaySteps = totalSteps - warmupSteps;
  return (step) => {
    if (step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
    const progress = Math.min(1, (step - warmupSteps) / decaySteps);
    return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}

/** Options of {@link stepDecay}. */
export interface StepDecayOptions {
  /** Initial learning rate. */
  lr: number;
  /** Decay period in steps (≥ 1). */
  every: number;
  /** Multiplicative factor per period. Default 0.1. */
  gamma?: number;
}

/** Step decay, as `torch.optim.lr_scheduler.StepLR` counted in steps: `lr·gamma^⌊step/every⌋`. */
export function stepDecay(options: StepDecayOptions): Schedule {
  const { lr, every, gamma = 0.1 } = options;
  checkLr('stepDecay', lr);
  checkSteps('stepDecay', every, 'every', false);
  checkLr('stepDecay', gamma, 'gamma');
  return (step) => lr * Math.pow(gamma, Math.floor(step / every));
}
