/**
 * Deep generative replay.
 *
 * Paper: Hanul Shin, Jung Kwon Lee, Jaehong Kim, Jiwon Kim (2017), "Continual Learning with Deep
 * Generative Replay", NeurIPS, arXiv:1705.08690; with distillation ("DGR+distill") as van de Ven
 * & Tolias (2019, arXiv:1904.07734; `--replay=generative --distill`).
 *
 * A VAE (`vae.ts`) learns the inputs beside the classifier. From the second experience on, every
 * classifier step is joined by a batch (the training batch size) sampled from the VAE as it was
 * after the previous experience, labelled by the previous classifier: with `distill` (default)
 * by its soft targets at `temperature` 2, else by its argmax (`distillation.ts` says which units
 * per scenario; in the task scenario with distillation, the replayed batch is scored once and each
 * earlier head distilled as a group, `continualLoss`'s `kdGroup`, as LwF does). The VAE is trained after the classifier on each experience, through the same
 * training loop, for `vaeIterations` steps (default: the classifier's) on the current data plus
 * replay from its previous self; both weigh current and replayed data 1/t and 1 − 1/t. (Van de
 * Ven train the two in one loop on the same batches; here they see different draws of the same
 * data.) The VAE uses the classifier's optimizer settings (lr: `vaeLr`, default the training lr).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../random.js';
import { disposeParams, type Params } from '../../params/params.js';
import { train } from '../../train/loop.js';
import { adam, sgd } from '../../train/optimizers.js';
import type { Batch } from '../../train/metrics.js';
import type { Strategy, StrategyContext } from '../strategy.js';
import { concatRows, emptyRows, scaleWeights } from '../rows.js';
import { continualLoss } from '../continual-loss.js';
import { hostLogits } from '../evaluation.js';
import { snapshotParams } from './param-snapshot.js';
import { currentDataWeight, distillOnRows, equalHeadWidth, previousModelRows } from './distillation.js';
import { minibatchPositions } from './pools.js';
import { sampleVae, vae, vaeLoss, type VaeModule } from './vae.js';

/** The generative-replay strategy, with its generator open for inspection. */
export interface GenerativeReplayStrategy extends Strategy {
  /** The VAE. */
  readonly generator: VaeModule;
  /** Its live params. */
  readonly generatorParams: Params;
  /** Losses of the VAE's training, per experience. */
  readonly generatorLosses: number[][];
}

