/**
 * `runContinual`: trains a model through a benchmark's experiences under a scenario and a
 * strategy, with the one training loop (`train/loop.ts`) per experience, and measures the
 * accuracy matrix R[i][j] (experience j's test set after training experience i, every j), the
 * accuracies at initialisation (for forward transfer), the metrics and the curves.
 *
 * Protocol (van de Ven & Tolias 2019, arXiv:1904.07734): a fixed number of iterations per
 * experience (`train.iterations`), shuffled minibatches with the last partial one dropped,
 * Adam with their betas; the scenario fixes the output layout (`scenario.ts`). Randomness: the
 * caller's `rng` forks `shuffle:i` (batch order), `train:i` (dropout), `strategy` (everything a
 * strategy draws), so the same seed and backend give a bit-identical matrix.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import type { Params } from '../params/params.js';
import type { Rng } from '../random.js';
import { train } from '../train/loop.js';
import { adam, sgd, type Optimizer } from '../train/optimizers.js';
import type { Benchmark } from './benchmark.js';
import { checkScenarioFits, evalRange, scenarioOutputs, type Scenario } from './scenario.js';
import { RowFactory, toBatch } from './rows.js';
import { continualLoss } from './continual-loss.js';
import { accuracyOver } from './evaluation.js';
import { continualMetrics, type ContinualMetrics } from './metrics.js';
import { validateStrategyConfig, type StrategyConfig } from './strategy-config.js';
import { validateTrainOptions, type ContinualTrainOptions } from './train-options.js';
import type { StrategyContext } from './strategy.js';
import { STRATEGY_FACTORIES } from './strategies/registry.js';
import { minibatchPositions } from './strategies/pools.js';

/** A progress event of {@link runContinual}; `step` counts steps over the whole run. */
export type ContinualProgressEvent =
  | { type: 'step'; experience: number; step: number; loss: number }
  | { type: 'eval'; experience: number; step: number; accuracies: number[] }
  | { type: 'experience-end'; experience: number; row: number[] };

/** Options of {@link runContinual}. */
export interface RunContinualOptions {
  /** The stream. */
  benchmark: Benchmark;
  /** Task-, domain- or class-incremental. */
  scenario: Scenario;
  /** The classifier; its output width must be `scenarioOutputs(benchmark, scenario)`. */
  model: Module;
  /** Its params, trained in place (GDumb re-initialises them in place; `adapters` adds adapters to them). */
  params: Params;
  /** The strategy and its hyperparameters (see `strategyConfigSchemas`). */
  strategy: StrategyConfig;
  /** How each experience is trained (see `continualTrainSchema`). */
  train: ContinualTrainOptions;
  /** Also evaluate every experience's test set every this many steps (0 / undefined: only after each experience). */
  evalEvery?: number;
  /** The run's seed, as recorded (the randomness comes from `rng`). */
  seed: number;
  /** The run's generator (see the file comment for its forks). */
  rng: Rng;
  /** Aborting stops between steps; the result has the rows finished so far. */
  signal?: AbortSignal;
  /** Progress (synchronous). */
  onProgress?: (event: ContinualProgressEvent) => void;
}

/** What {@link runContinual} resolves to. */
export interface ContinualResult {
  /** R[i][j]: accuracy on experience j's test set after training experience i (fewer rows when aborted). */
  matrix: number[][];
  /** b_j: accuracy of the model at initialisation on experience j (every unit active in the class scenario). */
  randomInit: number[];
  /** ACC, BWT, FWT, forgetting and Avalanche's names; of the leading square block when aborted. */
  metrics: ContinualMetrics;
  /** `exp<j>/accuracy` (at step 0, every `evalEvery` steps and after each experience) and `loss` (every step), over global steps. */
  curves: Record<string, { step: number[]; value: number[] }>;
  /** Whether every experience was trained. */
  stoppedBy: 'completed' | 'aborted';
  /** Wall-clock times: the whole run, a step (the step-weighted mean of each experience's median), each experience (training, strategy hooks, evaluation). */
  timings: { totalMs: number; msPerStep: number; perExperienceMs: number[] };
  /** The strategy's hyperparameters as run (defaults filled). */
  strategy: Record<string, unknown>;
  /** The training options as run (defaults filled). */
  train: ContinualTrainOptions;
}

