/**
 * What "Verify reproducibility" decides, with no JupyterLab: the run records stored in a notebook
 * against those of a fresh re-run, paired by position (cell order, then output order).
 *
 * A pair is `matched` when the content hashes are equal, or when the names agree and every metric
 * satisfies |fresh − stored| ≤ atol + rtol·|stored| (numpy's `isclose`); otherwise `drifted`,
 * naming the metrics and the largest difference. A stored record with no fresh one is `missing`,
 * a fresh one with no stored one `extra`; both fail the verification.
 */
import { decodeNumber, type JsonNumber, type RunRecord } from '../records';

/** A row's verdict (also the `data-status` of the result table's rows). */
export type VerifyStatus = 'matched' | 'drifted' | 'missing' | 'extra';

/** The parts of a record the comparison reads. */
export type ComparedRecord = Pick<RunRecord, 'contentHash' | 'metrics'> & Partial<Pick<RunRecord, 'name' | 'id'>>;

/** A record and where it is. */
export interface PlacedRecord {
  /** Index of the cell (0-based). */
  cellIndex: number;
  record: ComparedRecord;
}

/** Tolerances, as in the settings (`verifyRtol`, `verifyAtol`). */
export interface Tolerances {
  rtol: number;
  atol: number;
}

/** One metric's difference. */
export interface MetricDiff {
  metric: string;
  /** The stored value (undefined when the stored record has no such metric). */
  stored: number | undefined;
  /** The fresh value (undefined when the re-run has no such metric). */
  fresh: number | undefined;
  /** |fresh − stored| (Infinity when one side is missing or only one is non-finite). */
  diff: number;
  /** Within atol + rtol·|stored|. */
  ok: boolean;
}

/** One line of the result table. */
export interface VerifyRow {
  /** Position of the pair (0-based). */
  index: number;
  /** The run's name (the stored one, or the fresh one for an extra record). */
  run: string;
  /** The stored record's cell (the fresh one's for an extra record). */
  cellIndex: number;
  status: VerifyStatus;
  /** How a matched pair matched. */
  match?: 'hash' | 'tolerance';
  /** One line for people. */
  detail: string;
  /** The metrics compared (empty when the hashes are equal or a side is absent). */
  metrics: MetricDiff[];
}

/** The outcome of {@link compareRuns}. */
export interface Verification {
  rows: VerifyRow[];
  /** Every row matched. */
  ok: boolean;
  /** How many rows matched. */
  matched: number;
}

/** One metric compared; a non-finite value equals only itself, an absent one nothing. */
function metricDiff(metric: string, stored: JsonNumber | undefined, fresh: JsonNumber | undefined, tol: Tolerances): MetricDiff {
  if (stored === undefined || fresh === undefined) return { metric, stored: stored === undefined ? undefined : decodeNumber(stored), fresh: fresh === undefined ? undefined : decodeNumber(fresh), diff: Infinity, ok: false };
  const s = decodeNumber(stored);
  const f = decodeNumber(fresh);
  if (!Number.isFinite(s) || !Number.isFinite(f)) {
    const same = Object.is(s, f);
    return { metric, stored: s, fresh: f, diff: same ? 0 : Infinity, ok: same };
  }
  const diff = Math.abs(f - s);
  return { metric, stored: s, fresh: f, diff, ok: diff <= tol.atol + tol.rtol * Math.abs(s) };
}

/** Every metric of either side, stored order first. */
export function compareMetrics(stored: Record<string, JsonNumber>, fresh: Record<string, JsonNumber>, tol: Tolerances): MetricDiff[] {
  const names = [...new Set([...Object.keys(stored ?? {}), ...Object.keys(fresh ?? {})])];
  return names.map((name) => metricDiff(name, stored?.[name], fresh?.[name], tol));
}

/** A number for the detail line (up to 6 significant digits; '—' for an absent value). */
export function formatValue(value: number | undefined): string {
  if (value === undefined) return '—';
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  return String(Number(value.toPrecision(6)));
}

/** The name a record goes by: `name`, else the id's first 8 characters (as `recordName`). */
const nameOf = (record: ComparedRecord): string => record.name ?? record.id?.slice(0, 8) ?? '';

const largest = (diffs: MetricDiff[]): MetricDiff | undefined => diffs.reduce<MetricDiff | undefined>((a, d) => (!a || d.diff > a.diff ? d : a), undefined);

const describe = (d: MetricDiff): string => `${d.metric}: ${formatValue(d.stored)} → ${formatValue(d.fresh)}, |Δ| ${formatValue(d.diff)}`;

/** Compares one stored/fresh pair. */
export function comparePair(index: number, stored: PlacedRecord, fresh: PlacedRecord, tol: Tolerances): VerifyRow {
  const run = nameOf(stored.record);
  const base = { index, run, cellIndex: stored.cellIndex };
  if (stored.record.contentHash && stored.record.contentHash === fresh.record.contentHash) {
    return { ...base, status: 'matched', match: 'hash', detail: 'content hash equal', metrics: [] };
  }
  const metrics = compareMetrics(stored.record.metrics, fresh.record.metrics, tol);
  const freshName = nameOf(fresh.record);
  const renamed = freshName !== run ? `the re-run is named "${freshName}"` : '';
  const bad = metrics.filter((m) => !m.ok);
  if (bad.length === 0 && !renamed) {
    const top = largest(metrics);
    const detail = top && top.diff > 0 ? `within tolerance (largest ${describe(top)})` : 'metrics equal (content hash differs)';
    return { ...base, status: 'matched', match: 'tolerance', detail, metrics };
  }
  const parts: string[] = [];
  if (renamed) parts.push(renamed);
  if (bad.length) {
    const top = largest(bad)!;
    parts.push(`${bad.map((m) => m.metric).join(', ')} drifted (largest ${describe(top)})`);
  }
  return { ...base, status: 'drifted', detail: parts.join('; '), metrics };
}

/** Compares stored and fresh records by position. */
export function compareRuns(stored: PlacedRecord[], fresh: PlacedRecord[], tol: Tolerances): Verification {
  const rows: VerifyRow[] = [];
  for (let i = 0; i < Math.max(stored.length, fresh.length); i++) {
    const s = stored[i];
    const f = fresh[i];
    if (s && f) rows.push(comparePair(i, s, f, tol));
    else if (s) rows.push({ index: i, run: nameOf(s.record), cellIndex: s.cellIndex, status: 'missing', detail: 'no such record in the re-run', metrics: [] });
    else rows.push({ index: i, run: nameOf(f.record), cellIndex: f.cellIndex, status: 'extra', detail: 'the re-run wrote a record the notebook does not have', metrics: [] });
  }
  const matched = rows.filter((r) => r.status === 'matched').length;
  return { rows, ok: matched === rows.length, matched };
}

/** One line summing up a verification. */
export function summary(v: Verification): string {
  if (v.ok) return `Verified: ${v.matched} run record${v.matched === 1 ? '' : 's'} reproduced.`;
  const count = (s: VerifyStatus) => v.rows.filter((r) => r.status === s).length;
  const parts = (['drifted', 'missing', 'extra'] as const).filter((s) => count(s) > 0).map((s) => `${count(s)} ${s}`);
  return `Not reproduced: ${v.matched} of ${v.rows.length} matched (${parts.join(', ')}).`;
}
