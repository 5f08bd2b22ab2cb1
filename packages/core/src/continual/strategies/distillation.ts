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
