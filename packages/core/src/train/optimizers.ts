/**
 * Optimizers: SGD (with momentum / Nesterov), Adam and AdamW, written against `tf.Variable`s
 * directly (not tfjs's own optimizers) so that their arithmetic follows PyTorch's
 * `torch.optim.SGD`, `torch.optim.Adam` and `torch.optim.AdamW` formula for formula, including
 * bias correction and where weight decay enters.
 *
 * An optimizer owns its slot tensors (momentum buffer, first and second moments) as
 * non-trainable `tf.Variable`s, created lazily the first time a variable receives a gradient and
 * updated in place with `assign`; {@link Optimizer.dispose} frees them. Like PyTorch, a variable
 * whose gradient is missing (`null`/`undefined`) on a step is left alone, and its per-variable step
 * counter (used by Adam's bias correction) does not advance.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fusedAdam } from './adam-fused.js';

/** The optimizers provided here. */
export type OptimizerKind = 'sgd' | 'adam' | 'adamw';

/**
 * Gradients for one step: a map from variable to gradient, or two aligned arrays. A `null` or
 * `undefined` gradient means "no gradient" and skips that variable this step.
 */
export type Gradients =
  | ReadonlyMap<tf.Variable, tf.Tensor | null | undefined>
  | { readonly variables: readonly tf.Variable[]; readonly grads: readonly (tf.Tensor | null | undefined)[] };

/** Per-variable optimizer state. */
export interface VariableSlots {
  /** The variable this state belongs to. */
  variable: tf.Variable;
  /** How many updates this variable has received (PyTorch's per-parameter `state['step']`). */
  step: number;
  /**
   * Slot tensors by name: `momentum_buffer` (SGD with momentum), `exp_avg` and `exp_avg_sq`
   * (Adam, AdamW) — PyTorch's names. Owned by the optimizer: do not dispose; clone to keep.
   */
  tensors: Record<string, tf.Variable>;
}

/** A snapshot of an optimizer's configuration and state. */
export interface OptimizerState {
  /** Which optimizer. */
  kind: OptimizerKind;
  /** Hyper-parameters as configured (including defaults). */
  hyper: Record<string, number | boolean>;
  /** Number of `step()` calls so far. */
  iterations: number;
  /** State of each variable that has received at least one gradient, in first-seen order. */
  slots: VariableSlots[];
}

/**
 * Optimizer state to restore with {@link Optimizer.load}: what {@link Optimizer.state} returns, or
 * the same read back from a checkpoint (any tensors, copied on load).
 */
export interface OptimizerStateInput {
  /** The optimizer it came from; when given, it must be the loading optimizer's kind. */
  kind?: OptimizerKind;
  /** Number of `step()` calls so far. */
  iterations: number;
  /** Each variable's update count and slot tensors (every slot the loading optimizer keeps, by name). */
  slots: ReadonlyArray<{ variable: tf.Variable; step: number; tensors: Readonly<Record<string, tf.Tensor>> }>;
}

/**
 * Turns a per-step number into the scalar tensor an update uses (a compiled step's input); without
 * one, the number is used as it is (tfjs makes it a float32 scalar: the same value either way).
 */
export type StepScalar = (value: number) => tf.Scalar;

/** An optimizer over tf.Variables. */
export interface Optimizer {
  /** Which optimizer this is. */
  readonly kind: OptimizerKind;
  /** The configured learning rate, used when `step` is called without one. */
  readonly lr: number;
  /** Number of `step()` calls so far. */
  readonly iterations: number;
  /** Number of slot tensors currently held (they count in `tf.memory().numTensors`). */
  readonly numSlotTensors: number;
  /**
   * Applies one update to every variable with a gradient, at learning rate `lr` (default: the
   * configured one). Runs inside `tf.tidy`; the gradients are not disposed (the caller owns them).
   */
  step(grads: Gradients, lr?: number, scalar?: StepScalar): void;
  /**
   * For compiled steps (`backend/graph-step.ts`): the numbers that change from step to step (the
   * learning rate and what derives from it, Adam's bias corrections) which `step` passes through
   * its `scalar` argument, in the same order, for the next update of `variables` (those with a
   * gradient, in order) at learning rate `lr`. Computed in double precision as `step` does.
   */
  stepNumbers?(variables: readonly tf.Variable[], lr: number): number[];
  /** For compiled steps: advances the counters (`iterations`, each variable's step) as `step` would. */
  advance?(variables: readonly tf.Variable[]): void;
  /** Configuration and live state (slot tensors are the optimizer's own, not copies). */
  state(): OptimizerState;
  /**
   * Replaces the whole state (update counts and slot tensors, copied; `iterations`) with `state`,
   * so training continues as if this optimizer had taken those steps: Adam's moments and bias
   * correction carry on. Hyper-parameters (lr, betas, weight decay) stay this optimizer's own, so
   * a state can be loaded into an optimizer configured differently (Population Based Training's
   * exploit with a perturbed learning rate). Everything is checked first; a wrong kind, a missing
   * or unexpected slot name, a shape or dtype that differs from the variable's, or a negative or
   * fractional count throws, naming the variable, and leaves the state unchanged.
   */
  load(state: OptimizerStateInput): void;
  /** Frees the slot tensors. The optimizer cannot be stepped afterwards. */
  dispose(): void;
}

