/**
 * `hyperlab verify`: `verifyRecords` on real run records, then end to end on one notebook that
 * `hyperlab run` executed (shared by the CLI tests below), re-run in real kernels.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRunRecord, type RunRecord } from '@hyperlab/core/runs';
import { RUN_RECORD_MIME, type CodeCell, type FoundRunRecord } from './nbformat.js';
import { assertUntouched, code, hyperlab, notebook, readJson, recordCell, snapshot, writeTemp } from './testing.js';
import { formatVerification, invalidRecords, verifyRecords } from './verify.js';

function record(name: string, metrics: Record<string, number>, extra: Partial<Parameters<typeof createRunRecord>[0]> = {}): RunRecord {
  return createRunRecord({ name, id: name, createdAt: '2026-01-01T00:00:00.000Z', config: { lr: 0.1 }, seed: 1, backend: { name: 'cpu', reason: 'test' }, metrics, timings: { totalMs: 1 }, ...extra });
}
const found = (r: unknown, cellIndex = 1): FoundRunRecord => ({ cellIndex, outputIndex: 0, record: r });

test('verifyRecords: identical records match on the content hash', () => {
  const v = verifyRecords([found(record('a', { acc: 0.5 }))], [found(record('a', { acc: 0.5 }))]);
  assert.equal(v.ok, true);
  assert.deepEqual(v.rows.map((r) => [r.what, r.status]), [['content hash', 'matched'], ['metric acc', 'matched']]);
  assert.match(formatVerification(v), /verified: 1 run record reproduced\n$/);
});

test('verifyRecords: a drifted metric is named, and tolerances decide', () => {
  const stored = [found(record('a', { acc: 0.5, loss: 1 }))];
  const fresh = [found(record('a', { acc: 0.52, loss: 1 }))];
  const v = verifyRecords(stored, fresh);
  assert.equal(v.ok, false);
  const acc = v.rows.find((r) => r.what === 'metric acc')!;
  assert.deepEqual([acc.stored, acc.fresh, acc.diff, acc.status], ['0.5', '0.52', '0.02', 'drifted']);
  assert.match(formatVerification(v), /NOT verified: 0 of 1 matched; cell 1 "a" drifted \(metric acc\)/);
  assert.equal(verifyRecords(stored, fresh, { atol: 0.03 }).ok, true);
  assert.equal(verifyRecords(stored, fresh, { rtol: 0.05 }).ok, true);
  assert.equal(verifyRecords(stored, fresh, { rtol: 0.01 }).ok, false);
});

test('verifyRecords: missing and extra records, renamed runs, config and seed differences', () => {
  const a = record('a', { acc: 1 });
  const b = record('b', { acc: 1 });
  const missing = verifyRecords([found(a), found(b, 2)], [found(a)]);
  assert.equal(missing.ok, false);
  assert.deepEqual(missing.rows.at(-1), { cell: 2, run: 'b', what: 'run record', stored: 'present', fresh: '—', diff: '', status: 'missing' });
  const extra = verifyRecords([found(a)], [found(a), found(b, 3)]);
  assert.equal(extra.rows.at(-1)!.status, 'extra');
  const renamed = verifyRecords([found(a)], [found({ ...a, name: 'other' })]);
  assert.equal(renamed.ok, false);
  assert.deepEqual(renamed.rows[0], { cell: 1, run: 'a', what: 'name', stored: '"a"', fresh: '"other"', diff: '', status: 'drifted' });
  const changed = verifyRecords([found(a)], [found(record('a', { acc: 1 }, { seed: 2, config: { lr: 0.2 } }))]);
  assert.deepEqual(changed.rows.filter((r) => r.status === 'drifted').map((r) => r.what), ['seed', 'config /config/lr']);
});

test('verifyRecords: a record re-run on another backend says so instead of reporting drift', () => {
  const onWasm = record('a', { acc: 0.5, loss: 1 }, { backend: { name: 'wasm', reason: 'test' }, curves: { loss: { step: [0, 1], value: [2, 1] } } });
  const onNode = record('a', { acc: 0.5000001, loss: 1 }, { backend: { name: 'node', reason: 'test' }, curves: { loss: { step: [0, 1], value: [2, 1.0000002] } } });
  const v = verifyRecords([found(onWasm)], [found(onNode)]);
  assert.equal(v.ok, false, 'another backend does not verify');
  assert.deepEqual(v.rows.map((r) => [r.what, r.status]), [
    ['content hash', 'differs'],
    ['metric acc', 'other backend'],
    ['metric loss', 'matched'],
    ['curve loss', 'other backend'],
    ['backend', 'other backend'],
  ]);
  assert.equal(v.rows.some((r) => r.status === 'drifted'), false, 'no false drift');
  const text = formatVerification(v);
  assert.match(text, /note: cell 1 "a": recorded on the wasm backend, re-run on node; .* not a drift.* Re-run on wasm .*%backend wasm/);
  assert.match(text, /NOT verified: 0 of 1 matched; cell 1 "a" ran on another backend \(recorded on wasm, re-run on node\)\n$/);
  assert.doesNotMatch(text, /drifted/);
  // Within tolerance, another backend verifies (the backend row is informational).
  const tolerant = verifyRecords([found(onWasm)], [found(onNode)], { rtol: 1e-5 });
  assert.equal(tolerant.ok, true);
  assert.equal(tolerant.rows.find((r) => r.what === 'backend')!.status, 'differs');
  // A config naming an earlier run's results differs too on another backend: not drift either.
  const copied = verifyRecords([found({ ...onWasm, config: { lr: 0.1, fromRun: 'x1' } })], [found({ ...onNode, config: { lr: 0.1, fromRun: 'x2' } })]);
  assert.equal(copied.rows.find((r) => r.what === 'config /config/fromRun')!.status, 'other backend');
  assert.match(formatVerification(copied), /ran on another backend/);
  // On the native backend, compiled and eager steps (HYPERLAB_COMPILE=0) count as two backends;
  // a record from before `steps` existed matches either.
  const compiled = record('a', { acc: 0.5 }, { backend: { name: 'node', reason: 'test', steps: 'compiled' } });
  const eager = record('a', { acc: 0.51 }, { backend: { name: 'node', reason: 'test', steps: 'eager' } });
  assert.equal(compiled.contentHash, record('a', { acc: 0.5 }, { backend: { name: 'node', reason: 'other' } }).contentHash, 'steps is not hashed');
  const modes = verifyRecords([found(compiled)], [found(eager)]);
  assert.equal(modes.ok, false);
  assert.deepEqual(modes.rows.map((r) => [r.what, r.stored, r.fresh, r.status]).slice(1), [
    ['metric acc', '0.5', '0.51', 'other backend'],
    ['backend', 'node, compiled steps', 'node, eager steps', 'other backend'],
  ]);
  const modesText = formatVerification(modes);
  assert.match(modesText, /recorded with compiled steps on node, re-run with eager steps; .* not a drift.* Re-run without HYPERLAB_COMPILE=0 to verify/);
  assert.match(modesText, /ran on another backend \(recorded on node, compiled steps, re-run on node, eager steps\)/);
  assert.match(formatVerification(verifyRecords([found(eager)], [found(compiled)])), /Re-run with HYPERLAB_COMPILE=0 to verify/);
  const older = { ...eager, backend: { name: 'node', reason: 'test' } };
  const beforeSteps = verifyRecords([found(older)], [found(compiled)]);
  assert.equal(beforeSteps.rows.find((r) => r.what === 'metric acc')!.status, 'drifted', 'a record without steps is compared as the same backend');
  assert.equal(beforeSteps.rows.some((r) => r.what === 'backend'), false);
  // A changed seed is drift on any backend.
  const reseeded = verifyRecords([found(onWasm)], [found({ ...onNode, seed: 2 })]);
  assert.deepEqual(reseeded.rows.filter((r) => r.status === 'drifted').map((r) => r.what), ['seed']);
  assert.match(formatVerification(reseeded), /cell 1 "a" drifted \(seed\)/);
});

test('invalidRecords: stored values that are not run records are named by cell and JSON path', () => {
  const lines = invalidRecords([found({ schema: 'hyperlab.run/v1', name: 'x' }, 4)]);
  assert.ok(lines.length > 0);
  assert.match(lines[0], /^cell 4 output 0: run record \/\w+: /);
});

// ---------------------------------------------------------------------------------------------
// End to end: one `hyperlab run`, shared by the verify runs below.

let executed = '';

before(() => {
  const nb = notebook([
    code('const lr = 0.1;', ['parameters']),
    code(recordCell('lr-probe', 'a')),
    code("console.log('between')"),
    code(recordCell('second', 'b')),
  ]);
  const file = writeTemp(nb, 'records.ipynb');
  const r = hyperlab(['run', file]);
  assert.equal(r.status, 0, r.stderr);
  executed = file;
});

/** A copy of the executed notebook, with `edit` applied to its text. */
function copy(edit: (text: string) => string = (t) => t): string {
  return writeTemp(edit(fs.readFileSync(executed, 'utf8')), 'records.ipynb');
}