function makeOptimizer(options: ContinualTrainOptions): Optimizer {
  if (options.optimizer === 'sgd') return sgd({ lr: options.lr });
  const [beta1, beta2] = options.betas ?? [0.9, 0.999];
  return adam({ lr: options.lr, beta1, beta2 });
}

/** The metrics of the finished rows (their leading square block), NaN-filled when there are none. */
function partialMetrics(matrix: number[][], randomInit: number[], testSizes: number[], taskLabels: number[]): ContinualMetrics {
  const k = matrix.length;
  if (k === 0) return { acc: NaN, bwt: NaN, fwt: NaN, forgetting: NaN, perExperienceForgetting: [], avalanche: {} };
  return continualMetrics(
    matrix.map((row) => row.slice(0, k)),
    randomInit.slice(0, k),
    testSizes.slice(0, k),
    taskLabels.slice(0, k),
  );
}

/** Runs a continual-learning experiment (see the file comment). */
export async function runContinual(options: RunContinualOptions): Promise<ContinualResult> {
  const started = performance.now();
  const { benchmark, scenario, model, params, rng, signal, onProgress } = options;
  checkScenarioFits(benchmark, scenario);
  const strategyConfig = validateStrategyConfig(options.strategy);
  const trainOptions = validateTrainOptions(options.train);
  const evalEvery = options.evalEvery ?? 0;
  if (!(Number.isInteger(evalEvery) && evalEvery >= 0)) throw new Error(`runContinual: evalEvery must be an integer ≥ 0 (steps), got ${evalEvery}`);
  const experiences = benchmark.experiences;
  const T = experiences.length;
  if (T === 0) throw new Error('runContinual: the benchmark has no experiences');
  const inputSize = experiences[0].train.featureShape.reduce((a, b) => a * b, 1);
  const outputs = scenarioOutputs(benchmark, scenario);
  const shape = tf.tidy(() => model.apply(params, tf.zeros([1, inputSize]), { training: false }).shape);
  if (shape.length !== 2 || shape[1] !== outputs) {
    throw new Error(`runContinual: the model gives outputs of shape [${shape.join(', ')}] but the '${scenario}' scenario of ${benchmark.name} with ${T} experiences needs ${outputs} output units (scenarioOutputs)`);
  }

  const rows = new RowFactory(benchmark, scenario, outputs, inputSize);
  const loss = continualLoss(outputs, (strategyConfig.temperature as number | undefined) ?? 2);
  const stepsOf = (poolSize: number): number => trainOptions.iterations ?? (trainOptions.epochs ?? 1) * Math.max(1, Math.floor(poolSize / trainOptions.batchSize));
  const ctx: StrategyContext = {
    benchmark,
    scenario,
    model,
    params,
    loss,
    rows,
    rng: rng.fork('strategy'),
    train: trainOptions,
    steps: (experience) => stepsOf(experiences[experience].train.size),
    ...(signal ? { signal } : {}),
  };
  const strategy = STRATEGY_FACTORIES[strategyConfig.name](strategyConfig, ctx);
  // What trains and is evaluated: the classifier, unless the strategy generates its params.
  const trainee = strategy.trainee ?? { model, params };

  const curves: ContinualResult['curves'] = { loss: { step: [], value: [] } };
  const push = (name: string, step: number, value: number): void => {
    const curve = (curves[name] ??= { step: [], value: [] });
    curve.step.push(step);
    curve.value.push(value);
  };
  const evaluateAll = async (trained: number, step: number): Promise<number[]> => {
    const accuracies: number[] = [];
    for (const e of experiences) {
      strategy.beforeEvaluate?.(e.index);
      accuracies.push(await accuracyOver(trainee.model, trainee.params, e.test, rows.table(e.index), evalRange(benchmark, scenario, e.index, trained)));
    }
    strategy.afterEvaluate?.();
    accuracies.forEach((a, j) => push(`exp${j}/accuracy`, step, a));
    return accuracies;
  };

  let optimizer: Optimizer | undefined;
  const matrix: number[][] = [];
  const perExperienceMs: number[] = [];
  let stoppedBy: ContinualResult['stoppedBy'] = 'completed';
  let globalStep = 0;
  let weightedMs = 0;
  try {
    const randomInit = await evaluateAll(-1, 0);
    const phases = strategy.joint ? [T - 1] : experiences.map((e) => e.index);
    for (const i of phases) {
      const phaseStart = performance.now();
      await strategy.beforeExperience?.(i);
      const pool = strategy.trainingPool?.(i) ?? rows.experiencePool(i);
      const steps = strategy.joint && trainOptions.iterations !== undefined ? trainOptions.iterations * T : stepsOf(pool.indices.length);
      if (!optimizer || trainOptions.resetOptimizer) {
        optimizer?.dispose();
        optimizer = makeOptimizer(trainOptions);
      }
      const positions = minibatchPositions(pool.indices.length, trainOptions.batchSize, steps, rng.fork(`shuffle:${i}`));
      const stepBase = globalStep;
      const result = await train({
        model: trainee.model,
        params: trainee.params,
        loss: strategy.trainLoss ?? loss,
        data: async function* () {
          for (const p of positions) {
            const batch = rows.fromPool(pool, p, i);
            yield toBatch(strategy.onBatch ? await strategy.onBatch(batch, i) : batch, inputSize, outputs);
          }
        },
        epochs: 1,
        maxSteps: steps,
        optimizer,
        rng: rng.fork(`train:${i}`),
        ...(signal ? { signal } : {}),
        ...(strategy.penalty ? { penalty: (c) => strategy.penalty!(c) ?? tf.scalar(0) } : {}),
        ...(strategy.afterBackward ? { transformGradients: (c) => strategy.afterBackward!(c) } : {}),
        ...(strategy.afterStep ? { afterStep: (c) => strategy.afterStep!(c) } : {}),
        ...(strategy.compilable ? { compile: true } : {}),
        ...(evalEvery > 0
          ? {
              evaluate: {
                every: evalEvery,
                fn: async () => {
                  // The step event (and its loss point) comes before the loop's evaluation.
                  const step = curves.loss.step.at(-1) ?? stepBase;
                  const accuracies = await evaluateAll(i, step);
                  onProgress?.({ type: 'eval', experience: i, step, accuracies });
                  return Object.fromEntries(accuracies.map((a, j) => [`exp${j}/accuracy`, a]));
                },
              },
            }
          : {}),
        onProgress: (event) => {
          if (event.type !== 'step') return;
          push('loss', stepBase + event.step, event.loss);
          onProgress?.({ type: 'step', experience: i, step: stepBase + event.step, loss: event.loss });
        },
      });
      globalStep += result.steps;
      if (result.steps > 0) weightedMs += result.timings.msPerStep * result.steps;
      if (result.stoppedBy === 'aborted') {
        stoppedBy = 'aborted';
        perExperienceMs.push(performance.now() - phaseStart);
        break;
      }
      await strategy.afterExperience?.(i);
      const row = await evaluateAll(i, globalStep);
      matrix.push(row);
      onProgress?.({ type: 'experience-end', experience: i, row: [...row] });
      perExperienceMs.push(performance.now() - phaseStart);
    }
    if (strategy.joint && matrix.length === 1) for (let i = 1; i < T; i++) matrix.push([...matrix[0]]);
    const testSizes = experiences.map((e) => e.test.size);
    const taskLabels = experiences.map((e) => e.taskLabel);
    return {
      matrix,
      randomInit,
      metrics: matrix.length === T ? continualMetrics(matrix, randomInit, testSizes, taskLabels) : partialMetrics(matrix, randomInit, testSizes, taskLabels),
      curves,
      stoppedBy,
      timings: { totalMs: performance.now() - started, msPerStep: globalStep > 0 ? weightedMs / globalStep : NaN, perExperienceMs },
      strategy: { ...strategy.config },
      train: trainOptions,
    };
  } finally {
    strategy.dispose();
    optimizer?.dispose();
  }
}
