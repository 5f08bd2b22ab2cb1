import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../random.js';
import { useBackend } from '../../testing/backends.js';
import { smallModel, strategyContext, tinySplitMnist } from '../test-fixtures.js';
import { ClassBalancedBuffer, GreedyClassBalancedBuffer, ReservoirBuffer, type ReplayBuffer } from './replay-buffer.js';

const bench = tinySplitMnist(40, 5);
let rows: ReturnType<typeof strategyContext>['rows'];

test.before(async () => {
  await useBackend('cpu');
  const { model, params } = smallModel(bench, 'class');
  rows = strategyContext(bench, 'class', model, params).rows;
});

function counts(buffer: ReplayBuffer): Map<number, number> {
  const out = new Map<number, number>();
  for (const key of buffer.classes()) out.set(key, (out.get(key) ?? 0) + 1);
  return out;
}

test('class-balanced buffer: stays at memSize with the seen classes within one slot of each other', () => {
  const buffer = new ClassBalancedBuffer(rows, 30);
  for (let e = 0; e < 5; e++) {
    buffer.update(e, new Rng(e));
    const c = counts(buffer);
    assert.equal(buffer.pool().indices.length, 30, `size after experience ${e}`);
    assert.equal(c.size, 2 * (e + 1), 'every seen class is kept');
    assert.ok(Math.max(...c.values()) - Math.min(...c.values()) <= 1, `balanced: ${[...c.values()]}`);
  }
  const pool = buffer.pool();
  assert.equal(new Set(Array.from(pool.indices, (i, k) => `${pool.experiences[k]}:${i}`)).size, 30, 'no duplicates');
});

test('GDumb greedy sampler: class-balanced at memSize', () => {
  const buffer = new GreedyClassBalancedBuffer(rows, 25);
  for (let e = 0; e < 5; e++) {
    buffer.update(e, new Rng(100 + e));
    const c = counts(buffer);
    assert.equal(buffer.pool().indices.length, 25);
    if (e > 0) assert.ok(Math.max(...c.values()) - Math.min(...c.values()) <= 1, `balanced after ${e}: ${[...c.entries()]}`);
  }
});

test('reservoir: after n examples each is kept with probability memSize/n (fixed seeds, 400 trials)', () => {
  const memSize = 20;
  const trials = 400;
  const n = 200;
  const kept = new Float64Array(5);
  for (let t = 0; t < trials; t++) {
    const buffer = new ReservoirBuffer(rows, memSize);
    for (let e = 0; e < 5; e++) buffer.update(e, new Rng(`trial ${t}`).fork(`e${e}`));
    assert.equal(buffer.seen, n);
    assert.equal(buffer.pool().indices.length, memSize);
    for (const e of buffer.pool().experiences) kept[e]++;
  }
  // Per experience (40 examples): expected 40·memSize/n per trial; its frequency has sd ≈ 0.0024.
  for (let e = 0; e < 5; e++) {
    const p = kept[e] / (trials * 40);
    assert.ok(Math.abs(p - memSize / n) < 0.012, `experience ${e}: kept with p = ${p.toFixed(4)}, expected ${memSize / n}`);
  }
});
