/**
 * The accuracy matrix R of a continual-learning run (`%%continual`, `%%hypernet` with
 * `learn: continual`): R[i][j] is the accuracy on experience j after training experience i, stored
 * as one curve per evaluated experience, `matrix/exp<j>`, whose steps are the experiences trained
 * (i) and whose values are R[i][j]. ACC, BWT, FWT and forgetting are derived from it. Pure.
 */
import { decodeNumber, type RunRecord } from '../records';

/** R as a dense matrix. */
export interface AccuracyMatrix {
  /** Experiences trained, in order (the rows' labels, usually 0…N−1). */
  trained: number[];
  /** Experiences evaluated (the columns' labels). */
  evaluated: number[];
  /** values[i][j]: accuracy on `evaluated[j]` after training `trained[i]`; null where not measured. */
  values: Array<Array<number | null>>;
}

const MATRIX_CURVE = /^matrix\/exp(\d+)$/;

/** The accuracy matrix in a record's curves, or undefined when it has no `matrix/exp<j>` curve. */
export function accuracyMatrix(record: Pick<RunRecord, 'curves'>): AccuracyMatrix | undefined {
  const columns = Object.entries(record.curves ?? {})
    .map(([name, curve]) => ({ j: Number(MATRIX_CURVE.exec(name)?.[1] ?? NaN), curve }))
    .filter(({ j, curve }) => Number.isInteger(j) && Array.isArray(curve?.step) && Array.isArray(curve.value))
    .sort((a, b) => a.j - b.j);
  if (columns.length === 0) return undefined;
  const trained = [...new Set(columns.flatMap(({ curve }) => curve.step))].sort((a, b) => a - b);
  const values = trained.map((i) =>
    columns.map(({ curve }) => {
      const at = curve.step.indexOf(i);
      const v = at < 0 ? NaN : decodeNumber(curve.value[at]);
      return Number.isFinite(v) ? v : null;
    }),
  );
  return { trained, evaluated: columns.map(({ j }) => j), values };
}