/** Options of {@link sgd}. */
export interface SgdOptions {
  /** Learning rate (> 0 unless you mean it). */
  lr: number;
  /** Momentum factor μ; 0 (default) is plain SGD. */
  momentum?: number;
  /** Nesterov momentum (requires momentum > 0). Default false. */
  nesterov?: boolean;
  /** L2 penalty λ added to the gradient: g ← g + λ·θ. Default 0. */
  weightDecay?: number;
}

/** Options of {@link adam}. */
export interface AdamOptions {
  /** Learning rate. */
  lr: number;
  /** Decay of the first-moment estimate. Default 0.9. */
  beta1?: number;
  /** Decay of the second-moment estimate. Default 0.999. */
  beta2?: number;
  /** Added to the bias-corrected √v for numerical stability. Default 1e-8. */
  eps?: number;
  /** L2 penalty λ added to the gradient before the moments (like torch.optim.Adam). Default 0. */
  weightDecay?: number;
}

/** Options of {@link adamw}. */
export interface AdamWOptions {
  /** Learning rate. */
  lr: number;
  /** Decay of the first-moment estimate. Default 0.9. */
  beta1?: number;
  /** Decay of the second-moment estimate. Default 0.999. */
  beta2?: number;
  /** Added to the bias-corrected √v for numerical stability. Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay λ: θ ← θ·(1 − lr·λ) before the Adam step (like torch.optim.AdamW). Default 0.01. */
  weightDecay?: number;
}

interface Entry {
  variable: tf.Variable;
  step: number;
  tensors: Record<string, tf.Variable>;
}

type Num = number | tf.Scalar;

/**
 * An update: `numbers(t, lr)` are its per-step numbers for a variable's t-th update (t ≥ 1) at
 * learning rate lr, and `apply` uses them (as numbers or as scalar tensors, `n`) in that order.
 */
interface UpdateRule {
  numbers(t: number, lr: number): number[];
  apply(param: tf.Variable, grad: tf.Tensor, entry: Entry, lr: number, n: Num[]): void;
}

class SlotOptimizer implements Optimizer {
  private readonly entries = new Map<tf.Variable, Entry>();
  private disposed = false;
  iterations = 0;

  constructor(
    readonly kind: OptimizerKind,
    readonly lr: number,
    private readonly hyper: Record<string, number | boolean>,
    private readonly slotNames: readonly string[],
    private readonly rule: UpdateRule,
  ) {}

  get numSlotTensors(): number {
    return this.entries.size * this.slotNames.length;
  }

  step(grads: Gradients, lr: number = this.lr, scalar?: StepScalar): void {
    if (this.disposed) throw new Error(`${this.kind}: step() after dispose()`);
    if (!Number.isFinite(lr) || lr < 0) throw new RangeError(`${this.kind}: learning rate must be a finite number ≥ 0, got ${lr}`);
    const pairs = gradientPairs(grads);
    this.iterations++;
    tf.tidy(() => {
      for (const [variable, grad] of pairs) {
        if (grad == null) continue;
        if (!tf.util.arraysEqual(grad.shape, variable.shape)) {
          throw new Error(`${this.kind}: gradient shape [${grad.shape}] does not match variable ${variable.name} [${variable.shape}]`);
        }
        const entry = this.entry(variable);
        entry.step++;
        const numbers = this.rule.numbers(entry.step, lr);
        this.rule.apply(variable, grad, entry, lr, scalar ? numbers.map(scalar) : numbers);
      }
    });
  }

  stepNumbers(variables: readonly tf.Variable[], lr: number): number[] {
    return variables.flatMap((v) => this.rule.numbers((this.entries.get(v)?.step ?? 0) + 1, lr));
  }

  advance(variables: readonly tf.Variable[]): void {
    this.iterations++;
    for (const v of variables) this.entry(v).step++;
  }

  state(): OptimizerState {
    return {
      kind: this.kind,
      hyper: { lr: this.lr, ...this.hyper },
      iterations: this.iterations,
      slots: [...this.entries.values()].map((e) => ({ variable: e.variable, step: e.step, tensors: { ...e.tensors } })),
    };
  }

