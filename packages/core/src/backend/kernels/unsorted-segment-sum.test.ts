import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../random.js';
import { useBackend } from '../../testing/backends.js';
import { registerBackends } from '../backend.js';
import { assertNoLeaks, assertSameOnBackends, computeOn, randomInts, randomValues } from './cross-backend.js';

registerBackends();
const rng = new Rng('unsorted-segment-sum');

test('UnsortedSegmentSum is HyperLab-provided on wasm and native on cpu', () => {
  assert.ok(tf.getKernel(tf.UnsortedSegmentSum, 'wasm'));
  assert.ok(tf.getKernel(tf.UnsortedSegmentSum, 'cpu'));
});

const cases: Array<{ x: number[]; segments: number }> = [
  { x: [10], segments: 4 },
  { x: [50, 8], segments: 13 },
  { x: [20, 3, 4], segments: 7 },
  { x: [1, 1], segments: 1 },
  { x: [0, 3], segments: 2 },
];

for (const { x: shape, segments } of cases) {
  test(`UnsortedSegmentSum wasm = cpu: x [${shape}], ${segments} segments`, async () => {
    const values = randomValues(rng, shape);
    // Include ids outside [0, segments): both backends drop them.
    const ids = randomInts(rng, shape[0], -1, segments + 1);
    await assertSameOnBackends('unsortedSegmentSum', () =>
      tf.unsortedSegmentSum(tf.tensor(values, shape), tf.tensor1d(ids, 'int32'), segments),
    );
  });
}

test('UnsortedSegmentSum on int32: same values as cpu, and keeps int32 (cpu returns float32)', async () => {
  const values = randomInts(rng, 30 * 5, -50, 50);
  const ids = randomInts(rng, 30, 0, 12);
  const run = (): tf.Tensor => tf.unsortedSegmentSum(tf.tensor2d(values, [30, 5], 'int32'), tf.tensor1d(ids, 'int32'), 12);
  const [cpu] = await computeOn('cpu', run);
  const [wasm] = await computeOn('wasm', run);
  assert.equal(wasm.dtype, 'int32');
  assert.deepEqual(Array.from(wasm.values), Array.from(cpu.values));
});

test('UnsortedSegmentSum on wasm: ids of rank 2 follow TensorFlow (reduce all id axes)', async () => {
  await useBackend('wasm');
  const x = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 2]);
  const ids = tf.tensor2d([0, 2, 0, 1, 2, -1], [2, 3], 'int32');
  const out = tf.unsortedSegmentSum(x, ids as unknown as tf.Tensor1D, 3);
  assert.deepEqual(out.shape, [3, 2]);
  assert.deepEqual(Array.from(out.dataSync()), [1 + 5, 2 + 6, 7, 8, 3 + 9, 4 + 10]);
  tf.dispose([x, ids, out]);
});

test('gradient through tf.gather (embedding lookup) on wasm equals cpu', async () => {
  const table = randomValues(rng, [100, 16]);
  const indices = randomInts(rng, 8 * 12, 0, 100);
  const weights = randomValues(rng, [8, 12, 16]);
  await assertSameOnBackends('d/dE sum(gather(E, idx) * W)', () => {
    const w = tf.tensor3d(weights, [8, 12, 16]);
    const loss = (e: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.gather(e, tf.tensor2d(indices, [8, 12], 'int32')), w));
    return tf.grad(loss)(tf.tensor2d(table, [100, 16]));
  });
});

test('gradient through tf.gather on an inner axis and with batchDims = 1, wasm = cpu', async () => {
  const x = randomValues(rng, [4, 6, 5]);
  const inner = randomInts(rng, 7, 0, 6);
  const batched = randomInts(rng, 4 * 3, 0, 6);
  await assertSameOnBackends('gather axis 1', () =>
    tf.grad((p: tf.Tensor) => tf.sum(tf.square(tf.gather(p, tf.tensor1d(inner, 'int32'), 1))))(tf.tensor3d(x, [4, 6, 5])),
  );
  // Linear in the gathered values: the WASM forward gather with batchDims is wrong (below).
  const w = randomValues(rng, [4, 3, 5]);
  await assertSameOnBackends('gather batchDims 1', () =>
    tf.grad((p: tf.Tensor) => tf.sum(tf.mul(tf.gather(p, tf.tensor2d(batched, [4, 3], 'int32'), 1, 1), tf.tensor3d(w, [4, 3, 5]))))(
      tf.tensor3d(x, [4, 6, 5]),
    ),
  );
});

test('forward tf.gather with batchDims on wasm equals cpu (HyperLab wraps the buggy native kernel)', async () => {
  const [result] = await assertSameOnBackends('gather batchDims 1 forward', () =>
    tf.gather(tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 2]), tf.tensor2d([0, 2, 2, 1, 1, 0], [2, 3], 'int32'), 1, 1),
  );
  assert.deepEqual(Array.from(result.values), [1, 2, 5, 6, 5, 6, 9, 10, 9, 10, 7, 8]);
  const x = randomValues(rng, [3, 2, 5, 4]);
  const ids = randomInts(rng, 3 * 6, 0, 5);
  await assertSameOnBackends('gather batchDims 1 axis 2', () => tf.gather(tf.tensor4d(x, [3, 2, 5, 4]), tf.tensor2d(ids, [3, 6], 'int32'), 2, 1));
  await assertSameOnBackends('gather batchDims 0 still native', () => tf.gather(tf.tensor4d(x, [3, 2, 5, 4]), tf.tensor1d(ids.slice(0, 4), 'int32'), 2));
});

test('UnsortedSegmentSum on wasm leaks no tensors or buffers', async () => {
  const values = randomValues(rng, [40, 8]);
  const ids = randomInts(rng, 40, 0, 10);
  await assertNoLeaks('wasm', () => tf.unsortedSegmentSum(tf.tensor2d(values, [40, 8]), tf.tensor1d(ids, 'int32'), 10));
  await assertNoLeaks('wasm', () =>
    tf.grad((e: tf.Tensor) => tf.sum(tf.gather(e, tf.tensor1d(ids, 'int32'))))(tf.tensor2d(values, [40, 8])),
  );
});
