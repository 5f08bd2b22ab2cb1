/**
 * The training loop. Each step takes the gradient of the loss with respect to the trainable
 * parameters only, optionally clips it, and lets the optimizer update the parameters in place —
 * all inside `tf.tidy`, so nothing leaks — then reads the loss, and every `yieldEvery` steps yields
 * to the event loop so that the host stays responsive and an abort can land between steps.
 *
 * Determinism: with the same seed, backend, data order and model, the loss sequence is
 * bit-identical. The loop draws dropout randomness from `rng.fork('dropout')` and nothing else;
 * parameter initialisation and shuffling are the caller's (use other forks of the same Rng).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.js';
import type { Module, ApplyContext } from '../nn/module.js';
import { trainableVariables, type Params } from '../params/params.js';
import type { Optimizer } from './optimizers.js';
import type { Schedule } from './schedules.js';
import { clipByGlobalNorm, type GradientList } from './clip.js';
import { resolveLoss, type BuiltinLoss, type LossFn } from './losses.js';
import { disposeBatch, type Batch } from './metrics.js';
import { compiledStepsEnabled, StepCompiler, type StepCompilerStats } from '../backend/graph-step.js';

export type { Batch } from './metrics.js';

/** When and how to evaluate during training. */
export interface EvaluateSpec {
  /** Evaluate every this many steps (an integer ≥ 1), or after each epoch (`'epoch'`). */
  every: number | 'epoch';
  /** Computes the metrics (typically with `evaluate` from `metrics.ts` over held-out batches). */
  fn: () => Promise<Record<string, number>> | Record<string, number>;
}

/** Early stopping on an evaluated metric (requires `evaluate`). */
export interface EarlyStopSpec {
  /** The metric to watch: a key of what `evaluate.fn` returns. */
  metric: string;
  /** Whether lower (`'min'`, e.g. a loss) or higher (`'max'`, e.g. accuracy) is better. */
  mode: 'min' | 'max';
  /** Stop after this many consecutive evaluations without improvement (an integer ≥ 1). */
  patience: number;
  /** An improvement must beat the best value so far by more than this. Default 0. */
  minDelta?: number;
}

