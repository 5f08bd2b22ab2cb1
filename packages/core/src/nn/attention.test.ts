import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { disposeParams, flatten } from '../params/params.js';
import { INFERENCE } from './module.js';
import { ATTENTION_PROJECTIONS, keepMaskToAdditive, multiHeadAttention, scaledDotProductAttention, setDefaultAttention, type AttentionFunction } from './attention.js';
import { initializers } from './init.js';
import { checkModuleGradients } from './gradcheck.js';

const GRAD_TOL = 2e-2;
const randn = (seed: number, shape: number[]): tf.Tensor => initializers.normal()(new Rng(seed), shape);

/** softmax(q·kᵀ/√d + mask)·v for [B, Sq, d] arrays, in float64. */
function referenceAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask?: number[][]): number[] {
  const [B, Sq, d] = q.shape;
  const [, Sk, dv] = v.shape;
  const [qv, kv, vv] = [q, k, v].map((t) => t.dataSync());
  const out: number[] = [];
  for (let b = 0; b < B; b++)
    for (let i = 0; i < Sq; i++) {
      const scores: number[] = [];
      for (let j = 0; j < Sk; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += qv[(b * Sq + i) * d + c] * kv[(b * Sk + j) * d + c];
        scores.push(s / Math.sqrt(d) + (mask ? mask[b][j] : 0));
      }
      const max = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - max));
      const z = e.reduce((a, c) => a + c, 0);
      for (let c = 0; c < dv; c++) out.push(e.reduce((acc, w, j) => acc + (w / z) * vv[(b * Sk + j) * dv + c], 0));
    }
  return out;
}

testOnBackends('scaledDotProductAttention matches a float64 reference, with and without a mask', () => {
  const before = tf.memory().numTensors;
  const [q, k, v] = [randn(1, [2, 3, 4]), randn(2, [2, 5, 4]), randn(3, [2, 5, 6])];
  const y = scaledDotProductAttention(q, k, v);
  assert.deepEqual(y.shape, [2, 3, 6]);
  const ref = referenceAttention(q, k, v);
  assert.ok(maxAbsDiff(y, ref) < 1e-5);
  const maskRows = [[0, 0, -1e9, 0, -1e9], [0, -1e9, 0, 0, 0]];
  const mask = tf.tidy(() => tf.reshape(tf.tensor2d(maskRows), [2, 1, 5]));
  const ym = scaledDotProductAttention(q, k, v, mask);
  assert.ok(maxAbsDiff(ym, referenceAttention(q, k, v, maskRows)) < 1e-5);
  tf.dispose([q, k, v, y, mask, ym]);
  assert.equal(tf.memory().numTensors, before);
});

testOnBackends('multiHeadAttention: PEFT child names, shapes, PyTorch init, determinism', () => {
  const before = tf.memory().numTensors;
  const m = multiHeadAttention({ embedDim: 16, numHeads: 4 });
  assert.deepEqual(Object.keys(m.children), [...ATTENTION_PROJECTIONS]);
  assert.equal(m.headDim, 4);
  const params = m.init(new Rng(1));
  const again = m.init(new Rng(1));
  assert.deepEqual([...flatten(params).keys()], ATTENTION_PROJECTIONS.flatMap((p) => [`${p}.weight`, `${p}.bias`]));
  for (const [path, value] of flatten(params)) {
    const data = value.dataSync();
    assert.deepEqual(flatten(again).get(path)!.dataSync(), data, path);
    const bound = path.startsWith('out_proj') ? 1 / Math.sqrt(16) : Math.sqrt(6 / 64);
    if (path.endsWith('bias')) assert.ok(data.every((e) => e === 0), `${path} is zero`);
    else assert.ok(data.every((e) => Math.abs(e) <= bound) && data.some((e) => Math.abs(e) > 0.8 * bound), `${path} within ±${bound}`);
  }
  const x = randn(2, [3, 5, 16]);
  const y = m.apply(params, x);
  assert.deepEqual(y.shape, [3, 5, 16]);
  const flat = randn(2, [5, 16]);
  assert.throws(() => m.apply(params, flat), /expected input \[batch, seq, 16\]/);
  assert.throws(() => multiHeadAttention({ embedDim: 10, numHeads: 4 }), /multiple of numHeads/);
  tf.dispose([x, y, flat]);
  [params, again].forEach(disposeParams);
  assert.equal(tf.memory().numTensors, before);
});

