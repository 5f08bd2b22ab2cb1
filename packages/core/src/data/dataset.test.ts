import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends, useBackend } from '../testing/backends.js';
import { Rng } from '../random.js';
import { batches, numBatches, split, subset, TensorDataset } from './dataset.js';
import { sortedKeysJson, fingerprintDataset } from './fingerprint.js';

/** 10 examples of 3 features: example i is [i, i + 0.25, i + 0.5], label i % 4. */
function toy(n = 10, name = 'toy'): TensorDataset {
  const features = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) features.set([i, i + 0.25, i + 0.5], i * 3);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 4);
  return new TensorDataset({ features, featureShape: [3], labels, labelShape: [], name, numClasses: 4 });
}

function epochIndices(dataset: TensorDataset, batchSize: number, seed?: number, dropLast = false): number[][] {
  const out: number[][] = [];
  const iterator = batches(dataset, { batchSize, shuffle: seed !== undefined, rng: seed === undefined ? undefined : new Rng(seed), dropLast });
  for (const { x, y, indices } of iterator) {
    out.push(Array.from(indices));
    tf.dispose([x, y]);
  }
  return out;
}

test('TensorDataset validates sizes and shapes', () => {
  assert.throws(() => new TensorDataset({ features: new Float32Array(7), featureShape: [3], labels: new Int32Array(2), name: 'bad' }), /7 feature values is not a multiple/);
  assert.throws(() => new TensorDataset({ features: new Float32Array(6), featureShape: [3], labels: new Int32Array(3), name: 'bad' }), /3 label values for 2 examples/);
  assert.throws(() => new TensorDataset({ features: new Float32Array(6), featureShape: [0], labels: new Int32Array(2), name: 'bad' }), /positive integer sizes/);
  assert.equal(toy().size, 10);
});

testOnBackends('batches cover every index exactly once per epoch, with the right rows', () => {
  const dataset = toy(10);
  const before = tf.memory().numTensors;
  const iterator = batches(dataset, { batchSize: 4, shuffle: true, rng: new Rng(5) });
  assert.equal(iterator.numBatches, 3);
  const seen: number[] = [];
  const sizes: number[] = [];
  for (const { x, y, indices } of iterator) {
    assert.deepEqual(x.shape, [indices.length, 3]);
    assert.equal(x.dtype, 'float32');
    assert.deepEqual(y.shape, [indices.length]);
    assert.equal(y.dtype, 'int32');
    const xs = x.dataSync();
    const ys = y.dataSync();
    indices.forEach((i, k) => {
      assert.deepEqual(Array.from(xs.subarray(k * 3, k * 3 + 3)), [i, i + 0.25, i + 0.5]);
      assert.equal(ys[k], i % 4);
    });
    seen.push(...indices);
    sizes.push(indices.length);
    tf.dispose([x, y]);
  }
  assert.deepEqual(sizes, [4, 4, 2]);
  assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i));
  assert.equal(tf.memory().numTensors, before, 'no tensors leak when the caller disposes');
});

test('batches are lazy, deterministic for a seed and different for another; unshuffled is in order', async () => {
  await useBackend('cpu');
  const dataset = toy(103);
  const before = tf.memory().numTensors;
  const iterator = batches(dataset, { batchSize: 10, shuffle: true, rng: new Rng(1) });
  assert.equal(tf.memory().numTensors, before, 'no tensor exists before the first batch is taken');
  const first = iterator.next().value!;
  assert.equal(tf.memory().numTensors, before + 2);
  tf.dispose([first.x, first.y]);

  const a = epochIndices(dataset, 10, 42);
  assert.deepEqual(epochIndices(dataset, 10, 42), a);
  assert.notDeepEqual(epochIndices(dataset, 10, 43), a);
  assert.equal(a.length, 11);
  assert.equal(a.flat().length, 103);
  assert.equal(new Set(a.flat()).size, 103);
  // One rng drives consecutive epochs: each epoch is a new permutation.
  const rng = new Rng(42);
  const epoch1 = [...batches(dataset, { batchSize: 103, shuffle: true, rng })].map((b) => (tf.dispose([b.x, b.y]), Array.from(b.indices)));
  const epoch2 = [...batches(dataset, { batchSize: 103, shuffle: true, rng })].map((b) => (tf.dispose([b.x, b.y]), Array.from(b.indices)));
  assert.deepEqual(epoch1, [a.flat()]);
  assert.notDeepEqual(epoch2, epoch1);

  const dropped = epochIndices(dataset, 10, 42, true);
  assert.equal(dropped.length, 10);
  assert.ok(dropped.every((b) => b.length === 10));
  assert.deepEqual(epochIndices(toy(5), 2), [[0, 1], [2, 3], [4]]);
  assert.equal(numBatches(103, 10), 11);
  assert.equal(numBatches(103, 10, true), 10);
  assert.throws(() => batches(dataset, { batchSize: 4, shuffle: true }), /shuffle needs an rng/);
  assert.throws(() => batches(dataset, { batchSize: 0 }), /batchSize must be a positive integer/);
});