test('verify passes on a freshly run notebook, and never writes it', () => {
  const before = snapshot(executed);
  const r = hyperlab(['verify', executed]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^cell +run +what +stored +fresh +\|diff\| +status\n/);
  assert.match(r.stdout, /1 +lr-probe +content hash +[0-9a-f]{12} +[0-9a-f]{12} +matched\n/);
  assert.match(r.stdout, /1 +lr-probe +metric accuracy +0\.6 +0\.6 +0 +matched\n/);
  assert.match(r.stdout, /3 +second +curve loss +2 points +2 points +0 +matched\n/);
  assert.match(r.stdout, /verified: 2 run records reproduced\n$/);
  assertUntouched(before);
});

test('verify fails naming the metric after a stored metric is edited by hand; --atol large enough passes', () => {
  const file = copy((text) => text.replace('"accuracy": 0.6,', '"accuracy": 0.65,'));
  assert.notEqual(fs.readFileSync(file, 'utf8'), fs.readFileSync(executed, 'utf8'), 'the edit applied');
  const before = snapshot(file);
  const r = hyperlab(['verify', file]);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /1 +lr-probe +metric accuracy +0\.65 +0\.6 +0\.05 +drifted\n/);
  assert.match(r.stdout, /1 +lr-probe +content hash +[0-9a-f]{12} +[0-9a-f]{12} +differs\n/);
  assert.match(r.stdout, /note: cell 1 "lr-probe": the stored record's contentHash does not match its content/);
  assert.match(r.stdout, /NOT verified: 1 of 2 matched; cell 1 "lr-probe" drifted \(metric accuracy\)\n$/);
  const tolerant = hyperlab(['verify', file, '--atol', '0.06']);
  assert.equal(tolerant.status, 0, tolerant.stdout + tolerant.stderr);
  assert.match(tolerant.stdout, /metric accuracy +0\.65 +0\.6 +0\.05 +matched\n/);
  assertUntouched(before);
});

