/**
 * What "Verify reproducibility" decides, with no JupyterLab: the run records stored in a notebook
 * against those of a fresh re-run, paired by position (cell order, then output order).
 *
 * A pair is `matched` when the content hashes are equal, or when the names agree, every metric
 * and every curve point satisfies |fresh − stored| ≤ atol + rtol·|stored| (numpy's `isclose`), the
 * configs are equal and the outcomes (a `%%sweep`'s trials, their compacted records and the
 * algorithm's decisions) agree within the same tolerance; otherwise `drifted`, naming the metrics
 * and the largest difference, and where config, curves or outcome differ. A stored record with no fresh one is `missing`,
 * a fresh one with no stored one `extra`; both fail the verification.
 */
import { decodeNumber, type JsonNumber, type RunRecord } from '../records';
import { experimentKind, type ExperimentKind } from '../experiments/kind';
import { shortJson, valueDiffs, type ValueDiff } from './value-diffs';

/** A row's verdict (also the `data-status` of the result table's rows). */
export type VerifyStatus = 'matched' | 'drifted' | 'missing' | 'extra';

/** The parts of a record the comparison reads. */
export type ComparedRecord = Pick<RunRecord, 'contentHash' | 'metrics'> & Partial<Pick<RunRecord, 'name' | 'id' | 'config' | 'curves' | 'outcome'>>;

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
  /** Which magic wrote the record ({@link experimentKind}). */
  kind: ExperimentKind;
  status: VerifyStatus;
  /** How a matched pair matched. */
  match?: 'hash' | 'tolerance';
  /** One line for people. */
  detail: string;
  /** The metrics compared (empty when the hashes are equal or a side is absent). */
  metrics: MetricDiff[];
  /** Where config, curves and outcome differ (`/config/…`, `/curves/…`, `/outcome/…`), in that order. */
  diffs: ValueDiff[];
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

const kindOf = (record: ComparedRecord): ExperimentKind => experimentKind({ config: record.config ?? {}, outcome: record.outcome });

/** The name a record goes by: `name`, else the id's first 8 characters (as `recordName`). */
const nameOf = (record: ComparedRecord): string => record.name ?? record.id?.slice(0, 8) ?? '';

const largest = (diffs: MetricDiff[]): MetricDiff | undefined => diffs.reduce<MetricDiff | undefined>((a, d) => (!a || d.diff > a.diff ? d : a), undefined);

const describe = (d: MetricDiff): string => `${d.metric}: ${formatValue(d.stored)} → ${formatValue(d.fresh)}, |Δ| ${formatValue(d.diff)}`;

/** Config (exactly), curves and outcome (within tolerance) of a pair whose hashes differ. */
export function recordDiffs(stored: ComparedRecord, fresh: ComparedRecord, tol: Tolerances): ValueDiff[] {
  return [
    ...valueDiffs(stored.config, fresh.config, '/config', { rtol: 0, atol: 0 }),
    ...valueDiffs(stored.curves, fresh.curves, '/curves', tol),
    ...valueDiffs(stored.outcome, fresh.outcome, '/outcome', tol),
  ];
}

/** One phrase per part that differs: `outcome differs at 3 paths (first /outcome/trials/1/value: 0.5 → 0.6)`. */
function describeDiffs(diffs: ValueDiff[]): string[] {
  return ['config', 'curves', 'outcome'].flatMap((part) => {
    const here = diffs.filter((d) => d.path.startsWith(`/${part}/`) || d.path === `/${part}`);
    if (here.length === 0) return [];
    const first = here[0];
    const verb = part === 'curves' ? 'differ' : 'differs';
    return [`${part} ${verb} at ${here.length} path${here.length === 1 ? '' : 's'} (first ${first.path}: ${shortJson(first.stored)} → ${shortJson(first.fresh)})`];
  });
}

/** Compares one stored/fresh pair. */
export function comparePair(index: number, stored: PlacedRecord, fresh: PlacedRecord, tol: Tolerances): VerifyRow {
  const run = nameOf(stored.record);
  const base = { index, run, cellIndex: stored.cellIndex, kind: kindOf(stored.record) };
  if (stored.record.contentHash && stored.record.contentHash === fresh.record.contentHash) {
    return { ...base, status: 'matched', match: 'hash', detail: 'content hash equal', metrics: [], diffs: [] };
  }
  const metrics = compareMetrics(stored.record.metrics, fresh.record.metrics, tol);
  const diffs = recordDiffs(stored.record, fresh.record, tol);
  const freshName = nameOf(fresh.record);
  const renamed = freshName !== run ? `the re-run is named "${freshName}"` : '';
  const bad = metrics.filter((m) => !m.ok);
  if (bad.length === 0 && !renamed && diffs.length === 0) {
    const top = largest(metrics);
    const detail = top && top.diff > 0 ? `within tolerance (largest ${describe(top)})` : 'metrics equal (content hash differs)';
    return { ...base, status: 'matched', match: 'tolerance', detail, metrics, diffs };
  }
  const parts: string[] = [];
  if (renamed) parts.push(renamed);
  if (bad.length) {
    const top = largest(bad)!;
    parts.push(`${bad.map((m) => m.metric).join(', ')} drifted (largest ${describe(top)})`);
  }
  parts.push(...describeDiffs(diffs));
  return { ...base, status: 'drifted', detail: parts.join('; '), metrics, diffs };
}

/** Compares stored and fresh records by position. */
export function compareRuns(stored: PlacedRecord[], fresh: PlacedRecord[], tol: Tolerances): Verification {
  const rows: VerifyRow[] = [];
  for (let i = 0; i < Math.max(stored.length, fresh.length); i++) {
    const s = stored[i];
    const f = fresh[i];
    if (s && f) rows.push(comparePair(i, s, f, tol));
    else if (s) rows.push({ index: i, run: nameOf(s.record), cellIndex: s.cellIndex, kind: kindOf(s.record), status: 'missing', detail: 'no such record in the re-run', metrics: [], diffs: [] });
    else rows.push({ index: i, run: nameOf(f.record), cellIndex: f.cellIndex, kind: kindOf(f.record), status: 'extra', detail: 'the re-run wrote a record the notebook does not have', metrics: [], diffs: [] });
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
