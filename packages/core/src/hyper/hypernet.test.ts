import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends, useBackend } from '../testing/backends.js';
import { Rng } from '../random.js';
import { mlp } from '../nn/mlp.js';
import { sequential } from '../nn/sequential.js';
import { layerNorm } from '../nn/layer-norm.js';
import { linear } from '../nn/linear.js';
import { countParams, disposeParams, flatten, trainableVariables } from '../params/params.js';
import { hmlp } from './hmlp.js';
import { chunkedHmlp } from './chunked-hmlp.js';
import { flattenTensors, targetShapes } from './target-shapes.js';
import { cosSinEncoding } from './mip.js';

const target = mlp({ sizes: [20, 30, 10] });

const std = (t: tf.Tensor): number => tf.tidy(() => Math.sqrt(tf.moments(t).variance.dataSync()[0]));

testOnBackends('hmlp / chunkedHmlp: generated params have exactly the target names and shapes and run through target.apply', () => {
  const before = tf.memory().numTensors;
  const other = sequential([linear({ inFeatures: 6, outFeatures: 5 }), layerNorm({ normalizedShape: 5 })]);
  for (const t of [target, other]) {
    const expected = targetShapes(t, new Rng(1)).map((s) => [s.name, s.shape]);
    for (const hnet of [hmlp({ target: t, numCondEmbs: 2 }), chunkedHmlp({ target: t, numCondEmbs: 2, chunkSize: 37, chunkEmbSize: 4 }), hmlp({ target: t, numCondEmbs: 2, mip: true })]) {
      const params = hnet.init(new Rng(2));
      tf.tidy(() => {
        const generated = hnet.generate(params, 1);
        assert.deepEqual([...flattenTensors(generated)].map(([name, v]) => [name, v.shape]), expected, hnet.kind);
        assert.ok([...flattenTensors(generated).values()].every((v) => !(v instanceof tf.Variable)), 'tensors, not variables');
        const inWidth = t === target ? 20 : 6;
        const y = t.apply(generated, tf.ones([3, inWidth]));
        assert.equal(y.shape[0], 3);
      });
      disposeParams(params);
    }
  }
  assert.equal(tf.memory().numTensors, before, 'no tensors leak');
});

test('count(): the formula by hand, equal to the params init makes; chunked and full agree on the target', async () => {
  await useBackend('cpu');
  const T = 20 * 30 + 30 + 30 * 10 + 10; // 940
  const full = hmlp({ target, condInSize: 8, layers: [10, 10], numCondEmbs: 3 });
  const fullFormula = (8 + 1) * 10 + (10 + 1) * 10 + (10 + 1) * T + 3 * 8;
  assert.deepEqual(full.count(), { hypernet: fullFormula, taskEmbeddings: 24, target: T, compressionRatio: fullFormula / T });
  const chunked = chunkedHmlp({ target, condInSize: 8, layers: [10, 10], numCondEmbs: 3, chunkSize: 100, chunkEmbSize: 4 });
  assert.equal(chunked.numChunks, Math.ceil(T / 100));
  const chunkedFormula = (8 + 4 + 1) * 10 + (10 + 1) * 10 + (10 + 1) * 100 + 3 * 8 + 10 * 4;
  assert.equal(chunked.count().hypernet, chunkedFormula);
  assert.equal(chunked.count().target, full.count().target);
  const mip = hmlp({ target, condInSize: 8, layers: [10], numCondEmbs: 1, mip: true });
  assert.equal(mip.count().hypernet, (16 + 1) * 10 + (10 + 1) * T + 8 + T, 'MIP doubles the input and adds θ0');
  for (const hnet of [full, chunked, mip]) {
    const params = hnet.init(new Rng(3));
    assert.equal(countParams(params).all, hnet.count().hypernet, hnet.kind);
    disposeParams(params);
  }
});