/** Options of {@link train}. */
export interface TrainOptions {
  /** The model; applied as `model.apply(params, x, { training: true, rng, extras })`. */
  model: Module;
  /** Its parameters; the trainable leaves are updated in place, frozen ones are never touched. */
  params: Params;
  /** A loss `(output, y) → scalar`, or a built-in: `'cross-entropy'`, `'mse'`, `'bce-with-logits'`. */
  loss: LossFn | BuiltinLoss;
  /**
   * Called once per epoch for that epoch's batches (sync or async iterable), so the caller shuffles
   * and batches. The loop disposes each batch's tensors (x, y, extras) after its step, so yield
   * fresh tensors. After an abort or early stop the loop stops iterating (calling the iterator's
   * `return`), so a lazy iterable (a generator) never creates the rest; batches an eager array
   * already holds stay the caller's to dispose.
   */
  data: () => Iterable<Batch> | AsyncIterable<Batch>;
  /** Number of epochs (an integer ≥ 0). */
  epochs: number;
  /** The optimizer; it keeps its slots after training (call its `dispose()` when done). */
  optimizer: Optimizer;
  /** Learning rate per step (0-based step index); default: the optimizer's own `lr` throughout. */
  schedule?: Schedule;
  /** Clip the gradients to this global L2 norm (as `clip_grad_norm_`) before each update. */
  clipNorm?: number;
  /** The run's generator; dropout draws from `rng.fork('dropout')` (or {@link TrainOptions.dropoutRng}). */
  rng: Rng;
  /**
   * The generator dropout draws from, instead of a fresh `rng.fork('dropout')`: pass that fork and
   * keep it to save its position ({@link Rng.state}) with a checkpoint, or one restored with
   * {@link Rng.fromState} to continue a checkpointed run exactly.
   */
  dropoutRng?: Rng;
  /**
   * Continue a run that stopped after `epoch` complete epochs and `step` steps (integers ≥ 0), with
   * its parameters and optimizer state already restored: the epochs `epoch + 1 … epochs` run, and
   * steps count on from `step`, so the schedule, `evaluate.every`, `maxSteps`, the history, the
   * events and {@link TrainResult.steps} / {@link TrainResult.epochs} use the whole run's numbers.
   * With the data order and dropout generators at their saved positions, a resumed run takes the
   * same steps as one that never stopped. Default: a fresh run (`{ epoch: 0, step: 0 }`).
   */
  start?: { epoch: number; step: number };
  /** Periodic evaluation; results go to `history.metrics` and `eval` events. */
  evaluate?: EvaluateSpec;
  /** Early stopping on an evaluated metric. */
  earlyStop?: EarlyStopSpec;
  /** Aborting stops training between steps, with `stoppedBy: 'aborted'`. */
  signal?: AbortSignal;
  /** Progress callback (synchronous; an exception it throws ends training with that error). */
  onProgress?: (event: TrainEvent) => void;
  /** Yield to the event loop (`setImmediate`) after every this many steps (an integer ≥ 1). Default 1. */
  yieldEvery?: number;
  /**
   * Stop after this many steps in all (an integer ≥ 0; `stoppedBy: 'completed'`), even inside an
   * epoch: for protocols that count iterations, not epochs (van de Ven & Tolias 2019). The limit is
   * noticed when the next batch arrives (that batch is disposed untrained and the iterator closed),
   * so an epoch that ends exactly at the limit counts in `epochs`. Default: no limit.
   */
  maxSteps?: number;
  /**
   * An extra loss term added to the batch loss inside the gradient tape (a regulariser such as
   * EWC's quadratic penalty). Called once per step with the params, the batch and the model's
   * output; the returned scalar is disposed by the loop. The step's reported loss includes it.
   */
  penalty?: (ctx: PenaltyContext) => tf.Scalar;
  /**
   * Replaces the gradients before clipping and the update (A-GEM's projection). Called inside
   * `tf.tidy` with the gradients aligned with `variables`; tensors it creates are freed after the
   * step, and the given gradients must not be disposed.
   */
  transformGradients?: (ctx: GradientContext) => GradientList;
  /**
   * Called after each update, inside the step's `tf.tidy`, with the gradients the optimizer used
   * (after transformation and clipping), so a strategy can accumulate per-step quantities (SI's
   * path integral). Keep results by assigning to your own `tf.Variable`s.
   */
  afterStep?: (ctx: GradientContext) => void;
  /**
   * Compile steps to TensorFlow graphs on the native backend (`backend/graph-step.ts`): a step
   * then costs one session run instead of one addon call per op. A compiled step skips the step's
   * JavaScript, so the hooks (`penalty`, `transformGradients`, `afterStep`) must be pure functions
   * of tensors (no counters, no values read into JavaScript state): `true` says they are; `'auto'`
   * (the default) compiles only when there are no hooks. Either way `HYPERLAB_COMPILE=0` turns it
   * off, and steps that build different ops or constants from step to step (dropout, a memory
   * batch sampled inside a hook) stay eager by themselves. Ignored on the WASM and CPU backends.
   */
  compile?: boolean | 'auto';
  /**
   * With compiled steps: names the JavaScript state the step's ops depend on, read before each
   * step (the task whose head a multi-task model applies, kept in a closure): each distinct value
   * gets its own graph, so a model may switch between them from step to step.
   */
  compileKey?: () => string;
}

/** What {@link TrainOptions.penalty} sees. */
export interface PenaltyContext {
  /** The params being trained. */
  params: Params;
  /** The current batch. */
  batch: Batch;
  /** The model's output on `batch.x` (inside the tape: differentiable). */
  output: tf.Tensor;
}

