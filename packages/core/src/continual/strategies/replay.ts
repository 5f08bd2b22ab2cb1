/**
 * Experience replay: a memory of `memSize` past training examples (a reservoir or a
 * class-balanced buffer, `replay-buffer.ts`; Avalanche's `Replay` and its storage policies),
 * updated after each experience; from the second experience on, each step's batch is joined by
 * `batchSizeMem` examples drawn from the memory (default: the training batch size), each trained
 * over its own units (task scenario) or the units seen so far (class scenario).
 *
 * Weighting as van de Ven & Tolias (2019, arXiv:1904.07734, "exact replay"): 1/t for the current
 * batch's mean loss and 1 − 1/t for the replayed batch's (t = experiences so far). References:
 * Ratcliff (1990); Robins (1995); Chaudhry et al. (2019), "On Tiny Episodic Memories in
 * Continual Learning", arXiv:1902.10486.
 */
import type { Strategy, StrategyContext } from '../strategy.js';
import { concatRows, scaleWeights } from '../rows.js';
import { ClassBalancedBuffer, ReservoirBuffer, type ReplayBuffer } from './replay-buffer.js';
import { currentDataWeight } from './distillation.js';
import { samplePositions } from './pools.js';

/** A strategy with a replay memory (for tests: its buffer). */
export interface BufferStrategy extends Strategy {
  /** The memory. */
  readonly buffer: ReplayBuffer;
}

/** Throws unless the stream has at least `memSize` training examples (a buffer that can never fill is a mistake). */
export function checkMemSize(ctx: StrategyContext, name: string, option: string, memSize: number): void {
  const total = ctx.benchmark.experiences.reduce((n, e) => n + e.train.size, 0);
  if (memSize > total) throw new Error(`strategy '${name}'.${option} is ${memSize}, larger than the stream's ${total} training examples`);
}

/** The replay strategy. */
export function replayStrategy(config: Record<string, unknown>, ctx: StrategyContext): BufferStrategy {
  const memSize = config.memSize as number;
  checkMemSize(ctx, 'replay', 'memSize', memSize);
  const buffer: ReplayBuffer = config.storagePolicy === 'reservoir' ? new ReservoirBuffer(ctx.rows, memSize) : new ClassBalancedBuffer(ctx.rows, memSize);
  const batchSizeMem = (config.batchSizeMem as number | undefined) ?? ctx.train.batchSize;
  const sampling = ctx.rng.fork('replay-sampling');
  let pool = buffer.pool();
  return {
    name: 'replay',
    config,
    buffer,
    onBatch(rows, experience) {
      if (experience === 0 || pool.indices.length === 0) return rows;
      const current = currentDataWeight(experience);
      const replayed = ctx.rows.fromPool(pool, samplePositions(pool.indices.length, batchSizeMem, sampling), experience, 1 - current);
      return concatRows(scaleWeights(rows, current), replayed, ctx.rows.outputs);
    },
    afterExperience(experience) {
      buffer.update(experience, ctx.rng.fork(`buffer:${experience}`));
      pool = buffer.pool();
    },
    dispose: () => undefined,
  };
}
