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
 * distillation (t = experiences so far); with `alpha`, Avalanche's CE + alpha·KD. In the domain
 * and class scenarios both terms ride on the batch's own rows (`withDistillation`); in the task
 * scenario too, with a loss that distils each earlier head as a group of its own units
 * (`continualLoss`'s `kdGroup`), unless the heads are not equal, contiguous blocks (then the batch
 * is repeated once per earlier head).
 */
import { disposeParams, type Params } from '../../params/params.js';
import type { Strategy, StrategyContext } from '../strategy.js';
import { scaleWeights, withDistillation } from '../rows.js';
import { hostLogits } from '../evaluation.js';
import { snapshotParams } from './param-snapshot.js';
import { currentDataWeight, previousModelRows } from './distillation.js';
import { continualLoss } from '../continual-loss.js';

/**
 * The width g of every head when experience t owns exactly units `[t·g, (t+1)·g)` (Split MNIST's
 * task scenario), so that the heads can be distilled as groups; undefined otherwise.
 */
function headWidth(ctx: StrategyContext): number | undefined {
  const T = ctx.benchmark.experiences.length;
  const g = ctx.rows.range(0, 0).hi - ctx.rows.range(0, 0).lo;
  if (!(g > 0) || ctx.rows.outputs !== T * g) return undefined;
  for (let t = 0; t < T; t++) {
    const { lo, hi } = ctx.rows.range(t, t);
    if (lo !== t * g || hi !== (t + 1) * g) return undefined;
  }
  return g;
}

/** A strategy that keeps the previous model (for tests: its frozen params). */
export interface PreviousModelStrategy extends Strategy {
  /** The frozen copy of the params after the last experience (undefined before the first ends). */
  readonly previous: Params | undefined;
}

/** The LwF strategy. */
export function lwfStrategy(config: Record<string, unknown>, ctx: StrategyContext): PreviousModelStrategy {
  const alpha = config.alpha as number | undefined;
  const kdReduction = config.kdReduction as 'sum' | 'mean';
  const group = ctx.scenario === 'task' ? headWidth(ctx) : undefined;
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
      if (group !== undefined) {
        // Task-IL with equal heads: every earlier head distilled on the batch's own rows, each
        // head an equal share of the weight (as one group per head would have).
        scaleWeights(rows, current);
        const share = (alpha === undefined ? 1 - current : alpha) / (experience * rows.n);
        const kdHi = ctx.rows.range(experience - 1, experience).hi;
        for (let k = 0; k < rows.n; k++) {
          rows.kdWeight[k] = kdReduction === 'mean' ? share / group : share;
          rows.kdLo[k] = 0;
          rows.kdHi[k] = kdHi;
        }
        rows.teacher = teacher;
        return rows;
      }
      const distilled = previousModelRows(ctx, rows.x, rows.n, teacher, experience, alpha === undefined ? 1 - current : alpha, false, kdReduction);
      // Domain- and Class-IL: one group over the batch's own units, so each row carries both terms
      // (one forward pass of the batch, not two); Task-IL: a group per earlier task's head.
      return withDistillation(scaleWeights(rows, current), distilled, ctx.rows.outputs);
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
