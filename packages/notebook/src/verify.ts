/**
 * What `hyperlab verify` decides: the run records stored in a notebook against those of a fresh
 * re-run, paired by position (cell order, then output order), each pair compared with
 * `@hyperlab/core`'s `compareRecords`, and a row per thing compared.
 *
 * A pair matches when the names agree and `compareRecords` says it matches (equal content hashes,
 * or equal config, seed and data with every metric and curve within `atol + rtol·|stored|`).
 * Verification passes when every pair matches and both sides have as many records.
 *
 * Records from different backends are not compared as drift: WASM, CPU and native TensorFlow
 * round differently, so a pair recorded on one backend and re-run on another that differs only in
 * its numbers is reported as `other backend` (with a note naming both backends), not `drifted`.
 * It does not verify either: like is compared with like, so the fix is to re-run on the
 * recorded backend (notebooks pin it with `%backend wasm`). Config differences count the same way
 * (a config can name an earlier run's results, such as a copied model's weights fingerprint);
 * seed and data differences are drift whatever the backend.
 */
import { compareRecords, validateRunRecord, type RecordComparison, type RunRecord } from '@hyperlab/core/runs';
import type { FoundRunRecord } from './nbformat.js';
import { formatNumber, formatTable } from './text-table.js';

/**
 * A row's verdict. `differs` is informational (a content hash or backend that differs within
 * tolerance); `other backend` marks numbers that differ because the re-run used another backend
 * than the recording (not a drift, not a verification either).
 */
export type VerifyStatus = 'matched' | 'drifted' | 'missing' | 'extra' | 'differs' | 'other backend';

/** One line of the verify table. */
export interface VerifyRow {
  /** The stored record's cell index (or the fresh one's for an extra record). */
  cell: number;
  /** The run's name (or id). */
  run: string;
  /** What is compared: `content hash`, `metric accuracy`, `curve loss`, `config /config/lr`, … */
  what: string;
  stored: string;
  fresh: string;
  /** |fresh − stored| where that means something. */
  diff: string;
  status: VerifyStatus;
}

/** One stored/fresh pair (either may be absent). */
export interface RecordPair {
  stored?: FoundRunRecord;
  fresh?: FoundRunRecord;
  /** The comparison, when both are valid records. */
  comparison?: RecordComparison;
  /** The pair reproduces. */
  ok: boolean;
  /** The table rows about this pair. */
  rows: VerifyRow[];
}

/** The outcome of {@link verifyRecords}. */
export interface Verification {
  pairs: RecordPair[];
  rows: VerifyRow[];
  /** Notes that do not fit the table (records edited by hand, invalid fresh records). */
  notes: string[];
  /** Every pair matched and the counts agree. */
  ok: boolean;
}

