/**
 * Comparing a stored run record with a fresh re-run (what `hyperlab verify` reports): content
 * hashes, each final metric and curve within tolerances, and differences in config, seed and data.
 */
import { contentHash, decodeNumber, type JsonNumber, type RunRecord } from './record.js';

/** Options of {@link compareRecords}. */
export interface CompareOptions {
  /** Relative tolerance, against the stored value: ok when |fresh − stored| ≤ atol + rtol·|stored|. Default 0. */
  rtol?: number;
  /** Absolute tolerance (see `rtol`). Default 0. */
  atol?: number;
}

/** How a metric or curve compares. */
export type ComparisonStatus = 'ok' | 'drifted' | 'missing' | 'extra';

/** One final metric compared. */
export interface MetricComparison {
  /** Metric name. */
  name: string;
  /** The stored value (null when the stored record lacks it). */
  stored: number | null;
  /** The fresh value (null when the fresh record lacks it). */
  fresh: number | null;
  /** |fresh − stored| (0 when both are the same non-finite value; null when one is missing). */
  absDiff: number | null;
  /** absDiff / |stored| (0 when absDiff is 0, Infinity when stored is 0 and they differ). */
  relDiff: number | null;
  /** Within tolerance (false when missing on either side). */
  ok: boolean;
  /** `ok`, `drifted` (outside tolerance), `missing` (in stored, not in fresh), `extra` (only in fresh). */
  status: ComparisonStatus;
}

/** One curve compared point by point. */
export interface CurveComparison {
  /** Curve name. */
  name: string;
  /** Largest |fresh − stored| over the points (null when missing, or the steps differ). */
  maxAbsDiff: number | null;
  /** Largest relative difference (as in {@link MetricComparison.relDiff}). */
  maxRelDiff: number | null;
  /** Every point within tolerance, and the same steps. */
  ok: boolean;
  /** As for metrics; a curve whose steps differ is `drifted`. */
  status: ComparisonStatus;
  /** Why it is not ok, when it is not. */
  reason?: string;
}

/** A value that differs between the records: a JSON Pointer and the two values (undefined = absent). */
export interface ValueDiff {
  /** JSON Pointer into the record, e.g. `/config/optimizer/lr`. */
  path: string;
  /** The stored value (undefined when absent). */
  stored: unknown;
  /** The fresh value (undefined when absent). */
  fresh: unknown;
}

/** What {@link compareRecords} returns. */
export interface RecordComparison {
  /**
   * The fresh run reproduces the stored one: the content hashes are equal, or else config, seed
   * and data are equal and every metric and curve is ok within tolerance. The backend may differ
   * (that is reported in `backend`, and decides nothing by itself).
   */
  match: boolean;
  /** The content hashes (recomputed from both records' content) are equal. */
  hashMatch: boolean;
  /** Each record's `contentHash` field agrees with its content (false: the record was edited). */
  integrity: { stored: boolean; fresh: boolean };
  /** Final metrics: the stored ones in order, then those only in the fresh record. */
  metrics: MetricComparison[];
  /** Curves, in the same order convention. */
  curves: CurveComparison[];
  /** Paths where the configs differ. */
  configDiffs: ValueDiff[];
  /**
   * Paths where the structured outcomes differ (`/outcome/trials/3/metrics/accuracy`), for records
   * that have one (a sweep's trials); numbers within tolerance are not listed.
   */
  outcomeDiffs: ValueDiff[];
  /** Differences in seed and data fingerprints (`/seed`, `/data/0/fingerprint`, `/data/length`). */
  inputDiffs: ValueDiff[];
  /**
   * The backends as `backendLabel` names them (`wasm`, `node, compiled steps`); `same` when
   * the names are equal and so is the native step mode (a record without it matches either);
   * `names`: the bare backend names (what `%backend` pins).
   */
  backend: { stored: string; fresh: string; same: boolean; names: { stored: string; fresh: string } };
}

interface Difference {
  absDiff: number;
  relDiff: number;
  ok: boolean;
}

function difference(stored: number, fresh: number, rtol: number, atol: number): Difference {
  if (Object.is(stored, fresh) || stored === fresh || (Number.isNaN(stored) && Number.isNaN(fresh))) return { absDiff: 0, relDiff: 0, ok: true };
  const absDiff = Math.abs(fresh - stored);
  const relDiff = stored === 0 ? Infinity : absDiff / Math.abs(stored);
  const ok = Number.isFinite(absDiff) && absDiff <= atol + rtol * Math.abs(stored);
  return { absDiff: Number.isNaN(absDiff) ? Infinity : absDiff, relDiff: Number.isNaN(relDiff) ? Infinity : relDiff, ok };
}

function unionKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...Object.keys(a), ...Object.keys(b).filter((k) => !Object.hasOwn(a, k))];
}

const escapePointer = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep differences between two JSON values, as JSON Pointers under `base`. */
export function jsonDiffs(stored: unknown, fresh: unknown, base = ''): ValueDiff[] {
  if (isPlainObject(stored) && isPlainObject(fresh)) {
    return unionKeys(stored, fresh).flatMap((key) => jsonDiffs(stored[key], fresh[key], `${base}/${escapePointer(key)}`));
  }
  if (Array.isArray(stored) && Array.isArray(fresh)) {
    if (stored.length !== fresh.length) return [{ path: base, stored, fresh }];
    return stored.flatMap((item, i) => jsonDiffs(item, fresh[i], `${base}/${i}`));
  }
  return Object.is(stored, fresh) || stored === fresh ? [] : [{ path: base, stored, fresh }];
}