testOnBackends('multiHeadAttention: masked keys do not influence the output; mask dtypes agree', () => {
  const before = tf.memory().numTensors;
  const m = multiHeadAttention({ embedDim: 8, numHeads: 2 });
  const params = m.init(new Rng(1));
  const x = randn(2, [2, 4, 8]);
  const keep = tf.tensor2d([[1, 1, 1, 0], [1, 0, 1, 1]], [2, 4], 'int32');
  const ctx = { training: false, extras: { attentionMask: keep } };
  const y = m.apply(params, x, ctx);
  // Change the inputs at the masked positions only: outputs at the kept positions must not move.
  const positionMask = tf.tidy(() => tf.reshape(tf.cast(keep, 'float32'), [2, 4, 1]));
  const x2 = tf.tidy(() => tf.add(tf.mul(x, positionMask), tf.mul(randn(9, [2, 4, 8]), tf.sub(1, positionMask))));
  const y2 = m.apply(params, x2, ctx);
  const keptDiff = tf.tidy(() => tf.max(tf.abs(tf.mul(tf.sub(y, y2), positionMask))).dataSync()[0]);
  assert.ok(keptDiff < 1e-5, `kept positions moved by ${keptDiff}`);
  const unmasked = m.apply(params, x2, INFERENCE);
  assert.ok(maxAbsDiff(unmasked, y2) > 1e-3, 'without the mask, the masked positions do matter');
  // bool keep-mask, and the equivalent additive float mask, give the same output.
  const asBool = tf.cast(keep, 'bool');
  const additive = tf.tidy(() => tf.mul(tf.sub(1, tf.cast(keep, 'float32')), -1e9));
  const yb = m.apply(params, x, { training: false, extras: { attentionMask: asBool } });
  const ya = m.apply(params, x, { training: false, extras: { attentionMask: additive } });
  assert.ok(maxAbsDiff(y, yb) < 1e-6 && maxAbsDiff(y, ya) < 1e-6);
  // A [batch, Sq, Sk] causal mask is accepted too.
  const causal = tf.tensor3d([...Array(2)].flatMap(() => [1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1]), [2, 4, 4], 'int32');
  const yc = m.apply(params, x, { training: false, extras: { attentionMask: causal } });
  assert.deepEqual(yc.shape, [2, 4, 8]);
  const rank1 = tf.ones([4]);
  assert.throws(() => keepMaskToAdditive(rank1), /attentionMask must be/);
  tf.dispose([x, keep, y, positionMask, x2, y2, unmasked, asBool, additive, yb, ya, causal, yc, rank1]);
  disposeParams(params);
  assert.equal(tf.memory().numTensors, before);
});

testOnBackends('multiHeadAttention: gradients match finite differences (with and without mask)', () => {
  const before = tf.memory().numTensors;
  const m = multiHeadAttention({ embedDim: 4, numHeads: 2 });
  const params = m.init(new Rng(3));
  const x = randn(4, [2, 3, 4]);
  const mask = tf.tensor2d([[1, 1, 0], [1, 1, 1]], [2, 3], 'int32');
  for (const ctx of [INFERENCE, { training: false, extras: { attentionMask: mask } }]) {
    const results = checkModuleGradients(m, params, x, { ctx, maxPerTensor: 10 });
    assert.equal(results.length, 9);
    for (const r of results) assert.ok(r.relError < GRAD_TOL, JSON.stringify(r));
  }
  tf.dispose([x, mask]);
  disposeParams(params);
  assert.equal(tf.memory().numTensors, before);
});

testOnBackends('multiHeadAttention: the attention core can be swapped globally or per module', () => {
  const calls: string[] = [];
  const spy =
    (label: string): AttentionFunction =>
    (q, k, v, mask, options) => {
      calls.push(`${label}:${q.shape.join('x')}`);
      return scaledDotProductAttention(q, k, v, mask, options);
    };
  const m = multiHeadAttention({ embedDim: 8, numHeads: 2 });
  const own = multiHeadAttention({ embedDim: 8, numHeads: 2, attention: spy('own') });
  const params = m.init(new Rng(1));
  const x = randn(2, [1, 3, 8]);
  const previous = setDefaultAttention(spy('global'));
  assert.equal(previous, scaledDotProductAttention);
  try {
    tf.dispose([m.apply(params, x), own.apply(params, x)]);
  } finally {
    setDefaultAttention();
  }
  assert.deepEqual(calls, ['global:1x2x3x4', 'own:1x2x3x4']);
  tf.dispose(m.apply(params, x));
  assert.equal(calls.length, 2, 'restored: the spy is no longer called');
  x.dispose();
  disposeParams(params);
});

testOnBackends('multiHeadAttention: attention dropout is reproducible and needs ctx.rng', () => {
  const m = multiHeadAttention({ embedDim: 8, numHeads: 2, dropout: 0.5 });
  const params = m.init(new Rng(1));
  const x = randn(2, [2, 4, 8]);
  const [a, b, c] = [5, 5, 6].map((seed) => m.apply(params, x, { training: true, rng: new Rng(seed) }));
  const inference = m.apply(params, x);
  assert.ok(maxAbsDiff(a, b) === 0 && maxAbsDiff(a, c) > 0 && maxAbsDiff(a, inference) > 0);
  assert.throws(() => m.apply(params, x, { training: true }), /ctx\.rng/);
  tf.dispose([x, a, b, c, inference]);
  disposeParams(params);
});
