import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitMnist } from './split-mnist.js';
import { permutedMnist } from './permuted-mnist.js';
import { rotatedMnist, rotationMap } from './rotated-mnist.js';
import { PixelMapDataset } from './pixel-map-dataset.js';

test('splitMnist: the class order comes from the seed, is recorded, and the experiences partition the digits', () => {
  const a = splitMnist({ seed: 1, train: 30, test: 10 });
  const b = splitMnist({ seed: 1, train: 30, test: 10 });
  const c = splitMnist({ seed: 2, train: 30, test: 10 });
  assert.deepEqual(a.classOrder, b.classOrder);
  assert.notDeepEqual(a.classOrder, c.classOrder);
  assert.deepEqual([...a.classOrder].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const all = a.experiences.flatMap((e) => e.classes);
  assert.deepEqual([...all].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'each digit in exactly one experience');
  assert.deepEqual(all, a.classOrder);
  for (const e of a.experiences) {
    assert.equal(e.train.size, 30);
    assert.ok([...e.train.labels].every((l) => e.classes.includes(l)), 'labels are the experience’s digits');
    assert.equal(e.taskLabel, 0);
  }
  const described = a.describe();
  assert.deepEqual(described.classOrder, a.classOrder);
  assert.equal(described.seed, 1);
  assert.equal((described.experiences as unknown[]).length, 5);
  assert.deepEqual(splitMnist({ seed: 9, fixedClassOrder: [9, 8, 7, 6, 5, 4, 3, 2, 1, 0], train: 5, test: 5 }).experiences[0].classes, [9, 8]);
  assert.deepEqual(splitMnist({ seed: 3, returnTaskId: true, train: 5, test: 5 }).experiences.map((e) => e.taskLabel), [0, 1, 2, 3, 4]);
  assert.throws(() => splitMnist({ seed: 1, nExperiences: 3 }), /nExperiences must divide 10/);
  assert.throws(() => splitMnist({ seed: 1, fixedClassOrder: [0, 1, 2] }), /fixedClassOrder must be the digits 0–9/);
  assert.throws(() => splitMnist({ seed: 1, train: 0 }), /train must be a positive integer/);
});

test('permutedMnist: permutations come from the seed and are recorded by fingerprint; rows are permuted pixels', () => {
  const a = permutedMnist({ nExperiences: 3, seed: 4, train: 20, test: 10 });
  const b = permutedMnist({ nExperiences: 3, seed: 4, train: 20, test: 10 });
  const c = permutedMnist({ nExperiences: 3, seed: 5, train: 20, test: 10 });
  assert.deepEqual(a.permutations, b.permutations);
  assert.notDeepEqual(a.permutations![1], c.permutations![1]);
  assert.notDeepEqual(a.permutations![0], a.permutations![1]);
  assert.deepEqual([...a.permutations![0]].sort((x, y) => x - y), Array.from({ length: 784 }, (_, i) => i), 'a permutation of the pixels');
  const fp = a.describe().permutationFingerprints as string[];
  assert.equal(fp.length, 3);
  assert.deepEqual(fp, b.describe().permutationFingerprints);
  assert.notDeepEqual(fp, c.describe().permutationFingerprints);
  assert.equal(a.experiences[1].train.fingerprint(), b.experiences[1].train.fingerprint());
  assert.notEqual(a.experiences[1].train.fingerprint(), a.experiences[2].train.fingerprint());
  const view = a.experiences[1].train as PixelMapDataset;
  const perm = a.permutations![1];
  const row = view.features.subarray(3 * 784, 4 * 784);
  assert.ok(perm.every((src, p) => row[p] === view.base.features[3 * 784 + src]), 'out[p] = in[perm[p]]');
  assert.deepEqual(permutedMnist({ nExperiences: 2, seed: 4, firstIdentity: true, train: 5, test: 5 }).permutations![0], Array.from({ length: 784 }, (_, i) => i));
});

test('rotatedMnist: angles from the seed in [−180, 180] or given; a 90° map turns the image', () => {
  const a = rotatedMnist({ nExperiences: 4, seed: 1, train: 10, test: 10 });
  assert.deepEqual(a.rotations, rotatedMnist({ nExperiences: 4, seed: 1, train: 10, test: 10 }).rotations);
  assert.notDeepEqual(a.rotations, rotatedMnist({ nExperiences: 4, seed: 2, train: 10, test: 10 }).rotations);
  assert.ok(a.rotations!.every((r) => Number.isInteger(r) && r >= -180 && r <= 180));
  assert.deepEqual(rotatedMnist({ nExperiences: 2, seed: 1, rotationsList: [0, 45], train: 5, test: 5 }).describe().rotations, [0, 45]);
  assert.throws(() => rotatedMnist({ nExperiences: 2, seed: 1, rotationsList: [0] }), /rotationsList must hold 2/);
  assert.deepEqual(Array.from(rotationMap(0)), Array.from({ length: 784 }, (_, i) => i), '0° is the identity');
  // Counter-clockwise by 90°: the top-right corner moves to the top-left.
  const map = rotationMap(90);
  assert.equal(map[0], 27, 'output (0, 0) reads input (0, 27)');
  assert.equal(map[27 * 28], 0, 'output (27, 0) reads input (0, 0)');
});