/** What {@link TrainOptions.transformGradients} and {@link TrainOptions.afterStep} see. */
export interface GradientContext {
  /** The trainable variables, in tree order. */
  variables: readonly tf.Variable[];
  /** Their gradients, aligned with `variables` (`null`/`undefined`: none this step). */
  grads: GradientList;
  /** The current batch. */
  batch: Batch;
  /** 0-based index of this step. */
  step: number;
}

/** A step finished. */
export interface StepEvent {
  /** Event kind. */
  type: 'step';
  /** Steps completed so far (1 after the first). */
  step: number;
  /** The 1-based epoch this step belongs to. */
  epoch: number;
  /** This step's loss (the value before the update). */
  loss: number;
  /** The learning rate this step used. */
  lr: number;
  /** Training throughput so far: examples / time spent in steps. */
  examplesPerSecond: number;
}

/** An evaluation finished. */
export interface EvalEvent {
  /** Event kind. */
  type: 'eval';
  /** Steps completed when it ran. */
  step: number;
  /** What `evaluate.fn` returned. */
  metrics: Record<string, number>;
}

/** An epoch finished. */
export interface EpochEvent {
  /** Event kind. */
  type: 'epoch';
  /** The 1-based number of the epoch that finished (= epochs completed). */
  epoch: number;
}

/** Training ended (completed, stopped early or aborted). */
export interface EndEvent {
  /** Event kind. */
  type: 'end';
  /** What `train` resolves to. */
  result: TrainResult;
}

/** A progress event. */
export type TrainEvent = StepEvent | EvalEvent | EpochEvent | EndEvent;

/** Why training stopped. */
export type StoppedBy = 'completed' | 'early-stop' | 'aborted';

/** Loss, learning rate and evaluated metrics over training. */
export interface TrainHistory {
  /** Step numbers (1-based), aligned with `loss` and `lr`. */
  step: number[];
  /** Loss of each step. */
  loss: number[];
  /** Learning rate of each step. */
  lr: number[];
  /** Each evaluated metric's values with the step at which they were taken. */
  metrics: Record<string, Array<{ step: number; value: number }>>;
}

/** Wall-clock timings. */
export interface TrainTimings {
  /** From the call to the end, including evaluation and yields. */
  totalMs: number;
  /** Median time of a step (gradient, update and reading the loss); NaN with no steps. */
  msPerStep: number;
  /** Examples per second of step time (evaluation excluded); NaN with no steps. */
  examplesPerSecond: number;
}

/** What {@link train} resolves to. */
export interface TrainResult {
  /** Steps taken (counting {@link TrainOptions.start}'s when resuming). */
  steps: number;
  /** Epochs completed in full (counting {@link TrainOptions.start}'s when resuming). */
  epochs: number;
  /** Why training stopped. */
  stoppedBy: StoppedBy;
  /** Per-step loss and lr, evaluated metrics. */
  history: TrainHistory;
  /** Timings. */
  timings: TrainTimings;
  /** With `earlyStop`: the best value of the watched metric and the step it was seen at. */
  best?: { metric: string; value: number; step: number };
  /** On the native backend with compiled steps: how many steps ran compiled and eagerly, and why not all compiled. */
  compiled?: StepCompilerStats;
}