test('float32 labels with a label shape batch as float32 [batch, ...labelShape]', async () => {
  await useBackend('cpu');
  const dataset = new TensorDataset({ features: new Float32Array([1, 2, 3]), featureShape: [1], labels: new Float32Array([0.5, 1.5, 2.5]), labelShape: [1], name: 'reg' });
  const [batch] = [...batches(dataset, { batchSize: 3 })];
  assert.equal(batch.y.dtype, 'float32');
  assert.deepEqual(batch.y.shape, [3, 1]);
  assert.deepEqual(Array.from(batch.y.dataSync()), [0.5, 1.5, 2.5]);
  tf.dispose([batch.x, batch.y]);
});

test('subset copies rows; split partitions deterministically', () => {
  const dataset = toy(10);
  const picked = subset(dataset, [7, 2, 7]);
  assert.equal(picked.size, 3);
  assert.deepEqual(Array.from(picked.features), [7, 7.25, 7.5, 2, 2.25, 2.5, 7, 7.25, 7.5]);
  assert.deepEqual(Array.from(picked.labels), [3, 2, 3]);
  assert.equal(picked.numClasses, 4);
  assert.throws(() => subset(dataset, [10]), /index 10 out of range/);
  assert.deepEqual(Array.from(dataset.subset([1]).labels), [1]);

  const [train, valid] = split(dataset, 0.7, new Rng(9));
  assert.equal(train.size, 7);
  assert.equal(valid.size, 3);
  const rows = (d: TensorDataset): number[] => Array.from({ length: d.size }, (_, k) => d.features[k * 3]);
  assert.deepEqual([...rows(train), ...rows(valid)].sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i));
  const [train2] = dataset.split(0.7, new Rng(9));
  assert.deepEqual(rows(train2), rows(train));
  assert.equal(train2.fingerprint(), train.fingerprint());
  assert.notDeepEqual(rows(split(dataset, 0.7, new Rng(10))[0]), rows(train));
  assert.throws(() => split(dataset, 1.5, new Rng(1)), /fraction must be in \[0, 1\]/);
});

test('fingerprints: stable, cached, and sensitive to bytes, shapes, name and params', () => {
  const a = toy();
  const fp = a.fingerprint();
  assert.match(fp, /^[0-9a-f]{64}$/);
  assert.equal(a.fingerprint(), fp);
  assert.equal(toy().fingerprint(), fp, 'equal data and view give equal fingerprints');
  assert.equal(fingerprintDataset(a), fp);
  const changed = toy();
  changed.features[5] += 1;
  assert.notEqual(changed.fingerprint(), fp);
  const relabelled = toy();
  relabelled.labels[0] = 3;
  assert.notEqual(relabelled.fingerprint(), fp);
  assert.notEqual(toy(10, 'other').fingerprint(), fp);
  assert.notEqual(a.reshape([3, 1]).fingerprint(), fp);
  const withParams = new TensorDataset({ features: a.features, featureShape: [3], labels: a.labels, name: 'toy', numClasses: 4, params: { digits: [0, 1] } });
  assert.notEqual(withParams.fingerprint(), fp);
  assert.equal(sortedKeysJson({ b: 1, a: { d: [1, 2], c: 'x' } }), '{"a":{"c":"x","d":[1,2]},"b":1}');
});
