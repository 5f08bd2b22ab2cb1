/**
 * The `train:` section and the training every experiment magic shares: the core's async loop with
 * a live progress line and a live figure of the training loss and the evaluated metrics, both
 * updated in place at most `session.liveRate` times a second, and stopped cleanly by an interrupt.
 */
import type * as Core from '@hyperlab/core';
import type { MagicContext } from '@hyperlab/kernel/magics';
import type { JsonSchema } from '../config/yaml-config.js';
import { figureBundle, type LineFigure } from '../figures/figure.js';
import { LiveOutput } from '../figures/live.js';

/** A validated `train:` section. */
export interface TrainConfig {
  epochs: number;
  batchSize: number;
  optimizer: 'sgd' | 'adam' | 'adamw';
  lr: number;
  weightDecay?: number;
  momentum: number;
  schedule: 'constant' | 'cosine';
  warmupSteps: number;
  clipNorm?: number;
  evalEvery: number | 'epoch';
}

/** The JSON Schema of a `train:` section. */
export function trainSchema(): JsonSchema {
  return {
    type: 'object',
    description: 'a mapping of training options',
    default: {},
    additionalProperties: false,
    properties: {
      epochs: { type: 'integer', minimum: 1, default: 1, description: 'a positive integer' },
      batchSize: { type: 'integer', minimum: 1, default: 64, description: 'a positive integer' },
      optimizer: { enum: ['sgd', 'adam', 'adamw'], default: 'adam' },
      lr: { type: 'number', exclusiveMinimum: 0, default: 0.001, description: 'a positive number' },
      weightDecay: { type: 'number', minimum: 0, description: 'a number ≥ 0 (default 0; AdamW 0.01)' },
      momentum: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0, description: 'SGD momentum in [0, 1)' },
      schedule: { enum: ['constant', 'cosine'], default: 'constant' },
      warmupSteps: { type: 'integer', minimum: 0, default: 0, description: 'an integer ≥ 0' },
      clipNorm: { type: 'number', exclusiveMinimum: 0, description: 'a positive number (global gradient-norm clip)' },
      evalEvery: { anyOf: [{ type: 'integer', minimum: 1 }, { const: 'epoch' }], default: 'epoch', description: 'a positive number of steps, or "epoch"' },
    },
  };
}

/** What {@link trainLive} needs. */
export interface LiveTrainingOptions {
  core: typeof Core;
  magic: MagicContext;
  model: Core.Module;
  params: Core.Params;
  train: Core.Dataset;
  test: Core.Dataset;
  config: TrainConfig;
  rng: Core.Rng;
  /** Figure title. */
  title: string;
  /** Updates per second at most. */
  rate: number;
  /** Extra loss and per-step hooks of the core's `train()` (AdaLoRA's orthogonal penalty and rank allocator). */
  hooks?: Pick<Core.TrainOptions, 'penalty' | 'transformGradients' | 'afterStep'>;
  /**
   * Called after each evaluation during training, and for the final one when it comes after the
   * last periodic one, with the step and the test metrics (`accuracy`, `loss`): a sweep trial's
   * intermediate reports. Not called for the evaluation before the first step.
   */
  onEvaluation?: (step: number, metrics: { accuracy: number; loss: number }) => void;
  /**
   * A training checkpoint (the core's `encodeTrainingCheckpoint` bytes, from an earlier
   * `trainLive` with {@link LiveTrainingOptions.checkpoint}) to continue from: the trainable
   * params, the optimizer's state, the epoch and step reached and the data-order and dropout
   * generators are restored, and training runs the epochs after the one reached, up to
   * `config.epochs`. Hyper-parameters come from `config` (a checkpoint may continue with another
   * learning rate). Throws the core's `CheckpointError` when it does not fit `params`.
   */
  resume?: Uint8Array;
  /** Make a checkpoint when training ends ({@link LiveTrainingResult.checkpoint}). */
  checkpoint?: boolean;
}

/** The outcome of {@link trainLive}. */
export interface LiveTrainingResult {
  result: Core.TrainResult;
  /** Final test metrics (accuracy, loss). */
  final: { accuracy: number; loss: number };
  /** Curves for the record: `train/loss` per step, `test/accuracy` and `test/loss` per evaluation. */
  curves: Record<string, { step: number[]; value: number[] }>;
  /** With {@link LiveTrainingOptions.checkpoint}: the state after the last epoch, to resume from. */
  checkpoint?: { bytes: Uint8Array; epoch: number; step: number };
}