/** Tolerances (as `compareRecords`'s). */
export interface VerifyOptions {
  rtol?: number;
  atol?: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The name a record goes by: `name`, else `id`, else ''. */
export function recordName(record: unknown): string {
  if (!isObject(record)) return '';
  return typeof record.name === 'string' ? record.name : typeof record.id === 'string' ? record.id : '';
}

/**
 * Problems with stored records that make verification meaningless (not run records at all),
 * as `cell N output M: /path: message` lines. The content hash is not checked here: a record
 * edited by hand is what verify is for.
 */
export function invalidRecords(found: FoundRunRecord[]): string[] {
  return found.flatMap((f) => {
    const v = validateRunRecord(f.record, { checkHash: false });
    return v.valid ? [] : v.errors.map((e) => `cell ${f.cellIndex} output ${f.outputIndex}: run record ${e.path || '(root)'}: ${e.message}`);
  });
}

const short = (hash: string): string => hash.slice(0, 12);
const json = (v: unknown): string => (v === undefined ? '—' : JSON.stringify(v));
const statusOf = (s: string): VerifyStatus => (s === 'ok' ? 'matched' : (s as VerifyStatus));

/** Compares stored and fresh records by position. */
export function verifyRecords(stored: FoundRunRecord[], fresh: FoundRunRecord[], options: VerifyOptions = {}): Verification {
  const rows: VerifyRow[] = [];
  const notes: string[] = [];
  const pairs: RecordPair[] = [];
  for (let i = 0; i < Math.max(stored.length, fresh.length); i++) {
    const s = stored[i];
    const f = fresh[i];
    const pairRows: VerifyRow[] = [];
    if (!f) {
      pairRows.push({ cell: s.cellIndex, run: recordName(s.record), what: 'run record', stored: 'present', fresh: '—', diff: '', status: 'missing' });
      pairs.push({ stored: s, ok: false, rows: pairRows });
      rows.push(...pairRows);
      continue;
    }
    if (!s) {
      pairRows.push({ cell: f.cellIndex, run: recordName(f.record), what: 'run record', stored: '—', fresh: 'present', diff: '', status: 'extra' });
      pairs.push({ fresh: f, ok: false, rows: pairRows });
      rows.push(...pairRows);
      continue;
    }
    const run = recordName(s.record);
    const row = (what: string, st: string, fr: string, diff: string, status: VerifyStatus) => {
      const r: VerifyRow = { cell: s.cellIndex, run, what, stored: st, fresh: fr, diff, status };
      pairRows.push(r);
      rows.push(r);
    };
    const freshCheck = validateRunRecord(f.record, { checkHash: false });
    if (!freshCheck.valid) {
      row('run record', 'valid', 'invalid', '', 'drifted');
      notes.push(`cell ${f.cellIndex}: the fresh run record is invalid: ${freshCheck.errors.map((e) => `${e.path || '(root)'} ${e.message}`).join('; ')}`);
      pairs.push({ stored: s, fresh: f, ok: false, rows: pairRows });
      continue;
    }
    const sr = s.record as RunRecord;
    const fr = freshCheck.record;
    const comparison = compareRecords(sr, fr, options);
    const freshName = recordName(fr);
    // Numbers from another backend are not expected to be equal: not drift, and not verified.
    const otherBackend = !comparison.backend.same && !comparison.match;
    const numeric = (status: string): VerifyStatus => (otherBackend && status === 'drifted' ? 'other backend' : statusOf(status));
    const sameName = run === freshName;
    if (!sameName) row('name', json(run), json(freshName), '', 'drifted');
    row('content hash', short(sr.contentHash), short(fr.contentHash), '', comparison.hashMatch ? 'matched' : 'differs');
    if (!comparison.integrity.stored) notes.push(`cell ${s.cellIndex} "${run}": the stored record's contentHash does not match its content (edited by hand?)`);
    for (const d of comparison.inputDiffs) row(d.path === '/seed' ? 'seed' : `data ${d.path}`, json(d.stored), json(d.fresh), '', 'drifted');
    // A config can hold results of earlier runs (a model copied from a run: its id and weights
    // fingerprint), which another backend changes too; on another backend that is not drift either.
    for (const d of comparison.configDiffs) row(`config ${d.path}`, json(d.stored), json(d.fresh), '', otherBackend ? 'other backend' : 'drifted');
    // A sweep's trials and decisions: where they differ, by trial (`outcome /trials/3/metrics/accuracy`).
    for (const d of comparison.outcomeDiffs.slice(0, 20)) row(`outcome ${d.path.replace(/^\/outcome/, '')}`, json(d.stored), json(d.fresh), '', otherBackend ? 'other backend' : 'drifted');
    if (comparison.outcomeDiffs.length > 20) notes.push(`cell ${s.cellIndex} "${run}": ${comparison.outcomeDiffs.length - 20} more outcome differences not listed`);
    for (const m of comparison.metrics) row(`metric ${m.name}`, formatNumber(m.stored), formatNumber(m.fresh), formatNumber(m.absDiff), numeric(m.status));
    for (const c of comparison.curves) {
      const points = (r: RunRecord) => (r.curves[c.name] ? `${r.curves[c.name].step.length} points` : '—');
      row(`curve ${c.name}`, points(sr), points(fr), formatNumber(c.maxAbsDiff), numeric(c.status));
      if (c.reason && c.status === 'drifted' && !otherBackend) notes.push(`cell ${s.cellIndex} "${run}" curve ${c.name}: ${c.reason}`);
    }
    if (!comparison.backend.same) row('backend', comparison.backend.stored, comparison.backend.fresh, '', otherBackend ? 'other backend' : 'differs');
    if (otherBackend) {
      const { names } = comparison.backend;
      notes.push(
        names.stored === names.fresh
          ? `cell ${s.cellIndex} "${run}": recorded with ${sr.backend.steps} steps on ${names.stored}, re-run with ${fr.backend.steps} steps; compiled and eager steps round differently, ` +
              `so differing numbers are not a drift, and this run is not verified either. Re-run ${sr.backend.steps === 'eager' ? 'with HYPERLAB_COMPILE=0' : 'without HYPERLAB_COMPILE=0'} to verify.`
          : `cell ${s.cellIndex} "${run}": recorded on the ${names.stored} backend, re-run on ${names.fresh}; different backends round differently, so differing numbers are not a drift, ` +
              `and this run is not verified either. Re-run on ${names.stored} to verify (pin it in the notebook with %backend ${names.stored}).`,
      );
    }
    pairs.push({ stored: s, fresh: f, comparison, ok: comparison.match && sameName, rows: pairRows });
  }
  const ok = stored.length === fresh.length && pairs.every((p) => p.ok);
  return { pairs, rows, notes, ok };
}

/** The verify table, the notes, and a summary line. */
export function formatVerification(v: Verification): string {
  const header = ['cell', 'run', 'what', 'stored', 'fresh', '|diff|', 'status'];
  const table = formatTable(header, v.rows.map((r) => [String(r.cell), r.run, r.what, r.stored, r.fresh, r.diff, r.status]));
  const notes = v.notes.map((n) => `note: ${n}\n`).join('');
  const matched = v.pairs.filter((p) => p.ok).length;
  const failing = v.pairs.filter((p) => !p.ok).map((p) => {
    const f = (p.stored ?? p.fresh)!;
    if (!p.stored || !p.fresh) return `cell ${f.cellIndex} "${recordName(f.record)}" ${p.stored ? 'missing from the re-run' : 'extra in the re-run'}`;
    const bad = p.rows.filter((r) => ['drifted', 'missing', 'extra'].includes(r.status));
    const backend = p.comparison?.backend;
    if (bad.length === 0 && backend && !backend.same) return `cell ${f.cellIndex} "${recordName(f.record)}" ran on another backend (recorded on ${backend.stored}, re-run on ${backend.fresh})`;
    return `cell ${f.cellIndex} "${recordName(f.record)}" drifted (${bad.map((r) => r.what).join(', ') || 'content'})`;
  });
  const summary = v.ok
    ? `verified: ${matched} run record${matched === 1 ? '' : 's'} reproduced\n`
    : `NOT verified: ${matched} of ${v.pairs.length} matched; ${failing.join(', ')}\n`;
  return table + notes + summary;
}
