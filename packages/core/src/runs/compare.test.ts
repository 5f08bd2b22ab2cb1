import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRunRecord, fingerprint, type RunRecordParts } from './record.js';
import { compareRecords } from './compare.js';

function parts(overrides: Partial<RunRecordParts> = {}): RunRecordParts {
  return {
    config: { optimizer: { kind: 'sgd', lr: 0.1 }, epochs: 2 },
    seed: 1,
    backend: { name: 'cpu', reason: 'test' },
    data: [{ name: 'train', fingerprint: fingerprint('train'), size: 10 }],
    metrics: { accuracy: 0.9, loss: 0.25 },
    curves: { loss: { step: [1, 2, 3], value: [1, 0.5, 0.25] } },
    timings: { totalMs: 10 },
    ...overrides,
  };
}

test('compare: identical results match exactly (timings, ids and backend details aside)', () => {
  const stored = createRunRecord(parts());
  const fresh = createRunRecord(parts({ timings: { totalMs: 99 }, backend: { name: 'cpu', reason: 'other', threads: 2 } }));
  const c = compareRecords(stored, fresh);
  assert.equal(c.match, true);
  assert.equal(c.hashMatch, true);
  assert.deepEqual(c.integrity, { stored: true, fresh: true });
  assert.deepEqual(c.metrics.map((m) => [m.name, m.absDiff, m.ok, m.status]), [
    ['accuracy', 0, true, 'ok'],
    ['loss', 0, true, 'ok'],
  ]);
  assert.deepEqual(c.curves, [{ name: 'loss', maxAbsDiff: 0, maxRelDiff: 0, ok: true, status: 'ok' }]);
  assert.deepEqual(c.configDiffs, []);
  assert.deepEqual(c.inputDiffs, []);
});

test('compare: small drift fails exact comparison but passes within rtol/atol', () => {
  const stored = createRunRecord(parts());
  const fresh = createRunRecord(parts({ metrics: { accuracy: 0.9, loss: 0.2501 }, curves: { loss: { step: [1, 2, 3], value: [1, 0.5001, 0.25] } } }));
  const exact = compareRecords(stored, fresh);
  assert.equal(exact.match, false);
  assert.equal(exact.hashMatch, false);
  const loss = exact.metrics.find((m) => m.name === 'loss')!;
  assert.equal(loss.status, 'drifted');
  assert.ok(Math.abs(loss.absDiff! - 1e-4) < 1e-12);
  assert.ok(Math.abs(loss.relDiff! - 4e-4) < 1e-9);
  assert.equal(exact.curves[0].status, 'drifted');
  assert.match(exact.curves[0].reason!, /1 of 3 points/);
  const relaxed = compareRecords(stored, fresh, { rtol: 1e-3 });
  assert.equal(relaxed.match, true);
  assert.ok(relaxed.metrics.every((m) => m.ok));
  assert.equal(compareRecords(stored, fresh, { atol: 2e-4 }).match, true);
  assert.equal(compareRecords(stored, fresh, { rtol: 1e-4 }).match, false, 'rtol too tight: 1e-4 > 1e-4·0.25');
});

test('compare: missing and extra metrics and curves are reported by name', () => {
  const stored = createRunRecord(parts());
  const fresh = createRunRecord(parts({ metrics: { accuracy: 0.9, f1: 0.8 }, curves: { acc: { step: [3], value: [0.9] } } }));
  const c = compareRecords(stored, fresh, { rtol: 1 });
  assert.equal(c.match, false);
  assert.deepEqual(c.metrics.map((m) => [m.name, m.status, m.ok]), [
    ['accuracy', 'ok', true],
    ['loss', 'missing', false],
    ['f1', 'extra', false],
  ]);
  const missing = c.metrics[1];
  assert.equal(missing.stored, 0.25);
  assert.equal(missing.fresh, null);
  assert.equal(missing.absDiff, null);
  assert.deepEqual(c.curves.map((x) => [x.name, x.status]), [
    ['loss', 'missing'],
    ['acc', 'extra'],
  ]);
});

test('compare: config, seed and data differences; backend reported; NaN equals NaN', () => {
  const stored = createRunRecord(parts({ metrics: { loss: NaN } }));
  const fresh = createRunRecord(
    parts({
      config: { optimizer: { kind: 'sgd', lr: 0.01, momentum: 0.9 }, epochs: 2 },
      seed: 2,
      data: [{ name: 'train', fingerprint: fingerprint('changed'), size: 10 }],
      backend: { name: 'wasm', reason: 'test' },
      metrics: { loss: NaN },
    }),
  );
  const c = compareRecords(stored, fresh);
  assert.equal(c.metrics[0].ok, true, 'NaN vs NaN');
  assert.deepEqual(c.configDiffs, [
    { path: '/config/optimizer/lr', stored: 0.1, fresh: 0.01 },
    { path: '/config/optimizer/momentum', stored: undefined, fresh: 0.9 },
  ]);
  assert.deepEqual(c.inputDiffs.map((d) => d.path), ['/seed', '/data/0/fingerprint']);
  assert.deepEqual(c.backend, { stored: 'cpu', fresh: 'wasm', same: false, names: { stored: 'cpu', fresh: 'wasm' } });
  assert.equal(c.match, false);
  // A tampered stored record: its hash field no longer agrees with its content.
  const tampered = { ...stored, metrics: { loss: 1 } };
  assert.equal(compareRecords(tampered, stored).integrity.stored, false);
});

test('compare: a structured outcome (a sweep\'s trials) is hashed and compared by path, within tolerance', () => {
  const outcome = (accuracy: number, id: string) => ({
    trials: [
      { trialId: 't000', params: { lr: 0.01 }, metrics: { accuracy: 0.5 } },
      { trialId: 't001', params: { lr: 0.1 }, metrics: { accuracy }, record: { id, createdAt: id, timings: { totalMs: accuracy }, metrics: { accuracy } } },
    ],
    decisions: [{ kind: 'promote', trialId: 't001' }],
  });
  const plain = createRunRecord(parts());
  const stored = createRunRecord(parts({ outcome: outcome(0.75, 'a') }));
  assert.notEqual(stored.contentHash, plain.contentHash, 'the outcome is hashed');
  assert.equal(createRunRecord(parts({ outcome: undefined })).contentHash, plain.contentHash, 'no outcome: the hash of a record without one');
  // Ids, times and timings inside a nested record are not drift; a trial's metric is.
  const same = compareRecords(stored, createRunRecord(parts({ outcome: outcome(0.75, 'b') })));
  assert.deepEqual(same.outcomeDiffs, []);
  assert.equal(same.match, true);
  const drifted = compareRecords(stored, createRunRecord(parts({ outcome: outcome(0.76, 'a') })));
  assert.deepEqual(drifted.outcomeDiffs.map((d) => d.path), ['/outcome/trials/1/metrics/accuracy', '/outcome/trials/1/record/metrics/accuracy']);
  assert.equal(drifted.match, false);
  assert.deepEqual(compareRecords(stored, createRunRecord(parts({ outcome: outcome(0.76, 'a') })), { atol: 0.02 }).outcomeDiffs, []);
  assert.deepEqual(compareRecords(plain, stored).outcomeDiffs.map((d) => d.path), ['/outcome']);
});
