import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadMnist, loadMnistFiles, MNIST_MEAN, MNIST_STD } from './mnist.js';

function range(values: Float32Array): { min: number; max: number; mean: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, mean: sum / values.length };
}

test('MNIST train: 60000 examples of 784 unit pixels, first label 5, cached', (t) => {
  const start = performance.now();
  const train = loadMnist({ split: 'train' });
  t.diagnostic(`loaded MNIST train in ${(performance.now() - start).toFixed(0)} ms`);
  assert.equal(train.size, 60000);
  assert.equal(train.features.length, 60000 * 784);
  assert.deepEqual(train.featureShape, [784]);
  assert.ok(train.labels instanceof Int32Array);
  assert.deepEqual(train.labelShape, []);
  assert.equal(train.numClasses, 10);
  assert.equal(train.name, 'mnist-train');
  assert.equal(train.labels[0], 5);
  const { min, max } = range(train.features);
  assert.equal(min, 0);
  assert.equal(max, 1);
  const counts = new Array(10).fill(0);
  for (const label of train.labels) counts[label]++;
  assert.deepEqual(counts, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  const again = performance.now();
  assert.equal(loadMnist({ split: 'train' }), train, 'the same view is cached');
  assert.ok(performance.now() - again < 5);
  const image = loadMnist({ split: 'train', flatten: false });
  assert.deepEqual(image.featureShape, [28, 28, 1]);
  assert.equal(image.features, train.features, 'flat and image views share one buffer');
  assert.equal(loadMnist({ split: 'train', flatten: false }), image);
});

test('MNIST test: 10000 examples, first label 7; standard and none normalisations', () => {
  const unit = loadMnist({ split: 'test' });
  assert.equal(unit.size, 10000);
  assert.equal(unit.labels[0], 7);
  const standard = loadMnist({ split: 'test', normalize: 'standard' });
  const none = loadMnist({ split: 'test', normalize: 'none' });
  const s = range(standard.features);
  assert.ok(Math.abs(s.min - (0 - MNIST_MEAN) / MNIST_STD) < 1e-6, `min ${s.min}`);
  assert.ok(Math.abs(s.max - (1 - MNIST_MEAN) / MNIST_STD) < 1e-5, `max ${s.max}`);
  assert.ok(Math.abs(s.mean) < 0.05, `standardised mean ${s.mean}`);
  const n = range(none.features);
  assert.equal(n.min, 0);
  assert.equal(n.max, 255);
  for (let i = 0; i < 784 * 3; i++) {
    assert.ok(Number.isInteger(none.features[i]));
    assert.ok(Math.abs(unit.features[i] - none.features[i] / 255) < 1e-7);
    assert.ok(Math.abs(standard.features[i] - (none.features[i] / 255 - MNIST_MEAN) / MNIST_STD) < 1e-6);
  }
  assert.notEqual(unit.fingerprint(), standard.fingerprint());
});

test('digits filter, remapping and limit', () => {
  const full = loadMnist({ split: 'test' });
  const low = loadMnist({ split: 'test', digits: [0, 1, 2, 3, 4] });
  const expected: number[] = [];
  for (let i = 0; i < full.size; i++) if (full.labels[i] <= 4) expected.push(i);
  assert.equal(low.size, expected.length);
  assert.equal(low.size, 5139);
  assert.ok(low.labels.every((l) => l <= 4));
  assert.equal(low.numClasses, 10);
  // Rows are the same pixels, in file order.
  for (const k of [0, 1, 100, low.size - 1]) {
    const i = expected[k];
    assert.deepEqual(low.features.subarray(k * 784, (k + 1) * 784), full.features.subarray(i * 784, (i + 1) * 784));
  }
  const high = loadMnist({ split: 'test', digits: [5, 6, 7, 8, 9], remapLabels: true });
  assert.equal(high.size, full.size - low.size);
  assert.equal(high.numClasses, 5);
  assert.equal(high.labels[0], 2, 'the first test image, a 7, becomes class 2');
  assert.ok(high.labels.every((l) => l >= 0 && l < 5));
  const limited = loadMnist({ split: 'test', digits: [1], limit: 10 });
  assert.equal(limited.size, 10);
  assert.ok(limited.labels.every((l) => l === 1));
  assert.equal(loadMnist({ split: 'test', limit: 3 }).size, 3);
  assert.equal(loadMnist({ split: 'test', digits: [4, 3, 2, 1, 0] }), low, 'digit order does not matter without remapping');
  assert.equal(loadMnist({ split: 'test', digits: [9, 8, 7, 6, 5], remapLabels: true }).labels[0], 2, 'remapping follows the order given');
  assert.throws(() => loadMnist({ split: 'test', digits: [10] }), /digits must be integers 0–9, got 10/);
  assert.throws(() => loadMnist({ split: 'test', remapLabels: true }), /remapLabels needs digits/);
  assert.throws(() => loadMnist({ split: 'valid' as 'test' }), /split must be 'train' or 'test'/);
});

test('fingerprints are stable across calls and differ between views', () => {
  const full = loadMnist({ split: 'test' });
  const first = full.fingerprint();
  assert.match(first, /^[0-9a-f]{64}$/);
  assert.equal(full.fingerprint(), first);
  const low = loadMnist({ split: 'test', digits: [0, 1, 2, 3, 4] });
  const lowRemapped = loadMnist({ split: 'test', digits: [0, 1, 2, 3, 4], remapLabels: true });
  const image = loadMnist({ split: 'test', flatten: false });
  const prints = [first, low.fingerprint(), lowRemapped.fingerprint(), image.fingerprint(), loadMnist({ split: 'test', limit: 100 }).fingerprint()];
  assert.equal(new Set(prints).size, prints.length, 'every view has its own fingerprint');
  // Identical bytes still differ by view parameters (remapping 0–4 to 0–4 changes no byte).
  assert.deepEqual(low.labels, lowRemapped.labels);
});

test('malformed IDX files are rejected with clear errors', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-idx-'));
  const idx = (magic: number, dims: number[], body: number): Buffer => {
    const header = Buffer.alloc(4 + 4 * dims.length);
    header.writeUInt32BE(magic, 0);
    dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
    return Buffer.concat([header, Buffer.alloc(body)]);
  };
  const write = (name: string, bytes: Buffer): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  };
  const images = write('images', idx(2051, [2, 28, 28], 2 * 784));
  const labels = write('labels', idx(2049, [2], 2));
  assert.equal(loadMnistFiles(images, labels).size, 2);
  assert.throws(() => loadMnistFiles(images, write('l1', idx(2051, [2], 2))), /l1: magic number 2051, expected 2049/);
  assert.throws(() => loadMnistFiles(write('i1', idx(2049, [2, 28, 28], 2 * 784)), labels), /i1: magic number 2049, expected 2051/);
  assert.throws(() => loadMnistFiles(write('i2', idx(2051, [3, 28, 28], 2 * 784)), labels), /i2: header says 3 images of 28×28, so 2368 bytes, but the file has 1584/);
  assert.throws(() => loadMnistFiles(images, write('l2', idx(2049, [3], 2))), /l2: header says 3 labels, so 11 bytes, but the file has 10/);
  assert.throws(() => loadMnistFiles(images, write('l3', idx(2049, [1], 1))), /has 2 images but .* has 1 labels/);
  const badLabel = idx(2049, [2], 2);
  badLabel[9] = 11;
  assert.throws(() => loadMnistFiles(images, write('l4', badLabel)), /label 11 at index 1 is not a digit/);
  assert.throws(() => loadMnistFiles(write('i3', Buffer.alloc(7)), labels), /too short for an IDX image header/);
  fs.rmSync(dir, { recursive: true });
});
