/**
 * Rows that train on a previous model's outputs: distillation (LwF, generative replay with
 * `distill`) or its hard labels (generative replay without). What the previous model was
 * responsible for depends on the scenario, as in van de Ven & Tolias (2019, `train.py`):
 *
 * - task: one group per previous experience t, over t's own units (so the rows are repeated);
 * - domain: one group over all units;
 * - class: one group; the student's softmax runs over the classes seen so far, the teacher's over
 *   the classes seen before this experience (zero probability for the new ones).
 *
 * Each group gets an equal share of `weight`, spread evenly over its rows. The distillation term of
 * a row is summed over its units (`kdReduction: 'sum'`, the reference code since May 2019) or
 * averaged over them (`'mean'`, its April 2019 version).
 */
import type { StrategyContext } from '../strategy.js';
import { concatRows, emptyRows, type RowBatch } from '../rows.js';

/** van de Ven & Tolias's weight of the current data while training experience i (0-based): 1/(i+1). */
export function currentDataWeight(experience: number): number {
  return 1 / (experience + 1);
}

/**
 * Rows for `n` inputs `x` with the previous model's `teacher` logits (`n × outputs`), trained
 * while experience `experience` (≥ 1) is trained, of total weight `weight`: distillation rows,
 * or with `hard` cross-entropy rows on the teacher's argmax.
 */
export function previousModelRows(ctx: StrategyContext, x: Float32Array, n: number, teacher: Float32Array, experience: number, weight: number, hard = false, kdReduction: 'sum' | 'mean' = 'sum'): RowBatch {
  const { rows: factory, scenario } = ctx;
  const outputs = factory.outputs;
  const sources = scenario === 'task' ? Array.from({ length: experience }, (_, t) => t) : [experience - 1];
  let out: RowBatch | undefined;
  for (const t of sources) {
    const { lo, hi } = factory.range(t, experience);
    const teacherHi = scenario === 'class' ? factory.range(experience - 1, experience - 1).hi : hi;
    const group = emptyRows(n, factory.inputSize);
    group.x.set(x);
    group.teacher = new Float32Array(teacher);
    const share = weight / (sources.length * n);
    for (let k = 0; k < n; k++) {
      group.lo[k] = lo;
      group.hi[k] = hi;
      group.kdHi[k] = teacherHi;
      group.kdLo[k] = lo;
      if (hard) {
        let best = lo;
        for (let u = lo + 1; u < teacherHi; u++) if (teacher[k * outputs + u] > teacher[k * outputs + best]) best = u;
        group.target[k] = best;
        group.ceWeight[k] = share;
      } else {
        // 'mean': the distillation term averaged over the student's active units as well as the
        // batch, as `loss_fn_kd` did in van de Ven's code of April 2019 (`.mean()`, 86802a8;
        // summed over units from 26f00db, May 2019, on).
        group.kdWeight[k] = kdReduction === 'mean' ? share / (hi - lo) : share;
      }
    }
    out = out ? concatRows(out, group, outputs) : group;
  }
  return out!;
}

/**
 * The width g of every head when experience t owns exactly units `[t·g, (t+1)·g)` (Split MNIST's
 * task scenario), so that a loss with `kdGroup` g can distil the heads as groups; else undefined.
 */
export function equalHeadWidth(ctx: StrategyContext): number | undefined {
  const T = ctx.benchmark.experiences.length;
  const g = ctx.rows.range(0, 0).hi - ctx.rows.range(0, 0).lo;
  if (!(g > 0) || ctx.rows.outputs !== T * g) return undefined;
  for (let t = 0; t < T; t++) {
    const { lo, hi } = ctx.rows.range(t, t);
    if (lo !== t * g || hi !== (t + 1) * g) return undefined;
  }
  return g;
}

/**
 * The distillation {@link previousModelRows} would add as rows, put on `rows` themselves (the
 * batch `teacher` scored, distilling nothing yet): each row then carries `ceWeight·CE +
 * kdWeight·KD`, one forward pass instead of two. Domain and class scenarios: the one group's units,
 * which are the batch's own. Task scenario: needs `headWidth` (from {@link equalHeadWidth}), and the
 * training loss must be `continualLoss(…, headWidth)`, which distils `[kdLo, kdHi)` head by head;
 * every earlier head gets an equal share, as one group per head would.
 */
export function distillOnRows(ctx: StrategyContext, rows: RowBatch, teacher: Float32Array, experience: number, weight: number, kdReduction: 'sum' | 'mean' = 'sum', headWidth?: number): RowBatch {
  const { rows: factory, scenario } = ctx;
  const n = rows.n;
  let kdLo: number;
  let kdHi: number;
  let share: number;
  let units: number;
  if (scenario === 'task') {
    if (headWidth === undefined) throw new Error('distillOnRows: the task scenario needs the heads\' width (equalHeadWidth)');
    kdLo = factory.range(0, experience).lo;
    kdHi = factory.range(experience - 1, experience).hi;
    share = weight / (experience * n);
    units = headWidth;
  } else {
    const { lo, hi } = factory.range(experience - 1, experience);
    for (let k = 0; k < n; k++) {
      if (rows.lo[k] !== lo || rows.hi[k] !== hi) throw new Error(`distillOnRows: row ${k} trains units [${rows.lo[k]}, ${rows.hi[k]}), the distillation needs [${lo}, ${hi})`);
    }
    kdLo = lo;
    kdHi = scenario === 'class' ? factory.range(experience - 1, experience - 1).hi : hi;
    share = weight / n;
    units = hi - lo;
  }
  for (let k = 0; k < n; k++) {
    // 'mean': as in previousModelRows.
    rows.kdWeight[k] = kdReduction === 'mean' ? share / units : share;
    rows.kdLo[k] = kdLo;
    rows.kdHi[k] = kdHi;
  }
  rows.teacher = teacher;
  return rows;
}