/** The generative-replay strategy. */
export function generativeReplayStrategy(config: Record<string, unknown>, ctx: StrategyContext): GenerativeReplayStrategy {
  const inputSize = ctx.rows.inputSize;
  const generator = vae({ inputSize, hidden: config.vaeHidden as number[], zDim: config.zDim as number });
  const generatorParams = generator.init(ctx.rng.fork('vae-init'));
  const lossFn = vaeLoss(inputSize, generator.zDim);
  const sampling = ctx.rng.fork('vae-sampling');
  const distill = config.distill as boolean;
  // Task scenario with distillation: the replayed batch once, each earlier head distilled as a
  // group of its units (as LwF), instead of the batch repeated once per earlier head.
  const group = ctx.scenario === 'task' && distill ? equalHeadWidth(ctx) : undefined;
  const makeOptimizer = () => {
    const lr = (config.vaeLr as number | undefined) ?? ctx.train.lr;
    const [beta1, beta2] = ctx.train.betas ?? [0.9, 0.999];
    return ctx.train.optimizer === 'sgd' ? sgd({ lr }) : adam({ lr, beta1, beta2 });
  };
  let optimizer = makeOptimizer();
  let previous: { classifier: Params; generator: Params } | undefined;
  const generatorLosses: number[][] = [];

  /** One VAE batch: current examples and, after the first experience, replayed samples. */
  async function generatorBatch(positions: Int32Array, experience: number, noise: Rng): Promise<Batch> {
    const pool = ctx.rows.experiencePool(experience);
    const current = ctx.rows.fromPool(pool, positions, experience);
    const w = previous ? currentDataWeight(experience) : 1;
    const nRep = previous ? positions.length : 0;
    const replay = previous ? await sampleVae(generator, previous.generator, nRep, sampling) : new Float32Array(0);
    const n = current.n + nRep;
    const y = new Float32Array(n * (inputSize + 1));
    for (let k = 0; k < n; k++) {
      const src = k < current.n ? current.x.subarray(k * inputSize, (k + 1) * inputSize) : replay.subarray((k - current.n) * inputSize, (k - current.n + 1) * inputSize);
      y.set(src, k * (inputSize + 1));
      y[k * (inputSize + 1) + inputSize] = k < current.n ? w / current.n : (1 - w) / nRep;
    }
    const x = new Float32Array(n * inputSize);
    x.set(current.x);
    x.set(replay, current.n * inputSize);
    // The latent noise of this step, from the generator the VAE would draw it from in the step
    // (the same seeds in the same order: the same numbers), as an input of the step.
    const vaeNoise = tf.randomNormal([n, generator.zDim], 0, 1, 'float32', noise.seedInt());
    return { x: tf.tensor2d(x, [n, inputSize]), y: tf.tensor2d(y, [n, inputSize + 1]), extras: { vaeNoise } };
  }

  return {
    name: 'generative-replay',
    config,
    ...(group !== undefined ? { trainLoss: continualLoss(ctx.rows.outputs, (config.temperature as number | undefined) ?? 2, group) } : {}),
    generator,
    generatorParams,
    generatorLosses,
    async onBatch(rows, experience) {
      if (!previous) return rows;
      const x = await sampleVae(generator, previous.generator, ctx.train.batchSize, sampling);
      const teacher = await hostLogits(ctx.model, previous.classifier, x, ctx.train.batchSize, inputSize);
      const current = currentDataWeight(experience);
      if (group !== undefined) {
        // No cross-entropy on these rows (target −1, weight 0): only the grouped distillation.
        const replayed = emptyRows(ctx.train.batchSize, inputSize);
        replayed.x.set(x);
        const { lo, hi } = ctx.rows.range(experience, experience);
        replayed.lo.fill(lo);
        replayed.hi.fill(hi);
        return concatRows(scaleWeights(rows, current), distillOnRows(ctx, replayed, teacher, experience, 1 - current, 'sum', group), ctx.rows.outputs);
      }
      const replayed = previousModelRows(ctx, x, ctx.train.batchSize, teacher, experience, 1 - current, !distill);
      return concatRows(scaleWeights(rows, current), replayed, ctx.rows.outputs);
    },
    async afterExperience(experience) {
      if (ctx.train.resetOptimizer && experience > 0) {
        optimizer.dispose();
        optimizer = makeOptimizer();
      }
      const steps = (config.vaeIterations as number | undefined) ?? ctx.steps(experience);
      const positions = minibatchPositions(ctx.benchmark.experiences[experience].train.size, ctx.train.batchSize, steps, ctx.rng.fork(`vae-shuffle:${experience}`));
      const trainRng = ctx.rng.fork(`vae-train:${experience}`);
      const noise = trainRng.fork('dropout'); // what train() would draw the latent noise from
      const result = await train({
        model: generator,
        params: generatorParams,
        loss: lossFn,
        data: async function* () {
          for (const p of positions) yield await generatorBatch(p, experience, noise);
        },
        epochs: 1,
        optimizer,
        rng: trainRng,
        dropoutRng: noise,
        signal: ctx.signal,
      });
      generatorLosses.push(result.history.loss);
      if (previous) {
        disposeParams(previous.classifier);
        disposeParams(previous.generator);
      }
      previous = { classifier: snapshotParams(ctx.params), generator: snapshotParams(generatorParams) };
    },
    dispose() {
      optimizer.dispose();
      disposeParams(generatorParams);
      if (previous) {
        disposeParams(previous.classifier);
        disposeParams(previous.generator);
      }
    },
  };
}