testOnBackends('init: every generated tensor has the std of the target own init within a factor 2 (and a constant init mean, unchunked)', () => {
  const ln = sequential([linear({ inFeatures: 16, outFeatures: 24 }), layerNorm({ normalizedShape: 24 }), linear({ inFeatures: 24, outFeatures: 12 })]);
  for (const t of [target, ln]) {
    const own = targetShapes(t, new Rng(5));
    for (const hnet of [hmlp({ target: t, numCondEmbs: 3 }), chunkedHmlp({ target: t, numCondEmbs: 3, chunkSize: 64, chunkEmbSize: 8 }), hmlp({ target: t, numCondEmbs: 3, mip: true })]) {
      const params = hnet.init(new Rng(6));
      for (let task = 0; task < 3; task++) {
        tf.tidy(() => {
          const generated = flattenTensors(hnet.generate(params, task));
          for (const s of own) {
            const g = generated.get(s.name)!;
            const mean = tf.mean(g).dataSync()[0];
            if (s.initStd > 0 && s.size >= 64) {
              // (Tensors under 64 values are skipped: the sample std of a dozen values is itself off by tens of per cent.)
              const ratio = std(g) / s.initStd;
              assert.ok(ratio > 0.5 && ratio < 2, `${hnet.kind}${hnet.mip ? '+mip' : ''} task ${task} ${s.name}: std ratio ${ratio.toFixed(3)}`);
            } else if (hnet.kind === 'hmlp') {
              // A constant init (a layer norm's ones) is matched per tensor only by the full hypernetwork and MIP's θ0:
              // a chunked output unit serves every chunk and gets the chunks' average mean (hyperfan.ts).
              assert.ok(Math.abs(mean - s.initMean) < 0.5, `${hnet.kind} ${s.name}: mean ${mean} vs ${s.initMean}`);
            }
          }
        });
      }
      disposeParams(params);
    }
  }
});

testOnBackends('gradients reach the hypernetwork weights and the task embedding, never the target own params', () => {
  for (const hnet of [hmlp({ target, numCondEmbs: 2, layers: [8] }), chunkedHmlp({ target, numCondEmbs: 2, layers: [8], chunkSize: 100, chunkEmbSize: 3 }), hmlp({ target, numCondEmbs: 2, layers: [8], mip: true })]) {
    const params = hnet.init(new Rng(7));
    const own = target.init(new Rng(8));
    const vars = [...trainableVariables(params), ...trainableVariables(own)];
    tf.tidy(() => {
      const x = tf.randomNormal([4, 20], 0, 1, 'float32', 1);
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(target.apply(hnet.generate(params, 0), x))) as tf.Scalar, vars);
      for (const [path, v] of flatten(params)) {
        const g = grads[v.name];
        if (path === 'task_embs.1') assert.equal(g, undefined, 'the other task embedding gets no gradient');
        else {
          assert.ok(g !== undefined, `${hnet.kind}: ${path} gets a gradient`);
          assert.ok(tf.any(tf.notEqual(g, 0)).dataSync()[0] === 1, `${hnet.kind}: ${path} gradient is non-zero`);
        }
      }
      for (const v of flatten(own).values()) assert.equal(grads[v.name], undefined, 'the target own params are not on the tape');
    });
    disposeParams(params);
    disposeParams(own);
  }
});

testOnBackends('MIP cos|sin encoding: width doubles and the norm is constant whatever the input', () => {
  tf.tidy(() => {
    const z = tf.tensor2d([[0, 0, 0], [1, 1, 1], [0.3, 0.9, 0.5], [-2, 7, 0.25]]);
    const e = cosSinEncoding(z);
    assert.deepEqual(e.shape, [4, 6]);
    const norms = tf.norm(e, 'euclidean', 1).dataSync();
    for (const n of norms) assert.ok(Math.abs(n - Math.sqrt(3)) < 1e-5, `norm ${n}`);
    assert.deepEqual(Array.from(tf.slice(e, [0, 0], [1, 6]).dataSync()).map((v) => Math.round(v * 1e6) / 1e6), [1, 1, 1, 0, 0, 0]);
  });
});

test('bad options throw naming the option', async () => {
  await useBackend('cpu');
  assert.throws(() => hmlp({ target, layers: [10, 0] }), /hmlp: layers must be an array of positive integers/);
  assert.throws(() => hmlp({ target, condInSize: -1 }), /hmlp: condInSize must be an integer ≥ 0/);
  assert.throws(() => hmlp({ target, condInSize: 0 }), /condInSize \+ uncondInSize must be ≥ 1/);
  assert.throws(() => hmlp({ target, numCondEmbs: 1.5 }), /hmlp: numCondEmbs must be an integer ≥ 0/);
  assert.throws(() => chunkedHmlp({ target, chunkSize: 0 }), /chunkedHmlp: chunkSize must be an integer ≥ 1/);
  assert.throws(() => chunkedHmlp({ target, chunkSize: 10, chunkEmbSize: 0 }), /chunkedHmlp: chunkEmbSize must be an integer ≥ 1/);
  assert.throws(() => hmlp({ target, mip: 'yes' as never }), /hmlp: mip must be a boolean/);
  const hnet = hmlp({ target, numCondEmbs: 2, layers: [4] });
  const params = hnet.init(new Rng(1));
  assert.throws(() => hnet.generate(params, 2), /task id 2 is out of range \(numCondEmbs = 2\)/);
  assert.throws(() => hnet.generate(params, tf.zeros([3])), /a conditional input has 8 values \(condInSize\)/);
  disposeParams(params);
});