/** A backend as verify and `%compare` name it: `wasm`, or `node, eager steps` on the native backend. */
export function backendLabel(backend: Pick<RunRecord['backend'], 'name' | 'steps'>): string {
  return backend.steps ? `${backend.name}, ${backend.steps} steps` : backend.name;
}

/**
 * Compares a stored record with a fresh one. Metrics and curves are compared with
 * `|fresh − stored| ≤ atol + rtol·|stored|` (exact equality with the default tolerances; two NaNs,
 * or two equal infinities, count as equal); a metric or curve present on only one side is reported
 * by name as `missing` or `extra` and is not ok.
 */
export function compareRecords(stored: RunRecord, fresh: RunRecord, options: CompareOptions = {}): RecordComparison {
  const { rtol = 0, atol = 0 } = options;
  if (!(rtol >= 0) || !(atol >= 0)) throw new RangeError(`compareRecords: tolerances must be ≥ 0 (rtol ${rtol}, atol ${atol})`);
  const storedHash = contentHash(stored);
  const freshHash = contentHash(fresh);

  const metrics: MetricComparison[] = unionKeys(stored.metrics, fresh.metrics).map((name) => {
    const s = stored.metrics[name] as JsonNumber | undefined;
    const f = fresh.metrics[name] as JsonNumber | undefined;
    if (s === undefined || f === undefined) {
      return { name, stored: s === undefined ? null : decodeNumber(s), fresh: f === undefined ? null : decodeNumber(f), absDiff: null, relDiff: null, ok: false, status: s === undefined ? 'extra' : 'missing' };
    }
    const d = difference(decodeNumber(s), decodeNumber(f), rtol, atol);
    return { name, stored: decodeNumber(s), fresh: decodeNumber(f), absDiff: d.absDiff, relDiff: d.relDiff, ok: d.ok, status: d.ok ? 'ok' : 'drifted' };
  });

  const curves: CurveComparison[] = unionKeys(stored.curves, fresh.curves).map((name) => {
    const s = stored.curves[name];
    const f = fresh.curves[name];
    if (s === undefined || f === undefined) {
      return { name, maxAbsDiff: null, maxRelDiff: null, ok: false, status: s === undefined ? 'extra' : 'missing', reason: s === undefined ? 'only in the fresh record' : 'not in the fresh record' };
    }
    if (s.step.length !== f.step.length || s.step.some((step, i) => step !== f.step[i])) {
      return { name, maxAbsDiff: null, maxRelDiff: null, ok: false, status: 'drifted', reason: `steps differ (${s.step.length} stored, ${f.step.length} fresh points)` };
    }
    let maxAbsDiff = 0;
    let maxRelDiff = 0;
    let bad = 0;
    for (let i = 0; i < s.value.length; i++) {
      const d = difference(decodeNumber(s.value[i]), decodeNumber(f.value[i]), rtol, atol);
      maxAbsDiff = Math.max(maxAbsDiff, d.absDiff);
      maxRelDiff = Math.max(maxRelDiff, d.relDiff);
      if (!d.ok) bad++;
    }
    return bad === 0
      ? { name, maxAbsDiff, maxRelDiff, ok: true, status: 'ok' }
      : { name, maxAbsDiff, maxRelDiff, ok: false, status: 'drifted', reason: `${bad} of ${s.value.length} points outside tolerance` };
  });

  const configDiffs = jsonDiffs(stored.config, fresh.config, '/config');
  // A nested record's own hash, id, time and timings follow from its numbers (compared here) or are not reproducible.
  const volatile = /\/(contentHash|id|createdAt|timings|environment)(\/|$)/;
  const outcomeDiffs = jsonDiffs(stored.outcome, fresh.outcome, '/outcome').filter(
    (d) => !volatile.test(d.path) && !(typeof d.stored === 'number' && typeof d.fresh === 'number' && difference(d.stored, d.fresh, rtol, atol).ok),
  );
  const inputDiffs: ValueDiff[] = [];
  if (stored.seed !== fresh.seed) inputDiffs.push({ path: '/seed', stored: stored.seed, fresh: fresh.seed });
  if (stored.data.length !== fresh.data.length) inputDiffs.push({ path: '/data/length', stored: stored.data.length, fresh: fresh.data.length });
  for (let i = 0; i < Math.min(stored.data.length, fresh.data.length); i++) {
    if (stored.data[i].fingerprint !== fresh.data[i].fingerprint) {
      inputDiffs.push({ path: `/data/${i}/fingerprint`, stored: stored.data[i].fingerprint, fresh: fresh.data[i].fingerprint });
    }
  }

  const hashMatch = storedHash === freshHash;
  const match =
    hashMatch ||
    (configDiffs.length === 0 && inputDiffs.length === 0 && outcomeDiffs.length === 0 && metrics.every((m) => m.ok) && curves.every((c) => c.ok));
  return {
    match,
    hashMatch,
    integrity: { stored: stored.contentHash === storedHash, fresh: fresh.contentHash === freshHash },
    metrics,
    curves,
    configDiffs,
    outcomeDiffs,
    inputDiffs,
    backend: {
      stored: backendLabel(stored.backend),
      fresh: backendLabel(fresh.backend),
      same: stored.backend.name === fresh.backend.name && (stored.backend.steps === undefined || fresh.backend.steps === undefined || stored.backend.steps === fresh.backend.steps),
      names: { stored: stored.backend.name, fresh: fresh.backend.name },
    },
  };
}