function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`train: ${name} must be an integer ≥ ${min}, got ${value}`);
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Trains `params` in place. Resolves when the epochs are done, early stopping triggers, or
 * `signal` aborts (checked before each step and after each yield; the parameters keep the values
 * of the last completed step). Rejects if the model, loss, data or a callback throws; the current
 * batch is disposed either way and no other tensors are left behind, except the optimizer's slots.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const { model, params, data, epochs, optimizer, schedule, clipNorm, rng, evaluate, earlyStop, signal, onProgress, yieldEvery = 1, maxSteps, penalty, transformGradients, afterStep, start: resumeAt } = options;
  checkInteger('epochs', epochs, 0);
  if (resumeAt !== undefined) {
    checkInteger('start.epoch', resumeAt.epoch, 0);
    checkInteger('start.step', resumeAt.step, 0);
    if (resumeAt.epoch > epochs) throw new RangeError(`train: start.epoch is ${resumeAt.epoch}, past epochs (${epochs})`);
  }
  checkInteger('yieldEvery', yieldEvery, 1);
  if (maxSteps !== undefined) checkInteger('maxSteps', maxSteps, 0);
  if (clipNorm !== undefined && !(clipNorm > 0)) throw new RangeError(`train: clipNorm must be > 0, got ${clipNorm}`);
  if (evaluate !== undefined && evaluate.every !== 'epoch') checkInteger('evaluate.every', evaluate.every, 1);
  if (earlyStop !== undefined) {
    if (evaluate === undefined) throw new Error('train: earlyStop needs evaluate (it watches an evaluated metric)');
    checkInteger('earlyStop.patience', earlyStop.patience, 1);
    if (!((earlyStop.minDelta ?? 0) >= 0)) throw new RangeError(`train: earlyStop.minDelta must be ≥ 0, got ${earlyStop.minDelta}`);
  }
  const lossFn = resolveLoss(options.loss);
  const variables = trainableVariables(params);
  if (variables.length === 0) throw new Error('train: params have no trainable variables');
  const compileOption = options.compile ?? 'auto';
  const compiler =
    (compileOption === true || (compileOption === 'auto' && !penalty && !transformGradients && !afterStep)) &&
    compiledStepsEnabled() &&
    optimizer.stepNumbers &&
    optimizer.advance
      ? new StepCompiler()
      : undefined;

  const start = performance.now();
  const dropoutRng = options.dropoutRng ?? rng.fork('dropout');
  const history: TrainHistory = { step: [], loss: [], lr: [], metrics: {} };
  const stepTimes: number[] = [];
  let stepMs = 0;
  let examples = 0;
  let step = resumeAt?.step ?? 0;
  let epochsDone = resumeAt?.epoch ?? 0;
  let stoppedBy: StoppedBy = 'completed';
  let best: TrainResult['best'];
  let sinceImprovement = 0;

  const emit = (event: TrainEvent): void => onProgress?.(event);

  /** Runs an evaluation; true when early stopping says stop. */
  const runEvaluation = async (): Promise<boolean> => {
    const metrics = await evaluate!.fn();
    for (const [name, value] of Object.entries(metrics)) (history.metrics[name] ??= []).push({ step, value });
    emit({ type: 'eval', step, metrics: { ...metrics } });
    if (earlyStop === undefined) return false;
    const value = metrics[earlyStop.metric];
    if (typeof value !== 'number') {
      throw new Error(`train: earlyStop watches "${earlyStop.metric}" but evaluate returned ${Object.keys(metrics).join(', ') || 'nothing'}`);
    }
    const minDelta = earlyStop.minDelta ?? 0;
    const improved = best === undefined || (earlyStop.mode === 'min' ? value < best.value - minDelta : value > best.value + minDelta);
    if (improved) {
      best = { metric: earlyStop.metric, value, step };
      sinceImprovement = 0;
      return false;
    }
    return ++sinceImprovement >= earlyStop.patience;
  };

  // The variables that received a gradient in the last eager step of each graph (what its compiled
  // steps update: with a compileKey, each task's step may update other variables).
  let updated: tf.Variable[] = variables;
  const updatedByGraph = new Map<string, tf.Variable[]>();
  /** One optimisation step on a batch, eagerly; returns the loss tensor. */
  const eagerStep = (batch: Batch, lr: number, scalar?: (value: number) => tf.Scalar): tf.Scalar => {
    const ctx: ApplyContext = { training: true, rng: dropoutRng, ...(batch.extras ? { extras: batch.extras } : {}) };
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const output = model.apply(params, batch.x, ctx);
        const loss = lossFn(output, batch.y);
        return penalty ? (tf.add(loss, penalty({ params, batch, output })) as tf.Scalar) : loss;
      }, variables);
      let list: GradientList = variables.map((v) => grads[v.name]);
      if (transformGradients) list = transformGradients({ variables, grads: list, batch, step });
      if (clipNorm !== undefined) list = clipByGlobalNorm(list, clipNorm).grads;
      optimizer.step({ variables, grads: list }, lr, scalar);
      updated = variables.filter((_, k) => list[k] != null);
      afterStep?.({ variables, grads: list, batch, step });
      return value;
    });
  };
  /** One optimisation step on a batch (compiled when it can be); returns the loss. */
  const trainStep = async (batch: Batch, lr: number): Promise<number> => {
    let lossTensor: tf.Scalar;
    if (compiler) {
      const feeds = [batch.x, batch.y, ...Object.values(batch.extras ?? {})];
      const variant = options.compileKey?.();
      const graph = StepCompiler.keyOf(feeds, variant);
      lossTensor = compiler.run(
        () => {
          const loss = eagerStep(batch, lr, (value) => compiler.scalar(value));
          updatedByGraph.set(graph, updated);
          return loss;
        },
        feeds,
        () => optimizer.stepNumbers!(updatedByGraph.get(graph)!, lr),
        () => optimizer.advance!(updatedByGraph.get(graph)!),
        variant,
      ) as tf.Scalar;
    } else lossTensor = eagerStep(batch, lr);
    try {
      return (await lossTensor.data())[0];
    } finally {
      lossTensor.dispose();
    }
  };

  try {
    training: for (let epoch = epochsDone + 1; epoch <= epochs; epoch++) {
      if (maxSteps !== undefined && step >= maxSteps) break;
      if (signal?.aborted) {
        stoppedBy = 'aborted';
        break;
      }
      for await (const batch of data()) {
        let loss: number;
        let lr: number;
        try {
          if (signal?.aborted) {
            stoppedBy = 'aborted';
            break training;
          }
          // Checked on the next batch, so an epoch that ends exactly at maxSteps counts as completed.
          if (maxSteps !== undefined && step >= maxSteps) break training;
          lr = schedule ? schedule(step) : optimizer.lr;
          if (!Number.isFinite(lr) || lr < 0) throw new RangeError(`train: the schedule gave lr ${lr} at step ${step}`);
          const t0 = performance.now();
          loss = await trainStep(batch, lr);
          const ms = performance.now() - t0;
          stepTimes.push(ms);
          stepMs += ms;
          examples += batch.x.rank === 0 ? 1 : batch.x.shape[0];
        } finally {
          disposeBatch(batch);
        }
        step++;
        history.step.push(step);
        history.loss.push(loss);
        history.lr.push(lr);
        emit({ type: 'step', step, epoch, loss, lr, examplesPerSecond: (examples * 1000) / stepMs });
        if (step % yieldEvery === 0) await yieldToEventLoop();
        if (evaluate !== undefined && evaluate.every !== 'epoch' && step % evaluate.every === 0 && (await runEvaluation())) {
          stoppedBy = 'early-stop';
          break training;
        }
        if (signal?.aborted) {
          stoppedBy = 'aborted';
          break training;
        }
      }
      epochsDone = epoch;
      emit({ type: 'epoch', epoch });
      if (evaluate?.every === 'epoch' && (await runEvaluation())) {
        stoppedBy = 'early-stop';
        break;
      }
    }
  } finally {
    compiler?.dispose();
  }

  const result: TrainResult = {
    steps: step,
    epochs: epochsDone,
    stoppedBy,
    history,
    timings: {
      totalMs: performance.now() - start,
      msPerStep: median(stepTimes),
      examplesPerSecond: stepMs > 0 ? (examples * 1000) / stepMs : NaN,
    },
    ...(best ? { best } : {}),
    ...(compiler ? { compiled: { ...compiler.stats } } : {}),
  };
  emit({ type: 'end', result });
  return result;
}