test('verify fails when the re-run has fewer run records than stored (count mismatch)', () => {
  const file = copy((text) => {
    const nb = JSON.parse(text) as { cells: CodeCell[] };
    const stored = nb.cells[1].outputs.find((o) => o.output_type === 'display_data' && RUN_RECORD_MIME in o.data)!;
    nb.cells[3].outputs.push(structuredClone(stored)); // a third record, which the re-run does not produce
    return JSON.stringify(nb, null, 1);
  });
  const r = hyperlab(['verify', file]);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /3 +lr-probe +run record +present +— +missing\n/);
  assert.match(r.stdout, /NOT verified: 2 of 3 matched; cell 3 "lr-probe" missing from the re-run\n$/);
});

test('verify names the cell when the re-run fails', () => {
  const file = copy((text) => {
    const nb = JSON.parse(text) as { cells: CodeCell[] };
    nb.cells[2].source = "throw new Error('not reproducible')";
    return JSON.stringify(nb, null, 1);
  });
  const before = snapshot(file);
  const r = hyperlab(['verify', file]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /cell 2 \(id code-\d+\) failed: Error: not reproducible/);
  assert.match(r.stderr, /NOT verified: the re-run stopped at cell 2/);
  assertUntouched(before);
});

test('verify on a notebook without run records: nothing to verify, exit 1, no kernel started', () => {
  const file = writeTemp(notebook([code('1')]));
  const r = hyperlab(['verify', file]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /has no stored run records, so there is nothing to verify/);
  assert.doesNotMatch(r.stderr, /in kernel/);
});

test('verify on stored outputs that are not run records: exit 2 naming the cell and path', () => {
  const nb = readJson(executed);
  const cell = nb.cells[1] as CodeCell;
  const output = cell.outputs.find((o) => o.output_type === 'display_data')!;
  if (output.output_type === 'display_data') delete (output.data[RUN_RECORD_MIME] as Record<string, unknown>).metrics;
  const file = writeTemp(nb);
  const r = hyperlab(['verify', file]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /stored run records are not valid run records:\n {2}cell 1 output 0: run record \/metrics: is required/);
  assert.equal(path.basename(file), 'nb.ipynb');
});