  load(state: OptimizerStateInput): void {
    if (this.disposed) throw new Error(`${this.kind}: load() after dispose()`);
    if (state.kind !== undefined && state.kind !== this.kind) throw new Error(`${this.kind}: cannot load the state of a ${state.kind} optimizer`);
    const count = (what: string, value: number): void => {
      if (!Number.isInteger(value) || value < 0) throw new RangeError(`${this.kind}: ${what} must be an integer ≥ 0, got ${value}`);
    };
    count('iterations', state.iterations);
    const seen = new Set<tf.Variable>();
    for (const slot of state.slots) {
      const name = slot.variable.name;
      if (seen.has(slot.variable)) throw new Error(`${this.kind}: the state lists variable ${name} twice`);
      seen.add(slot.variable);
      count(`the step count of ${name}`, slot.step);
      const names = Object.keys(slot.tensors);
      const missing = this.slotNames.filter((n) => !names.includes(n));
      const unexpected = names.filter((n) => !this.slotNames.includes(n));
      if (missing.length || unexpected.length) {
        throw new Error(`${this.kind}: the state of ${name} has slots [${names.join(', ')}], expected [${this.slotNames.join(', ')}]`);
      }
      for (const [slotName, tensor] of Object.entries(slot.tensors)) {
        if (!tf.util.arraysEqual(tensor.shape, slot.variable.shape) || tensor.dtype !== slot.variable.dtype) {
          throw new Error(`${this.kind}: slot ${slotName} of ${name} is ${tensor.dtype} [${tensor.shape}], the variable ${slot.variable.dtype} [${slot.variable.shape}]`);
        }
      }
    }
    for (const entry of this.entries.values()) for (const slot of Object.values(entry.tensors)) slot.dispose();
    this.entries.clear();
    for (const slot of state.slots) {
      const tensors: Record<string, tf.Variable> = {};
      for (const name of this.slotNames) tensors[name] = tf.variable(slot.tensors[name], false);
      this.entries.set(slot.variable, { variable: slot.variable, step: slot.step, tensors });
    }
    this.iterations = state.iterations;
  }

  dispose(): void {
    for (const entry of this.entries.values()) for (const slot of Object.values(entry.tensors)) slot.dispose();
    this.entries.clear();
    this.disposed = true;
  }

  private entry(variable: tf.Variable): Entry {
    let entry = this.entries.get(variable);
    if (entry === undefined) {
      const tensors: Record<string, tf.Variable> = {};
      for (const name of this.slotNames) {
        const zeros = tf.zerosLike(variable);
        tensors[name] = tf.variable(zeros, false);
        zeros.dispose();
      }
      entry = { variable, step: 0, tensors };
      this.entries.set(variable, entry);
    }
    return entry;
  }
}

function gradientPairs(grads: Gradients): Array<[tf.Variable, tf.Tensor | null | undefined]> {
  if (grads instanceof Map) return [...(grads as ReadonlyMap<tf.Variable, tf.Tensor | null | undefined>).entries()];
  const { variables, grads: list } = grads as Exclude<Gradients, ReadonlyMap<tf.Variable, unknown>>;
  if (variables.length !== list.length) throw new Error(`optimizer: ${variables.length} variables but ${list.length} gradients`);
  return variables.map((v, i) => [v, list[i]]);
}

