/**
 * Continual-learning metrics from the accuracy matrix `R[i][j]` (accuracy on experience j after
 * training experience i, every j) and the accuracies `b_j` of the model at initialisation:
 *
 * - ACC = mean_j R[T−1][j]
 * - BWT = mean_{j<T−1} (R[T−1][j] − R[j][j])   (Lopez-Paz & Ranzato 2017, "Gradient Episodic
 *   Memory for Continual Learning", arXiv:1706.08840)
 * - FWT = mean_{j≥1} (R[j−1][j] − b_j)          (same paper; Avalanche's `StreamForwardTransfer`)
 * - forgetting_k = R[k][k] − R[T−1][k] for k < T−1, and its mean — Avalanche's `Forgetting`
 *   (the accuracy right after training k minus the last one), not the max-based forgetting of
 *   Chaudhry et al. 2018. So forgetting = −BWT.
 *
 * Avalanche's names (`{metric}/eval_phase/test_stream[/Task{t:03}][/Exp{e:03}]`) are given too,
 * with the same values. Undefined values (BWT and forgetting with one experience, FWT without
 * `randomInit`) are NaN and left out of the Avalanche table, as Avalanche reports nothing there.
 */

/** What {@link continualMetrics} returns. */
export interface ContinualMetrics {
  /** Average accuracy after the last experience. */
  acc: number;
  /** Backward transfer (negative: forgetting). */
  bwt: number;
  /** Forward transfer against the model at initialisation. */
  fwt: number;
  /** Mean forgetting over the experiences before the last. */
  forgetting: number;
  /** forgetting_k for k = 0 … T−2. */
  perExperienceForgetting: number[];
  /** The same under Avalanche's metric names. */
  avalanche: Record<string, number>;
}

const mean = (values: number[]): number => (values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length);
const pad = (n: number): string => String(n).padStart(3, '0');

/**
 * The metrics of an accuracy matrix (see the file comment). `testSizes` weighs the pooled stream
 * accuracy (`Top1_Acc_Stream`; default equal sizes), `taskLabels` names the per-experience
 * metrics' `TaskNNN` (default 0 for all).
 */
export function continualMetrics(matrix: number[][], randomInit?: number[], testSizes?: number[], taskLabels?: number[]): ContinualMetrics {
  const T = matrix.length;
  if (T === 0) throw new Error('continualMetrics: the matrix has no rows');
  for (const [i, row] of matrix.entries()) if (row.length !== T) throw new Error(`continualMetrics: row ${i} has ${row.length} entries, expected ${T} (the matrix is T×T)`);
  if (randomInit !== undefined && randomInit.length !== T) throw new Error(`continualMetrics: randomInit has ${randomInit.length} entries, expected ${T}`);
  if (testSizes !== undefined && testSizes.length !== T) throw new Error(`continualMetrics: testSizes has ${testSizes.length} entries, expected ${T}`);
  const last = matrix[T - 1];
  const perExperienceForgetting = last.slice(0, T - 1).map((r, k) => matrix[k][k] - r);
  const forgetting = mean(perExperienceForgetting);
  const bwt = T > 1 ? -forgetting : NaN;
  const transfers = randomInit ? Array.from({ length: T - 1 }, (_, k) => matrix[k][k + 1] - randomInit[k + 1]) : [];
  const fwt = randomInit && T > 1 ? mean(transfers) : NaN;
  const sizes = testSizes ?? last.map(() => 1);
  const total = sizes.reduce((a, b) => a + b, 0);
  const pooled = last.reduce((sum, r, j) => sum + r * sizes[j], 0) / total;

  const avalanche: Record<string, number> = {};
  const name = (metric: string, j: number): string => `${metric}/eval_phase/test_stream/Task${pad(taskLabels?.[j] ?? 0)}/Exp${pad(j)}`;
  avalanche['Top1_Acc_Stream/eval_phase/test_stream'] = pooled;
  last.forEach((r, j) => (avalanche[name('Top1_Acc_Exp', j)] = r));
  if (T > 1) {
    avalanche['StreamForgetting/eval_phase/test_stream'] = forgetting;
    avalanche['StreamBWT/eval_phase/test_stream'] = bwt;
    perExperienceForgetting.forEach((f, k) => {
      avalanche[name('ExperienceForgetting', k)] = f;
      avalanche[name('ExperienceBWT', k)] = -f;
    });
  }
  if (!Number.isNaN(fwt)) {
    avalanche['StreamForwardTransfer/eval_phase/test_stream'] = fwt;
    transfers.forEach((v, k) => (avalanche[name('ExperienceForwardTransfer', k + 1)] = v));
  }
  return { acc: mean(last), bwt, fwt, forgetting: T > 1 ? forgetting : NaN, perExperienceForgetting, avalanche };
}
