import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { disposeParams } from '../params/params.js';
import { embedding, embeddingLookup } from './embedding.js';
import { checkModuleGradients } from './gradcheck.js';

const GRAD_TOL = 2e-2;

testOnBackends('embedding: N(0, 1) init, deterministic', () => {
  const m = embedding({ numEmbeddings: 200, embeddingDim: 50 });
  const [a, b] = [m.init(new Rng(4)), m.init(new Rng(4))];
  const v = Array.from((a.weight as tf.Tensor).dataSync());
  assert.deepEqual((a.weight as tf.Tensor).shape, [200, 50]);
  const mean = v.reduce((s, e) => s + e, 0) / v.length;
  const std = Math.sqrt(v.reduce((s, e) => s + (e - mean) ** 2, 0) / v.length);
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(std - 1) < 0.03, `mean ${mean} std ${std}`);
  assert.deepEqual(Array.from((b.weight as tf.Tensor).dataSync()), v);
  [a, b].forEach(disposeParams);
});

testOnBackends('embedding: gathers rows for ids of any shape', () => {
  const before = tf.memory().numTensors;
  const m = embedding({ numEmbeddings: 5, embeddingDim: 3 });
  const params = m.init(new Rng(1));
  const table = (params.weight as tf.Tensor).arraySync() as number[][];
  for (const [ids, shape] of [[[4], [1]], [[0, 2, 2], [3]], [[1, 0, 3, 4, 2, 1], [2, 3]], [[3], []]] as Array<[number[], number[]]>) {
    const idT = tf.tensor(ids, shape, 'int32');
    const y = m.apply(params, idT);
    assert.deepEqual(y.shape, [...shape, 3]);
    assert.deepEqual(Array.from(y.dataSync()), ids.flatMap((i) => table[i].map((e) => Math.fround(e))));
    tf.dispose([idT, y]);
  }
  const floats = tf.tensor1d([1, 2]);
  assert.throws(() => m.apply(params, floats), /ids must be int32/);
  floats.dispose();
  disposeParams(params);
  assert.equal(tf.memory().numTensors, before);
});

testOnBackends('embedding: gradient sums over repeated ids and matches finite differences', () => {
  const before = tf.memory().numTensors;
  const zeros = tf.zeros([4, 2]);
  const w = tf.variable(zeros);
  zeros.dispose();
  const ids = tf.tensor2d([[0, 0], [2, 0]], [2, 2], 'int32');
  const { value, grads } = tf.variableGrads(() => tf.sum(embeddingLookup(w, ids)), [w]);
  assert.deepEqual(Array.from(grads[w.name].dataSync()), [3, 3, 0, 0, 1, 1, 0, 0]);
  tf.dispose([value, grads[w.name], w]);

  const m = embedding({ numEmbeddings: 6, embeddingDim: 4 });
  const params = m.init(new Rng(2));
  const tokens = tf.tensor2d([[1, 5, 1], [0, 3, 5]], [2, 3], 'int32');
  const results = checkModuleGradients(m, params, tokens);
  assert.deepEqual(results.map((r) => r.name), ['weight'], 'int ids are not differentiated');
  for (const r of results) assert.ok(r.relError < GRAD_TOL, JSON.stringify(r));
  tf.dispose([ids, tokens]);
  disposeParams(params);
  assert.equal(tf.memory().numTensors, before);
});
