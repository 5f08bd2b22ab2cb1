import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testOnBackends } from '../testing/backends.js';
import {
  RUN_RECORD_MIME,
  canonicalJson,
  canonicalNumber,
  contentHash,
  createRunRecord,
  curvesFromHistory,
  fingerprint,
  validateRunRecord,
  type RunRecord,
  type RunRecordParts,
} from './record.js';

const DATA_FP = fingerprint(new Uint8Array([1, 2, 3, 4]));

function parts(overrides: Partial<RunRecordParts> = {}): RunRecordParts {
  return {
    name: 'mlp on synthetic',
    config: { model: { hidden: [100], activation: 'relu' }, optimizer: { kind: 'adam', lr: 0.001 }, batchSize: 64 },
    seed: 42,
    backend: { name: 'wasm', reason: 'default', simd: true, threads: 1 },
    data: [{ name: 'synthetic/train', fingerprint: DATA_FP, size: 256 }],
    metrics: { accuracy: 0.875, loss: Math.fround(0.3141592) },
    curves: curvesFromHistory({ step: [1, 2, 3], loss: [1.5, 1.25, 1.0625], lr: [0.001, 0.001, 0.001], metrics: { accuracy: [{ step: 3, value: 0.875 }] } }),
    timings: { totalMs: 123.4, msPerStep: 5.1, examplesPerSecond: 11000 },
    ...overrides,
  };
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** Rebuilds an object with its keys (recursively) in reverse order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).reverse().map((k) => [k, reverseKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

test('createRunRecord fills the environment and produces a valid record', () => {
  const record = createRunRecord(parts());
  assert.equal(record.schema, 'hyperlab.run/v1');
  assert.equal(RUN_RECORD_MIME, 'application/vnd.hyperlab.run.v1+json');
  assert.match(record.id, /^[0-9a-f-]{36}$/);
  assert.ok(!Number.isNaN(Date.parse(record.createdAt)));
  assert.equal(record.environment.node, process.version);
  assert.equal(record.environment.packages['@hyperlab/core'], '0.1.0');
  assert.equal(record.environment.packages['@tensorflow/tfjs-core'], '4.22.0');
  assert.equal(record.environment.packages['@tensorflow/tfjs-backend-wasm'], '4.22.0');
  assert.equal(record.environment.packages['@tensorflow/tfjs-backend-cpu'], '4.22.0');
  assert.deepEqual(Object.keys(record.curves), ['loss', 'lr', 'accuracy']);
  assert.match(record.contentHash, /^[0-9a-f]{64}$/);
  const result = validateRunRecord(record);
  assert.ok(result.valid, JSON.stringify(result.errors));
  // Plain JSON: survives a round trip.
  assert.ok(validateRunRecord(JSON.parse(JSON.stringify(record))).valid);
});

test('non-finite metrics and curve values are encoded as strings and still hash', () => {
  const record = createRunRecord(parts({ metrics: { loss: NaN, big: Infinity }, curves: { loss: { step: [1, 2], value: new Float32Array([1, NaN]) } }, timings: { totalMs: 1, msPerStep: NaN } }));
  assert.deepEqual(record.metrics, { loss: 'NaN', big: 'Infinity' });
  assert.deepEqual(record.curves.loss.value, [1, 'NaN']);
  assert.equal(record.timings.msPerStep, undefined, 'non-finite timings are dropped');
  assert.ok(validateRunRecord(record).valid);
});

test('validateRunRecord rejects broken records with errors naming the JSON path', () => {
  const good = createRunRecord(parts());
  const cases: Array<[string, (r: Record<string, any>) => void, string, RegExp]> = [
    ['missing backend name', (r) => delete r.backend.name, '/backend/name', /required/],
    ['bad fingerprint', (r) => (r.data[0].fingerprint = 'xyz'), '/data/0/fingerprint', /pattern/],
    ['metric not a number', (r) => (r.metrics.accuracy = 'high'), '/metrics/accuracy', /one of/],
    ['unknown top-level field', (r) => (r.extra = 1), '/extra', /not allowed/],
    ['negative seed', (r) => (r.seed = -1), '/seed', /one of/],
    ['wrong schema tag', (r) => (r.schema = 'hyperlab.run/v2'), '/schema', /constant/],
    ['curve of unequal lengths', (r) => r.curves.loss.value.pop(), '/curves/loss', /differ in length/],
    ['edited metric (hash no longer matches)', (r) => (r.metrics.accuracy = 0.99), '/contentHash', /does not match/],
    ['missing timings', (r) => delete r.timings, '/timings', /required/],
    ['non-integer step', (r) => (r.curves.lr.step[1] = 1.5), '/curves/lr/step/1', /integer/],
  ];
  for (const [what, breakIt, path, message] of cases) {
    const broken = clone(good) as Record<string, any>;
    breakIt(broken);
    const result = validateRunRecord(broken);
    assert.equal(result.valid, false, what);
    const hit = result.errors.find((e) => e.path === path);
    assert.ok(hit, `${what}: expected an error at ${path}, got ${JSON.stringify(result.errors)}`);
    assert.match(hit.message, message, what);
  }
  assert.equal(validateRunRecord('nope').valid, false);
  assert.ok(validateRunRecord({ ...clone(good), metrics: { accuracy: 0.5 } }, { checkHash: false }).valid);
  assert.throws(() => createRunRecord(parts({ data: [{ name: 'x', fingerprint: 'bad', size: 1 }] })), /\/data\/0\/fingerprint/);
});

test('content hash: stable across key order, ignores timings/ids/environment, sees results', () => {
  const a = createRunRecord(parts());
  const b = createRunRecord({
    ...parts(),
    id: 'another-id',
    createdAt: new Date(0),
    name: 'renamed',
    config: reverseKeys(parts().config) as Record<string, unknown>,
    backend: { name: 'wasm', reason: 'forced by the user', threads: 4 },
    data: [{ name: 'renamed', fingerprint: DATA_FP, size: 1 }],
    timings: { totalMs: 99999 },
    environment: { node: 'v99.0.0', packages: { '@tensorflow/tfjs-core': '9.9.9' } },
  });
  assert.equal(a.contentHash, b.contentHash);
  assert.equal(contentHash(reverseKeys(a) as RunRecord), a.contentHash);
  // The same float32 value, carried as float32 or widened double, hashes the same.
  assert.equal(createRunRecord(parts({ metrics: { accuracy: 0.875, loss: 0.3141592 } })).contentHash, a.contentHash);
  const changed = (p: Partial<RunRecordParts>): string => createRunRecord(parts(p)).contentHash;
  assert.notEqual(changed({ metrics: { accuracy: 0.876, loss: Math.fround(0.3141592) } }), a.contentHash);
  assert.notEqual(changed({ seed: 43 }), a.contentHash);
  assert.notEqual(changed({ backend: { name: 'cpu', reason: 'default' } }), a.contentHash);
  assert.notEqual(changed({ config: { ...parts().config, batchSize: 32 } }), a.contentHash);
  assert.notEqual(changed({ data: [{ name: 'synthetic/train', fingerprint: fingerprint('other'), size: 256 }] }), a.contentHash);
  assert.notEqual(changed({ curves: { loss: { step: [1], value: [1.5] } } }), a.contentHash);
});

test('canonical JSON: sorted keys, no whitespace, float32-canonical numbers', () => {
  assert.equal(canonicalJson({ b: [1, 'x', null, true], a: { d: 0.5, c: undefined } }), '{"a":{"d":0.5},"b":[1,"x",null,true]}');
  assert.equal(canonicalNumber(0.1), '0.1');
  assert.equal(canonicalNumber(Math.fround(0.1)), '0.1');
  assert.equal(canonicalNumber(Math.fround(1 / 3)), canonicalNumber(1 / 3));
  assert.equal(Math.fround(Number(canonicalNumber(Math.fround(1 / 3)))), Math.fround(1 / 3));
  assert.equal(canonicalNumber(4294967295), '4294967295', 'integers stay exact');
  assert.equal(canonicalNumber(-0), '0');
  assert.equal(canonicalNumber(1e-30), canonicalNumber(Math.fround(1e-30)));
  assert.equal(canonicalNumber(1e300), '1e+300', 'beyond the float32 range: as JavaScript writes it');
  assert.notEqual(canonicalNumber(1.0000001), canonicalNumber(1.0000002));
  assert.throws(() => canonicalNumber(NaN), /not finite/);
  assert.equal(fingerprint('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('createRunRecord defaults the backend to the one running now', async () => {
  const { setBackend } = await import('../backend/backend.js');
  const info = await setBackend('cpu');
  const record = createRunRecord({ config: {}, seed: 1, timings: { totalMs: 1 } });
  assert.equal(record.backend.name, 'cpu');
  assert.equal(record.backend.reason, info.reason);
});

testOnBackends('the record states whether native steps are compiled (backend.steps), unhashed', (backend) => {
  const record = createRunRecord({ config: {}, seed: 1, timings: { totalMs: 1 } });
  if (backend !== 'tensorflow') {
    assert.equal(record.backend.steps, undefined, 'only the native backend compiles steps');
    return;
  }
  assert.equal(record.backend.steps, 'compiled');
  const saved = process.env.HYPERLAB_COMPILE;
  process.env.HYPERLAB_COMPILE = '0';
  try {
    const eager = createRunRecord({ config: {}, seed: 1, timings: { totalMs: 1 } });
    assert.equal(eager.backend.steps, 'eager');
    assert.equal(eager.contentHash, record.contentHash);
  } finally {
    if (saved === undefined) delete process.env.HYPERLAB_COMPILE;
    else process.env.HYPERLAB_COMPILE = saved;
  }
});
