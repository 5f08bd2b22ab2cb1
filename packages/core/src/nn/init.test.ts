import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends, useBackend } from '../testing/backends.js';
import { Rng } from '../random.js';
import { calculateGain, computeFans, initializers } from './init.js';

function stats(t: tf.Tensor): { mean: number; std: number; maxAbs: number } {
  const v = t.dataSync();
  let sum = 0;
  let sq = 0;
  let maxAbs = 0;
  for (const x of v) {
    sum += x;
    sq += x * x;
    maxAbs = Math.max(maxAbs, Math.abs(x));
  }
  const mean = sum / v.length;
  return { mean, std: Math.sqrt(sq / v.length - mean * mean), maxAbs };
}

test('computeFans and calculateGain follow PyTorch', () => {
  assert.deepEqual(computeFans([10, 20]), { fanIn: 20, fanOut: 10 });
  assert.deepEqual(computeFans([8, 3, 5, 5]), { fanIn: 75, fanOut: 200 });
  assert.throws(() => computeFans([7]), /rank >= 2/);
  assert.equal(calculateGain('relu'), Math.SQRT2);
  assert.equal(calculateGain('tanh'), 5 / 3);
  assert.equal(calculateGain('linear'), 1);
  assert.ok(Math.abs(calculateGain('leaky_relu', Math.sqrt(5)) - Math.sqrt(1 / 3)) < 1e-12);
});

testOnBackends('constant initialisers and shapes', () => {
  const rng = new Rng(0);
  const before = tf.memory().numTensors;
  const z = initializers.zeros()(rng, [2, 3]);
  const o = initializers.ones()(rng, [4]);
  const c = initializers.constant(0.5)(rng, [2, 2]);
  assert.deepEqual(z.shape, [2, 3]);
  assert.deepEqual([...z.dataSync()], [0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...o.dataSync()], [1, 1, 1, 1]);
  assert.deepEqual([...c.dataSync()], [0.5, 0.5, 0.5, 0.5]);
  assert.equal(z.dtype, 'float32');
  tf.dispose([z, o, c]);
  assert.equal(tf.memory().numTensors, before);
});

testOnBackends('random initialisers have the intended statistics', () => {
  const rng = new Rng(7);
  const shape = [200, 300]; // fanIn 300, fanOut 200
  const check = (name: string, t: tf.Tensor, std: number, bound?: number): void => {
    const s = stats(t);
    assert.ok(Math.abs(s.mean) < 0.02 * std + 1e-3, `${name}: mean ${s.mean}`);
    assert.ok(Math.abs(s.std / std - 1) < 0.03, `${name}: std ${s.std}, expected ${std}`);
    if (bound !== undefined) {
      assert.ok(s.maxAbs <= bound, `${name}: max |x| ${s.maxAbs} exceeds ${bound}`);
      assert.ok(s.maxAbs > 0.99 * bound, `${name}: max |x| ${s.maxAbs} should approach ${bound}`);
    }
    t.dispose();
  };
  check('normal', initializers.normal(0.3)(rng, shape), 0.3);
  check('uniform', initializers.uniform(0.2)(rng, shape), 0.2 / Math.sqrt(3), 0.2);
  const glorotA = Math.sqrt(6 / 500);
  check('glorotUniform', initializers.glorotUniform()(rng, shape), glorotA / Math.sqrt(3), glorotA);
  check('xavierNormal', initializers.xavierNormal()(rng, shape), Math.sqrt(2 / 500));
  const heStd = Math.SQRT2 / Math.sqrt(300);
  check('kaimingUniform', initializers.kaimingUniform()(rng, shape), heStd, Math.sqrt(3) * heStd);
  check('heNormal', initializers.heNormal()(rng, shape), heStd);
  check('kaimingNormal fan_out', initializers.kaimingNormal({ mode: 'fan_out' })(rng, shape), Math.SQRT2 / Math.sqrt(200));
  const torchBound = 1 / Math.sqrt(300);
  check('torchDefault', initializers.torchDefault()(rng, shape), torchBound / Math.sqrt(3), torchBound);
  check('torchDefaultBias', initializers.torchDefaultBias(300)(rng, [20000]), torchBound / Math.sqrt(3), torchBound);

  const u = initializers.uniform(2, 5)(rng, [5000]);
  const us = stats(u);
  assert.ok(Math.abs(us.mean - 3.5) < 0.05);
  assert.ok(u.dataSync().every((x) => x >= 2 && x < 5));
  u.dispose();

  const t = initializers.truncatedNormal(0.5, 1)(rng, [20000]);
  assert.ok(t.dataSync().every((x) => Math.abs(x - 1) <= 1 + 1e-6), 'truncated at 2 std');
  const ts = stats(t);
  // A normal truncated at ±2σ has std ≈ 0.8796σ.
  assert.ok(Math.abs(ts.std / (0.8796 * 0.5) - 1) < 0.03, `truncated std ${ts.std}`);
  t.dispose();
});

test('the same seed gives bit-identical values on wasm and cpu; different seeds differ', async () => {
  const draw = (seed: number): Float32Array[] => {
    const rng = new Rng(seed);
    const ts = [initializers.normal()(rng, [64]), initializers.torchDefault()(rng, [8, 8]), initializers.truncatedNormal()(rng, [32])];
    const out = ts.map((x) => x.dataSync().slice() as Float32Array);
    tf.dispose(ts);
    return out;
  };
  await useBackend('wasm');
  const a = draw(3);
  await useBackend('cpu');
  const b = draw(3);
  assert.deepEqual(a, b);
  assert.notDeepEqual(draw(4), b);
});
