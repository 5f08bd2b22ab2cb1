/**
 * GDumb.
 *
 * Paper: Ameya Prabhu, Philip H. S. Torr, Puneet K. Dokania (2020), "GDumb: A Simple Approach
 * that Questions Our Progress in Continual Learning", ECCV.
 *
 * A greedy class-balanced sampler fills a memory of `memSize` examples from the stream
 * (`GreedyClassBalancedBuffer` in `replay-buffer.ts`); before each experience is "trained", the
 * memory takes in that experience's examples, the model is re-initialised (same init function,
 * a fresh stream per experience) and trained from scratch on the memory alone, for the usual
 * number of steps. Avalanche's name: `memSize` (`mem_size`, default 200).
 */
import * as tf from '@tensorflow/tfjs-core';
import { disposeParams, flatten } from '../../params/params.js';
import type { StrategyContext } from '../strategy.js';
import { GreedyClassBalancedBuffer } from './replay-buffer.js';
import type { BufferStrategy } from './replay.js';
import { checkMemSize } from './replay.js';

/** The GDumb strategy. */
export function gdumbStrategy(config: Record<string, unknown>, ctx: StrategyContext): BufferStrategy {
  const memSize = config.memSize as number;
  checkMemSize(ctx, 'gdumb', 'memSize', memSize);
  const buffer = new GreedyClassBalancedBuffer(ctx.rows, memSize);
  return {
    name: 'gdumb',
    config,
    buffer,
    beforeExperience(experience) {
      buffer.update(experience, ctx.rng.fork(`buffer:${experience}`));
      // Re-initialise in place: the params' variables keep their identity (the loop and the caller hold them).
      const fresh = ctx.model.init(ctx.rng.fork(`reinit:${experience}`));
      const target = flatten(ctx.params);
      for (const [path, value] of flatten(fresh)) {
        const v = target.get(path);
        if (!v) throw new Error(`gdumb: re-initialised params have ${path}, which the model's params lack`);
        tf.tidy(() => v.assign(value));
      }
      disposeParams(fresh);
    },
    trainingPool: () => buffer.pool(),
    dispose: () => undefined,
  };
}
