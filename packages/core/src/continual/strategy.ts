/**
 * A continual-learning strategy is a set of hooks around the one training loop
 * (`train/loop.ts`), called by `runContinual` (`run.ts`):
 *
 * ```text
 * for each experience i:
 *   beforeExperience(i)               e.g. GDumb refills its memory and re-initialises the model
 *   pool ← trainingPool(i)            default: experience i's training set (joint, cumulative, GDumb change it)
 *   train(…, onBatch, penalty, afterBackward, afterStep)
 *   afterExperience(i)                e.g. EWC's Fisher, SI's ω, replay buffers, the previous model
 *   evaluate every experience (beforeEvaluate(j) first)
 * ```
 *
 * Strategies are one per file under `strategies/`, each citing its paper.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import type { Params } from '../params/params.js';
import type { Rng } from '../random.js';
import type { GradientContext, PenaltyContext } from '../train/loop.js';
import type { GradientList } from '../train/clip.js';
import type { LossFn } from '../train/losses.js';
import type { Benchmark } from './benchmark.js';
import type { Scenario } from './scenario.js';
import type { RowBatch, RowFactory, SamplePool } from './rows.js';
import type { ContinualTrainOptions } from './train-options.js';

/** What every hook can use: the run's fixed parts. */
export interface StrategyContext {
  /** The stream. */
  benchmark: Benchmark;
  /** The scenario. */
  scenario: Scenario;
  /** The classifier. */
  model: Module;
  /** Its params (trained in place). */
  params: Params;
  /** The training loss (`continual-loss.ts`) with the strategy's distillation `temperature` (default 2). */
  loss: LossFn;
  /** Builds rows against the scenario's output layout. */
  rows: RowFactory;
  /** The strategy's own random stream (a fork of the run's). */
  rng: Rng;
  /** The training options, defaults filled. */
  train: ContinualTrainOptions;
  /** Number of optimisation steps experience i trains for (`train.iterations`, or epochs × full batches). */
  steps(experience: number): number;
  /** The run's abort signal. */
  signal?: AbortSignal;
}

/** A strategy: optional hooks (see the file comment) and its hyperparameters as run. */
export interface Strategy {
  /** The strategy's name, as in its config. */
  readonly name: string;
  /** Its hyperparameters, defaults filled (recorded in the result). */
  readonly config: Record<string, unknown>;
  /**
   * The module and params that training and evaluation use instead of the run's classifier (the
   * `hnet` strategy trains a hypernetwork whose output is the classifier's params, so the run's
   * params are left as they were). Read once, when the strategy is made.
   */
  readonly trainee?: { model: Module; params: Params };
  /** Joint training: one training phase on every experience at once; the matrix repeats its one row. */
  readonly joint?: boolean;
  /** The training loss, when the strategy's rows need another than `StrategyContext.loss` (LwF's grouped distillation in the task scenario). */
  readonly trainLoss?: LossFn;
  /** Called before experience i is trained. */
  beforeExperience?(experience: number): Promise<void> | void;
  /** The examples experience i trains on (default: its own training set). */
  trainingPool?(experience: number): SamplePool;
  /** Changes a training batch before it becomes tensors: adds replayed rows, teacher logits. */
  onBatch?(rows: RowBatch, experience: number): Promise<RowBatch> | RowBatch;
  /** A loss term added inside the gradient tape (a regulariser); undefined for none this step. */
  penalty?(ctx: PenaltyContext): tf.Scalar | undefined;
  /** Replaces the gradients before the update (A-GEM). Called inside `tf.tidy`. */
  afterBackward?(ctx: GradientContext): GradientList;
  /** Called after each update, inside `tf.tidy` (SI's path integral). */
  afterStep?(ctx: GradientContext): void;
  /**
   * True when `penalty` and `afterStep` are pure functions of tensors (no JavaScript state, no
   * values read back), so that training steps may run as compiled graphs on the native backend
   * (`train({ compile: true })`). Strategies without step hooks compile anyway.
   */
  compilable?: boolean;
  /** Called after experience i was trained, before it is evaluated. */
  afterExperience?(experience: number): Promise<void> | void;
  /** Called before the test set of experience j is evaluated (per-task adapters pick theirs). */
  beforeEvaluate?(experience: number): void;
  /** Called after an evaluation of every experience (per-task adapters go back to the one in training). */
  afterEvaluate?(): void;
  /** Frees the strategy's tensors. */
  dispose(): void;
}

/** Makes a strategy from its validated config and the run's context. */
export type StrategyFactory = (config: Record<string, unknown>, ctx: StrategyContext) => Strategy;
