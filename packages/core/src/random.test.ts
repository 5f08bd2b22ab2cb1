import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashString, Rng } from './random.js';

test('the same seed gives the same stream; different seeds differ', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const xs = Array.from({ length: 5 }, () => a.nextUint32());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.nextUint32()));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, () => c.nextUint32()));
  assert.equal(new Rng('run-1').seed, hashString('run-1'));
});

test('forks are independent of each other and of later draws from the parent', () => {
  const root = new Rng(7);
  const init = root.fork('init').uniform();
  root.uniform();
  assert.equal(root.fork('init').uniform(), init);
  assert.notEqual(root.fork('shuffle').uniform(), init);
});

test('uniform, normal and int have the right ranges and moments', () => {
  const rng = new Rng(1);
  const n = 20000;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    assert.ok(u >= 0 && u < 1);
    const z = rng.normal();
    sum += z;
    sq += z * z;
  }
  assert.ok(Math.abs(sum / n) < 0.03, `mean ${sum / n}`);
  assert.ok(Math.abs(sq / n - 1) < 0.05, `var ${sq / n}`);
  const counts = new Array(3).fill(0);
  for (let i = 0; i < 3000; i++) counts[rng.int(3)]++;
  for (const count of counts) assert.ok(count > 900 && count < 1100);
  assert.throws(() => rng.int(0), /positive integer/);
});

test('permutation is a permutation', () => {
  const p = new Rng(3).permutation(100);
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
  assert.notDeepEqual([...p], Array.from({ length: 100 }, (_, i) => i));
});

test('truncated normal stays within two standard deviations', () => {
  const out = new Rng(5).fillTruncatedNormal(new Float32Array(5000), 1, 0.5);
  for (const v of out) assert.ok(v >= 0 && v <= 2);
});

test('state() and Rng.fromState continue the stream exactly, spare normal included, through JSON', () => {
  const rng = new Rng(2024);
  for (let i = 0; i < 7; i++) rng.nextUint32();
  rng.normal(); // leaves the pair's second deviate waiting
  const saved = JSON.parse(JSON.stringify(rng.state()));
  assert.equal(typeof saved.spareNormal, 'number');
  const copy = Rng.fromState(saved);
  assert.equal(copy.seed, rng.seed);
  assert.deepEqual(Array.from({ length: 6 }, () => copy.normal()), Array.from({ length: 6 }, () => rng.normal()));
  assert.deepEqual(Array.from(copy.permutation(20)), Array.from(rng.permutation(20)));
  assert.equal(copy.fork('dropout').nextUint32(), new Rng(2024).fork('dropout').nextUint32(), 'forks follow the seed');
  assert.throws(() => Rng.fromState({ seed: 1, words: [0, 0, 0, 0] }), /all-zero/);
  assert.throws(() => Rng.fromState({ seed: 1, words: [1, 2, 3] as unknown as [number, number, number, number] }), /four unsigned 32-bit integers/);
  assert.throws(() => Rng.fromState({ seed: -1, words: [1, 2, 3, 4] }), /seed must be/);
});
