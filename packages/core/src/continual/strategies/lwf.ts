/**
 * Learning without forgetting.
 *
 * Paper: Zhizhong Li, Derek Hoiem (2016), "Learning without Forgetting", ECCV, arXiv:1606.09282.
 * As van de Ven & Tolias (2019, arXiv:1904.07734: `--replay=current --distill`): the current
 * batch is also labelled by the model as it was after the previous experience (frozen), and the
 * live model is distilled towards those soft targets at `temperature` (2) with the T² factor,
 * over the previously active units (`distillation.ts`; the current model's softmax in the class
 * scenario runs over all classes seen so far, the teacher's zero-padded).
 *
 * Weighting: without `alpha`, van de Ven's 1/t for the current loss and 1 − 1/t for the
 * distillation (t = experiences so far); with `alpha`, Avalanche's CE + alpha·KD. Both terms
 * ride on the batch's own rows (`distillOnRows`); in the task scenario with a loss that distils
 * each earlier head as a group of its own units (`continualLoss`'s `kdGroup`), unless the heads are
 * not equal, contiguous blocks (then the batch is repeated once per earlier head).
 */
import { disposeParams, type Params } from '../../params/params.js';
import type { Strategy, StrategyContext } from '../strategy.js';
import { concatRows, scaleWeights } from '../rows.js';
import { hostLogits } from '../evaluation.js';
import { snapshotParams } from './param-snapshot.js';
import { currentDataWeight, distillOnRows, equalHeadWidth, previousModelRows } from './distillation.js';
import { continualLoss } from '../continual-loss.js';

/** A strategy that keeps the previous model (for tests: its frozen params). */
export interface PreviousModelStrategy extends Strategy {
  /** The frozen copy of the params after the last experience (undefined before the first ends). */
  readonly previous: Params | undefined;
}

/** The LwF strategy. */
export function lwfStrategy(config: Record<string, unknown>, ctx: StrategyContext): PreviousModelStrategy {
  const alpha = config.alpha as number | undefined;
  const kdReduction = config.kdReduction as 'sum' | 'mean';
  const group = ctx.scenario === 'task' ? equalHeadWidth(ctx) : undefined;
  let previous: Params | undefined;
  return {
    name: 'lwf',
    config,
    ...(group !== undefined ? { trainLoss: continualLoss(ctx.rows.outputs, (config.temperature as number | undefined) ?? 2, group) } : {}),
    get previous() {
      return previous;
    },
    async onBatch(rows, experience) {
      if (!previous || experience === 0) return rows;
      const teacher = await hostLogits(ctx.model, previous, rows.x, rows.n, ctx.rows.inputSize);
      const current = alpha === undefined ? currentDataWeight(experience) : 1;
      const weight = alpha === undefined ? 1 - current : alpha;
      scaleWeights(rows, current);
      // Both terms on the batch's own rows (one forward pass); Task-IL with unequal heads: the
      // batch again once per earlier head.
      if (ctx.scenario !== 'task' || group !== undefined) return distillOnRows(ctx, rows, teacher, experience, weight, kdReduction, group);
      return concatRows(rows, previousModelRows(ctx, rows.x, rows.n, teacher, experience, weight, false, kdReduction), ctx.rows.outputs);
    },
    afterExperience() {
      if (previous) disposeParams(previous);
      previous = snapshotParams(ctx.params);
    },
    dispose() {
      if (previous) disposeParams(previous);
      previous = undefined;
    },
  };
}
