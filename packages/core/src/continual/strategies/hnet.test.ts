import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../testing/backends.js';
import { Rng } from '../../random.js';
import { disposeParams, flatten } from '../../params/params.js';
import { runContinual } from '../run.js';
import type { Scenario } from '../scenario.js';
import { smallModel, tinySplitMnist } from '../test-fixtures.js';

const bench = tinySplitMnist(48, 40);
const strategy = { name: 'hnet' as const, hnetLayers: [16, 16], chunkSize: 600, chunkEmbSize: 8, taskEmbSize: 8, beta: 0.01 };

async function run(scenario: Scenario, seed = 3) {
  const { model, params } = smallModel(bench, scenario, seed, 16);
  const before = new Map([...flatten(params)].map(([k, v]) => [k, Array.from(v.dataSync())]));
  try {
    const result = await runContinual({ benchmark: bench, scenario, model, params, strategy, train: { iterations: 30, batchSize: 16, optimizer: 'adam', lr: 1e-3 }, seed, rng: new Rng(seed) });
    for (const [k, v] of flatten(params)) assert.deepEqual(Array.from(v.dataSync()), before.get(k), `the classifier's own ${k} is never trained`);
    return result;
  } finally {
    disposeParams(params);
  }
}

const bits = (m: number[][]): number[] => Array.from(new Uint32Array(new Float32Array(m.flat()).buffer));

test('hnet: end to end on a tiny Split MNIST, task and class scenarios, bit-identical per seed, no tensors leak', async () => {
  await useBackend('wasm');
  const tensors = tf.memory().numTensors;
  for (const scenario of ['task', 'class'] as const) {
    const a = await run(scenario);
    const b = await run(scenario);
    assert.deepEqual(bits(a.matrix), bits(b.matrix), `${scenario}: same seed, same matrix`);
    assert.deepEqual(a.curves.loss.value, b.curves.loss.value);
    assert.equal(a.matrix.length, 5);
    const last = a.matrix[4];
    console.log(`hnet ${scenario}: ACC ${a.metrics.acc.toFixed(3)} BWT ${a.metrics.bwt.toFixed(3)} last row ${last.map((v) => v.toFixed(2)).join(' ')}`);
    if (scenario === 'task') {
      assert.ok(a.metrics.acc > 0.75, `Task-IL ACC ${a.metrics.acc} well above chance (0.5)`);
      assert.ok(a.metrics.bwt > -0.15, `the regulariser keeps old tasks: BWT ${a.metrics.bwt}`);
    } else {
      assert.ok(a.metrics.acc > 0.3, `Class-IL with entropy task inference ${a.metrics.acc} above chance (0.2 over the last 10 classes)`);
    }
    assert.deepEqual(a.strategy, { name: 'hnet', beta: 0.01, hnetLayers: [16, 16], hnetActivation: 'relu', chunkSize: 600, chunkEmbSize: 8, taskEmbSize: 8, mip: false });
  }
  assert.equal(tf.memory().numTensors, tensors);
});

test('hnet: bad options throw naming the option', async () => {
  await useBackend('cpu');
  const { model, params } = smallModel(bench, 'task');
  const go = (s: Record<string, unknown>) => runContinual({ benchmark: bench, scenario: 'task', model, params, strategy: { name: 'hnet', ...s }, train: { iterations: 1, batchSize: 8, optimizer: 'adam', lr: 1e-3 }, seed: 1, rng: new Rng(1) });
  await assert.rejects(go({ hnetLayers: [10, 0] }), /strategy 'hnet'.hnetLayers/);
  await assert.rejects(go({ chunkSize: 0 }), /strategy 'hnet'.chunkSize/);
  await assert.rejects(go({ beta: -1 }), /strategy 'hnet'.beta/);
  await assert.rejects(go({ taskEmbSize: 1.5 }), /strategy 'hnet'.taskEmbSize/);
  await assert.rejects(go({ mip: 1 }), /strategy 'hnet'.mip/);
  await assert.rejects(go({ chunk_size: 10 }), /unknown key 'chunk_size' in strategy 'hnet' — did you mean 'chunkSize'\?/);
  disposeParams(params);
});