function optimizerOf(core: typeof Core, config: TrainConfig): Core.Optimizer {
  switch (config.optimizer) {
    case 'sgd':
      return core.sgd({ lr: config.lr, momentum: config.momentum, weightDecay: config.weightDecay ?? 0 });
    case 'adam':
      return core.adam({ lr: config.lr, weightDecay: config.weightDecay ?? 0 });
    case 'adamw':
      return core.adamw({ lr: config.lr, weightDecay: config.weightDecay ?? 0.01 });
  }
}

function scheduleOf(core: typeof Core, config: TrainConfig, totalSteps: number): Core.Schedule | undefined {
  if (config.schedule === 'cosine') return core.cosine({ lr: config.lr, totalSteps, warmupSteps: Math.min(config.warmupSteps, totalSteps - 1) });
  if (config.warmupSteps > 0) return core.linearWarmup({ lr: config.lr, warmupSteps: config.warmupSteps });
  return undefined;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Trains with live output; rejects with an `Interrupted` error when the cell is interrupted. */
export async function trainLive(options: LiveTrainingOptions): Promise<LiveTrainingResult> {
  const { core, magic, model, params, train, test, config, rng } = options;
  const stepsPerEpoch = core.numBatches(train.size, config.batchSize);
  const totalSteps = stepsPerEpoch * config.epochs;
  const evaluateTest = async (): Promise<{ accuracy: number; loss: number }> => {
    const values = await core.evaluate(model, params, core.batches(test, { batchSize: 1000 }), { accuracy: 'accuracy', loss: 'cross-entropy' });
    return { accuracy: values.accuracy, loss: values.loss };
  };
  // Restored before the first evaluation, which then shows the resumed model.
  const optimizer = optimizerOf(core, config);
  let shuffle = rng.fork('shuffle');
  let dropout = rng.fork('dropout');
  let start: { epoch: number; step: number } | undefined;
  try {
    if (options.resume) {
      const restored = core.restoreTrainingCheckpoint(options.resume, { params, optimizer });
      if (restored.epoch > config.epochs) {
        throw new core.CheckpointError(`the checkpoint has trained ${restored.epoch} epochs, past train.epochs (${config.epochs}); a resumed run trains up to train.epochs`);
      }
      if (!restored.rngs.shuffle || !restored.rngs.dropout) throw new core.CheckpointError('the checkpoint lacks the data-order and dropout generators (rngs "shuffle" and "dropout")');
      shuffle = core.Rng.fromState(restored.rngs.shuffle);
      dropout = core.Rng.fromState(restored.rngs.dropout);
      start = { epoch: restored.epoch, step: restored.step };
    }
  } catch (error) {
    optimizer.dispose();
    throw error;
  }
  const firstStep = start?.step ?? 0;
  const curves = { 'train/loss': { step: [] as number[], value: [] as number[] }, 'test/accuracy': { step: [firstStep], value: [] as number[] }, 'test/loss': { step: [firstStep], value: [] as number[] } };
  const initial = await evaluateTest();
  curves['test/accuracy'].value.push(initial.accuracy);
  curves['test/loss'].value.push(initial.loss);

  const figure = (): LineFigure => ({
    title: options.title,
    xTitle: 'step',
    yTitle: 'loss',
    y2Title: 'test accuracy',
    y2Range: [0, 1],
    series: [
      { name: 'train loss', x: curves['train/loss'].step, y: curves['train/loss'].value },
      { name: 'test loss', x: curves['test/loss'].step, y: curves['test/loss'].value, markers: true, dash: true },
      { name: 'test accuracy', x: curves['test/accuracy'].step, y: curves['test/accuracy'].value, axis: 'y2', markers: true },
    ],
  });
  const started = performance.now();
  let status = `step ${firstStep}/${totalSteps} · test accuracy ${initial.accuracy.toFixed(4)}`;
  const progressText = (): Record<string, unknown> => ({ 'text/plain': status });
  const progress = new LiveOutput(magic, options.rate);
  const plot = new LiveOutput(magic, options.rate);
  progress.offer(progressText);
  plot.offer(() => figureBundle(figure()));

  let result: Core.TrainResult;
  let checkpoint: LiveTrainingResult['checkpoint'];
  try {
    result = await core.train({
      model,
      params,
      loss: 'cross-entropy',
      epochs: config.epochs,
      optimizer,
      schedule: scheduleOf(core, config, totalSteps),
      ...(config.clipNorm !== undefined ? { clipNorm: config.clipNorm } : {}),
      rng,
      dropoutRng: dropout,
      ...(start ? { start } : {}),
      data: () => core.batches(train, { batchSize: config.batchSize, shuffle: true, rng: shuffle }),
      evaluate: { every: config.evalEvery === 'epoch' ? 'epoch' : config.evalEvery, fn: evaluateTest },
      signal: magic.signal,
      ...(options.hooks ?? {}),
      onProgress(event) {
        if (event.type === 'step') {
          curves['train/loss'].step.push(event.step);
          curves['train/loss'].value.push(event.loss);
          const epoch = `epoch ${event.epoch}/${config.epochs}`;
          const acc = curves['test/accuracy'].value.at(-1) ?? NaN;
          status = `${epoch} · step ${event.step}/${totalSteps} · loss ${event.loss.toFixed(4)} · test accuracy ${acc.toFixed(4)} · ${Math.round(event.examplesPerSecond)} examples/s · ${seconds(performance.now() - started)}`;
          progress.offer(progressText);
          plot.offer(() => figureBundle(figure()));
        } else if (event.type === 'eval') {
          curves['test/accuracy'].step.push(event.step);
          curves['test/accuracy'].value.push(event.metrics.accuracy);
          curves['test/loss'].step.push(event.step);
          curves['test/loss'].value.push(event.metrics.loss);
          options.onEvaluation?.(event.step, { accuracy: event.metrics.accuracy, loss: event.metrics.loss });
        }
      },
    });
    if (options.checkpoint && result.stoppedBy === 'completed') {
      const bytes = core.encodeTrainingCheckpoint({ params, optimizer, epoch: result.epochs, step: result.steps, rngs: { shuffle, dropout } });
      checkpoint = { bytes, epoch: result.epochs, step: result.steps };
    }
  } finally {
    optimizer.dispose();
  }
  // The last evaluation is the final one when it ran after the last step; else evaluate now.
  let final: { accuracy: number; loss: number };
  if (curves['test/accuracy'].step.at(-1) === result.steps) final = { accuracy: curves['test/accuracy'].value.at(-1)!, loss: curves['test/loss'].value.at(-1)! };
  else {
    final = await evaluateTest();
    if (result.stoppedBy !== 'aborted') {
      curves['test/accuracy'].step.push(result.steps);
      curves['test/accuracy'].value.push(final.accuracy);
      curves['test/loss'].step.push(result.steps);
      curves['test/loss'].value.push(final.loss);
      options.onEvaluation?.(result.steps, final);
    }
  }
  const done = result.stoppedBy === 'aborted' ? `interrupted at step ${result.steps}/${totalSteps}` : `done: ${result.steps} steps`;
  // On the native backend: how many steps ran as a compiled TensorFlow graph (core's graph-step.ts).
  const compiled = result.compiled ? ` · ${result.compiled.compiledSteps}/${result.steps} steps compiled${result.compiled.reason && result.compiled.compiledSteps === 0 ? ` (not compiled: ${result.compiled.reason})` : ''}` : '';
  status = `${done} · test accuracy ${final.accuracy.toFixed(4)} · test loss ${final.loss.toFixed(4)} · ${seconds(result.timings.totalMs)} (${result.timings.msPerStep.toFixed(1)} ms/step)${compiled}`;
  progress.finish(progressText);
  plot.finish(() => figureBundle(figure()));
  if (result.stoppedBy === 'aborted') {
    const error = new Error(`interrupted at step ${result.steps} of ${totalSteps}; the model keeps the weights of the last completed step, and no run was recorded`);
    error.name = 'KeyboardInterrupt';
    error.stack = `${error.name}: ${error.message}`;
    throw error;
  }
  return { result, final, curves, ...(checkpoint ? { checkpoint } : {}) };
}
