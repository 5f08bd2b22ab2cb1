#!/usr/bin/env node
/**
 * TensorFlow calls per training step on the native backend (tfjs-node), counted by wrapping the
 * backend's executeSingleOutput / executeMultipleOutputs: a plain train() step and a continual
 * (runContinual, naive, Task-IL) step of an MLP 784-400-400-10, batch 128, Adam, with the top ops.
 * Needs the native backend (scripts/setup-native.sh) and a build (npx tsc -b packages/core).
 *
 * Usage: node scripts/bench/train/op-count.js
 */
const core = require('../../../packages/core/dist/index.js');
const tf = require('@tensorflow/tfjs-core');

function counter() {
  const counts = new Map();
  const backend = tf.backend();
  for (const fn of ['executeSingleOutput', 'executeMultipleOutputs']) {
    const original = backend[fn].bind(backend);
    backend[fn] = (name, ...rest) => {
      counts.set(name, (counts.get(name) || 0) + 1);
      return original(name, ...rest);
    };
  }
  return counts;
}

const report = (label, counts, steps, msPerStep) => {
  const total = [...counts.values()].reduce((a, c) => a + c, 0);
  const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `${k} ${(v / steps).toFixed(1)}`).join(', ');
  console.log(`${label}: ${(total / steps).toFixed(0)} TensorFlow calls per step, ${msPerStep.toFixed(2)} ms/step (median) — ${top}`);
};

(async () => {
  const info = await core.setBackend('node');
  if (info.name !== 'node') throw new Error(`needs the native backend, got ${info.name}`);
  const counts = counter();
  const model = core.mlp({ sizes: [784, 400, 400, 10] });
  let params = model.init(new core.Rng(1).fork('init'));
  const data = core.loadMnist({ split: 'train', limit: 128 * 50 });
  const plain = await core.train({ model, params, loss: 'cross-entropy', data: () => core.batches(data, { batchSize: 128 }), epochs: 1, optimizer: core.adam({ lr: 0.001 }), rng: new core.Rng(3) });
  report('plain train()', counts, plain.steps, plain.timings.msPerStep);
  counts.clear();
  core.disposeParams(params);
  params = model.init(new core.Rng(1).fork('init'));
  const benchmark = core.splitMnist({ seed: 1, returnTaskId: true, train: 2000, test: 10 });
  const continual = await core.runContinual({ benchmark, scenario: 'task', model, params, strategy: { name: 'naive' }, train: { iterations: 100, batchSize: 128, optimizer: 'adam', lr: 0.001 }, seed: 1, rng: new core.Rng(1) });
  // Evaluation (5 test sets of 10 images after each experience) adds a few calls; they are counted too.
  report('runContinual (naive, Task-IL)', counts, 500, continual.timings.msPerStep);
})();