function checkNonNegative(kind: string, name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${kind}: ${name} must be a finite number ≥ 0, got ${value}`);
}

function checkBeta(kind: string, name: string, value: number): void {
  if (!(value >= 0 && value < 1)) throw new RangeError(`${kind}: ${name} must be in [0, 1), got ${value}`);
}

/**
 * Stochastic gradient descent, as `torch.optim.SGD` (dampening 0):
 *
 * ```text
 * g ← g + λ·θ                       (weightDecay λ ≠ 0)
 * b ← μ·b + g                       (momentum μ ≠ 0; b starts at 0, so the first b is g)
 * g ← g + μ·b  if nesterov, else g ← b
 * θ ← θ − lr·g
 * ```
 */
export function sgd(options: SgdOptions): Optimizer {
  const { lr, momentum = 0, nesterov = false, weightDecay = 0 } = options;
  checkNonNegative('sgd', 'lr', lr);
  checkNonNegative('sgd', 'momentum', momentum);
  checkNonNegative('sgd', 'weightDecay', weightDecay);
  if (nesterov && momentum <= 0) throw new RangeError('sgd: nesterov requires momentum > 0');
  const slotNames = momentum > 0 ? ['momentum_buffer'] : [];
  return new SlotOptimizer('sgd', lr, { momentum, nesterov, weightDecay }, slotNames, {
    numbers: (_t, stepLr) => [stepLr],
    apply(param, grad, entry, _lr, [stepLr]) {
      let g: tf.Tensor = grad;
      if (weightDecay !== 0) g = tf.add(g, tf.mul(param, weightDecay));
      if (momentum !== 0) {
        const buffer = entry.tensors.momentum_buffer;
        const next = tf.add(tf.mul(buffer, momentum), g);
        buffer.assign(next);
        g = nesterov ? tf.add(g, tf.mul(next, momentum)) : next;
      }
      param.assign(tf.sub(param, tf.mul(g, stepLr)));
    },
  });
}

// Adam's per-step numbers for the t-th update: lr / (1 − β1ᵗ) and √(1 − β2ᵗ), in double precision.
function adamNumbers(t: number, lr: number, beta1: number, beta2: number): number[] {
  return [lr / (1 - Math.pow(beta1, t)), Math.sqrt(1 - Math.pow(beta2, t))];
}

// The Adam moment update and step shared by adam and adamw (PyTorch's single-tensor path);
// stepSize and sqrtBc2 are adamNumbers' (numbers, or a compiled step's scalar inputs).
function adamUpdate(param: tf.Variable, g: tf.Tensor, entry: Entry, lr: number, beta1: number, beta2: number, eps: number, stepSize: Num, sqrtBc2: Num): void {
  const m = entry.tensors.exp_avg;
  const v = entry.tensors.exp_avg_sq;
  const t = entry.step;
  // One kernel on wasm/cpu (train/adam-fused.ts); the op-by-op version below elsewhere.
  const fused = fusedAdam(param, g, m, v, { lr, beta1, beta2, eps, biasCorrection1: 1 - Math.pow(beta1, t), biasCorrection2: 1 - Math.pow(beta2, t) });
  if (fused !== undefined) {
    m.assign(fused[1]);
    v.assign(fused[2]);
    param.assign(fused[0]);
    return;
  }
  const nextM = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
  const nextV = tf.add(tf.mul(v, beta2), tf.mul(tf.mul(g, g), 1 - beta2));
  m.assign(nextM);
  v.assign(nextV);
  const denom = tf.add(tf.div(tf.sqrt(nextV), sqrtBc2), eps);
  param.assign(tf.sub(param, tf.mul(tf.div(nextM, denom), stepSize)));
}

/** Adam/AdamW options with defaults applied, each checked and named in errors by optimizer. */
function adamSettings(kind: 'adam' | 'adamw', options: AdamOptions, defaultWeightDecay: number) {
  const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = defaultWeightDecay } = options;
  checkNonNegative(kind, 'lr', lr);
  checkBeta(kind, 'beta1', beta1);
  checkBeta(kind, 'beta2', beta2);
  checkNonNegative(kind, 'eps', eps);
  checkNonNegative(kind, 'weightDecay', weightDecay);
  return { lr, beta1, beta2, eps, weightDecay };
}

/**
 * Adam, as `torch.optim.Adam` (amsgrad off). Weight decay is an L2 penalty added to the gradient:
 *
 * ```text
 * g ← g + λ·θ                                        (weightDecay λ ≠ 0)
 * m ← β1·m + (1 − β1)·g
 * v ← β2·v + (1 − β2)·g²
 * θ ← θ − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
 * ```
 *
 * t is the variable's own update count (1 on its first update); the bias corrections are computed
 * in double precision, as PyTorch does with Python floats.
 */
export function adam(options: AdamOptions): Optimizer {
  const { lr, beta1, beta2, eps, weightDecay } = adamSettings('adam', options, 0);
  return new SlotOptimizer('adam', lr, { beta1, beta2, eps, weightDecay }, ['exp_avg', 'exp_avg_sq'], {
    numbers: (t, stepLr) => adamNumbers(t, stepLr, beta1, beta2),
    apply(param, grad, entry, stepLr, [stepSize, sqrtBc2]) {
      const g = weightDecay !== 0 ? tf.add(grad, tf.mul(param, weightDecay)) : grad;
      adamUpdate(param, g, entry, stepLr, beta1, beta2, eps, stepSize, sqrtBc2);
    },
  });
}

/**
 * AdamW, as `torch.optim.AdamW` (amsgrad off): decoupled weight decay `θ ← θ·(1 − lr·λ)` applied
 * to the parameter first, then the same moment update and step as {@link adam} on the raw gradient
 * (no L2 term).
 */
export function adamw(options: AdamWOptions): Optimizer {
  const { lr, beta1, beta2, eps, weightDecay } = adamSettings('adamw', options, 0.01);
  return new SlotOptimizer('adamw', lr, { beta1, beta2, eps, weightDecay }, ['exp_avg', 'exp_avg_sq'], {
    numbers: (t, stepLr) => [1 - stepLr * weightDecay, ...adamNumbers(t, stepLr, beta1, beta2)],
    apply(param, grad, entry, stepLr, [decay, stepSize, sqrtBc2]) {
      if (weightDecay !== 0) param.assign(tf.mul(param, decay));
      adamUpdate(param, grad, entry, stepLr, beta1, beta2, eps, stepSize, sqrtBc2);
    },
  });
}
