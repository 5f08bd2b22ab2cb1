/**
 * Where two JSON values differ, as JSON Pointers (`/outcome/trials/1/value`), numbers within the
 * verify tolerances: what "Verify reproducibility" reports for a record's config, curves and
 * outcome (a sweep's trials and decisions) beside its metrics, as `hyperlab verify` does with
 * `compareRecords`' `configDiffs` and `outcomeDiffs` (`@hyperlab/core`, which needs Node). Pure.
 */
import type { Tolerances } from './compare';

/** One difference: where, and the two values (undefined where absent). */
export interface ValueDiff {
  /** A JSON Pointer into the record. */
  path: string;
  stored: unknown;
  fresh: unknown;
}

/** Members of a nested record that are not reproducible or follow from its numbers (as core skips them). */
const VOLATILE = /\/(contentHash|id|createdAt|timings|environment)(\/|$)/;

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const pointer = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** Whether two leaves are the same: numbers within atol + rtol·|stored|, anything else by identity. */
function sameLeaf(stored: unknown, fresh: unknown, tol: Tolerances): boolean {
  if (typeof stored === 'number' && typeof fresh === 'number' && Number.isFinite(stored) && Number.isFinite(fresh)) {
    return Math.abs(fresh - stored) <= tol.atol + tol.rtol * Math.abs(stored);
  }
  return Object.is(stored, fresh);
}

/** The differences between `stored` and `fresh` under `path`, volatile members aside. */
export function valueDiffs(stored: unknown, fresh: unknown, path: string, tol: Tolerances): ValueDiff[] {
  if (VOLATILE.test(path)) return [];
  if (isMapping(stored) && isMapping(fresh)) {
    const keys = [...Object.keys(stored), ...Object.keys(fresh).filter((k) => !(k in stored))];
    return keys.flatMap((key) => valueDiffs(stored[key], fresh[key], `${path}/${pointer(key)}`, tol));
  }
  if (Array.isArray(stored) && Array.isArray(fresh) && stored.length === fresh.length) {
    return stored.flatMap((item, i) => valueDiffs(item, fresh[i], `${path}/${i}`, tol));
  }
  return sameLeaf(stored, fresh, tol) ? [] : [{ path, stored, fresh }];
}

/** A value for one line: JSON, shortened. */
export function shortJson(value: unknown, max = 60): string {
  if (value === undefined) return '—';
  const text = typeof value === 'number' ? String(Number(value.toPrecision(6))) : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
